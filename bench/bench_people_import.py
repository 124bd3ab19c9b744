"""Benchmark of the resident roster import (people.importers.people_import) on PostgreSQL.

    .venv/bin/python bench/bench_people_import.py                      # 100,000 rows
    .venv/bin/python bench/bench_people_import.py --rows 20000 --json

Generates a roster xlsx of ``--rows`` synthetic residents (valid ID numbers with address code 120103,
mobile numbers, codes given as labels, ten grids), then measures on a scratch database
(``--database-url``, default ``postgres://postgres@127.0.0.1:5432/pingan_bench_people``, created when
missing, emptied of people before each run):

- reading the file (python-calamine + header detection);
- the first import (every row validated, encrypted, indexed, bulk-created, one transaction);
- the database alone: the rows the first import wrote, COPYed by the server into a scratch table built like
  the person table (its indexes and generated column) and rolled back — no Python in it, so the most any
  importer could do on this machine and server;
- the same file again (every row found through the blind index and compared: nothing written);
- the same file with one changed phone per row (bulk_update).

Each step gives the importer's CPU, its encoding workers' and the PostgreSQL backend's (read from /proc
when the server runs on this machine), and the server's settings. docs/benchmarks.md has the figures
measured on the project machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
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


def _reset_peak() -> None:
    """Reset this process's peak resident memory (Linux: VmHWM), so each step reports its own peak."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> dict[str, int]:
    """Peak resident memory in MB: this process since the last reset, and the largest worker process."""
    import resource

    peak = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) // 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return {
        "importer": peak,
        "largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def _import_export(data: bytes, rows: int) -> dict[str, Any]:
    """The same file through django-import-export: a plain ModelResource (use_bulk=True) on an equivalent
    plain model (bench/iebench), end to end (tablib reads the xlsx, then import_data in a transaction)."""
    import tablib
    from django.db import connection

    from bench.iebench.models import RosterPerson
    from bench.iebench.resources import RosterResource

    with connection.schema_editor() as editor:
        if RosterPerson._meta.db_table in connection.introspection.table_names():
            editor.delete_model(RosterPerson)
        editor.create_model(RosterPerson)
    _reset_peak()
    t, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu(connection)
    dataset = tablib.Dataset().load(data, format="xlsx")
    outcome = RosterResource().import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
    seconds = time.perf_counter() - t
    cpu_seconds = time.process_time() - cpu
    server_after = _backend_cpu(connection)
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "cpu_seconds": round(cpu_seconds, 2),
        "server_cpu_seconds": round(server_after - server, 2)
        if server is not None and server_after is not None
        else None,
        "peak_mb": _peak_mb()["importer"],
        "rows_in_table": RosterPerson.objects.count(),
        "errors": len(outcome.base_errors)
        + len(outcome.invalid_rows)
        + sum(1 for r in outcome.rows if r.errors),
    }


def _backend_cpu(connection: Any) -> float | None:
    """CPU seconds used so far by the PostgreSQL backend serving ``connection``, read from /proc when the
    server runs on this machine (else None): the importer's COPY costs the server as much as the importer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_settings(connection: Any) -> dict[str, str]:
    names = ["shared_buffers", "max_wal_size", "wal_buffers", "synchronous_commit", "server_version"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting || coalesce(' ' || unit, '') FROM pg_settings WHERE name = ANY(%s)", [names]
        )
        return dict(cursor.fetchall())


def _database_alone(connection: Any, rows: int) -> dict[str, Any]:
    """What PostgreSQL alone needs to write the rows the first import wrote: they are copied out of the
    person table, then COPYed by the server into a scratch table built like it (same columns, generated
    column, constraints and indexes; no foreign keys), in one transaction that is rolled back. No Python
    work is in it: it bounds how fast any importer can be on this machine and server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'people_person'::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = ''"
        )
        columns = cursor.fetchone()[0]
        buffer = io.BytesIO()
        with cursor.copy(f"COPY (SELECT {columns} FROM people_person) TO STDOUT") as copy:  # noqa: S608
            for block in copy:
                buffer.write(block)
        data = buffer.getvalue()
        cursor.execute("BEGIN")
        try:
            cursor.execute("CREATE TABLE bench_person_copy (LIKE people_person INCLUDING ALL)")
            cpu = _backend_cpu(connection)
            t = time.perf_counter()
            with cursor.copy(f"COPY bench_person_copy ({columns}) FROM STDIN") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
            seconds = time.perf_counter() - t
            after = _backend_cpu(connection)
            cursor.execute("SELECT count(*) FROM bench_person_copy")
            written = cursor.fetchone()[0]
        finally:
            cursor.execute("ROLLBACK")
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(written / seconds) if seconds else None,
        "server_cpu_seconds": round(after - cpu, 2) if cpu is not None and after is not None else None,
        "rows": written,
        "expected_rows": rows,
    }


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
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="skip the django-import-export comparison (pip install -e '.[bench]')",
    )
    args = parser.parse_args()
    _ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    compare = not args.no_compare and importlib.util.find_spec("import_export") is not None
    sys.path.insert(0, str(ROOT))
    # the bench settings add the bench-only app of the django-import-export comparison
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE", "bench.settings_bench" if compare else "pingan.config.settings"
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from pingan.areas.models import Area
    from pingan.core.actors import SYSTEM
    from pingan.core.excel import read_table
    from pingan.people.bulk import workers
    from pingan.people.importers import ROSTER_COLUMNS, error_report, people_import
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
    # emptied in SQL: the ORM's delete() would load the previous run's 100,000 people into this process,
    # whose memory Python keeps, and the importer's peak below would include it (578 MB instead of 441)
    from django.db import connection

    for model in (PersonStatusChange, FloatingRecord, Person):
        model._base_manager.all()._raw_delete(model._base_manager.db)
    with connection.cursor() as cursor:  # as a fresh table: no dead rows of the previous run in the way
        cursor.execute("VACUUM ANALYZE people_person")

    results: dict[str, Any] = {
        "load_average": os.getloadavg()[0],
        "rows": args.rows,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": dt.date.today().isoformat(),
        "server": _server_settings(connection),
    }
    data = roster(args.rows, grids)
    changed = roster(args.rows, grids, phone_prefix="1391")
    t = time.perf_counter()
    table = read_table(data, "roster.xlsx", expected=ROSTER_COLUMNS)
    results["read_s"] = round(time.perf_counter() - t, 2)
    del table
    results["workers"] = workers()
    for label, payload in (
        ("first_import", data),
        ("reimport_unchanged", data),
        ("reimport_changed_phone", changed),
    ):
        _reset_peak()
        t, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        server = _backend_cpu(connection)
        # end to end: read the file, validate, encrypt, index, commit, write the error report
        result = people_import(
            actor=SYSTEM, table=read_table(payload, "roster.xlsx", expected=ROSTER_COLUMNS)
        )
        report = error_report(result)
        seconds = time.perf_counter() - t
        cpu_seconds = time.process_time() - cpu
        worker_cpu = _children_cpu() - children
        server_after = _backend_cpu(connection)
        results[label] = {
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.rows / seconds),
            # this process's CPU and its encoding workers' (the PostgreSQL server's work is not in it): on a
            # loaded machine the wall clock mostly measures the wait for a core
            "cpu_seconds": round(cpu_seconds, 2),
            "worker_cpu_seconds": round(worker_cpu, 2),
            "rows_per_cpu_s": round(args.rows / (cpu_seconds + worker_cpu)),
            # the PostgreSQL backend's own CPU in the same time (None when the server is on another machine)
            "server_cpu_seconds": round(server_after - server, 2)
            if server is not None and server_after is not None
            else None,
            "peak_mb": _peak_mb(),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "report_bytes": len(report),
            "first_errors": result.errors[:3],
        }
        print(label, json.dumps(results[label], ensure_ascii=False), file=sys.stderr, flush=True)
        if label == "first_import":
            results["database_alone"] = _database_alone(connection, args.rows)
            print("database_alone", json.dumps(results["database_alone"]), file=sys.stderr, flush=True)
    if compare:
        results["django_import_export"] = _import_export(data, args.rows)
        print(
            "django_import_export", json.dumps(results["django_import_export"]), file=sys.stderr, flush=True
        )
        ours = results["first_import"]
        theirs = results["django_import_export"]
        results["ratio_wall"] = round(theirs["seconds"] / ours["seconds"], 1)
        results["ratio_cpu"] = round(
            theirs["cpu_seconds"] / (ours["cpu_seconds"] + ours["worker_cpu_seconds"]), 1
        )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
