"""Gate: no secret in the repository, and production refuses development secrets (docs/testing.md).

- ``scripts/check_secrets.py`` over every file git tracks or would add: no private key, key file,
  production key or password written into a file, database URL with a password, demo password, demo
  accounts file, environment file or runtime data under var/;
- the settings under ``PINGAN_ENV=production``, in a fresh interpreter: they refuse to start without a
  secret key, with the development key, with a short one, without the personal-data keys and with the
  development personal-data keys — and start with real ones (so the refusals are not a broken start-up).
"""

from __future__ import annotations

import base64
import importlib.util
import os
import secrets
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings

pytestmark = pytest.mark.gates

ROOT = Path(__file__).resolve().parents[2]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_secrets", ROOT / "scripts" / "check_secrets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_repository_holds_no_secret() -> None:
    checker = _checker()
    names = checker.repository_files(ROOT)
    assert len(names) > 50, "git ls-files found almost nothing: is this a git checkout?"
    findings = checker.scan_files(ROOT, names)
    assert not findings, "\n".join(str(f) for f in findings)


# The samples are cut in pieces so that this file itself holds none of them.
_BEGIN = "-----BEGIN "
SECRET_SAMPLES = {
    "private key": _BEGIN + "RSA PRIVATE KEY-----",
    "openssh key": _BEGIN + "OPENSSH PRIVATE KEY-----",
    "env secret": "PINGAN_SECRET_" + "KEY=" + "q" * 60,
    "yaml key": "PINGAN_MAC_" + "KEY: " + "c2VjcmV0c2VjcmV0c2VjcmV0",
    "demo password": "PINGAN_DEMO_" + "PASSWORD='Correct-Horse-9'",
    "generated demo password": "密码: " + "Pa-" + "Ab3dEf6hIj9k",
    "database password": "DATABASE_URL=postgres://pingan:" + "s3cret@db:5432/pingan",
}
HARMLESS_SAMPLES = {
    "shell substitution": "PINGAN_SECRET_KEY=$(python -c 'import secrets')",
    "placeholder": "PINGAN_SECRET_KEY=<at least 50 random characters>",
    "make substitution": "PINGAN_FIELD_KEYS=k1:$$($(BIN)/python -c x)",
    "no password": "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
    "settings name": 'env_str("PINGAN_SECRET_KEY", "")',
    "allowed example": "PINGAN_SECRET_KEY=example-not-a-secret-1234  # " + "secrets-check: allow",
}


@pytest.mark.parametrize("name", sorted(SECRET_SAMPLES))
def test_the_check_finds_secrets(name: str) -> None:
    assert _checker().scan_text("sample.txt", SECRET_SAMPLES[name]), name


@pytest.mark.parametrize("name", sorted(HARMLESS_SAMPLES))
def test_the_check_lets_placeholders_pass(name: str) -> None:
    assert not _checker().scan_text("sample.txt", HARMLESS_SAMPLES[name]), name


@pytest.mark.parametrize(
    "path",
    ["deploy/.env", ".env.production", "var/demo-accounts.txt", "var/pingan.sqlite3", "tls/server.key"],
)
def test_the_check_refuses_files_that_never_belong_in_git(path: str) -> None:
    assert _checker().scan_text(path, ""), path


def test_the_check_refuses_a_key_file() -> None:
    key_file = '{"active": "k1", "keys": {"k1": "AAAA"}, "index_key": "BBBB", "mac_key": "CCCC"}'
    assert _checker().scan_text("deploy/keys.json", key_file)
    assert not _checker().scan_text("package.json", '{"name": "pingan-frontend"}')


# --- production settings ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings and set Django up under PINGAN_ENV=production in a fresh interpreter."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PINGAN_", "DJANGO_", "DATABASE_URL"))}
    clean.update(
        {
            "PINGAN_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "pingan.config.settings",
            "PINGAN_ALLOWED_HOSTS": "pingan.example.gov.cn",
            "PINGAN_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **env,
        }
    )
    code = "import django; django.setup(); from django.conf import settings as s; print('ok', s.PRODUCTION)"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=False, timeout=120
    )


def _real_keys() -> dict[str, str]:
    return {
        "PINGAN_FIELD_KEYS": "k1:" + _b64(os.urandom(16)),
        "PINGAN_INDEX_KEY": _b64(os.urandom(32)),
        "PINGAN_MAC_KEY": _b64(os.urandom(32)),
    }


def _development_keys() -> dict[str, str]:
    import hashlib

    # as pingan.core.crypto derives them (the development key ring)
    def derive(label: str) -> bytes:
        return hashlib.sha256(f"pingan-development-{label}".encode()).digest()[:16]

    return {
        "PINGAN_FIELD_KEYS": "dev1:" + _b64(derive("field")),
        "PINGAN_INDEX_KEY": _b64(derive("index")),
        "PINGAN_MAC_KEY": _b64(derive("mac")),
    }


GOOD_SECRET = secrets.token_urlsafe(64)


@pytest.mark.parametrize(
    ("case", "env", "message"),
    [
        ("no secret key", {}, "PINGAN_SECRET_KEY"),
        (
            "the development secret key",
            {"PINGAN_SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY},
            "PINGAN_SECRET_KEY",
        ),
        ("a short secret key", {"PINGAN_SECRET_KEY": "too-short"}, "PINGAN_SECRET_KEY"),
        ("no personal-data keys", {"PINGAN_SECRET_KEY": GOOD_SECRET}, "PINGAN_KEY_FILE"),
        (
            "the development personal-data keys",
            {"PINGAN_SECRET_KEY": GOOD_SECRET, **_development_keys()},
            "development keys",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_production_refuses_development_secrets(
    tmp_path: Path, case: str, env: dict[str, str], message: str
) -> None:
    result = _start(tmp_path, **env)
    assert result.returncode != 0, f"production started with {case}"
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-1500:]


def test_production_starts_with_real_secrets(tmp_path: Path) -> None:
    """The control: with real keys the same start-up succeeds, so the refusals above are refusals."""
    result = _start(tmp_path, PINGAN_SECRET_KEY=GOOD_SECRET, **_real_keys())
    assert result.returncode == 0, result.stderr[-1500:]
    assert "ok True" in result.stdout
