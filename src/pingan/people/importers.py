"""The resident roster import (人员花名册导入).

One pass validates every row with the same rules as the forms (``services.clean_person_data``: GB 11643 ID
with the sex and birth date checked against it, phone, code tables by code or label), resolves the grid
within the actor's scope, and refuses duplicates inside the file and people registered in another
jurisdiction. Accepted rows are written together in one transaction, in bulk (``bulk_create`` /
``bulk_update`` in batches; blind indexes are computed by the fields on insert, pinyin here): new people
are created, known ones (same ID number, through the blind index) updated, identical ones left alone —
so importing the same file twice changes nothing the second time. A dry run writes nothing. One audit
event records the import and its counts.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from pingan.areas.models import Area
from pingan.areas.selectors import place_lookup
from pingan.audit.services import audit_record
from pingan.core import crypto, excel
from pingan.core.codes import UnknownCode, code_resolve, code_table
from pingan.core.excel import (
    EXAMPLE_ID,
    EXAMPLE_NAME,
    EXAMPLE_REFUSED,
    Column,
    Table,
    cell_text,
    is_template_example,
    write_xlsx,
)
from pingan.core.fields import EncryptedTextField, blind_index_fields, index_field_for
from pingan.people.bulk import (
    PersonEncoder,
    copy_keyed,
    copy_lines,
    copy_rows,
    copy_update,
    encode_parallel,
    finish_update,
    is_postgresql,
    reserve_ids,
    start_update,
    update_table,
)
from pingan.people.models import (
    FloatingRecord,
    ImportJob,
    ImportStatus,
    Person,
    PersonStatus,
    PersonStatusChange,
)
from pingan.people.pinyin import name_pinyin
from pingan.people.services import CODE_FIELDS, clean_person_data

logger = logging.getLogger("pingan.people.import")

BATCH = 2000
UPDATE_BATCH = 250

ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "sex": ("性别",),
    "ethnic_group": ("民族",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "证件号码"),
    "birth_date": ("出生日期",),
    "phone": ("联系电话", "电话", "手机号", "手机号码"),
    "registered_address": ("户籍地址", "户籍地详址"),
    "current_address": ("现住址", "现居住地址", "居住地址"),
    "grid": ("所属网格", "网格", "网格编码"),
    "category": ("人员类别",),
    "household_consistent": ("人户一致",),
    "political_status": ("政治面貌",),
    "education": ("文化程度", "学历"),
    "marital_status": ("婚姻状况",),
    "occupation": ("职业",),
    "permit_number": ("居住证号", "居住证号码"),
    "permit_valid_to": ("居住证有效期至", "居住证有效期"),
    "remarks": ("备注",),
}
REQUIRED = ("name", "id_number", "grid")
LABELS = {key: names[0] for key, names in ROSTER_COLUMNS.items()}
CATEGORY_FLAGS = {"1": "is_registered", "2": "is_floating", "3": "is_overseas", "4": "is_left_behind"}
COMPARED = (
    "name",
    "sex",
    "birth_date",
    "ethnic_group",
    "phone",
    "registered_address",
    "current_address",
    "political_status",
    "education",
    "marital_status",
    "occupation",
    "remarks",
    "household_consistent",
    "is_registered",
    "is_floating",
    "is_overseas",
    "is_left_behind",
    "area_id",
)


@dataclass
class PeopleImportResult(excel.ImportResult):
    labels = LABELS
    normalised: int = 0  # rows where an ID or phone was normalised (full-width, spaces, 15 → 18…)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "normalised": self.normalised}


def roster_template() -> bytes:
    """The blank roster with one obviously synthetic example row; every column is text."""
    columns = [Column(names[0], 16, text=True) for names in ROSTER_COLUMNS.values()]
    example = [
        EXAMPLE_NAME,
        "男",
        "汉族",
        EXAMPLE_ID,
        "1990-01-01",
        "13800000000",
        "天津市河西区示例路1号",
        "示例小区1号楼1单元101室",
        "120103004001001",
        "户籍人口",
        "是",
        "群众",
        "大学本科毕业",
        "已婚",
        "职员",
        "",
        "",
        "示例行，导入前请删除",
    ]
    return write_xlsx(
        columns=columns,
        rows=[example],
        title="实有人口花名册（导入模板）",
        note="必填列：姓名、公民身份号码、所属网格（网格编码或名称）；身份证号请以文本格式填写；第一行是示例，导入前请删除",
    )


def error_report(result: PeopleImportResult, *, filename: str = "") -> bytes:
    return excel.import_error_report(
        result, title=f"导入错误报告：{filename}" if filename else "导入错误报告"
    )


def _categories(value: Any, resolve: Any = code_resolve) -> dict[str, bool]:
    text = cell_text(value)
    flags = dict.fromkeys(CATEGORY_FLAGS.values(), False)
    if not text:
        return flags
    for part in text.replace("，", "、").replace(",", "、").replace("/", "、").replace(";", "、").split("、"):
        part = part.strip()
        if part:
            flags[CATEGORY_FLAGS[resolve("person_category", part)]] = True
    return flags


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (
        cell_text(value)
        .replace("/", "-")
        .replace(".", "-")
        .replace("年", "-")
        .replace("月", "-")
        .rstrip("日")
    )
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        if text.isdigit() and len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        raise ValidationError(_("日期格式不正确，应为 2025-12-31")) from None


def _batched(items: list[Any], size: int = BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Codes:
    """``code_resolve`` memoised for one import: a roster repeats the same few labels on every row."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, Any], str | UnknownCode] = {}

    def __call__(self, table: str, value: Any) -> str:
        key = (table, value)
        found = self.cache.get(key)
        if found is None:
            try:
                found = code_resolve(table, value)
            except UnknownCode as exc:
                found = exc
            self.cache[key] = found
        if isinstance(found, UnknownCode):
            raise found
        return found


