"""core.crypto: SM4-GCM tokens, HMAC-SM3 blind indexes, key loading and the production refusal."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.core import crypto

ROOT = Path(__file__).resolve().parents[2]


def ring(active: str = "t1", **extra: bytes) -> crypto.KeyRing:
    keys = {"t1": b"\x01" * 16, "t2": b"\x02" * 16, **extra}
    return crypto.KeyRing(active, keys, b"\x03" * 32, b"\x04" * 32)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- tokens ---------------------------------------------------------------------------------------


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_round_trip_any_text(text):
    token = crypto.encrypt(text)
    assert token.isascii()
    assert crypto.decrypt(token) == text


def test_token_carries_the_key_id_and_a_fresh_nonce():
    with crypto.override_key_ring(ring("t2")):
        first, second = crypto.encrypt("120103199001011234"), crypto.encrypt("120103199001011234")
        assert first.startswith("sm4gcm:t2:") and crypto.key_id_of(first) == "t2"
        assert first != second  # random nonce: equal values do not give equal tokens
        assert crypto.decrypt(first) == crypto.decrypt(second) == "120103199001011234"
        old = crypto.encrypt("13812345678", key_id="t1")
        assert crypto.key_id_of(old) == "t1" and crypto.decrypt(old) == "13812345678"


def _flip(token: str, position: int) -> str:
    prefix, kid, body = token.split(":", 2)
    raw = bytearray(base64.b64decode(body))
    raw[position] ^= 0x01
    return f"{prefix}:{kid}:{b64(bytes(raw))}"


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1, -16])  # nonce, ciphertext, tag
def test_any_altered_byte_is_detected(position):
    token = crypto.encrypt("120103199001011234")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(_flip(token, position))


def test_relabelled_truncated_and_garbled_tokens_are_refused():
    with crypto.override_key_ring(ring("t1")):
        token = crypto.encrypt("秘密")
        relabelled = token.replace("sm4gcm:t1:", "sm4gcm:t2:")  # key id is authenticated data
        body = token.split(":", 2)[2]
        for bad in (
            relabelled,
            f"sm4gcm:t1:{body[:20]}",
            "sm4gcm:t1:!!!notbase64",
            "sm4gcm:zz:" + body,
            "plain text",
            "sm4gcm:t1",
        ):
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(bad)


def test_a_token_from_another_key_ring_does_not_decrypt():
    with crypto.override_key_ring(ring("t1")):
        token = crypto.encrypt("x")
    other = crypto.KeyRing("t1", {"t1": b"\x09" * 16}, b"\x03" * 32, b"\x04" * 32)
    with crypto.override_key_ring(other), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_blind_index_is_keyed_and_separated_by_purpose():
    with crypto.override_key_ring(ring()):
        a = crypto.blind_index("120103199001011234", purpose="id_number")
        assert a == crypto.blind_index("120103199001011234", purpose="id_number")
        assert len(a) == 64 and int(a, 16) >= 0
        assert a != crypto.blind_index("120103199001011234", purpose="phone")
    other = crypto.KeyRing("t1", {"t1": b"\x01" * 16}, b"\x07" * 32, b"\x04" * 32)
    with crypto.override_key_ring(other):
        assert crypto.blind_index("120103199001011234", purpose="id_number") != a


def _sm3(data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def test_hmac_sm3_is_the_rfc_2104_construction_over_sm3():
    key, message = b"\x0b" * 20, b"Hi There"
    padded = key.ljust(64, b"\x00")  # SM3 block size 64 bytes
    inner = _sm3(bytes(b ^ 0x36 for b in padded) + message)
    expected = _sm3(bytes(b ^ 0x5C for b in padded) + inner)
    assert crypto.hmac_sm3(key, message) == expected


def test_sm3_is_really_sm3():
    # GB/T 32905-2016 appendix A, example 1
    assert _sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_is_really_sm4():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 (known-answer test only)
    # GB/T 32907-2016 appendix A, example 1
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


# --- key loading ----------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "PINGAN_KEY_FILE",
        "PINGAN_FIELD_KEYS",
        "PINGAN_FIELD_KEY_ID",
        "PINGAN_INDEX_KEY",
        "PINGAN_MAC_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    crypto.reset_key_ring()
    yield monkeypatch
    crypto.reset_key_ring()


def write_key_file(path: Path, data: dict, mode: int = 0o600) -> Path:
    path.write_text(json.dumps(data))
    path.chmod(mode)
    return path


def test_without_configuration_the_development_ring_is_used(clean_env):
    assert crypto.key_ring().development
    with pytest.raises(ImproperlyConfigured, match="production needs"):
        crypto.check_production_keys()


def test_key_file(clean_env, tmp_path):
    data = crypto.generate_key_file()
    path = write_key_file(tmp_path / "keys.json", data)
    clean_env.setenv("PINGAN_KEY_FILE", str(path))
    crypto.reset_key_ring()
    loaded = crypto.key_ring()
    assert loaded.active_id == data["active"] and not loaded.development
    assert crypto.key_id_of(crypto.encrypt("x")) == data["active"]
    assert crypto.check_production_keys() == loaded


def test_generate_from_an_existing_file_keeps_old_keys_and_the_index_and_mac_keys():
    first = crypto.generate_key_file()
    second = crypto.generate_key_file(first)
    assert second["active"] != first["active"]
    assert set(second["keys"]) == {first["active"], second["active"]}
    assert second["keys"][first["active"]] == first["keys"][first["active"]]
    assert (second["index_key"], second["mac_key"]) == (first["index_key"], first["mac_key"])
    assert len(base64.b64decode(second["keys"][second["active"]])) == 16
    assert len(base64.b64decode(second["index_key"])) == 32


def test_environment_keys(clean_env):
    clean_env.setenv("PINGAN_FIELD_KEYS", f"a1:{b64(b'A' * 16)},a2:{b64(b'B' * 16)}")
    clean_env.setenv("PINGAN_FIELD_KEY_ID", "a2")
    clean_env.setenv("PINGAN_INDEX_KEY", b64(b"C" * 32))
    clean_env.setenv("PINGAN_MAC_KEY", b64(b"D" * 32))
    crypto.reset_key_ring()
    assert crypto.key_ring().active_id == "a2"
    assert crypto.key_ring().field_keys["a1"] == b"A" * 16
    crypto.check_production_keys()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "active": "k1",
                "keys": {"k1": b64(b"x" * 15)},
                "index_key": b64(b"i" * 32),
                "mac_key": b64(b"m" * 32),
            },
            "16 bytes",
        ),
        (
            {
                "active": "k2",
                "keys": {"k1": b64(b"x" * 16)},
                "index_key": b64(b"i" * 32),
                "mac_key": b64(b"m" * 32),
            },
            "has no key",
        ),
        (
            {
                "active": "k-1",
                "keys": {"k-1": b64(b"x" * 16)},
                "index_key": b64(b"i" * 32),
                "mac_key": b64(b"m" * 32),
            },
            "letters and digits",
        ),
        ({"active": "k1", "keys": {"k1": b64(b"x" * 16)}, "mac_key": b64(b"m" * 32)}, "not a valid key file"),
        (
            {"active": "k1", "keys": {"k1": "***"}, "index_key": b64(b"i" * 32), "mac_key": b64(b"m" * 32)},
            "base64",
        ),
    ],
)
def test_broken_key_files_are_refused(clean_env, tmp_path, data, message):
    clean_env.setenv("PINGAN_KEY_FILE", str(write_key_file(tmp_path / "k.json", data)))
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.load_key_ring()


def test_missing_key_file_is_refused(clean_env, tmp_path):
    clean_env.setenv("PINGAN_KEY_FILE", str(tmp_path / "absent.json"))
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        crypto.load_key_ring()


def test_production_refuses_development_keys_given_explicitly(clean_env):
    dev = crypto._development_ring()
    clean_env.setenv("PINGAN_FIELD_KEYS", f"dev1:{b64(dev.field_keys['dev1'])}")
    clean_env.setenv("PINGAN_INDEX_KEY", b64(dev.index_key))
    clean_env.setenv("PINGAN_MAC_KEY", b64(dev.mac_key))
    with pytest.raises(ImproperlyConfigured, match="development keys"):
        crypto.check_production_keys()


def test_production_refuses_one_key_for_two_purposes(clean_env):
    clean_env.setenv("PINGAN_FIELD_KEYS", f"k1:{b64(b'A' * 16)}")
    clean_env.setenv("PINGAN_INDEX_KEY", b64(b"C" * 32))
    clean_env.setenv("PINGAN_MAC_KEY", b64(b"C" * 32))
    with pytest.raises(ImproperlyConfigured, match="different"):
        crypto.check_production_keys()


def test_production_refuses_a_world_readable_key_file(clean_env, tmp_path):
    path = write_key_file(tmp_path / "keys.json", crypto.generate_key_file(), mode=0o644)
    clean_env.setenv("PINGAN_KEY_FILE", str(path))
    with pytest.raises(ImproperlyConfigured, match="chmod 600"):
        crypto.check_production_keys()
    path.chmod(0o640)
    crypto.check_production_keys()


# --- production start-up (a real process) ---------------------------------------------------------


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PINGAN_", "DJANGO_", "PYTEST_")) and k != "DATABASE_URL"
    }
    env.update(
        {
            "PINGAN_ENV": "production",
            "PINGAN_SECRET_KEY": "s" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz-production",
            "PINGAN_ALLOWED_HOSTS": "pingan.example.gov.cn",
            "PINGAN_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "pingan.config.settings",
        }
    )
    env.update(extra)
    return env


def _run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pingan", "check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("keys", ["none", "development"])
def test_production_refuses_to_start_without_real_keys(tmp_path, keys):
    extra: dict[str, str] = {}
    if keys == "development":
        dev = crypto._development_ring()
        extra = {
            "PINGAN_FIELD_KEYS": f"dev1:{b64(dev.field_keys['dev1'])}",
            "PINGAN_INDEX_KEY": b64(dev.index_key),
            "PINGAN_MAC_KEY": b64(dev.mac_key),
        }
    result = _run_check(_production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert ("production needs the personal-data keys" in result.stderr) or (
        "development keys" in result.stderr
    )


def test_production_starts_with_a_real_key_file(tmp_path):
    path = write_key_file(tmp_path / "keys.json", crypto.generate_key_file())
    result = _run_check(_production_env(tmp_path, PINGAN_KEY_FILE=str(path)))
    assert result.returncode == 0, result.stderr
