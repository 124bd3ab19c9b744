"""Demo data registry: each app contributes a loader for the synthetic demo district.

Apps call ``register_demo`` from ``AppConfig.ready()``; ``load_demo`` runs every loader in
``order`` inside one transaction and writes a single audit row for the run. Loaders must be
idempotent (running the demo twice changes nothing) and deterministic: they draw randomness only
from ``ctx.rng``, which is seeded with a fixed value, never from the clock.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction

DEMO_SEED = 20261128


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...


def _default_rng() -> random.Random:
    return random.Random(DEMO_SEED)  # noqa: S311 — deterministic synthetic data, not security


@dataclass
class DemoContext:
    """State shared by the loaders of one demo run."""

    password: str | None = None
    created_users: list[str] = field(default_factory=list)
    stdout: Writer = field(default=sys.stdout)
    rng: random.Random = field(default_factory=_default_rng)
    # Things for the command to print (e.g. the generated password).
    notes: dict[str, Any] = field(default_factory=dict)
    # Figures of the run (totals and created/updated counts); they go into the audit row.
    counts: dict[str, int] = field(default_factory=dict)

    def log(self, message: str) -> None:
        self.stdout.write(message if message.endswith("\n") else message + "\n")


Loader = Callable[[DemoContext], None]


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int
    loader: Loader


_REGISTRY: dict[str, _Entry] = {}


def register_demo(name: str, order: int, loader: Loader) -> None:
    """Register (or replace) the loader called ``name``; lower ``order`` runs first."""
    _REGISTRY[name] = _Entry(name, order, loader)


def registered_demos() -> list[tuple[str, int]]:
    return [(e.name, e.order) for e in sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))]


def load_demo(ctx: DemoContext) -> DemoContext:
    """Run all registered loaders in order, atomically, and audit the run once."""
    from pingan.audit.services import audit_record

    entries = sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))
    with transaction.atomic():
        for entry in entries:
            entry.loader(ctx)
        audit_record(
            actor=None,
            action="demo.load",
            actor_username="system",
            changes={"loaders": [e.name for e in entries], **ctx.counts},
        )
    return ctx
