"""Every event state has its badge colours: a state without a rule shows white text on the page background
(the page gate's contrast check found the merged state that way)."""

from __future__ import annotations

from pathlib import Path

import pingan
from pingan.events.models import Status


def test_every_status_has_a_badge_style() -> None:
    css = (Path(pingan.__file__).parent / "static" / "pingan" / "css" / "events.css").read_text()
    missing = [status for status in Status.values if f".pa-status-{status} {{" not in css]
    assert not missing, f"no .pa-status-… rule in events.css for {missing}"
