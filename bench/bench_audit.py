"""Benchmark of the audit chain on PostgreSQL: bulk-load N chained rows, then time ``verify``.

    .venv/bin/python bench/bench_audit.py                      # 1,000,000 rows into pingan_bench_audit
    .venv/bin/python bench/bench_audit.py --rows 100000 --json
    .venv/bin/python bench/bench_audit.py --database-url postgres://postgres@127.0.0.1:5432/other --drop

The database is created when missing and migrated; rows are added until it holds ``--rows``. The rows are
chained in Python (the same code as ``audit_record``) and written with COPY. Then it times:

- ``verify`` over the whole chain (the same function as ``pingan audit verify``), twice (cold and warm);
- ``verify`` finding a row edited near the end (a full walk that fails at the last rows);
- ``audit_record`` one event per transaction, single writer and 4 concurrent writers (the chain lock).

Results go to stdout; docs/benchmarks.md has the figures measured on the project machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_audit"

ACTIONS = [
    ("area.update", "write"),
    ("person.update", "write"),
    ("event.dispatch", "write"),
    ("auth.login", "auth"),
    ("auth.login_failed", "auth"),
    ("access.view", "access"),
    ("access.reveal", "access"),
    ("people.export", "export"),
    ("security.policy_update", "policy"),
]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0",
    "pingan-cli/1.0",
]


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    pg = ""
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
    except Exception:  # noqa: S110 - informational only
        pass
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
    }


def backend_cpu_seconds() -> float:
    """CPU time used so far by this connection's PostgreSQL backend (same machine: /proc/<pid>/stat)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_database(url: str, drop: bool) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def synthetic_rows(n: int, start: dt.datetime, rng: random.Random) -> Any:
    """Plausible events, one every ~2 seconds from ``start``."""
    step = dt.timedelta(seconds=2)
    for i in range(n):
        action, kind = rng.choice(ACTIONS)
        area = f"120103{rng.choice(['004', '012', '007'])}{rng.randint(1, 12):03d}"
        changes: dict[str, Any] = {}
        if kind == "write":
            changes = {
                "population": [rng.randint(1000, 9000), rng.randint(1000, 9000)],
                "name": [f"社区{rng.randint(1, 99)}", f"社区{rng.randint(1, 99)}"],
            }
        elif kind == "auth":
            changes = {"reason": "credentials"} if action.endswith("failed") else {"second_factor": "totp"}
        elif kind == "access":
            changes = {"fields": ["id_number", "phone"]}
        elif kind == "export":
            changes = {"filters": {"area": area[:9]}, "rows": rng.randint(1, 5000)}
        yield {
            "occurred_at": start + step * i,
            "kind": kind,
            "actor_id": rng.randint(1, 400),
            "actor_username": f"user{rng.randint(1, 400)}",
            "actor_role": "street_staff",
            "action": action,
            "object_type": "people.person",
            "object_id": str(rng.randint(1, 2_000_000)),
            "object_repr": f"王*{rng.choice('华明强丽')}",
            "area_code": area,
            "subject_type": "people.person" if kind == "access" else "",
            "subject_id": str(rng.randint(1, 2_000_000)) if kind == "access" else "",
            "subject_label": "张*明" if kind == "access" else "",
            "changes": changes,
            "reason": "入户走访核实" if action == "access.reveal" else "",
            "source_ip": f"10.{rng.randint(0, 20)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "user_agent": rng.choice(AGENTS),
            "outcome": "failure" if action.endswith("failed") else "success",
        }


