"""``pingan serve``: the production-style server (gunicorn, several worker processes)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


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
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "pingan.config.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            "2",
            "--timeout",
            "120",
            "--graceful-timeout",
            "20",
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("PINGAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        # a served site shows its own error pages (404.html…), not Django's technical ones listing every URL,
        # unless PINGAN_DEBUG asks for them (the development server, ``pingan runserver``, keeps them)
        os.environ.setdefault("PINGAN_DEBUG", "0")
        os.execv(sys.executable, argv)  # noqa: S606 — replaces this process with gunicorn
