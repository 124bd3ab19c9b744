"""core.process_cache: kept for its time, cleared by a save in this process (at once and at the commit)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models.signals import post_delete, post_save

from pingan.core import process_cache
from pingan.core.process_cache import ProcessCache, clear_process_caches
from pingan.events.models import EventPolicy

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(process_cache.time, "monotonic", clock)
    return clock


@pytest.fixture
def counting() -> Iterator[Callable[[list[Any]], tuple[ProcessCache[Any], list[int]]]]:
    """A cache of the last of ``values``, and the list of its loads; disconnected after the test."""
    made: list[ProcessCache[Any]] = []

    def make(values: list[Any]) -> tuple[ProcessCache[Any], list[int]]:
        calls: list[int] = []

        def load() -> Any:
            calls.append(1)
            return values[-1]

        made.append(ProcessCache(load, seconds=60, models=(EventPolicy,)))
        return made[-1], calls

    yield make
    for cache in made:
        post_save.disconnect(cache._changed, sender=EventPolicy)
        post_delete.disconnect(cache._changed, sender=EventPolicy)
        process_cache._ALL.remove(cache)


def test_kept_for_its_time_then_read_again(clock: Clock, counting: Any) -> None:
    values = ["a"]
    cache, calls = counting(values)
    assert cache.get() == "a" and cache.get() == "a"
    assert len(calls) == 1
    values.append("b")  # changed elsewhere (another process): not seen until the time is up
    clock.now += 59
    assert cache.get() == "a"
    clock.now += 2
    assert cache.get() == "b" and len(calls) == 2


def test_a_save_of_its_model_clears_it(
    clock: Clock, counting: Any, django_capture_on_commit_callbacks: Any
) -> None:
    values = ["a"]
    cache, calls = counting(values)
    cache.get()
    values.append("b")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        EventPolicy.objects.update_or_create(pk=EventPolicy.SINGLETON_PK, defaults={"photo_max_count": 3})
        assert cache.get() == "b"  # cleared at the save
        values.append("c")
    # …and again at the commit: a read between the two is not kept
    assert [c for c in callbacks if getattr(c, "__self__", None) is cache] == [cache.clear]
    assert cache.get() == "c" and len(calls) == 3


def test_clear_all(clock: Clock, counting: Any) -> None:
    values = ["a"]
    cache, calls = counting(values)
    cache.get()
    clear_process_caches()
    cache.get()
    assert len(calls) == 2
