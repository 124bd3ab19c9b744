"""``pingan keys``: the personal-data keys and the values stored under them (docs/security.md).

    pingan keys generate [--from CURRENT.json]   print a new key file (JSON); with --from, keep the
                                                 current keys readable and make a new one active
    pingan keys status [--model app.Model]       stored values per key id, per encrypted field
    pingan keys rotate [--batch 1000] [--model app.Model] [--reindex]
                                                 re-encrypt every value not under the active key (and
                                                 plain values left by a field conversion); --reindex
                                                 also recomputes blind indexes (after an index key change)
    pingan keys verify [--model app.Model]       decrypt every value; check each blind index

Rotation works in batches, each in its own transaction; on PostgreSQL the rows of a batch are locked with
``SELECT ... FOR UPDATE SKIP LOCKED`` so the application keeps running. It is resumable: a second run
picks up whatever is still not under the active key.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, Q, TextField, Value

from pingan.core import crypto
from pingan.core.fields import BlindIndexField, blind_index_fields, token_fields

RAW = "_pingan_raw_"


def models_with_token_fields(label: str | None = None) -> list[type[models.Model]]:
    if label:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as exc:
            raise CommandError(f"unknown model {label!r} (app_label.ModelName)") from exc
        if not token_fields(model):
            raise CommandError(f"{label} has no encrypted fields")
        return [model]
    return [m for m in apps.get_models() if token_fields(m) and m._meta.managed and not m._meta.proxy]


def raw_queryset(model: type[models.Model], fields: list[models.Field[Any, Any]]) -> models.QuerySet[Any]:
    """The model's rows with the stored tokens as ``_pingan_raw_<name>`` (no decryption on load)."""
    return model._base_manager.annotate(
        **{RAW + f.name: ExpressionWrapper(F(f.name), output_field=TextField()) for f in fields}
    )


def _stored(field: models.Field[Any, Any]) -> Q:
    return Q(**{f"{RAW}{field.name}__isnull": False}) & ~Q(**{RAW + field.name: ""})


def _not_active(field: models.Field[Any, Any], active: str) -> Q:
    return _stored(field) & ~Q(**{f"{RAW}{field.name}__startswith": f"{crypto.PREFIX}:{active}:"})


@dataclass
class RotationReport:
    rows: int = 0
    values: int = 0
    indexes: int = 0
    failures: list[str] = field(default_factory=list)


def rotate_model(
    model: type[models.Model], *, batch: int = 1000, reindex: bool = False, log: Any = None
) -> RotationReport:
    """Re-encrypt ``model``'s values under the active key (and recompute blind indexes if ``reindex``)."""
    ring = crypto.key_ring()
    enc = token_fields(model)
    indexes: list[BlindIndexField] = blind_index_fields(model)
    report = RotationReport()
    pk_name = model._meta.pk.attname
    wanted = Q()
    for f in enc:
        wanted |= _not_active(f, ring.active_id)
    last_pk: Any = None
    while True:
        with transaction.atomic():
            qs = raw_queryset(model, enc)
            if not reindex:
                qs = qs.filter(wanted)
            if last_pk is not None:
                qs = qs.filter(pk__gt=last_pk)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            rows = list(
                qs.order_by("pk").values(
                    pk_name, *[RAW + f.name for f in enc], *[i.attname for i in indexes]
                )[:batch]
            )
            if not rows:
                break
            last_pk = rows[-1][pk_name]
            touched = []
            for row in rows:
                updates = _row_updates(model, row, enc, indexes, ring.active_id, reindex, report)
                if updates:
                    touched.append((row, updates))
            if touched:
                _write_batch(model, touched, enc, indexes)
                report.rows += len(touched)
        if log:
            log(
                f"  {model._meta.label}: {report.rows} rows, {report.values} values re-encrypted, "
                f"{report.indexes} indexes recomputed (up to pk {last_pk})"
            )
    return report


