"""``pingan createadmin``: the three administrators, from the environment or interactively."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORDS = {
    "PINGAN_SYSTEM_ADMIN_PASSWORD": "Sys-Admin-Pass-01",
    "PINGAN_SECURITY_ADMIN_PASSWORD": "Sec-Admin-Pass-02",
    "PINGAN_AUDIT_ADMIN_PASSWORD": "Aud-Admin-Pass-03",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for key, value in PASSWORDS.items():
        monkeypatch.setenv(key, value)
    yield monkeypatch


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("createadmin", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_no_accounts_exist_before(db):
    assert not User.objects.exists()  # migrations create no default account


def test_non_interactive(env):
    output = run("--no-input", "--username-prefix", "hx_")
    expected = {
        "hx_sysadmin": Role.SYSTEM_ADMIN,
        "hx_secadmin": Role.SECURITY_ADMIN,
        "hx_auditadmin": Role.AUDIT_ADMIN,
    }
    for (username, role), password in zip(expected.items(), PASSWORDS.values(), strict=True):
        user = User.objects.get(username=username)
        assert user.role == role and user.is_active and user.check_password(password)
        assert user.password_changed_at is not None
        assert not user.memberships.exists()
    assert "验证器" in output and "恢复码" in output  # TOTP enrolment instructions
    for password in PASSWORDS.values():
        assert password not in output
    events = AuditEvent.objects.filter(action="user.create")
    assert events.count() == 3 and set(events.values_list("actor_username", flat=True)) == {"system"}


def test_explicit_usernames(env):
    run(
        "--no-input", "--system-admin", "zhang.sys", "--security-admin", "li.sec", "--audit-admin", "wang.aud"
    )
    assert set(User.objects.values_list("username", flat=True)) == {"zhang.sys", "li.sec", "wang.aud"}


def test_weak_password_from_the_environment_is_refused(env):
    env.setenv("PINGAN_AUDIT_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="PINGAN_AUDIT_ADMIN_PASSWORD"):
        run("--no-input")
    assert not User.objects.exists()  # all or nothing


def test_missing_password_is_refused(env):
    env.delenv("PINGAN_SECURITY_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="PINGAN_SECURITY_ADMIN_PASSWORD"):
        run("--no-input")
    assert not User.objects.exists()


def test_passwords_must_differ(env):
    env.setenv("PINGAN_AUDIT_ADMIN_PASSWORD", PASSWORDS["PINGAN_SYSTEM_ADMIN_PASSWORD"])
    with pytest.raises(CommandError, match="互不相同"):
        run("--no-input")


def test_existing_usernames(env):
    run("--no-input")
    with pytest.raises(CommandError, match="已存在"):
        run("--no-input")
    output = run("--no-input", "--skip-existing")
    assert output.count("已存在，跳过") == 3
    assert User.objects.count() == 3


def test_interactive(db, monkeypatch):
    from pingan.accounts.management.commands import createadmin

    monkeypatch.setattr(createadmin, "stdin_is_tty", lambda: True)
    answers = iter(["", "郑宏", "sec.ma", "", "", ""])  # usernames and names; empty keeps the default
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    secrets = iter(
        [
            "weak",
            "weak",  # refused by the policy, asked again
            "Sys-Admin-Pass-01",
            "Sys-Admin-Pass-01",
            "Sec-Admin-Pass-02",
            "typo",  # mismatch, asked again
            "Sec-Admin-Pass-02",
            "Sec-Admin-Pass-02",
            "Aud-Admin-Pass-03",
            "Aud-Admin-Pass-03",
        ]
    )
    monkeypatch.setattr(createadmin.getpass, "getpass", lambda prompt="": next(secrets))
    run()
    assert User.objects.get(username="sysadmin").full_name == "郑宏"
    assert User.objects.get(username="sec.ma").check_password("Sec-Admin-Pass-02")
    assert User.objects.get(username="auditadmin").role == Role.AUDIT_ADMIN


def test_interactive_needs_a_terminal(db, monkeypatch):
    from pingan.accounts.management.commands import createadmin

    monkeypatch.setattr(createadmin, "stdin_is_tty", lambda: False)
    with pytest.raises(CommandError, match="--no-input"):
        run()
