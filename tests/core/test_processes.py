"""Worker pools (``pingan.core.processes``): children that end when the pool ends them, whatever signal
handlers the parent installed (``pingan worker`` installs django-tasks' SIGTERM handler)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from pingan.core.processes import can_fork, fork_pool

pytestmark = pytest.mark.skipif(not can_fork(), reason="fork start method: Linux")


@pytest.fixture
def parent_ignores_sigterm() -> Iterator[None]:
    """The parent handles SIGTERM by only noting it, as db_worker does."""
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispositions(_: int) -> tuple[str, str]:
    return str(signal.getsignal(signal.SIGTERM)), str(signal.getsignal(signal.SIGINT))


def test_children_end_on_sigterm_and_leave_ctrl_c_to_the_parent(parent_ignores_sigterm: None) -> None:
    with fork_pool(2) as pool:
        seen = pool.map(_dispositions, range(4))
    assert set(seen) == {(str(signal.SIG_DFL), str(signal.SIG_IGN))}


def test_the_pool_ends_although_the_parent_ignores_sigterm(parent_ignores_sigterm: None) -> None:
    # Pool.__exit__ terminates its idle children with SIGTERM; with the parent's handler inherited they
    # used to survive it and __exit__ waited for ever
    # (a plain fork pool hung within the first 5 of such rounds; this test then ends by pytest-timeout)
    for _ in range(100):  # also ended right after starting: a SIGTERM before the child's reset
        with fork_pool(2) as pool:
            assert list(pool.imap(abs, range(-5, 5))) == [abs(i) for i in range(-5, 5)]
    for _ in range(20):
        with fork_pool(2):
            pass
    with fork_pool(2, maxtasksperchild=1) as pool:  # children forked later by the pool's own thread
        assert pool.map(abs, range(-20, 20)) == [abs(i) for i in range(-20, 20)]


def _initialised(_: int) -> int:
    return _VALUE


_VALUE = 0


def _set(value: int) -> None:
    global _VALUE
    _VALUE = value


def test_the_callers_initializer_still_runs() -> None:
    with fork_pool(1, initializer=_set, initargs=(7,)) as pool:
        assert pool.map(_initialised, [0]) == [7]
