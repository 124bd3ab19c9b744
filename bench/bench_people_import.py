"""Benchmark of the resident roster import (people.importers.people_import) on PostgreSQL.

    .venv/bin/python bench/bench_people_import.py                      # 100,000 rows
    .venv/bin/python bench/bench_people_import.py --rows 20000 --json

Generates a roster xlsx of ``--rows`` synthetic residents (valid ID numbers with address code 120103,
mobile numbers, codes given as labels, ten grids), then measures on a scratch database
(``--database-url``, default ``postgres://postgres@127.0.0.1:5432/pingan_bench_people``, created when
missing, emptied of people before each run):

- reading the file (python-calamine + header detection);
- the first import (every row validated, encrypted, indexed, bulk-created, one transaction);
- the same file again (every row found through the blind index and compared: nothing written);
- the same file with one changed phone per row (bulk_update).

One process, one thread. docs/benchmarks.md has the figures measured on the project machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_people"


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(cfg["NAME"]))))


def roster(rows: int, grids: list[str], phone_prefix: str = "1390") -> bytes:
    import xlsxwriter

    from pingan.core.validators import id_check_char

    rng = random.Random(20261128)  # noqa: S311
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    header = [
        "姓名",
        "性别",
        "民族",
        "公民身份号码",
        "联系电话",
        "所属网格",
        "人员类别",
        "政治面貌",
        "文化程度",
    ]
    for c, h in enumerate(header):
        sheet.write_string(0, c, h)
    seen: set[str] = set()
    r = 0
    while r < rows:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        seq = rng.randrange(0, 1000)
        first17 = f"120103{birth:%Y%m%d}{seq:03d}"
        number = first17 + id_check_char(first17)
        if number in seen:
            continue
        seen.add(number)
        r += 1
        values = [
            f"示例{r}",
            "男" if seq % 2 else "女",
            "汉族",
            number,
            f"{phone_prefix}{r % 10_000_000:07d}",
            grids[r % len(grids)],
            "户籍人口",
            "群众",
            "大学本科毕业",
        ]
        for c, v in enumerate(values):
            sheet.write_string(r, c, v)
    book.close()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from pingan.areas.models import Area
    from pingan.core.actors import SYSTEM
    from pingan.core.excel import read_table
    from pingan.people.importers import ROSTER_COLUMNS, people_import
    from pingan.people.models import FloatingRecord, Person, PersonStatusChange

    district, _ = Area.objects.get_or_create(code="120103", defaults={"name": "河西区", "level": "district"})
    street, _ = Area.objects.get_or_create(
        code="120103004", defaults={"name": "挂甲寺街", "level": "street", "parent": district}
    )
    community, _ = Area.objects.get_or_create(
        code="120103004001", defaults={"name": "滦水里社区", "level": "community", "parent": street}
    )
    grids = []
    for g in range(1, 11):
        code = f"120103004001{g:03d}"
        Area.objects.get_or_create(
            code=code, defaults={"name": f"滦水里第{g}网格", "level": "grid", "parent": community}
        )
        grids.append(code)
    PersonStatusChange.objects.all().delete()
    FloatingRecord.objects.all().delete()
    Person._base_manager.all().delete()

    results: dict[str, Any] = {
        "load_average": os.getloadavg()[0],
        "rows": args.rows,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": dt.date.today().isoformat(),
    }
    data = roster(args.rows, grids)
    changed = roster(args.rows, grids, phone_prefix="1391")
    t = time.perf_counter()
    table = read_table(data, "roster.xlsx", expected=ROSTER_COLUMNS)
    results["read_s"] = round(time.perf_counter() - t, 2)
    for label, payload in (
        ("first_import", table),
        ("reimport_unchanged", table),
        ("reimport_changed_phone", read_table(changed, "r.xlsx", expected=ROSTER_COLUMNS)),
    ):
        t, cpu = time.perf_counter(), time.process_time()
        result = people_import(actor=SYSTEM, table=payload)
        seconds = time.perf_counter() - t
        cpu_seconds = time.process_time() - cpu
        results[label] = {
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.rows / seconds),
            # this process's CPU only (the PostgreSQL server's work is not in it): on a loaded machine the
            # wall clock mostly measures the wait for a core
            "cpu_seconds": round(cpu_seconds, 2),
            "rows_per_cpu_s": round(args.rows / cpu_seconds),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "first_errors": result.errors[:3],
        }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
