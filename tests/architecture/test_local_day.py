"""The district's day is ``timezone.localdate()`` (settings.TIME_ZONE, Asia/Shanghai), never the server's
``date.today()``: on a server whose clock runs in UTC the two differ from 00:00 to 08:00 Beijing time, and the
people module's checks ("not later than today") and default dates took the server's day until this test (its
tests failed when run between 16:00 and 24:00 UTC)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.utils import timezone

import pingan

SERVER_DAY = re.compile(r"\bdate\.today\(\)|\bdatetime\.today\(\)|\bdatetime\.now\(\)")
# key ids are labels sortable by creation (core.crypto.new_key_id), not a business date
ALLOWED = {("core/crypto.py", 'kid = f"k{date.today():%Y%m%d}')}


def test_business_code_takes_the_district_day():
    root = Path(pingan.__file__).parent
    wrong = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SERVER_DAY.search(line) and not any(
                relative == where and text in line for where, text in ALLOWED
            ):
                wrong.append(f"{relative}:{number}: {line.strip()}")
    assert not wrong, "\n".join(wrong)


def test_a_birth_date_is_checked_against_the_district_day(monkeypatch):
    """At 17:00 UTC on 2020-01-01 it is 01:00 on 2020-01-02 in the district: a birth on the 2nd is today, one
    on the 3rd is in the future (with the server's day, both were accepted)."""
    from pingan.people.services import clean_person_data

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2020, 1, 1, 17, 0, tzinfo=dt.UTC))
    assert timezone.localdate() == dt.date(2020, 1, 2)
    today = clean_person_data({"birth_date": dt.date(2020, 1, 2)}, partial=True)
    tomorrow = clean_person_data({"birth_date": dt.date(2020, 1, 3)}, partial=True)
    assert "birth_date" not in today.errors
    assert "birth_date" in tomorrow.errors
