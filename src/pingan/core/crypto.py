"""Commercial cryptography for personal data (GB/T 39786-2021 level 3 §8.4):

- field encryption: SM4-GCM, 128-bit keys, a 12-byte random nonce per value, the key id stored with each
  value so keys can rotate (``pingan keys rotate`` re-encrypts);
- blind indexes: HMAC-SM3 of the normalised value, for exact lookup and uniqueness without decrypting;
- MACs: HMAC-SM3 with a separate key (the audit chain).

Keys never live in the database. They come from ``PINGAN_KEY_FILE`` (a JSON file outside the
database: {"active": "k2", "keys": {"k1": "<base64 16 bytes>", "k2": "..."}, "index_key": "<base64>",
"mac_key": "<base64>"}) or from the environment (``PINGAN_FIELD_KEYS`` = "k1:<b64>,k2:<b64>",
``PINGAN_FIELD_KEY_ID`` = the active id, ``PINGAN_INDEX_KEY``, ``PINGAN_MAC_KEY``). In development,
fixed keys derived from a constant are used; production refuses to start without real keys.

Ciphertext format (text, ASCII): ``sm4gcm:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``. The key id is
authenticated as GCM associated data, so a token cannot be relabelled to another key.

Model fields built on this module live in ``core.fields`` (``EncryptedTextField``, ``BlindIndexField``);
``pingan keys generate|status|rotate|verify`` manages keys and stored values (docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(ValueError):
    """A stored value could not be decrypted (unknown key id, tampered value)."""


@dataclass(frozen=True)
class KeyRing:
    active_id: str
    field_keys: dict[str, bytes]
    index_key: bytes
    mac_key: bytes
    development: bool = False


def _b64key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{name} is not valid base64") from None
    if len(key) != 16 and name.startswith("field key"):
        raise ImproperlyConfigured(f"{name} must be 16 bytes (SM4-128), got {len(key)}")
    if len(key) < 16:
        raise ImproperlyConfigured(f"{name} must be at least 16 bytes")
    return key


def _derive_development_key(label: str) -> bytes:
    return hashlib.sha256(f"pingan-development-{label}".encode()).digest()[:16]


def _development_ring() -> KeyRing:
    derive = _derive_development_key
    return KeyRing("dev1", {"dev1": derive("field")}, derive("index"), derive("mac"), development=True)


DEVELOPMENT_KEYS = frozenset(_derive_development_key(label) for label in ("field", "index", "mac"))


def load_key_ring() -> KeyRing:
    key_file = os.environ.get("PINGAN_KEY_FILE", "")
    if key_file:
        path = Path(key_file)
        if not path.exists():
            raise ImproperlyConfigured(f"PINGAN_KEY_FILE {path} does not exist")
        try:
            data = json.loads(path.read_text())
            keys = {str(kid): _b64key(v, f"field key {kid}") for kid, v in data["keys"].items()}
            ring = KeyRing(
                str(data["active"]),
                keys,
                _b64key(data["index_key"], "index_key"),
                _b64key(data["mac_key"], "mac_key"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, ImproperlyConfigured):
                raise
            raise ImproperlyConfigured(
                f"PINGAN_KEY_FILE {path} is not a valid key file ({type(exc).__name__}: {exc}); "
                "create one with `pingan keys generate`"
            ) from None
    elif os.environ.get("PINGAN_FIELD_KEYS"):
        keys = {}
        for item in os.environ["PINGAN_FIELD_KEYS"].split(","):
            kid, _, value = item.strip().partition(":")
            keys[kid] = _b64key(value, f"field key {kid}")
        active = os.environ.get("PINGAN_FIELD_KEY_ID") or next(iter(keys))
        ring = KeyRing(
            active,
            keys,
            _b64key(os.environ.get("PINGAN_INDEX_KEY", ""), "PINGAN_INDEX_KEY"),
            _b64key(os.environ.get("PINGAN_MAC_KEY", ""), "PINGAN_MAC_KEY"),
        )
    else:
        return _development_ring()
    if ring.active_id not in ring.field_keys:
        raise ImproperlyConfigured(f"active key id {ring.active_id!r} has no key")
    if not all(kid.isascii() and kid.isalnum() for kid in ring.field_keys):
        raise ImproperlyConfigured("key ids must be ASCII letters and digits")
    return ring


@lru_cache(maxsize=1)
def _cached_ring() -> KeyRing:
    return load_key_ring()


_OVERRIDES: list[KeyRing] = []


def key_ring() -> KeyRing:
    """The keys in use: loaded once per process (``reset_key_ring`` forgets them)."""
    if _OVERRIDES:
        return _OVERRIDES[-1]
    return _cached_ring()


def reset_key_ring() -> None:
    """Forget the cached keys (tests, and `pingan keys rotate` after the key file changed)."""
    _cached_ring.cache_clear()


@contextmanager
def override_key_ring(ring: KeyRing) -> Iterator[KeyRing]:
    """Use ``ring`` inside the block (tests: rotation, key files)."""
    _OVERRIDES.append(ring)
    try:
        yield ring
    finally:
        _OVERRIDES.remove(ring)


def check_production_keys() -> KeyRing:
    """Refuse to run production on development keys or on a key file others can read.

    Called by the settings under PINGAN_ENV=production, so the server, the worker and every command
    fail at start-up rather than writing personal data under a key anybody can derive."""
    key_file = os.environ.get("PINGAN_KEY_FILE", "")
    ring = load_key_ring()
    if ring.development:
        raise ImproperlyConfigured(
            "production needs the personal-data keys: set PINGAN_KEY_FILE (create it with "
            "`pingan keys generate`) or PINGAN_FIELD_KEYS, PINGAN_FIELD_KEY_ID, PINGAN_INDEX_KEY, "
            "PINGAN_MAC_KEY"
        )
    all_keys = [*ring.field_keys.values(), ring.index_key, ring.mac_key]
    if any(key[:16] in DEVELOPMENT_KEYS or key in DEVELOPMENT_KEYS for key in all_keys):
        raise ImproperlyConfigured("the development keys must not be used in production")
    if len(set(all_keys)) != len(all_keys):
        raise ImproperlyConfigured("field, index and MAC keys must all be different")
    if key_file:
        mode = Path(key_file).stat().st_mode
        if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP):
            raise ImproperlyConfigured(
                f"PINGAN_KEY_FILE {key_file} is readable or writable by other users: chmod 600 (or 640 "
                "with the service group)"
            )
    return ring


# --- key generation (``pingan keys generate``) -----------------------------------------------------


def new_key(nbytes: int = 16) -> str:
    """A random key, base64 (16 bytes for SM4-128; 32 bytes for the HMAC-SM3 keys)."""
    return base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def new_key_id(existing: set[str] | frozenset[str] = frozenset()) -> str:
    """``k<yyyymmdd><4 hex>``: sortable by date, unique within ``existing``."""
    while True:
        kid = f"k{date.today():%Y%m%d}{secrets.token_hex(2)}"
        if kid not in existing:
            return kid


def generate_key_file(existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new key file's content. With ``existing`` (a current key file), its field keys are kept (old
    values stay readable until ``pingan keys rotate`` has re-encrypted them), a new field key becomes
    active, and the index and MAC keys are kept (changing them would break every blind-index lookup
    and the audit chain)."""
    keys: dict[str, str] = dict((existing or {}).get("keys", {}))
    kid = new_key_id(set(keys))
    keys[kid] = new_key(16)
    return {
        "active": kid,
        "keys": keys,
        "index_key": (existing or {}).get("index_key") or new_key(32),
        "mac_key": (existing or {}).get("mac_key") or new_key(32),
    }