def writers(threads: int, per_thread: int) -> float:
    from django.db import connection, transaction

    from pingan.audit.services import audit_record
    from pingan.core.actors import SYSTEM

    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=SYSTEM, action="bench.write", changes={"i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return threads * per_thread / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--drop", action="store_true", help="drop and recreate the benchmark database first")
    parser.add_argument("--chunk-size", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--verify-only", action="store_true", help="time verify only (no load, tamper, writers)"
    )
    args = parser.parse_args()

    if not args.database_url.startswith("postgres"):
        sys.exit("the benchmark runs on PostgreSQL (--database-url postgres://...)")
    ensure_database(args.database_url, args.drop)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from pingan.audit import chain
    from pingan.audit.models import AuditEvent

    call_command("migrate", verbosity=0)
    results: dict[str, Any] = {"machine": machine(), "rows_requested": args.rows}

    have = AuditEvent.objects.count()
    if have < args.rows:
        n = args.rows - have
        rng = random.Random(20261128)  # noqa: S311 - synthetic data
        start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2 * n + 3600)
        started = time.perf_counter()
        written = chain.append_bulk(synthetic_rows(n, start, rng))
        seconds = time.perf_counter() - started
        results["load"] = {
            "rows": written,
            "seconds": round(seconds, 2),
            "rows_per_second": round(written / seconds),
        }
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")
    total = AuditEvent.objects.count()
    results["rows"] = total
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('audit_auditevent'))")
        results["table_size"] = cursor.fetchone()[0]

    runs = []
    cpus = os.cpu_count() or 1
    for workers in (1, 1, cpus) if cpus > 1 else (1, 1):
        cpu_started = time.process_time()
        server_started = backend_cpu_seconds()
        result = chain.verify(chunk_size=args.chunk_size, workers=workers)
        server_seconds = backend_cpu_seconds() - server_started if workers == 1 else None
        assert result.ok, result.problem
        runs.append(
            {
                "workers": result.workers,
                "checked": result.checked,
                "seconds": round(result.seconds, 2),
                "rows_per_second": round(result.checked / result.seconds),
                "cpu_seconds_main_process": round(time.process_time() - cpu_started, 2),
                "cpu_seconds_server_backend": round(server_seconds, 2)
                if server_seconds is not None
                else None,
            }
        )
    results["verify"] = runs
    results["load_average_after_verify"] = os.getloadavg()

    if args.verify_only:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return

    # tamper near the end (as a DBA: trigger bypassed) and time the detection, then undo it
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "action").first()
    assert last is not None
    target = last[0] - 10
    original = AuditEvent.objects.filter(seq=target).values_list("action", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET action = 'tampered' WHERE seq = %s", [target])
        try:
            found = chain.verify(chunk_size=args.chunk_size)
        finally:
            cursor.execute("UPDATE audit_auditevent SET action = %s WHERE seq = %s", [original, target])
            cursor.execute("SET session_replication_role = DEFAULT")
    assert not found.ok and found.problem is not None and found.problem.seq == target
    results["verify_detects_edit"] = {
        "seq": target,
        "kind": found.problem.kind,
        "seconds": round(found.seconds, 2),
    }

    results["audit_record_per_second"] = {
        "1_writer": round(writers(1, 2000)),
        "4_writers": round(writers(4, 500)),
    }
    assert chain.verify(from_seq=total - 10).ok

    cli = subprocess.run(  # noqa: S603 - our own command
        [str(ROOT / ".venv/bin/pingan"), "audit", "verify", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    results["cli_verify"] = json.loads(cli.stdout) if cli.returncode == 0 else {"error": cli.stderr[-500:]}

    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    m = results["machine"]
    print(
        f"machine: {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, {m['date']}"
    )
    if "load" in results:
        print(
            f"load (chain in Python + COPY): {results['load']['rows']:,} rows "
            f"in {results['load']['seconds']} s = {results['load']['rows_per_second']:,} rows/s"
        )
    print(f"table: {results['rows']:,} rows, {results['table_size']}")
    for i, run in enumerate(runs, 1):
        print(
            f"verify run {i} ({run['workers']} process(es)): {run['checked']:,} rows in {run['seconds']} s "
            f"= {run['rows_per_second']:,} rows/s"
        )
    print(f"load average: {results['load_average_after_verify']}")
    d = results["verify_detects_edit"]
    print(f"verify finds the row edited at seq {d['seq']} ({d['kind']}) in {d['seconds']} s")
    w = results["audit_record_per_second"]
    print(f"audit_record: {w['1_writer']:,}/s one writer, {w['4_writers']:,}/s with 4 concurrent writers")
    c = results["cli_verify"]
    if "seconds" in c:
        print(f"pingan audit verify (CLI): {c['checked']:,} rows in {c['seconds']:.2f} s")


if __name__ == "__main__":
    main()