_CANONICAL_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_HEX = re.compile(r"[0-9a-f]*")
DIGEST_PURPOSE = "person_import"


def _cell_key(value: Any) -> str:
    if value is None:
        return "n"
    if type(value) is str:
        return "s" + value
    return type(value).__name__[:2] + str(value)


def row_digest(cells: Sequence[Any], area_id: int | None) -> str:
    """Keyed digest (HMAC-SM3, purpose ``person_import``) of a roster row as read: the matched columns'
    cells with their types, in the file's column order, and the grid they resolve to for this importer.
    Stored as ``Person.import_digest``: the same row imported again is recognised as unchanged."""
    text = "\x1f".join(map(_cell_key, cells))
    return crypto.blind_index(f"{text}\x1farea={area_id}", purpose=DIGEST_PURPOSE)


@dataclass(slots=True)
class _Row:
    number: int
    values: dict[str, Any]
    area: Area
    floating: dict[str, Any]
    index: str = ""
    digest: str = ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _known(indexes: list[str]) -> dict[str, tuple[int, int, str]]:
    """index → (pk, area_id, import_digest) of the people already registered with these ID numbers."""
    known: dict[str, tuple[int, int, str]] = {}
    if is_postgresql():
        # one array parameter per chunk (Django would prepare 10,000 separate parameters), sent as the
        # array's text form: the indexes are hex digits, and psycopg's list adaptation of 100,000 strings
        # took a quarter of a second of an unchanged re-import
        table = connection.ops.quote_name(Person._meta.db_table)
        with connection.cursor() as cursor:
            for chunk in _batched(indexes, 20_000):
                if not _HEX.fullmatch("".join(chunk)):  # blind indexes: hex digits, nothing to quote
                    raise ValueError("an ID index is not hexadecimal")
                cursor.execute(
                    f"SELECT id_number_index, id, area_id, import_digest FROM {table} "  # noqa: S608
                    "WHERE id_number_index = ANY(%s::bpchar[])",
                    ["{" + ",".join(chunk) + "}"],
                )
                for index, pk, area_id, digest in cursor.fetchall():
                    known[index.strip()] = (pk, area_id, digest)
        return known
    lookup = Person._base_manager.values_list("id_number_index", "pk", "area_id", "import_digest")
    for chunk in _batched(indexes):
        for index, pk, area_id, digest in lookup.filter(id_number_index__in=chunk):
            known[index.strip()] = (pk, area_id, digest)
    return known


