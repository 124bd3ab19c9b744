"""Global search: each app registers a provider; every provider searches within the user's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    detail: str
    url: str


Provider = Callable[[Any, str, int], list[SearchHit]]
_PROVIDERS: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    _PROVIDERS[name] = provider


def global_search(*, user: Any, q: str, limit: int = 20) -> list[SearchHit]:
    q = q.strip()
    if not q:
        return []
    hits: list[SearchHit] = []
    for provider in _PROVIDERS.values():
        hits.extend(provider(user, q, limit))
    return hits[: limit * max(1, len(_PROVIDERS))]