def _write_batch(
    model: type[models.Model],
    touched: list[tuple[dict[str, Any], dict[str, Any]]],
    enc: list[models.Field[Any, Any]],
    indexes: list[BlindIndexField],
) -> None:
    """One ``UPDATE ... FROM (VALUES ...)`` per chunk of rows (PostgreSQL and SQLite ≥ 3.33; Django's
    ``bulk_update`` builds a CASE per column and is about ten times slower here). Every row gets every
    changed column; a row that keeps a column gets its current value back (the rows are locked)."""
    pk_name = model._meta.pk.attname
    columns = sorted({name for _row, updates in touched for name in updates})
    enc_names = {f.attname for f in enc}

    def value_of(row: dict[str, Any], updates: dict[str, Any], name: str) -> Any:
        if name in updates:
            value = updates[name]
            return value.value if isinstance(value, Value) else value
        return row[RAW + name] if name in enc_names else row[name]

    if connection.vendor not in ("postgresql", "sqlite"):
        stubs = []
        for row, updates in touched:
            stub = model(**{pk_name: row[pk_name]})
            for name in columns:
                value = value_of(row, updates, name)
                setattr(stub, name, Value(value, output_field=TextField()) if name in enc_names else value)
            stubs.append(stub)
        model._base_manager.bulk_update(stubs, columns)
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    db_columns = [qn(str(by_attname[name].column)) for name in columns]
    assignments = ", ".join(f"{col} = v.column{i + 2}" for i, col in enumerate(db_columns))
    pk_column = qn(str(model._meta.pk.column))
    chunk = max(1, 30000 // (len(columns) + 1))  # stay under the drivers' parameter limits
    with connection.cursor() as cursor:
        for start in range(0, len(touched), chunk):
            part = touched[start : start + chunk]
            row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
            params: list[Any] = []
            for row, updates in part:
                params.append(row[pk_name])
                params.extend(value_of(row, updates, name) for name in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(part))}) AS v "  # noqa: S608
                f"WHERE {table}.{pk_column} = v.column1",
                params,
            )


def _row_updates(
    model: type[models.Model],
    row: dict[str, Any],
    enc: list[models.Field[Any, Any]],
    indexes: list[BlindIndexField],
    active: str,
    reindex: bool,
    report: RotationReport,
) -> dict[str, Any]:
    pk = row[model._meta.pk.attname]
    updates: dict[str, Any] = {}
    plain: dict[str, str | None] = {}
    for f in enc:
        token = row[RAW + f.name]
        if token is None or token == "":
            plain[f.name] = token
            continue
        if not crypto.is_token(token):
            value = token  # a plain value left by converting a column to EncryptedTextField
        else:
            try:
                value = crypto.decrypt(token)
            except crypto.DecryptionError as exc:
                report.failures.append(f"{model._meta.label}.{f.name} pk={pk}: {exc}")
                return {}  # leave the whole row alone: an index cannot be recomputed from a bad value
        plain[f.name] = value
        if not token.startswith(f"{crypto.PREFIX}:{active}:"):
            # a plain-text expression: written as given, not encrypted again by the field
            updates[f.attname] = Value(crypto.encrypt(value), output_field=TextField())
            report.values += 1
    if reindex:
        for index in indexes:
            new = index.index_for(plain.get(index.source))
            if new != row[index.attname]:
                updates[index.attname] = new
                report.indexes += 1
    return updates


def key_status(model: type[models.Model]) -> dict[str, Counter[str]]:
    """{field: Counter(key id → values)}; "plain" for unencrypted leftovers, "empty" for NULL/""."""
    ring = crypto.key_ring()
    out: dict[str, Counter[str]] = {}
    for f in token_fields(model):
        qs = raw_queryset(model, [f])
        counts: Counter[str] = Counter()
        counts["empty"] = qs.filter(~_stored(f)).count()
        known = Q()
        for kid in ring.field_keys:
            n = qs.filter(**{f"{RAW}{f.name}__startswith": f"{crypto.PREFIX}:{kid}:"}).count()
            if n:
                counts[kid] = n
            known |= Q(**{f"{RAW}{f.name}__startswith": f"{crypto.PREFIX}:{kid}:"})
        for token in qs.filter(_stored(f)).exclude(known).values_list(RAW + f.name, flat=True).iterator():
            counts[f"unknown:{crypto.key_id_of(token)}" if crypto.is_token(token) else "plain"] += 1
        out[f.name] = counts
    return out