class _Validator:
    """One import's validation: every rule of the forms (``clean_person_data``) with the code tables,
    categories and grids memoised."""

    TEXT_KEYS = (
        "name",
        "sex",
        "ethnic_group",
        "registered_address",
        "current_address",
        "political_status",
        "education",
        "marital_status",
        "occupation",
        "remarks",
    )
    # low-cardinality columns: their normalised text is memoised
    REPEATED = frozenset(
        {"sex", "ethnic_group", "political_status", "education", "marital_status", "occupation"}
    )

    def __init__(self, match: Any, actor: Any, result: PeopleImportResult) -> None:
        self.by_code, self.by_name = place_lookup(actor)
        self.codes = _Codes()
        self.categories: dict[str, dict[str, bool] | Exception] = {}
        self.grids: dict[Any, tuple[str, Area | None]] = {}
        self.texts: dict[Any, str] = {}
        self.result = result
        self.has = set(match.columns)
        self.text_keys = [k for k in self.TEXT_KEYS if k in self.has]
        self.today = timezone.localdate()

    def text(self, value: Any) -> str:
        found = self.texts.get(value)
        if found is None:
            found = cell_text(value)
            if len(self.texts) < 10_000:
                self.texts[value] = found
        return found

    def grid(self, value: Any) -> tuple[str, Area | None]:
        found = self.grids.get(value)
        if found is None:
            text = cell_text(value).replace(" ", "")
            found = (text, self.by_code.get(text) or self.by_name.get(text))
            self.grids[value] = found
        return found

    def clean(
        self, row_number: int, values: dict[str, Any], area: Area | None, grid_text: str
    ) -> _Row | None:
        result, has = self.result, self.has
        text = self.text
        data: dict[str, Any] = {
            key: (text(values[key]) if key in self.REPEATED else cell_text(values[key]))
            for key in self.text_keys
        }
        data["id_number"] = values.get("id_number")
        if "phone" in has:
            data["phone"] = values["phone"]
        if "birth_date" in has:
            try:
                data["birth_date"] = _date(values["birth_date"])
            except ValidationError as exc:
                result.error(row_number, "birth_date", exc.messages[0])
                return None
        if "household_consistent" in has:
            data["household_consistent"] = text(values["household_consistent"])
        errors_before = len(result.errors)
        category_text = text(values.get("category"))
        flags = self.categories.get(category_text)
        if flags is None:
            try:
                flags = _categories(category_text, self.codes)
            except (UnknownCode, KeyError) as exc:
                flags = exc
            self.categories[category_text] = flags
        if isinstance(flags, UnknownCode):
            result.error(row_number, "category", _("人员类别“%(v)s”无法识别") % {"v": flags.value})
        elif isinstance(flags, Exception):
            result.error(row_number, "category", _("人员类别无法识别"))
        else:
            data.update(flags)
        if not grid_text:
            result.error(row_number, "grid", _("所属网格不能为空"))
        elif area is None:
            result.error(
                row_number, "grid", _("所属网格“%(v)s”不存在、名称不唯一或不在您的辖区") % {"v": grid_text}
            )
        try:
            cleaned = clean_person_data(data, resolve=self.codes, today=self.today)
        except ValidationError as exc:
            result.error(row_number, "household_consistent", exc.messages[0])
            return None
        for key, messages in cleaned.errors.items():
            for message in messages:
                result.error(row_number, key, message)
        if not cleaned.values.get("id_number") and "id_number" not in cleaned.errors:
            result.error(row_number, "id_number", _("公民身份号码不能为空"))
        floating: dict[str, Any] = {}
        permit = cell_text(values.get("permit_number")).replace(" ", "")
        if permit or cell_text(values.get("permit_valid_to")):
            try:
                floating = {"permit_number": permit, "valid_to": _date(values.get("permit_valid_to"))}
            except ValidationError as exc:
                result.error(row_number, "permit_valid_to", exc.messages[0])
            if not cleaned.values.get("is_floating") and "category" in has and category_text:
                result.error(row_number, "permit_number", _("填写了居住证的人员，人员类别应包含“流动人口”"))
        if len(result.errors) > errors_before or area is None:
            return None
        if cleaned.notes:
            result.normalised += 1
        if floating and not cleaned.values.get("is_floating") and "category" not in has:
            cleaned.values["is_floating"] = True
        return _Row(row_number, cleaned.values, area, floating)

    def warm(self) -> None:
        """Load the code tables the rules read, so that validating needs no query."""
        for table in (*CODE_FIELDS.values(), "person_category"):
            code_table(table)


