"""The demo enrols the accounts that need a second factor, keeps their secrets on re-runs, prints them and
writes var/demo-accounts.txt."""

from __future__ import annotations

import io

import pyotp
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from pingan.accounts import security
from pingan.accounts.demo import DEMO_USERS
from pingan.accounts.models import TotpDevice
from pingan.accounts.roles import TOTP_MANDATORY_ROLES

pytestmark = pytest.mark.django_db

# every demo account whose role must use a second factor: the three administrators and the reveal roles
TOTP_USERS = {u.username for u in DEMO_USERS if u.role in TOTP_MANDATORY_ROLES}


def run_demo(capture) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("demo", "--no-serve", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_demo_enrols_totp_users_and_writes_the_file(
    settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks, demo_only
):
    demo_only("areas", "accounts")
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("PINGAN_DEMO_PASSWORD", "Demo-Pass-2026!")
    output = run_demo(django_capture_on_commit_callbacks)
    lines = (tmp_path / "demo-accounts.txt").read_text().splitlines()
    secrets = dict(line.split("\t") for line in lines)
    assert set(secrets) == TOTP_USERS
    assert {"commander", "street1", "grid1", "assist1", "auditor", "secadmin", "sysadmin"} <= TOTP_USERS
    assert "leader" not in TOTP_USERS
    for username, secret in secrets.items():
        assert len(secret) == 32 and secret.isalnum() and secret.isupper()
        assert f"{username}" in output and secret in output
        device = TotpDevice.objects.get(user__username=username)
        assert device.confirmed and security.totp_secret(device) == secret
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
            assert secret not in cursor.fetchone()[0]
    assert (tmp_path / "demo-accounts.txt").stat().st_mode & 0o077 == 0
    assert not TotpDevice.objects.filter(user__username="leader").exists()

    # a second run keeps the secrets
    run_demo(django_capture_on_commit_callbacks)
    again = dict(line.split("\t") for line in (tmp_path / "demo-accounts.txt").read_text().splitlines())
    assert again == secrets
    assert TotpDevice.objects.count() == len(TOTP_USERS)

    # a tester logs in with the printed secret
    client = Client()
    client.post("/accounts/login/", {"username": "sysadmin", "password": "Demo-Pass-2026!"})
    response = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secrets["sysadmin"]).now()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
