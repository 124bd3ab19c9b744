"""``pingan seed_events --events N``: synthetic events for benchmarks (docs/benchmarks.md), fast.

Needs the area tree (``pingan demo --no-serve`` or the bench script loads it). Rows go in with PostgreSQL
``COPY`` (``bulk_create`` on SQLite), spread over the grids, the categories of the code table and the last
``--days`` days, in every state of the loop with consistent fields (assignee and deadline while dispatched,
closing date when closed...). No timeline rows, photos or notifications: this builds volume for the
queues, lists and figures, not a history. Refused in production. One audit row for the run.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from pingan.areas.models import Area, Department, Level
from pingan.core.codes import code_table
from pingan.events.models import Event, Source, Status, Tier, Urgency

# share of each state by age: recent events are still in the loop, older ones mostly closed — a few stay
# stuck (late) for months, as in a real district
RECENT_DAYS = 30
RECENT_STATES: tuple[tuple[str, float], ...] = (
    (Status.CLOSED, 0.45),
    (Status.REFUSED, 0.04),
    (Status.REPORTED, 0.08),
    (Status.ACCEPTED, 0.05),
    (Status.DISPATCHED, 0.10),
    (Status.HANDLING, 0.20),
    (Status.HANDLED, 0.08),
)
OLD_STATES: tuple[tuple[str, float], ...] = (
    (Status.CLOSED, 0.955),
    (Status.REFUSED, 0.035),
    (Status.HANDLING, 0.007),
    (Status.DISPATCHED, 0.003),
)
TITLES = (
    "人行道无证摊贩",
    "车辆占用消防通道",
    "楼道堆放杂物",
    "井盖破损",
    "占道经营",
    "噪音扰民",
    "违章搭建",
)


def _rows(n: int, *, days: int, rng: random.Random, start_number: int) -> Iterator[dict[str, Any]]:
    grids = list(Area.objects.filter(level=Level.GRID, active=True).values_list("pk", "code"))
    if not grids:
        raise CommandError("没有网格：请先加载辖区（pingan demo --no-serve）")
    codes = {a.code: a.pk for a in Area.objects.filter(level__in=[Level.STREET, Level.DISTRICT])}
    district = next((pk for code, pk in codes.items() if len(code) == 6), None)
    owners = {pk: codes.get(code[:9], district) for pk, code in grids}
    departments: list[int | None] = list(Department.objects.values_list("pk", flat=True)) or [None]
    categories = [c.code for c in code_table("event_category") if c.parent] or ["0102"]
    # a centre point per grid, ~1 km apart, so coordinates cluster like real reports
    centres = {pk: (39.05 + (i % 20) * 0.01, 117.18 + (i // 20) * 0.01) for i, (pk, _c) in enumerate(grids)}
    now = timezone.now()
    recent_states, recent_weights = zip(*RECENT_STATES, strict=True)
    old_states, old_weights = zip(*OLD_STATES, strict=True)
    sources = Source.values
    for i in range(n):
        grid, _code = grids[rng.randrange(len(grids))]
        reported = now - dt.timedelta(seconds=rng.randrange(60, days * 86400))
        if now - reported <= dt.timedelta(days=RECENT_DAYS):
            status = rng.choices(recent_states, recent_weights)[0]
        else:
            status = rng.choices(old_states, old_weights)[0]
        span = (now - reported).total_seconds() / 3600  # hours: every later step stays in the past

        def later(
            start: dt.datetime, low: float, high: float, share: float, span: float = span
        ) -> dt.datetime:
            return start + dt.timedelta(hours=min(rng.uniform(low, high), span * share * rng.random()))

        lat0, lng0 = centres[grid]
        row: dict[str, Any] = {
            "number": f"B{start_number + i:011d}",
            "title": rng.choice(TITLES),
            "description": "基准测试合成事件",
            "category": rng.choice(categories),
            "tier": Tier.ORDINARY,
            "source": rng.choice(sources),
            "urgency": Urgency.NORMAL if rng.random() < 0.9 else Urgency.URGENT,
            "area_id": grid,
            "owner_id": owners[grid],
            "address": "",
            "latitude": Decimal(f"{lat0 + rng.uniform(-0.004, 0.004):.6f}"),
            "longitude": Decimal(f"{lng0 + rng.uniform(-0.004, 0.004):.6f}"),
            "reporter_id": None,
            "reporter_name": "",
            "reporter_phone": "",
            "status": status,
            "version": 1,
            "public_note": "",
            "reported_at": reported,
            "accepted_at": None,
            "dispatched_at": None,
            "handled_at": None,
            "closed_at": None,
            "assignee_department_id": None,
            "assignee_area_id": None,
            "deadline": None,
            "deadline_days": None,
            "extension_days": 0,
            "extension_requested_days": None,
            "extension_reason": "",
            "extension_count": 0,
            "overdue": False,
            "overdue_at": None,
            "reminded_at": None,
            "escalated_at": None,
            "closed_on_time": None,
            "handling_seconds": None,
            "verification_count": 0,
            "failed_verification_count": 0,
            "return_count": 0,
            "escalation_count": 0,
            "supervision_count": 0,
            "reopen_count": 0,
            "rating": None,
            "rating_note": "",
            "rated_at": None,
            "merged_into_id": None,
            "created_at": reported,
            "updated_at": reported,
        }
        if status not in (Status.REPORTED, Status.REFUSED):
            row["accepted_at"] = later(reported, 0.2, 8, 0.2)
        if status in (Status.DISPATCHED, Status.HANDLING, Status.HANDLED, Status.CLOSED):
            row["dispatched_at"] = later(row["accepted_at"], 0.1, 4, 0.2)
            row["assignee_department_id"] = rng.choice(departments)
            if row["assignee_department_id"] is None:
                row["assignee_area_id"] = grid
            row["deadline_days"] = 3
            row["deadline"] = row["dispatched_at"] + dt.timedelta(days=rng.choice((1, 3, 5, 9)))
            if rng.random() < 0.08:
                row["extension_count"], row["extension_days"] = 1, 2
            if status in (Status.DISPATCHED, Status.HANDLING) and rng.random() < 0.05:
                row["extension_requested_days"], row["extension_reason"] = 3, "需协调多部门"
        if status in (Status.HANDLED, Status.CLOSED):
            row["handled_at"] = later(row["dispatched_at"], 1, 96, 0.3)
        if status == Status.CLOSED:
            fails = 1 if rng.random() < 0.07 else 0
            row["verification_count"], row["failed_verification_count"] = 1 + fails, fails
            row["closed_at"] = later(row["handled_at"], 0.5, 24, 0.2)
            row["closed_on_time"] = row["handled_at"] <= row["deadline"]
            row["handling_seconds"] = int((row["closed_at"] - row["accepted_at"]).total_seconds())
            if rng.random() < 0.6:
                row["rating"] = rng.choice((3, 4, 4, 5, 5, 5))
                row["rated_at"] = row["closed_at"]
        row["overdue"] = bool(row["deadline"] and row["deadline"] < now and status != Status.CLOSED)
        row["updated_at"] = row["closed_at"] or row["handled_at"] or row["accepted_at"] or reported
        yield row


class Command(BaseCommand):
    help = "生成基准测试用的合成网格事件（PostgreSQL 用 COPY）。Synthetic events for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, required=True, help="number of events to add")
        parser.add_argument("--days", type=int, default=365, help="spread over the last N days (365)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("生产环境禁止生成合成数据。Refused in production.")
        n = options["events"]
        if n < 1:
            raise CommandError("--events must be at least 1")
        rng = random.Random(options["seed"])  # noqa: S311 — synthetic data
        start_number = (Event.objects.filter(number__startswith="B").count() or 0) + 1
        started = time.monotonic()
        rows = _rows(n, days=options["days"], rng=rng, start_number=start_number)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                self._copy(rows)
            else:
                self._bulk(rows)
            from pingan.audit.services import audit_record

            audit_record(actor=None, action="event.seed", actor_username="system", changes={"events": n})
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # what autovacuum does later (not inside a caller's transaction, e.g. a test): statistics
            # for the planner and the visibility map that lets index-only scans skip the table
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {Event._meta.db_table}")
        seconds = time.monotonic() - started
        self.stdout.write(f"已生成 {n:,} 个事件，用时 {seconds:.1f} 秒（{n / seconds:,.0f} 个/秒）")

    def _copy(self, rows: Iterator[dict[str, Any]]) -> None:
        first = next(rows)
        columns = list(first)
        table = Event._meta.db_table
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write_row([first[c] for c in columns])
            for row in rows:
                copy.write_row([row[c] for c in columns])

    def _bulk(self, rows: Iterator[dict[str, Any]]) -> None:
        batch: list[Event] = []
        for row in rows:
            status = row.pop("status")
            event = Event(**row)
            event.__dict__["status"] = status  # the FSM field is protected: set the raw value
            batch.append(event)
            if len(batch) >= 2000:
                Event.objects.bulk_create(batch)
                batch = []
        if batch:
            Event.objects.bulk_create(batch)