def people_import(
    *, actor: Any, table: Table, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> PeopleImportResult:
    """Validate every row, then write the accepted ones in one transaction (see the module docstring).

    1. Every row's digest (``row_digest``: its cells and grid) and, when its ID number is already in
       canonical form, the ID's blind index; the people with those indexes are read with their stored
       digests in a few queries. A row whose digest equals the stored one is the row the last import wrote
       and nobody has changed since: unchanged, nothing else is done with it.
    2. Every other row is validated with the form rules; a known person with another digest is loaded,
       compared field by field and updated only where a value differs; new people are encoded (encrypted,
       indexed, pinyin) and written — on PostgreSQL with COPY (the encoding in worker processes for large
       files), elsewhere with ``bulk_create``.

    ``progress``, when given, is called with the number of rows checked so far (every 1,000 rows)."""
    if not actor.has_perm("people.import_people"):
        raise PermissionDenied
    from pingan.core.excel import ColumnMatch

    match = ColumnMatch.match(table.header, ROSTER_COLUMNS)
    result = PeopleImportResult(read=len(table.rows), unknown_columns=match.unknown)
    missing = [k for k in REQUIRED if k not in match.columns]
    if missing:
        result.error(
            table.header_row_number,
            "",
            _("缺少必需的列：%(c)s") % {"c": "、".join(LABELS[m] for m in missing)},
        )
        return result
    validator = _Validator(match, actor, result)
    index_field = index_field_for(Person, "id_number")
    keys = list(match.columns)
    positions = [match.columns[k] for k in keys]
    id_pos, grid_pos = keys.index("id_number"), keys.index("grid")
    # 1. digests and canonical ID indexes
    prepared: list[tuple[int, list[Any], str, str, str, Area | None]] = []
    for row_number, raw in table.numbered_rows():
        width = len(raw)
        cells = [raw[i] if i < width else None for i in positions]
        if all(_blank(v) for v in cells):
            result.read -= 1
            continue
        grid_text, area = validator.grid(cells[grid_pos])
        number = cells[id_pos]
        index = ""
        if type(number) is str and _CANONICAL_ID.match(number):
            index = index_field.index_for(number) or ""
        prepared.append(
            (row_number, cells, index, row_digest(cells, area.pk if area else None), grid_text, area)
        )
    known = _known([p[2] for p in prepared if p[2]])
    looked_up = {p[2] for p in prepared if p[2]}
    # 2. validation of the rows not recognised as unchanged. On PostgreSQL a valid row whose ID index was
    # looked up and not found is new: it goes straight to the encoding workers and COPY while the next rows
    # are validated (``_create_postgres``); the other rows are written after, by ``_apply``.
    stream = is_postgresql() and not dry_run
    rows: list[_Row] = []
    seen: dict[str, int] = {}

    def claim(number: str, row_number: int) -> bool:
        """The first valid row with an ID number claims it; a later one is rejected."""
        if number in seen:
            result.error(row_number, "id_number", _("与第 %(r)d 行的身份证号重复") % {"r": seen[number]})
            return False
        seen[number] = row_number
        return True

    def validated() -> Iterator[_Row]:
        """The valid rows known to be new when streaming; every other valid row goes into ``rows``."""
        for checked, (row_number, cells, index, digest, grid_text, area) in enumerate(prepared, start=1):
            if progress is not None and checked % 1000 == 0:
                progress(checked)
            found = known.get(index) if index else None
            if found is not None and area is not None and found[2] == digest:
                if claim(cells[id_pos], row_number):
                    result.unchanged += 1  # as the last import wrote it, and nobody changed the person since
                continue
            values = dict(zip(keys, cells, strict=True))
            if is_template_example(values.get("name"), values.get("id_number")):
                result.error(row_number, "name", str(EXAMPLE_REFUSED))
                continue
            row = validator.clean(row_number, values, area, grid_text)
            if row is None or not claim(number := row.values["id_number"], row_number):
                continue
            row.index = index or index_field.index_for(number) or ""
            row.digest = digest
            if stream and index and found is None:
                result.created += 1
                yield row
            else:
                rows.append(row)

    with transaction.atomic():
        floating: list[tuple[int, dict[str, Any]]] = []
        if stream:
            validator.warm()  # the rows are validated while COPY holds the connection
            # at most one id per row that may turn out new (the ids of rejected rows stay unused)
            candidates = sum(1 for p in prepared if p[2] and p[2] not in known)
            floating += _create_postgres(validated(), actor=actor, size=candidates)
        else:
            streamed = list(validated())  # nothing is: every valid row goes into rows
            assert not streamed
        prepared.clear()
        missing_indexes = [r.index for r in rows if r.index not in looked_up]
        if missing_indexes:
            known.update(_known(missing_indexes))
        _apply(rows, known, actor=actor, result=result, dry_run=dry_run, floating=floating)
        if not dry_run:
            audit_record(
                actor=actor,
                action="person.import",
                changes={k: v for k, v in result.as_dict().items() if k != "errors"},
            )
    result.errors.sort(key=lambda e: e["row"])  # in the file's order (rows are checked in two passes)
    result.attach_rows(table)  # the error report gives the importer back the rows to correct
    if progress is not None:
        progress(result.read)
    return result


def _apply(
    rows: list[_Row],
    known: dict[str, tuple[int, int, str]],
    *,
    actor: Any,
    result: PeopleImportResult,
    dry_run: bool,
    floating: list[tuple[int, dict[str, Any]]],
) -> None:
    """Write the validated rows: update the known people that differ, create the new ones; then the
    residence permits of these and of the rows created before (``floating``)."""
    from pingan.accounts.selectors import user_scope
    from pingan.core.masking import mask_id_number

    postgres = is_postgresql()
    scope = user_scope(actor) if getattr(actor, "is_authenticated", False) else None
    new: list[_Row] = []
    compare: dict[int, _Row] = {}
    for row in rows:
        found = known.get(row.index)
        if found is None:
            new.append(row)
            result.created += 1
            continue
        pk, area_id, digest = found
        if scope is not None and not scope.contains_area_id(area_id):
            result.error(
                row.number,
                "id_number",
                _("该身份证号（%(m)s）的人员已在其他辖区登记，请联系原辖区办理迁出")
                % {"m": mask_id_number(row.values["id_number"])},
            )
            continue
        if digest == row.digest:
            result.unchanged += 1  # exactly what the last import of this row wrote, untouched since
            continue
        compare[pk] = row

    # known people with another digest: compare field by field (this decrypts their values), chunk by chunk
    now = dt.datetime.now(dt.UTC)
    present = sorted({k for row in compare.values() for k in row.values if k in COMPARED} | {"area_id"})
    updates = None if dry_run else _Updates(present, now, postgres)
    for chunk in _batched(list(compare), BATCH):
        changed: list[Person] = []
        digest_only: list[Person] = []
        for person in Person._base_manager.filter(pk__in=chunk):
            row = compare[person.pk]
            values = {**row.values, "area_id": row.area.pk}
            diff = [k for k in COMPARED if k in values and getattr(person, k) != values[k]]
            person.import_digest = row.digest
            if row.floating:
                floating.append((person.pk, row.floating))
            if not diff:
                result.unchanged += 1
                digest_only.append(person)
                continue
            for key in diff:
                setattr(person, key, values[key])
            if "name" in diff:
                person.name_pinyin, person.name_initials = name_pinyin(person.name)
                diff += ["name_pinyin", "name_initials"]
            person.changed_fields = diff  # type: ignore[attr-defined]
            changed.append(person)
            result.updated += 1
        if updates is not None:
            updates.add(changed, digest_only)
    if dry_run or updates is None:
        return
    updates.finish()
    username = str(actor.get_username())
    if postgres:
        floating += _create_postgres(iter(new), actor=actor, size=len(new))
    else:
        for chunk_rows in _batched(new):
            people = []
            for row in chunk_rows:
                person = Person(area=row.area, import_digest=row.digest, **row.values)
                person.name_pinyin, person.name_initials = name_pinyin(person.name)
                people.append(person)
            created = Person.objects.bulk_create(people)
            floating += [
                (p.pk, row.floating) for p, row in zip(created, chunk_rows, strict=True) if row.floating
            ]
            PersonStatusChange.objects.bulk_create(
                PersonStatusChange(
                    person=p, to_status=PersonStatus.ACTIVE, event="import", actor_username=username
                )
                for p in created
            )
    _sync_floating(floating)


def _create_postgres(rows: Iterator[_Row], *, actor: Any, size: int) -> list[tuple[int, dict[str, Any]]]:
    """COPY new people and their first status rows; returns (id, permit) of those with a residence permit.
    ``rows`` may be a generator (it is consumed as the workers encode, see ``bulk.parallel_chunks``, and
    always to its end) that yields at most ``size`` rows: that many ids are reserved."""
    now = dt.datetime.now(dt.UTC)
    ids = reserve_ids(Person._meta.db_table, size)
    created: list[int] = []
    floating: list[tuple[int, dict[str, Any]]] = []

    def numbered() -> Iterator[tuple[int, dict[str, Any]]]:
        for pk, row in zip(ids, rows, strict=False):
            row.values["area_id"] = row.area.pk
            row.values["import_digest"] = row.digest
            created.append(pk)
            if row.floating:
                floating.append((pk, row.floating))
            yield pk, row.values

    if size:
        copy_lines(
            Person._meta.db_table,
            PersonEncoder(now).columns,
            encode_parallel(numbered(), now, size=size, lines=True),
        )
    for _extra in rows:  # the rest of a generator runs to its end (``size`` bounds what it yields)
        raise AssertionError("more new rows than ids reserved")
    if not created:
        return floating
    copy_keyed(
        PersonStatusChange._meta.db_table,
        ["person_id", "from_status", "to_status", "event", "note", "actor_username", "at"],
        created,
        ["", PersonStatus.ACTIVE, "import", "", str(actor.get_username()), now.isoformat()],
    )
    return floating


class _Updates:
    """Writes of changed people, chunk by chunk. PostgreSQL: the new values of every compared column the
    file has (and the indexes and pinyin that follow from them) are COPYed into a temporary table, then
    one ``UPDATE … FROM``. Elsewhere: ``bulk_update`` of the fields that differ."""

    def __init__(self, fields: list[str], now: dt.datetime, postgres: bool) -> None:
        self.now, self.postgres = now, postgres
        self.plan: list[tuple[str, Any]] = []  # (column, function of the person)
        meta = Person._meta
        names = [*fields, "updated_at", "import_digest"]
        if "name" in fields:
            names += ["name_pinyin", "name_initials"]
        for name in names:
            f = meta.get_field(name)
            if isinstance(f, EncryptedTextField):
                self.plan.append((str(f.column), lambda p, f=f: f.get_prep_value(getattr(p, f.attname))))
                for index_field in blind_index_fields(Person):
                    if index_field.source == f.name:
                        self.plan.append(
                            (
                                str(index_field.column),
                                lambda p, i=index_field: i.index_for(getattr(p, i.source)),
                            )
                        )
            elif name == "updated_at":
                self.plan.append(("updated_at", lambda p: now))
            else:
                self.plan.append((str(f.column), lambda p, a=f.attname: getattr(p, a)))  # type: ignore[union-attr]
        self.started = False
        self.digests: list[tuple[int, str]] = []

    def add(self, changed: list[Person], digest_only: list[Person]) -> None:
        if self.postgres:
            if changed:
                if not self.started:
                    start_update(Person._meta.db_table, "id", [c for c, _f in self.plan])
                    self.started = True
                copy_rows(
                    update_table(Person._meta.db_table),
                    ["id", *(c for c, _f in self.plan)],
                    ((p.pk, *(fn(p) for _c, fn in self.plan)) for p in changed),
                )
            self.digests += [(p.pk, p.import_digest) for p in digest_only]
            return
        fields: set[str] = set()
        for person in changed:
            person.updated_at = self.now
            fields.update(person.changed_fields)  # type: ignore[attr-defined]
        # bulk_update writes one CASE WHEN per field over the batch: cost grows with the square of the
        # batch size, so updates go in smaller batches than inserts
        for chunk in _batched(changed, UPDATE_BATCH):
            Person.objects.bulk_update(chunk, sorted(fields | {"updated_at", "import_digest"}))
        for chunk in _batched(digest_only, UPDATE_BATCH):
            Person.objects.bulk_update(chunk, ["import_digest"])

    def finish(self) -> None:
        if not self.postgres:
            return
        if self.started:
            finish_update(Person._meta.db_table, "id", [c for c, _f in self.plan])
        if self.digests:
            copy_update(Person._meta.db_table, "id", ["import_digest"], self.digests)


def _sync_floating(items: list[tuple[int, dict[str, Any]]]) -> None:
    """One current residence-permit record per imported floating person: updated when it differs."""
    if not items:
        return
    latest: dict[int, FloatingRecord] = {}
    for chunk in _batched([pk for pk, _v in items]):
        for found in FloatingRecord.objects.filter(person_id__in=chunk).order_by("person_id", "-pk"):
            latest.setdefault(found.person_id, found)
    create: list[FloatingRecord] = []
    update: list[FloatingRecord] = []
    today = timezone.localdate()
    for pk, values in items:
        record: FloatingRecord | None = latest.get(pk)
        if record is None:
            create.append(FloatingRecord(person_id=pk, registered_on=today, **values))
        elif record.permit_number != values["permit_number"] or record.valid_to != values["valid_to"]:
            record.permit_number, record.valid_to = values["permit_number"], values["valid_to"]
            update.append(record)
    for chunk in _batched(create):
        FloatingRecord.objects.bulk_create(chunk)
    for chunk in _batched(update):
        FloatingRecord.objects.bulk_update(chunk, ["permit_number", "valid_to"])


# --- large files in the background ----------------------------------------------------------------------


def sync_max_rows() -> int:
    """Rosters with more rows are previewed and imported by the worker, their page showing the progress."""
    return int(getattr(settings, "PINGAN_IMPORT_SYNC_MAX_ROWS", 5000))


def import_job_create(
    *,
    actor: Any,
    filename: str,
    data: bytes,
    rows: int,
    dry_run: bool = True,
    preview_of: ImportJob | None = None,
) -> ImportJob:
    """Queue a roster for the worker: a preview (``dry_run``) or, from a finished preview, its import — the
    very file that was previewed (``preview_of``'s content), never another upload."""
    if not actor.has_perm("people.import_people"):
        raise PermissionDenied
    job = ImportJob.objects.create(
        user=actor,
        filename=filename[:200],
        content=base64.b64encode(data).decode(),
        dry_run=dry_run,
        total_rows=rows,
        preview_of=preview_of,
    )
    transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    return job


def import_job_commit(*, actor: Any, job_id: int) -> ImportJob:
    """确认导入 of a finished preview: its file, queued for the import proper (once)."""
    with transaction.atomic():
        preview = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, user=actor, dry_run=True, status=ImportStatus.DONE)
            .first()
        )
        if preview is None or not preview.content:
            raise ValidationError(_("预览已失效（可能已经导入），请重新上传文件并预览"))
        data = base64.b64decode(preview.content)
        preview.content = ""  # the file moves on to the import job
        preview.save(update_fields=["content", "updated_at"])
        return import_job_create(
            actor=actor,
            filename=preview.filename,
            data=data,
            rows=preview.total_rows,
            dry_run=False,
            preview_of=preview,
        )


