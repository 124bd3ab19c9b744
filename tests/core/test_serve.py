"""``pingan serve``: gunicorn's command line, and a real gunicorn keeping a client's connection open across
requests with its default of one request thread per process."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from pingan.core.management.commands import serve


def _argv(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    seen: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        seen.append(argv)

    monkeypatch.setattr(serve.os, "execv", execv)
    call_command("serve", "--no-collectstatic", *args)
    return seen[0]


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_one_request_thread_per_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINGAN_THREADS", raising=False)
    argv = _argv(monkeypatch, "--workers", "3", "--port", "8123")
    assert _option(argv, "--worker-class") == "gthread"  # keep-alive even with one thread
    assert _option(argv, "--threads") == "1"
    assert _option(argv, "--workers") == "3"
    assert _option(argv, "--bind") == "127.0.0.1:8123"


def test_threads_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGAN_THREADS", "2")
    assert _option(_argv(monkeypatch), "--threads") == "2"
    assert _option(_argv(monkeypatch, "--threads", "4"), "--threads") == "4"
    assert _option(_argv(monkeypatch, "--threads", "0"), "--threads") == "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_keeps_the_connection_across_requests(tmp_path: Path) -> None:
    port = _free_port()
    env: dict[str, Any] = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /healthz only runs SELECT 1
        "PINGAN_VAR_DIR": str(tmp_path),
        "PINGAN_DEBUG": "0",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the server's own settings, not the tests'
    argv = serve.gunicorn_argv(f"127.0.0.1:{port}", workers=1, threads=1)
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.connect()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
                time.sleep(0.2)
        sock = conn.sock
        for _ in range(3):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200, response.read()
            assert response.getheader("Connection", "").lower() != "close"
            response.read()
            assert conn.sock is sock  # the same connection served every request
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
