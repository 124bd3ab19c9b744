"""Instructions per request of the events API in the Django process, counted by valgrind's callgrind (not run
by ``make bench``).

    .venv/bin/python bench/count_events.py .                       # this tree
    .venv/bin/python bench/count_events.py /tmp/before . --requests 100

For each source tree, ``GET /api/v1/auth/me`` and ``POST /api/v1/events`` (the benchmark's report: multipart,
one small JPEG) go through Django's WSGI handler in a process run under callgrind, as in ``bench_events.py
--in-process``. Counting starts after a warm-up of 20 requests and stops after ``--requests`` more; printed:
instructions per request of each endpoint and their ratio.

Unlike the throughput and the CPU times, the count does not move with what else the machine is doing (a
shared machine's speed drifts by 10-30 % within minutes: docs/benchmarks.md), so it tells a change of a few
per cent in the Python of either endpoint from noise in one run. It counts only this process: PostgreSQL's
work, the kernel's (system calls, the photo's file) and the HTTP server are not in it. It needs the database
``bench_events.py --events 20000`` fills (``pingan_bench_events_small``). The photos go to a temporary
directory, deleted afterwards, and the reports are deleted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_events  # noqa: E402

WARM_UP = 20


def child(endpoint: str, requests: int, flag: str) -> None:
    """Runs under callgrind, instrumentation off: warm up, say READY, wait for ``flag``.go (counting on), run
    the requests, say DONE, wait for ``flag``.done (counts dumped)."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    from pingan.accounts.models import User
    from pingan.accounts.services import token_issue
    from pingan.events.models import Event

    user = User.objects.get(username="grid1")
    membership = user.memberships.exclude(area=None).first()
    assert membership is not None and membership.area is not None
    key, _token = token_issue(user=user)
    _post, path, body, headers = bench_events.report_request(membership.area.pk, {})
    app = WSGIHandler()
    last_id = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def call() -> None:
        if endpoint == "create":
            bench_events.wsgi_call(app, key, "POST", path, "201", body, headers["Content-Type"])
        else:
            bench_events.wsgi_call(app, key, "GET", "/api/v1/auth/me", "200")

    try:
        for _ in range(WARM_UP):
            call()
        print("READY", flush=True)
        wait_for(flag + ".go")
        for _ in range(requests):
            call()
        print("DONE", flush=True)
        wait_for(flag + ".done")
    finally:
        bench_events.delete_reports(last_id)


def wait_for(path: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.05)


def count(tree: Path, endpoint: str, requests: int, work: Path) -> int:
    """Instructions of ``requests`` requests to ``endpoint``, the Django process of ``tree``."""
    flag = str(work / f"{endpoint}-{os.getpid()}-{time.monotonic_ns()}")
    out = work / "callgrind.out.%p"
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "PINGAN_VAR_DIR": str(work / "var"),  # the photos' files; the database is DATABASE_URL
    }
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        endpoint,
        "--requests",
        str(requests),
        "--flag",
        flag,
    ]
    process = subprocess.Popen(  # noqa: S603
        command, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        expect(process, "READY")
        control(process.pid, "--instr=on")
        Path(flag + ".go").touch()
        expect(process, "DONE")
        before = set(work.glob(f"callgrind.out.{process.pid}*"))
        control(process.pid, "--dump")
        control(process.pid, "--instr=off")
        Path(flag + ".done").touch()
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    dumps = sorted(set(work.glob(f"callgrind.out.{process.pid}*")) - before)
    if process.returncode != 0 or not dumps:
        error = process.stderr.read() if process.stderr else ""
        raise SystemExit(f"{tree} {endpoint}: the counted process failed\n{error[-3000:]}")
    return summary(dumps[0])


def expect(process: subprocess.Popen[str], word: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == word:
            return
    error = process.stderr.read() if process.stderr else ""
    raise SystemExit(f"the counted process stopped before {word}\n{error[-3000:]}")


def control(pid: int, option: str) -> None:
    subprocess.run(["callgrind_control", option, str(pid)], check=True, capture_output=True)  # noqa: S603, S607


def summary(dump: Path) -> int:
    """The instruction total a callgrind dump states (its ``summary:`` or ``totals:`` line)."""
    text = dump.read_text(errors="replace")
    found = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no total in {dump}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="*", default=["."], help="source trees")
    parser.add_argument("--database-url", default=bench_events.DEFAULT_URL + "_small")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--child", choices=["me", "create"], help=argparse.SUPPRESS)
    parser.add_argument("--flag", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    os.environ.setdefault("PINGAN_DEBUG", "0")  # as `pingan serve` runs: no query log
    if args.child:
        child(args.child, args.requests, args.flag)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (callgrind) is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="pingan-count-") as scratch:
        work = Path(scratch)
        for spec in args.trees:
            tree = Path(spec).resolve()
            me = count(tree, "me", args.requests, work) / args.requests
            create = count(tree, "create", args.requests, work) / args.requests
            print(
                f"{spec}: GET /api/v1/auth/me {me / 1e6:.2f} M instructions per request, "
                f"POST /api/v1/events {create / 1e6:.2f} M, ratio {me / create:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
