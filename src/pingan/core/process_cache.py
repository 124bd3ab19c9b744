"""Small settings read on hot paths, kept in each process for a short time.

The event rules (``EventPolicy``, the category rules) are read by every report, and change a few times a
year. ``ProcessCache`` keeps what its loader returns for ``seconds``:

- a save or delete of one of its models clears it at once in the process that made it (signals), and
  again when that transaction commits (a read between the save and the commit may have kept the new
  values: if the transaction rolls back, they are dropped at the latest when ``seconds`` run out);
- the other server processes see a change once their copy is ``seconds`` old.

Pages that edit the settings read the database, not the cache. The kept value is shared by the threads
of a process: callers must not change it. Tests start with every cache empty (tests/conftest.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_ALL: list[ProcessCache[Any]] = []


class ProcessCache(Generic[T]):
    def __init__(
        self, load: Callable[[], T], *, seconds: float, models: Iterable[type[models.Model]] = ()
    ) -> None:
        self._load = load
        self._seconds = seconds
        self._kept: tuple[float, T] | None = None  # (read at, value): replaced whole, never changed
        self._lock = threading.Lock()
        for model in models:
            post_save.connect(self._changed, sender=model, weak=False)
            post_delete.connect(self._changed, sender=model, weak=False)
        _ALL.append(self)

    def get(self) -> T:
        kept = self._kept
        now = time.monotonic()
        if kept is not None and now - kept[0] < self._seconds:
            return kept[1]
        with self._lock:  # one thread reads the database; the others wait for its value
            kept = self._kept
            if kept is not None and now - kept[0] < self._seconds:
                return kept[1]
            value = self._load()
            self._kept = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        self._kept = None

    def _changed(self, **kwargs: Any) -> None:
        self.clear()
        transaction.on_commit(self.clear, using=kwargs.get("using"))


def clear_process_caches() -> None:
    """Empty every ProcessCache of this process (tests; after a bulk change that sends no signals)."""
    for cache in _ALL:
        cache.clear()
