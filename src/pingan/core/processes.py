"""Worker processes for CPU-bound batches (the roster import's encoding, the audit chain's parallel
verification): one way to start them, so every pool gets the same safeguards.

Forked children inherit the parent's signal handlers. ``pingan worker`` (django-tasks' ``db_worker``)
installs handlers for SIGTERM, SIGINT and SIGQUIT that only ask the loop to stop; a pool child with that
handler ignores the SIGTERM with which ``Pool.terminate()`` ends it, and the parent then waits for it for
ever (seen as a stalled import, and as a test run that never finished). Each child therefore starts with
SIGTERM back at its default (end the process) and SIGINT ignored (Ctrl-C is the parent's to handle: it
terminates the pool). A SIGTERM can arrive before the child has reset its handler (a pool ended right after
it started): the pool is created with SIGTERM and SIGINT blocked, so children — also those its helper
threads fork later, which inherit the mask — start with them blocked and pending, and unblock them only
after the reset. The parent's own mask is restored at once.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


_HELD = {signal.SIGTERM, signal.SIGINT}


def _child_start(initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGQUIT"):
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # a SIGTERM that came early ends the process now
    if initializer is not None:
        initializer(*initargs)


def fork_pool(
    processes: int,
    *,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
    maxtasksperchild: int | None = None,
) -> Pool:
    """A ``multiprocessing`` pool of forked processes (they inherit the loaded code and keys; callers make
    sure the children open their own database connections) whose children end on SIGTERM."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        return multiprocessing.get_context("fork").Pool(
            processes,
            initializer=_child_start,
            initargs=(initializer, initargs),
            maxtasksperchild=maxtasksperchild,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
