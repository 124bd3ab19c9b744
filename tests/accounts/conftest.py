"""Fixtures for the account and login-security tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``clock.advance(minutes=31)`` moves ``django.utils.timezone.now`` forward, for the server code and
    the database session expiry alike, without sleeping."""

    class Clock:
        offset = dt.timedelta(0)

        def advance(self, **kwargs: float) -> None:
            self.offset += dt.timedelta(**kwargs)

    clock = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock
