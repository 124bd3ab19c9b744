"""Benchmark of personal-data encryption (core.crypto, core.fields) on one core.

    .venv/bin/python bench/bench_crypto.py                  # 100,000 values; database part on PostgreSQL
    .venv/bin/python bench/bench_crypto.py --rows 200000 --json
    .venv/bin/python bench/bench_crypto.py --no-db          # the in-memory part only

In memory (no database), over synthetic 18-character ID numbers and 11-digit mobile numbers:

- SM4-GCM encrypt + HMAC-SM3 blind index of each value (what saving one encrypted, indexed field costs);
- encrypt alone, blind index alone, decrypt alone;
- the field layer: ``EncryptedTextField.get_prep_value`` + ``BlindIndexField.index_for`` (with the ID
  normaliser) and ``from_db_value``;

each run ``--repeat`` times, keeping the fastest (the machine's other work only slows a run down).

On PostgreSQL (``--database-url``, default a scratch database ``pingan_bench_crypto``, created when missing),
with a two-field model like the people module's (ID number and phone, each encrypted with a blind index):

- ``bulk_create`` of ``--db-rows`` rows, and the same rows without encryption for comparison;
- reading every row back (decrypting both fields);
- exact lookups through the blind index (random ID numbers);
- ``pingan keys rotate`` (``rotate_model``) of every row to a new key.

Everything runs in one thread, so it measures one core (``--pin`` also pins the process to one CPU, which
hurts on a busy machine). Results go to stdout; docs/benchmarks.md has the
figures measured on the project machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_crypto"


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned"


def _ids(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    out: dict[str, None] = {}  # unique, in generation order
    while len(out) < n:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 26000))
        out[f"120103{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"] = None
    return list(out)


def _phones(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    return [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(n)]


def rate(n: int, seconds: float) -> dict[str, float]:
    return {"seconds": round(seconds, 3), "per_second": round(n / seconds) if seconds else 0}


def bench_memory(n: int) -> dict[str, Any]:
    from pingan.core import crypto
    from pingan.core.fields import BlindIndexField, EncryptedTextField, normalize_id_number

    ids = _ids(n)
    out: dict[str, Any] = {"values": n}

    t = time.perf_counter()
    tokens = []
    for value in ids:
        tokens.append(crypto.encrypt(value))
        crypto.blind_index(value, purpose="id_number")
    out["encrypt_and_index"] = rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for value in ids:
        crypto.encrypt(value)
    out["encrypt"] = rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for value in ids:
        crypto.blind_index(value, purpose="id_number")
    out["blind_index"] = rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for token in tokens:
        crypto.decrypt(token)
    out["decrypt"] = rate(n, time.perf_counter() - t)

    field = EncryptedTextField()
    index = BlindIndexField(source="x", normalizer=normalize_id_number, purpose="id_number")
    t = time.perf_counter()
    for value in ids:
        field.get_prep_value(value)
        index.index_for(value)
    out["field_save_path"] = rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for token in tokens:
        field.from_db_value(token, None, None)
    out["field_load_path"] = rate(n, time.perf_counter() - t)
    out["token_length"] = len(tokens[0])
    return out


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run of each measurement (other work on the machine only ever slows a run down)."""
    best = dict(runs[0])
    for run in runs[1:]:
        for key, value in run.items():
            if isinstance(value, dict) and value["seconds"] < best[key]["seconds"]:
                best[key] = value
    best["runs"] = len(runs)
    return best


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    admin = f"host={cfg['HOST']} port={cfg['PORT'] or 5432} user={cfg['USER']} dbname=postgres"
    if cfg.get("PASSWORD"):
        admin += f" password={cfg['PASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(cfg["NAME"]))))


