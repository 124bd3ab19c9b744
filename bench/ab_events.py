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
import os
import subprocess
import sys
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
    from django.db import connection

    from pingan.accounts.models import User
    from pingan.accounts.services import token_issue
    from pingan.events.models import Event

    user = User.objects.get(username="grid1")
    membership = user.memberships.exclude(area=None).first()
    assert membership is not None and membership.area is not None
    grid_id = membership.area.pk
    key, _token = token_issue(user=user)
    last_id = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.close()
    auth = {"Authorization": f"Bearer {key}"}

    def me() -> Any:
        return "GET", "/api/v1/auth/me", None, auth

    def create() -> Any:
        return bench_events.report_request(grid_id, auth)

    servers: list[subprocess.Popen[bytes]] = []
    ports = []
    try:
        for n, spec in enumerate(args.trees):
            tree, _sep, workers = spec.partition(":")
            port = 8770 + n
            servers.append(bench_events.serve(port, workers or args.workers, key, Path(tree).resolve()))
            ports.append(port)
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
                tree_found = found[n]
                tree_found["me"].append(one["rps"])
                tree_found["create"].append(other["rps"])
                tree_found["idle"].append((a2[0] - a1[0]) / (a2[1] - a1[1]) * 100)
                tick = 1000 / os.sysconf("SC_CLK_TCK")
                tree_found["cpu_me"].append(((a1[1] - a0[1]) - (a1[0] - a0[0])) * tick / one["requests"])
                tree_found["cpu_create"].append(
                    ((a2[1] - a1[1]) - (a2[0] - a1[0])) * tick / other["requests"]
                )
                line.append(f"{args.trees[n]}: {other['rps'] / one['rps']:.3f}")
            print(f"round {turn + 1}: " + ", ".join(line), flush=True)
        for spec, tree_found in zip(args.trees, found, strict=True):
            mean = {name: sum(values) / len(values) for name, values in tree_found.items()}
            print(
                f"{spec}: /auth/me {mean['me']:.1f} req/s, POST /events {mean['create']:.1f} req/s, "
                f"ratio {sum(tree_found['create']) / sum(tree_found['me']):.3f}, "
                f"idle during reports {mean['idle']:.1f} %, "
                f"CPU per request {mean['cpu_me']:.2f} / {mean['cpu_create']:.2f} ms"
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
        bench_events.delete_reports(last_id)


if __name__ == "__main__":
    main()
