"""A/B of the events API's creation ratio between source trees (not run by ``make bench``).

    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/ab_events.py /tmp/before . --seconds 5 --rounds 8

One server per tree (``pingan serve`` from that tree, its ``src`` first on the path) runs at the same time,
all on the same database: by default ``pingan_bench_events_small``, which ``bench_events.py --database-url
postgres://postgres@127.0.0.1:5432/pingan_bench_events_small --events 20000`` fills. The load alternates
between them: in each round every tree gets ``GET /api/v1/auth/me``, then ``POST /api/v1/events``, for
``--seconds`` each, so that a shared machine's drift slows every tree alike. Printed per tree: both
endpoints' requests per second, their ratio, the share of idle CPU during reports, and the machine's CPU time
per request (``/proc/stat``: every process, PostgreSQL's included). A tree may be given as ``PATH:WORKERS``.
The reports made are deleted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_events  # noqa: E402


def cpu_times() -> tuple[int, int]:
    """(idle + iowait, total) jiffies of the whole machine."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return values[3] + values[4], sum(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="+", help="source trees, PATH or PATH:WORKERS")
    parser.add_argument("--database-url", default=bench_events.DEFAULT_URL + "_small")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workers", default="3")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.files.storage import default_storage
    from django.db import connection

    from pingan.accounts.models import User
    from pingan.accounts.services import token_issue
    from pingan.events.models import Event, EventPhoto

    user = User.objects.get(username="grid1")
    membership = user.memberships.exclude(area=None).first()
    assert membership is not None and membership.area is not None
    grid = membership.area
    key, _token = token_issue(user=user)
    last_id = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.close()
    auth = {"Authorization": f"Bearer {key}"}

    def me() -> Any:
        return "GET", "/api/v1/auth/me", None, auth

    def create() -> Any:
        body, ctype = bench_events.multipart(
            {
                "area_id": str(grid.pk),
                "category": "0102",
                "title": bench_events.BENCH_TITLE,
                "description": "基准测试创建的事件",
                "latitude": "39.100001",
                "longitude": "117.210002",
            },
            [("photos", "scene.jpg", bench_events.JPEG, "image/jpeg")],
        )
        return "POST", "/api/v1/events", body, {**auth, "Content-Type": ctype}

    servers = []
    ports = []
    for n, spec in enumerate(args.trees):
        tree, _sep, workers = spec.partition(":")
        port = 8770 + n
        env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve() / "src")}
        command = [
            sys.executable,
            "-m",
            "pingan",
            "serve",
            "--port",
            str(port),
            "--workers",
            workers or args.workers,
        ]
        servers.append(
            subprocess.Popen(  # noqa: S603
                [*command, "--no-collectstatic"],
                cwd=tree,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ports.append(port)
    try:
        for port in ports:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/api/v1/auth/me", headers=auth)
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise SystemExit(f"the server on port {port} did not start")
            bench_events.load(port, 2, args.concurrency, me)  # warm-up
            bench_events.load(port, 2, args.concurrency, create)
        found: list[dict[str, list[float]]] = [
            {"me": [], "create": [], "idle": [], "cpu_me": [], "cpu_create": []} for _ in ports
        ]
        for turn in range(args.rounds):
            line = []
            for n, port in enumerate(ports):
                a0 = cpu_times()
                one = bench_events.load(port, args.seconds, args.concurrency, me)
                a1 = cpu_times()
                other = bench_events.load(port, args.seconds, args.concurrency, create)
                a2 = cpu_times()
                if one["errors"] or other["errors"]:
                    raise SystemExit(f"errors: {one['statuses']} {other['statuses']}")
                tree = found[n]
                tree["me"].append(one["rps"])
                tree["create"].append(other["rps"])
                tree["idle"].append((a2[0] - a1[0]) / (a2[1] - a1[1]) * 100)
                tick = 1000 / os.sysconf("SC_CLK_TCK")
                tree["cpu_me"].append(((a1[1] - a0[1]) - (a1[0] - a0[0])) * tick / one["requests"])
                tree["cpu_create"].append(((a2[1] - a1[1]) - (a2[0] - a1[0])) * tick / other["requests"])
                line.append(f"{args.trees[n]}: {other['rps'] / one['rps']:.3f}")
            print(f"round {turn + 1}: " + ", ".join(line), flush=True)
        for spec, tree in zip(args.trees, found, strict=True):
            mean = {name: sum(values) / len(values) for name, values in tree.items()}
            print(
                f"{spec}: /auth/me {mean['me']:.1f} req/s, POST /events {mean['create']:.1f} req/s, "
                f"ratio {sum(tree['create']) / sum(tree['me']):.3f}, "
                f"idle during reports {mean['idle']:.1f} %, "
                f"CPU per request {mean['cpu_me']:.2f} / {mean['cpu_create']:.2f} ms"
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
        made = Event.objects.filter(pk__gt=last_id, title=bench_events.BENCH_TITLE)
        for name in EventPhoto.objects.filter(event__in=made).values_list("file", flat=True):
            default_storage.delete(name)
        made.delete()


if __name__ == "__main__":
    main()
