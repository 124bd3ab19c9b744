"""``pingan worker``: the background process. It runs the queued tasks (django-tasks' database backend,
``db_worker``) and, in a second thread, the periodic jobs the apps register (``core.periodic``): event
deadlines, reminders and escalation, the holiday-calendar check…

    pingan worker                 # tasks + periodic jobs, until SIGINT/SIGTERM
    pingan worker --once          # one round of periodic jobs, then exit (cron, tests, diagnosis)
    pingan worker --no-tasks      # periodic jobs only
    pingan worker --interval 30   # seconds between rounds (default 60)

Several workers may run at once (PostgreSQL): tasks are claimed row by row, and one round of periodic jobs
runs at a time (advisory lock); the jobs themselves are idempotent.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from pingan.core.periodic import logger, registered_jobs, run_due_jobs


class Command(BaseCommand):
    help = "Run queued tasks (db_worker) and the periodic jobs"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every periodic job once and exit")
        parser.add_argument("--no-tasks", action="store_true", help="periodic jobs only, no task queue")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between rounds (default 60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            results = run_due_jobs(force=True)
            self.stdout.write(json.dumps(results, ensure_ascii=False, default=str))
            return
        stop = threading.Event()
        names = ", ".join(job.name for job in registered_jobs()) or "none"
        self.stdout.write(f"periodic jobs every {options['interval']:g}s: {names}")
        scheduler = threading.Thread(
            target=self._rounds, args=(stop, options["interval"]), daemon=True, name="pingan-periodic"
        )
        scheduler.start()
        try:
            if options["no_tasks"]:
                while scheduler.is_alive():
                    scheduler.join(timeout=1)
            else:
                call_command("db_worker", "--queue-name", "*", "--no-reload")
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            scheduler.join(timeout=10)

    @staticmethod
    def _rounds(stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            close_old_connections()
            try:
                run_due_jobs()
            except Exception:  # a database outage must not kill the scheduler
                logger.exception("periodic round failed")
            finally:
                connection.close()
            stop.wait(interval)