def encrypt(plaintext: str, *, key_id: str | None = None) -> str:
    ring = key_ring()
    kid = key_id or ring.active_id
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(ring.field_keys[kid]), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(kid.encode())
    body = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    return f"{PREFIX}:{kid}:{base64.b64encode(nonce + body + encryptor.tag).decode('ascii')}"


def is_token(value: object) -> bool:
    """The value looks like a stored ciphertext (``sm4gcm:<kid>:...``); it may still fail to decrypt."""
    return isinstance(value, str) and value.startswith(PREFIX + ":") and value.count(":") >= 2


def key_id_of(token: str) -> str:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError("not an encrypted value")
    return parts[1]


def decrypt(token: str) -> str:
    kid = key_id_of(token)
    ring = key_ring()
    key = ring.field_keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key with id {kid!r}")
    try:
        raw = base64.b64decode(token.split(":", 2)[2], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("value was altered (not base64)") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("value was altered (too short)")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(kid.encode())
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise DecryptionError("value was altered or the key is wrong") from None


@lru_cache(maxsize=16)
def _keyed_sm3(key: bytes) -> hmac.HMAC:
    return hmac.HMAC(key, hashes.SM3())


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    # copying a keyed HMAC skips the key schedule: about 2.5 times faster than a new HMAC per call
    mac = _keyed_sm3(key).copy()
    mac.update(data)
    return mac.finalize()


def blind_index(normalised: str, *, purpose: str) -> str:
    """HMAC-SM3 of ``purpose`` and the normalised value, hex. ``purpose`` (e.g. "id_number") keeps
    equal values in different fields from sharing an index."""
    return hmac_sm3(key_ring().index_key, f"{purpose}\x00{normalised}".encode()).hex()


def mac(data: bytes) -> str:
    return hmac_sm3(key_ring().mac_key, data).hex()