def import_job_result(job: ImportJob) -> PeopleImportResult | None:
    if not job.result:
        return None
    stored = json.loads(job.result)  # as_dict(): the fields, and "rejected", which is counted from the errors
    return PeopleImportResult(**{k: v for k, v in stored.items() if k != "rejected"})


def _progress_writer(job_id: int) -> tuple[Callable[[int], None] | None, Any]:
    """On PostgreSQL, a second connection of its own (autocommit) writes the rows checked so far, which the
    job's page reads while the import's transaction is still open. SQLite has one writer at a time: the page
    shows the job running without a count there."""
    if not is_postgresql():
        return None, None
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    last = [0.0]

    def write(done: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5:
            return
        last[0] = now
        try:
            with side.cursor() as cursor:
                cursor.execute(
                    "UPDATE people_importjob SET done_rows = %s WHERE id = %s AND done_rows < %s",
                    [done, job_id, done],
                )
        except DatabaseError:  # progress is a courtesy: never the import's failure
            logger.warning("import job %s: progress not written", job_id, exc_info=True)

    return write, side


@task()
def run_import_job(job_id: int) -> str:
    """The worker's side: preview or import the roster as the user who uploaded it, the progress written as
    it goes; the result stored encrypted, the file emptied."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    write, side = _progress_writer(job.pk)
    try:
        if not job.user.is_active:
            raise PermissionDenied
        table = excel.read_table(base64.b64decode(job.content), job.filename, ROSTER_COLUMNS)
        result = people_import(actor=job.user, table=table, dry_run=job.dry_run, progress=write)
    except (PermissionDenied, ValidationError, excel.TableError) as exc:
        message = "；".join(getattr(exc, "messages", [])) or str(exc) or _("无权导入")
        _finish_job(job, status=ImportStatus.FAILED, error=message[:500])
        return "failed"
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish_job(job, status=ImportStatus.FAILED, error=_("导入出错，请联系系统管理员"))
        return "failed"
    finally:
        if side is not None:
            side.close()
    _finish_job(
        job,
        status=ImportStatus.DONE,
        result=json.dumps(result.as_dict(), ensure_ascii=False),
        done_rows=result.read,
        keep_file=job.dry_run and bool(result.created or result.updated),
    )
    return "done"


def _finish_job(
    job: ImportJob,
    *,
    status: str,
    error: str = "",
    result: str = "",
    done_rows: int | None = None,
    keep_file: bool = False,
) -> None:
    job.status, job.error, job.result = status, error, result
    job.finished_at = timezone.now()
    if done_rows is not None:
        job.done_rows = done_rows
    if not keep_file:  # a preview keeps its file for 确认导入; the rest is not kept
        job.content = ""
    job.save(update_fields=["status", "error", "result", "finished_at", "done_rows", "content", "updated_at"])
