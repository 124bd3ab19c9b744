"""Periodic jobs run by ``pingan worker``. Apps register theirs in ``AppConfig.ready()``::

    register_job("events", run_event_jobs, every=60)

A job is a function ``job(now) -> dict[str, int] | None`` (its counts go to the log). Jobs must be
idempotent and safe to run from several workers at once; on PostgreSQL the worker also takes an advisory
lock per round, so normally one worker runs a round while the others only run queued tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

logger = logging.getLogger("pingan.worker")

Job = Callable[[dt.datetime], Any]
# pg_try_advisory_lock key for one round of periodic jobs: b"pinganPJ" as a signed 64-bit integer.
ROUND_LOCK_KEY = int.from_bytes(b"pinganPJ", "big", signed=True)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Job
    every: int  # seconds


_JOBS: dict[str, PeriodicJob] = {}
_LAST_RUN: dict[str, float] = {}


def register_job(name: str, func: Job, *, every: int = 60) -> None:
    _JOBS[name] = PeriodicJob(name, func, every)


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda j: j.name)


def _try_round_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ROUND_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _release_round_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ROUND_LOCK_KEY])


def run_due_jobs(now: dt.datetime | None = None, *, force: bool = False) -> dict[str, Any]:
    """Run every job whose interval has passed (all of them with ``force``). A failing job is logged and
    does not stop the others."""
    now = now or timezone.now()
    results: dict[str, Any] = {}
    if not _try_round_lock():
        return results
    try:
        for job in registered_jobs():
            last = _LAST_RUN.get(job.name)
            if not force and last is not None and now.timestamp() - last < job.every:
                continue
            _LAST_RUN[job.name] = now.timestamp()
            try:
                results[job.name] = job.func(now)
            except Exception:
                logger.exception("periodic job %s failed", job.name)
                results[job.name] = "failed"
    finally:
        _release_round_lock()
    return results
