"""``pingan serve``: the production-style server (gunicorn, several worker processes)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def gunicorn_argv(bind: str, workers: int, threads: int) -> list[str]:
    """gunicorn's command line. Its threaded worker (``gthread``) even with one thread, for keep-alive
    connections (the sync worker closes every connection after its response). One request thread per
    process by default: a request here is mostly Python, which one process runs on one core at a time (the
    GIL), so a second thread adds no throughput, only contention. With two threads per process, reports
    waited for the other thread at each of their database round trips (57-126 ``futex`` calls per request,
    ``strace``) and both endpoints of the API benchmark were 3-15 % slower (docs/benchmarks.md, thirteenth
    session). Concurrency comes from the processes (``--workers``). Behind the reverse proxy, which buffers
    a slow client's upload, a worker does not wait on the network; a server without one may want
    ``--threads 2``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "pingan.config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "120",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        os.environ.get("PINGAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]


class Command(BaseCommand):
    help = "Serve Pingan with gunicorn on the configured database (collects static files first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("PINGAN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PINGAN_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("PINGAN_WORKERS", "0")) or None,
            help="worker processes (default: 2 × CPU cores + 1, at most 9)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("PINGAN_THREADS", "1")),
            help="request threads per worker process (default 1: see gunicorn_argv)",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        workers = options["workers"] or min(9, 2 * (os.cpu_count() or 1) + 1)
        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(
            f"Pingan 正在 http://{bind} 提供服务（{workers} 个工作进程，数据库 "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}）。按 Ctrl+C 停止。"
        )
        sys.stdout.flush()
        argv = gunicorn_argv(bind, workers, max(1, options["threads"]))
        # a served site shows its own error pages (404.html…), not Django's technical ones listing every URL,
        # unless PINGAN_DEBUG asks for them (the development server, ``pingan runserver``, keeps them)
        os.environ.setdefault("PINGAN_DEBUG", "0")
        os.execv(sys.executable, argv)  # noqa: S606 — replaces this process with gunicorn