def verify_model(model: type[models.Model], *, batch: int = 2000) -> tuple[int, list[str]]:
    """Decrypt every stored value and compare each blind index with the value it should hold."""
    enc = token_fields(model)
    indexes = blind_index_fields(model)
    pk_name = model._meta.pk.attname
    problems: list[str] = []
    checked = 0
    qs = (
        raw_queryset(model, enc)
        .order_by("pk")
        .values(pk_name, *[RAW + f.name for f in enc], *[i.attname for i in indexes])
    )
    for row in qs.iterator(chunk_size=batch):
        checked += 1
        plain: dict[str, Any] = {}
        for f in enc:
            token = row[RAW + f.name]
            if token is None or token == "":
                plain[f.name] = token
                continue
            if not crypto.is_token(token):
                problems.append(f"{model._meta.label}.{f.name} pk={row[pk_name]}: stored unencrypted")
                plain[f.name] = token
                continue
            try:
                plain[f.name] = crypto.decrypt(token)
            except crypto.DecryptionError as exc:
                problems.append(f"{model._meta.label}.{f.name} pk={row[pk_name]}: {exc}")
        for index in indexes:
            if index.source in plain and index.index_for(plain[index.source]) != row[index.attname]:
                problems.append(
                    f"{model._meta.label}.{index.name} pk={row[pk_name]}: blind index does not match "
                    "the value (value swapped from another row, or index key changed: --reindex)"
                )
    return checked, problems


class Command(BaseCommand):
    help = "Personal-data keys: generate a key file, show which key protects what, rotate, verify."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="print a new key file (JSON)")
        gen.add_argument(
            "--from", dest="current", help="current key file: keep its keys, add a new active one"
        )
        status = sub.add_parser("status", help="stored values per key id")
        status.add_argument("--model", help="app_label.ModelName")
        rotate = sub.add_parser("rotate", help="re-encrypt values under the active key")
        rotate.add_argument("--batch", type=int, default=1000)
        rotate.add_argument("--model", help="app_label.ModelName")
        rotate.add_argument("--reindex", action="store_true", help="also recompute every blind index")
        verify = sub.add_parser("verify", help="decrypt every value and check the blind indexes")
        verify.add_argument("--model", help="app_label.ModelName")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(**options)

    def do_generate(self, *, current: str | None = None, **_: Any) -> None:
        existing = None
        if current:
            try:
                existing = json.loads(Path(current).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {current}: {exc}") from exc
        self.stdout.write(json.dumps(crypto.generate_key_file(existing), indent=2))
        self.stderr.write(
            "Store this file outside the database and the backups of the database, readable only by the "
            "service account (chmod 600), and point PINGAN_KEY_FILE at it. After switching to a file made "
            "with --from, run `pingan keys rotate`; remove an old key only when `pingan keys status` shows "
            "no value under it."
        )

    def do_status(self, *, model: str | None = None, **_: Any) -> None:
        ring = crypto.key_ring()
        self.stdout.write(
            f"active key: {ring.active_id}" + (" (development keys)" if ring.development else "")
        )
        for m in models_with_token_fields(model):
            for name, counts in key_status(m).items():
                parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v) or "no rows"
                self.stdout.write(f"{m._meta.label}.{name}: {parts}")

    def do_rotate(
        self, *, model: str | None = None, batch: int = 1000, reindex: bool = False, **_: Any
    ) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        ring = crypto.key_ring()
        self.stdout.write(f"rotating to key {ring.active_id}" + (" with reindex" if reindex else ""))
        failures: list[str] = []
        total = RotationReport()
        for m in models_with_token_fields(model):
            report = rotate_model(m, batch=batch, reindex=reindex, log=self.stdout.write)
            self.stdout.write(
                f"{m._meta.label}: {report.rows} rows updated, {report.values} values re-encrypted, "
                f"{report.indexes} indexes recomputed"
            )
            total.rows += report.rows
            total.values += report.values
            total.indexes += report.indexes
            failures += report.failures
            remaining = sum(
                v
                for name, counts in key_status(m).items()
                for k, v in counts.items()
                if k not in ("empty", ring.active_id)
            )
            if remaining:
                self.stdout.write(
                    self.style.WARNING(
                        f"{m._meta.label}: {remaining} values still not under {ring.active_id} (locked by "
                        "other transactions or unreadable): run again"
                    )
                )
        self.stdout.write(f"total: {total.rows} rows, {total.values} values, {total.indexes} indexes")
        if failures:
            for line in failures[:50]:
                self.stderr.write(line)
            raise CommandError(
                f"{len(failures)} values could not be decrypted (altered, or their key is missing)"
            )

    def do_verify(self, *, model: str | None = None, **_: Any) -> None:
        problems: list[str] = []
        for m in models_with_token_fields(model):
            checked, found = verify_model(m)
            self.stdout.write(f"{m._meta.label}: {checked} rows checked, {len(found)} problems")
            problems += found
        for line in problems[:100]:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"{len(problems)} problems found")
        self.stdout.write(self.style.SUCCESS("all values decrypt and every blind index matches"))
