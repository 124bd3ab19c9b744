"""Benchmark of grid events on PostgreSQL with 1M events (issue 5, docs/benchmarks.md "Grid events").

    .venv/bin/python bench/bench_events.py                         # 1,000,000 events into pingan_bench_events
    .venv/bin/python bench/bench_events.py --events 100000 --json
    .venv/bin/python bench/bench_events.py --skip-reads --seconds 20 --concurrency 8 --workers 3

The database is created when missing, migrated, given the demo district and accounts (areas + accounts
loaders only) and filled with ``pingan seed_events`` (COPY) until it holds ``--events`` events. Then:

1. reads, in this process, through the same selectors as the pages and the API (p50/p95 over ``--reps``
   runs after a warm-up; the user is re-read every run so the scope is computed each time, as per request):
   the triage queue of a street centre and of the district centre (as the page loads it), filtered lists
   (first page of 30, and the page's count), duplicate suggestion, KPI figures for the whole district;
2. API throughput against a real server (``pingan serve``: gunicorn, ``--workers`` processes) with
   ``--concurrency`` client threads (keep-alive connections, bearer token): the trivial authenticated
   endpoint ``GET /api/v1/auth/me`` and ``POST /api/v1/events`` (multipart, one small JPEG photo), each for
   ``--seconds`` seconds in all, taking turns in ``--rounds`` rounds (a machine whose speed drifts during
   the run — a shared one does — then slows both alike; each round's ratio is printed too). Errors are
   counted (any status other than 200/201).
3. ``--in-process``: the same two requests through Django's WSGI handler in this process (every middleware,
   no HTTP server, no client): CPU milliseconds per request of this process (PostgreSQL's own time is not in
   it), the best of ``--batches`` alternating batches of 40. Steadier than the throughput on a shared
   machine, and what a change to either endpoint's Python moves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_events"
BENCH_TITLE = "基准测试上报的占道经营"  # as stored: normalisation leaves it unchanged
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 2000 + b"\xff\xd9"


def machine() -> dict[str, Any]:
    cpu, mem_kb = "", 0
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        pass
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "loadavg": os.getloadavg(),
    }


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(events: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from pingan.accounts.demo import load_users
    from pingan.areas.demo import load_areas
    from pingan.areas.models import Area
    from pingan.core.demo import DemoContext
    from pingan.events.models import Event

    call_command("migrate", interactive=False, verbosity=0)
    if not Area.objects.exists():
        ctx = DemoContext(stdout=open(os.devnull, "w"))  # noqa: SIM115
        with transaction.atomic():
            load_areas(ctx)
            load_users(ctx)
    have = Event.objects.count()
    if have < events:
        print(f"seeding {events - have:,} events…", flush=True)
        call_command("seed_events", events=events - have)
    from pingan.events import stats

    started = time.monotonic()
    built = stats.refresh(full=True)  # what the worker does on its first round (events/stats.py)
    print(f"day statistics rebuilt: {built['rows']:,} rows in {time.monotonic() - started:.1f} s", flush=True)


def timed(fn: Any, reps: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def reads(reps: int, only: str = "") -> dict[str, Any]:
    from pingan.accounts.models import User
    from pingan.areas.models import Area
    from pingan.core.pagination import CappedPaginator
    from pingan.events import selectors
    from pingan.events.selectors import EventFilter

    def user(name: str) -> User:
        return User.objects.get(username=name)

    street = Area.objects.filter(level="street").order_by("code").first()
    department = User.objects.get(username="handler1").memberships.exclude(department=None).first()
    sample = selectors.Event.objects.filter(latitude__isnull=False).order_by("-reported_at").first()
    assert street is not None and sample is not None

    def triage(name: str) -> Any:
        return lambda: selectors.triage_groups(user=user(name))  # as the page: 4 groups, 50 rows + count each

    def triage_view(name: str) -> Any:
        from django.test import RequestFactory

        from pingan.events import views

        def run() -> None:
            request = RequestFactory().get("/events/triage/")
            request.user = user(name)
            request.session = {}  # type: ignore[assignment]
            assert views.triage(request).status_code == 200

        return run

    def page(name: str, filters: EventFilter) -> Any:
        def run() -> None:
            qs = selectors.event_list(user=user(name), filters=filters)
            p = CappedPaginator(qs, 30).get_page(1)  # the list page's paginator (count capped at 10,000)
            list(p.object_list)

        return run

    def first_page(name: str, filters: EventFilter) -> Any:
        return lambda: list(selectors.event_list(user=user(name), filters=filters)[:30])

    def kpis(group_by: str | None) -> Any:
        return lambda: selectors.event_kpis(user=user("commander"), group_by=group_by)

    cases: dict[str, Any] = {
        "triage queue, street centre (street1): 4 groups, up to 50 rows + count each": triage("street1"),
        "triage queue, district centre (commander): 4 groups, up to 50 rows + count each": triage(
            "commander"
        ),
        "triage page, street centre (street1): the view, duplicates marked, HTML rendered": triage_view(
            "street1"
        ),
        "department queue (handler1), up to 300 rows": lambda: selectors.department_page(
            user=user("handler1")
        ),
        "list, district, no filter: first page of 30": first_page("commander", EventFilter()),
        "list, district, no filter: page + count": page("commander", EventFilter()),
        "list, status=handling: page + count": page("commander", EventFilter(status=["handling"])),
        "list, category 01 + open: page + count": page(
            "commander", EventFilter(category="01", open_only=True)
        ),
        "list, one street (area subtree) + last 30 days: page + count": page(
            "commander",
            EventFilter(area_id=street.pk, reported_from=dt.date.today() - dt.timedelta(days=30)),
        ),
        "list, late now: page + count": page("commander", EventFilter(overdue=True)),
        "list, department: page + count": page(
            "commander", EventFilter(department_id=department.department_id if department else None)
        ),
        "list, street centre (street1) own scope: page + count": page("street1", EventFilter()),
        "list, search by number: page + count": page("commander", EventFilter(q=sample.number)),
        "duplicate suggestion (50 m, 7 days)": lambda: selectors.event_duplicates(
            user=user("grid1"), category=sample.category, latitude=sample.latitude, longitude=sample.longitude
        ),
        "KPI figures, whole district (total)": kpis(None),
        "KPI figures, whole district, by area": kpis("area"),
        "KPI figures, whole district, by month": kpis("period"),
    }
    results = {}
    for name, fn in cases.items():
        if only and only not in name:
            continue
        results[name] = timed(fn, reps)
        print(f"  {name}: {results[name]}", flush=True)
    return results


# --- API throughput ----------------------------------------------------------------------------------


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "pa" + uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    for key, filename, data, ctype in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def load(port: int, seconds: float, concurrency: int, make: Any) -> dict[str, Any]:
    """``concurrency`` threads, each with one keep-alive connection, sending ``make()`` requests."""
    stop = time.monotonic() + seconds
    counts = [0] * concurrency
    errors = [0] * concurrency
    statuses: dict[int, int] = {}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]  # ms, per thread
    lock = threading.Lock()

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            method, path, body, headers = make()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            latencies[i].append((time.perf_counter() - start) * 1000)
            counts[i] += 1
            if status not in (200, 201):
                errors[i] += 1
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    return summary(
        [{"seconds": elapsed, "errors": sum(errors), "statuses": statuses, "latencies": latencies}]
    )


def summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests per second and latency percentiles over one or more measuring windows."""
    flat = sorted(x for w in windows for lat in w["latencies"] for x in lat)
    statuses: dict[int, int] = {}
    for w in windows:
        for status, n in w["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    seconds = sum(w["seconds"] for w in windows)
    return {
        "requests": len(flat),
        "errors": sum(w["errors"] for w in windows),
        "statuses": statuses,
        "rps": round(len(flat) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(flat[len(flat) // 2], 1) if flat else None,
        "p95_ms": round(flat[int(len(flat) * 0.95) - 1], 1) if flat else None,
        "windows": windows,
    }


def serve(port: int, workers: str | int, key: str, tree: Path = ROOT) -> subprocess.Popen[bytes]:
    """``pingan serve`` from ``tree`` (its ``src`` first on the path) on ``port``, once it answers."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "pingan", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
            if c.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start: " + server.stderr.read(2000).decode())  # type: ignore[union-attr]


def report_request(grid_id: int, auth: dict[str, str]) -> tuple[str, str, bytes, dict[str, str]]:
    """The benchmark's report: multipart, one small JPEG."""
    body, ctype = multipart(
        {
            "area_id": str(grid_id),
            "category": "0102",
            "title": BENCH_TITLE,
            "description": "基准测试创建的事件",
            "latitude": "39.100001",
            "longitude": "117.210002",
        },
        [("photos", "scene.jpg", JPEG, "image/jpeg")],
    )
    return "POST", "/api/v1/events", body, {**auth, "Content-Type": ctype}


def delete_reports(after_id: int) -> None:
    """Delete the benchmark's reports made after event ``after_id``, their photo files and the centre's
    notifications of them: they would pile up in grid1's street's triage queue, duplicate checks and bell.
    The notifications go by their title, which names the report, so that those of earlier runs go too (runs
    before 2026-12-07 left them)."""
    from django.core.files.storage import default_storage

    from pingan.events.models import Event, EventPhoto
    from pingan.notifications.models import Notification

    made = Event.objects.filter(pk__gt=after_id, title=BENCH_TITLE)
    for name in EventPhoto.objects.filter(event__in=made).values_list("file", flat=True):
        default_storage.delete(name)
    made.delete()
    Notification.objects.filter(object_type="events.event", title__endswith=f" {BENCH_TITLE}").delete()


def api_throughput(
    seconds: float, concurrency: int, workers: int, port: int, rounds: int = 3
) -> dict[str, Any]:
    from pingan.accounts.models import User
    from pingan.accounts.services import token_issue
    from pingan.events.models import Event

    grid_user = User.objects.get(username="grid1")
    membership = grid_user.memberships.exclude(area=None).first()
    assert membership is not None and membership.area is not None
    grid = membership.area
    key, _token = token_issue(user=grid_user)
    server = serve(port, workers, key)
    try:
        auth = {"Authorization": f"Bearer {key}"}
        before = Event.objects.count()
        last_id = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        def me() -> Any:
            return "GET", "/api/v1/auth/me", None, auth

        def create() -> Any:
            return report_request(grid.pk, auth)

        load(port, 3, concurrency, me)  # warm-up: every worker imported and connected
        me_windows: list[dict[str, Any]] = []
        create_windows: list[dict[str, Any]] = []
        round_ratios = []
        for turn in range(rounds):  # the two take turns: a drift of the machine's speed slows both alike
            one = load(port, seconds / rounds, concurrency, me)
            other = load(port, seconds / rounds, concurrency, create)
            me_windows += one.pop("windows")
            create_windows += other.pop("windows")
            round_ratios.append(round(other["rps"] / one["rps"], 3) if one["rps"] else None)
            print(f"  round {turn + 1}: auth/me {one['rps']} req/s, events {other['rps']} req/s", flush=True)
        trivial, created = summary(me_windows), summary(create_windows)
        del trivial["windows"], created["windows"]
        print(f"  GET /api/v1/auth/me: {trivial}", flush=True)
        print(f"  POST /api/v1/events: {created}", flush=True)
        created["rows_added"] = Event.objects.count() - before
        delete_reports(last_id)  # the reads of the next run expect the database as it was
        return {
            "trivial": trivial,
            "create": created,
            "ratio": round(created["rps"] / trivial["rps"], 3) if trivial["rps"] else None,
            "round_ratios": round_ratios,
            "workers": workers,
            "concurrency": concurrency,
            "seconds": seconds,
            "rounds": rounds,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def wsgi_call(
    app: Any, key: str, method: str, path: str, expected: str, data: bytes = b"", content_type: str = ""
) -> None:
    """One request through the WSGI application ``app`` in this process, with the bearer token ``key``;
    stops the benchmark unless the status starts with ``expected``."""
    import io

    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda chunk: None

    response = app(environ, start_response)
    b"".join(response)
    response.close()
    if not statuses[0].startswith(expected):
        raise SystemExit(f"{method} {path} answered {statuses[0]}")


def in_process(batches: int) -> dict[str, Any]:
    """CPU ms per request (this process) of GET /api/v1/auth/me and POST /api/v1/events through
    Django's WSGI handler, the best of ``batches`` alternating batches of 40."""
    from django.core.handlers.wsgi import WSGIHandler

    from pingan.accounts.models import User
    from pingan.accounts.services import token_issue
    from pingan.events.models import Event

    user = User.objects.get(username="grid1")
    membership = user.memberships.exclude(area=None).first()
    assert membership is not None and membership.area is not None
    key, _token = token_issue(user=user)
    _post, _path, body, headers = report_request(membership.area.pk, {})
    ctype = headers["Content-Type"]
    app = WSGIHandler()
    last_id = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def call(method: str, path: str, expected: str, data: bytes = b"", content_type: str = "") -> None:
        wsgi_call(app, key, method, path, expected, data, content_type)

    def me() -> None:
        call("GET", "/api/v1/auth/me", "200")

    def create() -> None:
        call("POST", "/api/v1/events", "201", body, ctype)

    def batch(request: Any, n: int = 40) -> float:
        started = time.process_time()
        for _ in range(n):
            request()
        return (time.process_time() - started) / n * 1000

    me()  # warm-up
    create()
    mine, created = [], []
    for _ in range(batches):
        mine.append(batch(me))
        created.append(batch(create))
    delete_reports(last_id)
    trivial, report = min(mine), min(created)
    return {
        "auth_me_cpu_ms": round(trivial, 2),
        "create_cpu_ms": round(report, 2),
        "ratio": round(trivial / report, 3),
        "batches": batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="turns the two API endpoints take")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--only", default="", help="run the read cases whose name contains this text")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--in-process", action="store_true", help="also measure CPU per request in process")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    # as `pingan serve` runs: without Django's debug cursor, which records every statement (a report has
    # many more than the trivial request, so the in-process figures would otherwise favour the trivial one)
    os.environ.setdefault("PINGAN_DEBUG", "0")
    sys.path.insert(0, str(ROOT / "src"))
    ensure_database(args.database_url)
    import django

    django.setup()
    prepare(args.events)
    from pingan.events.models import Event

    result: dict[str, Any] = {"machine": machine(), "events": Event.objects.count()}
    print(f"{result['events']:,} events; load average {result['machine']['loadavg']}", flush=True)
    if not args.skip_reads:
        result["reads"] = reads(args.reps, args.only)
    if not args.skip_api:
        result["api"] = api_throughput(args.seconds, args.concurrency, args.workers, args.port, args.rounds)
        api = result["api"]
        print(f"  create / trivial = {api['ratio']} (rounds: {api['round_ratios']})", flush=True)
    if args.in_process:
        result["in_process"] = found = in_process(args.batches)
        print(
            f"  in process, CPU per request: auth/me {found['auth_me_cpu_ms']} ms, "
            f"events {found['create_cpu_ms']} ms, ratio {found['ratio']}",
            flush=True,
        )
    result["loadavg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