def bench_database(n: int) -> dict[str, Any]:
    from django.db import connection, models

    from pingan.core import crypto
    from pingan.core.fields import (
        BlindIndexField,
        EncryptedQuerySet,
        EncryptedTextField,
        normalize_id_number,
        normalize_phone,
    )
    from pingan.core.management.commands.keys import rotate_model

    class BenchPerson(models.Model):
        id_number = EncryptedTextField(mask="id_number")
        id_number_index = BlindIndexField(
            source="id_number", normalizer=normalize_id_number, purpose="id_number", db_index=False
        )
        phone = EncryptedTextField(mask="phone")
        phone_index = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
        objects = EncryptedQuerySet.as_manager()

        class Meta:
            app_label = "core"
            db_table = "pingan_bench_person"
            constraints = [models.UniqueConstraint(fields=["id_number_index"], name="bench_person_unique_id")]

        def __str__(self) -> str:
            return str(self.pk)

    class BenchPlain(models.Model):
        id_number = models.CharField(max_length=18)
        phone = models.CharField(max_length=20)

        class Meta:
            app_label = "core"
            db_table = "pingan_bench_plain"

        def __str__(self) -> str:
            return str(self.pk)

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pingan_bench_person, pingan_bench_plain")
    with connection.schema_editor() as editor:
        editor.create_model(BenchPerson)
        editor.create_model(BenchPlain)

    ids, phones = _ids(n), _phones(n)
    out: dict[str, Any] = {"rows": n, "vendor": connection.vendor}
    batch = 5000

    t = time.perf_counter()
    for start in range(0, n, batch):
        BenchPlain.objects.bulk_create(
            [
                BenchPlain(id_number=i, phone=p)
                for i, p in zip(ids[start : start + batch], phones[start : start + batch], strict=True)
            ]
        )
    out["bulk_create_plain"] = rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for start in range(0, n, batch):
        BenchPerson.objects.bulk_create(
            [
                BenchPerson(id_number=i, phone=p)
                for i, p in zip(ids[start : start + batch], phones[start : start + batch], strict=True)
            ]
        )
    out["bulk_create_encrypted"] = rate(n, time.perf_counter() - t)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size('pingan_bench_person'), "
            "pg_total_relation_size('pingan_bench_plain')"
        )
        encrypted_bytes, plain_bytes = cursor.fetchone()
    out["table_bytes"] = {
        "encrypted": encrypted_bytes,
        "plain": plain_bytes,
        "encrypted_per_row": round(encrypted_bytes / n),
        "plain_per_row": round(plain_bytes / n),
    }

    t = time.perf_counter()
    count = sum(1 for _ in BenchPerson.objects.values_list("id_number", "phone").iterator(chunk_size=5000))
    out["read_all_decrypting"] = rate(count, time.perf_counter() - t)

    rng = random.Random(3)  # noqa: S311 (synthetic data)
    sample = [ids[rng.randrange(n)] for _ in range(1000)]
    t = time.perf_counter()
    for value in sample:
        BenchPerson.objects.filter_exact(id_number=value).get()
    elapsed = time.perf_counter() - t
    out["exact_lookup"] = {"lookups": len(sample), "ms_each": round(elapsed / len(sample) * 1000, 3)}

    ring = crypto.key_ring()
    new_ring = crypto.KeyRing(
        "bench2", {**ring.field_keys, "bench2": os.urandom(16)}, ring.index_key, ring.mac_key
    )
    with crypto.override_key_ring(new_ring):
        t = time.perf_counter()
        report = rotate_model(BenchPerson, batch=1000)
        elapsed = time.perf_counter() - t
    out["rotate"] = {"rows": report.rows, "values": report.values, **rate(report.values, elapsed)}

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pingan_bench_person, pingan_bench_plain")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="values for the in-memory part")
    parser.add_argument("--db-rows", type=int, default=100_000, help="rows for the database part")
    parser.add_argument("--database-url", default=os.environ.get("PINGAN_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=3, help="in-memory runs; the best of each is kept")
    parser.add_argument("--pin", action="store_true", help="pin the process to the first allowed CPU")
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    pinned = _pin_one_core() if args.pin else "not pinned (one thread: one core at a time)"
    if not args.no_db:
        _ensure_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import cryptography
    import django

    django.setup()

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    result: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "cryptography": cryptography.__version__,
            "openssl": _openssl(),
            "affinity": pinned,
        },
        "memory": best_of([bench_memory(args.rows) for _ in range(max(1, args.repeat))]),
    }
    if not args.no_db:
        result["database"] = bench_database(args.db_rows)
    if load_before is not None:
        # other work on the machine slows every figure: the 1-minute load average before and after
        result["machine"]["load_average"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    print(f"{result['date']}  {result['machine']}")
    for section in ("memory", "database"):
        for key, value in result.get(section, {}).items():
            print(f"{section:8} {key:24} {value}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _openssl() -> str:
    from cryptography.hazmat.backends.openssl.backend import backend

    return str(backend.openssl_version_text())


if __name__ == "__main__":
    main()
