"""Every write to an event. Each service: checks the permission on the locked row, checks the version the
caller saw (optimistic concurrency), runs the transition, writes the timeline row, the audit event and the
in-app notifications in one transaction.

Concurrency: the row is read with ``SELECT … FOR UPDATE`` (SQLite: the IMMEDIATE write transaction), so
two people acting on one event are serialised; the second sees the first one's version and state and gets
``EventConflict`` (HTTP 409 in the API) — either "changed since you loaded it" (a version was given) or
"not possible in the current state". ``ConcurrentTransitionMixin`` on the model is a second guard: the
UPDATE itself is conditional on the status it was read with.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError, IntegrityError, connections, models, transaction
from django.http import Http404
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.accounts.selectors import StaffAt
from pingan.areas.models import Area, Department, Level
from pingan.areas.selectors import area_with_ancestors
from pingan.audit.models import Outcome
from pingan.audit.services import atomic_audited, audit_record
from pingan.core.codes import UnknownCode, code_label, code_resolve
from pingan.core.inserts import insert_linked
from pingan.core.prepared import prepared_cursor
from pingan.core.text import contains_markup, normalize_prose, normalize_text
from pingan.core.validators import LATITUDE_RANGE, LONGITUDE_RANGE
from pingan.events.models import (
    OPEN_STATUSES,
    SUBJECT_FIELDS,
    WORKING_STATUSES,
    Event,
    EventCategoryRule,
    EventCounter,
    EventPhoto,
    EventPolicy,
    EventStep,
    EventSubject,
    PhotoKind,
    Source,
    Status,
    StepAction,
    SubjectKind,
    Tier,
    Urgency,
)
from pingan.events.rules import AREA_HANDLER_ROLES, CENTRE_ROLES
from pingan.events.selectors import (
    category_tier,
    current_policy,
    deadline_days,
    departments_serving,
    event_list,
    own_work,
)
from pingan.notifications.services import notify
from pingan.workdays.selectors import end_of_working_day

P = ParamSpec("P")
R = TypeVar("R")
logger = logging.getLogger(__name__)


# What the public follow page and Open311's status_notes say of a refused or closed event: a fixed text,
# never the reason or note someone typed (they name people; migration events 0009 cleared older ones)
PUBLIC_NOTES = {Status.REFUSED: gettext_lazy("经核实，不予立案"), Status.CLOSED: gettext_lazy("已办结")}


class EventConflict(Exception):
    """The event changed under the caller, or the action is not possible in its current state (409)."""

    def __init__(
        self, message: str, *, current_version: int | None = None, status: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.current_version = current_version
        self.status = status


# --- photos ------------------------------------------------------------------------------------------

_SIGNATURES: tuple[tuple[str, str, Callable[[bytes], bool]], ...] = (
    ("image/jpeg", ".jpg", lambda b: b[:3] == b"\xff\xd8\xff"),
    ("image/png", ".png", lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    ("image/webp", ".webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)


@dataclass(frozen=True)
class Photo:
    """An image checked by content (not by its name or declared type)."""

    data: bytes
    content_type: str
    suffix: str
    name: str = ""  # its file under MEDIA_ROOT, once written (_write_photos)


def _read_upload(upload: Any, limit: int) -> bytes:
    if isinstance(upload, (bytes, bytearray)):
        return bytes(upload[: limit + 1])
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    return bytes(data)


def check_photos(uploads: Sequence[Any], policy: EventPolicy | None = None) -> list[Photo]:
    """JPEG, PNG or WebP, recognised by their first bytes; at most ``photo_max_bytes`` each and
    ``photo_max_count`` in all (default: the rules as this process last read them). Raises ValidationError
    (field ``photos``) in Chinese."""
    policy = policy or current_policy()
    uploads = [u for u in uploads if u]
    if len(uploads) > policy.photo_max_count:
        raise ValidationError({"photos": _("最多上传 %(n)d 张照片") % {"n": policy.photo_max_count}})
    photos: list[Photo] = []
    for index, upload in enumerate(uploads, start=1):
        data = _read_upload(upload, policy.photo_max_bytes)
        if len(data) > policy.photo_max_bytes:
            raise ValidationError(
                {
                    "photos": _("第 %(i)d 张照片超过 %(mb).1f MB")
                    % {"i": index, "mb": policy.photo_max_bytes / 1024 / 1024}
                }
            )
        if not data:
            raise ValidationError({"photos": _("第 %(i)d 张照片是空文件") % {"i": index}})
        kind = next(((ct, suffix) for ct, suffix, test in _SIGNATURES if test(data)), None)
        if kind is None:
            raise ValidationError({"photos": _("第 %(i)d 个文件不是 JPEG、PNG 或 WebP 图片") % {"i": index}})
        photos.append(Photo(data, kind[0], kind[1]))
    return photos


_written: ContextVar[list[str] | None] = ContextVar("pingan_event_photo_files", default=None)


def _cleans_files(func: Callable[P, R]) -> Callable[P, R]:
    """Delete the photo files a service wrote if it fails (its rows roll back, the files would stay)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _written.set([])
        try:
            return func(*args, **kwargs)
        except BaseException:
            from django.core.files.storage import default_storage

            for name in _written.get() or []:
                default_storage.delete(name)
            raise
        finally:
            _written.reset(token)

    return wrapper


def _save_file(field: models.FileField, suffix: str, data: bytes) -> str:
    """A new file of ``field`` holding ``data``; returns its name. The name is the field's (``upload_to``:
    random, never the client's; ``photo_upload_to`` needs no instance). On the file system it is created
    only if it does not exist (``O_EXCL``), given the permissions ``Storage.save()`` would give it, written
    and closed: four system calls. ``save()`` also checks the name is free, locks the file and goes through
    ``File``'s chunks: about 0.08 ms more per photo (docs/benchmarks.md). Any other storage, or a name
    taken, goes through ``save()``."""
    name = field.generate_filename(cast(Any, None), f"photo{suffix}")
    storage = field.storage
    limit = field.max_length or 100
    if storage.__class__ is FileSystemStorage and len(name) <= limit:  # default_storage is a lazy object
        path = storage.path(name)
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        try:
            try:
                fd = os.open(path, flags, 0o666)
            except FileNotFoundError:  # the month's first photo: its directory, as save() makes it
                _make_dirs(storage, os.path.dirname(path))
                fd = os.open(path, flags, 0o666)
        except FileExistsError:
            pass
        else:
            try:
                if storage.file_permissions_mode is not None:
                    os.fchmod(fd, storage.file_permissions_mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            except BaseException:
                os.close(fd)
                os.unlink(path)
                raise
            os.close(fd)
            return name
    return storage.save(name, ContentFile(data), field.max_length)


def _make_dirs(storage: FileSystemStorage, directory: str) -> None:
    if storage.directory_permissions_mode is None:
        os.makedirs(directory, exist_ok=True)
        return
    old = os.umask(0o777 & ~storage.directory_permissions_mode)  # as FileSystemStorage._save does
    try:
        os.makedirs(directory, storage.directory_permissions_mode, exist_ok=True)
    finally:
        os.umask(old)


def _write_photos(photos: Iterable[Photo]) -> list[Photo]:
    """Write the photos' files (those not written yet): the service deletes them if it fails."""
    field = cast(models.FileField, EventPhoto._meta.get_field("file"))
    written = []
    for photo in photos:
        if not photo.name:
            photo = replace(photo, name=_save_file(field, photo.suffix, photo.data))
            names = _written.get()
            if names is not None:
                names.append(photo.name)
        written.append(photo)
    return written


def _photo_rows(
    event: Event, step: EventStep, photos: Iterable[Photo], kind: str, actor: Any
) -> list[EventPhoto]:
    """The rows of the photos of ``step`` (their files written first), not yet saved."""
    return [
        EventPhoto(
            event=event,
            step=step,
            kind=kind,
            file=photo.name,
            content_type=photo.content_type,
            size=len(photo.data),
            sha256=hashlib.sha256(photo.data).hexdigest(),
            uploaded_by=_user_or_none(actor),
        )
        for photo in _write_photos(photos)
    ]


# --- helpers -----------------------------------------------------------------------------------------


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def _actor_name(actor: Any) -> str:
    if isinstance(actor, User):
        return str(actor)
    return str(getattr(actor, "display_name", "") or _("系统"))


def _clean_note(
    value: Any, *, required: bool, label: str, field: str = "note", max_length: int = 1000
) -> str:
    text = normalize_prose(str(value or ""))
    if required and len(text) < 2:
        raise ValidationError({field: _("请填写%(label)s") % {"label": label}})
    if len(text) > max_length:
        raise ValidationError({field: _("%(label)s不能超过 %(n)d 个字") % {"label": label, "n": max_length}})
    return text


def _require(actor: Any, perm: str, event: Event | Area) -> None:
    if not actor.has_perm(perm, event):
        raise PermissionDenied


def _lock(actor: Any, event_id: int, expected_version: int | None) -> Event:
    """The event, locked, if the actor may see it (Http404 otherwise), at the version the actor saw."""
    qs = event_list(user=actor) if isinstance(actor, User) else Event.objects.select_related("area", "owner")
    try:
        event = qs.select_for_update(of=("self",)).get(pk=event_id)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if expected_version is not None and event.version != expected_version:
        raise EventConflict(
            _("事件 %(n)s 已被他人更新，请刷新后再试") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    return event


def _transition(event: Event, name: str) -> None:
    method = getattr(event, name)
    try:
        method()
    except TransitionNotAllowed:
        raise EventConflict(
            _("事件 %(n)s 当前状态为“%(s)s”，不能%(a)s")
            % {"n": event.number, "s": event.get_status_display(), "a": ACTION_VERBS.get(name, name)},
            current_version=event.version,
            status=event.status,
        ) from None


ACTION_VERBS = {
    "accept": gettext_lazy("立案"),
    "refuse": gettext_lazy("不予立案"),
    "dispatch": gettext_lazy("派遣"),
    "start": gettext_lazy("签收"),
    "report_back": gettext_lazy("反馈"),
    "return_to_centre": gettext_lazy("退件"),
    "verify_pass": gettext_lazy("核查"),
    "verify_fail": gettext_lazy("核查"),
    "reopen": gettext_lazy("重新处置"),
    "merge_into": gettext_lazy("合并"),
}


def _save(
    event: Event,
    *,
    actor: Any,
    action: str,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    photos: Iterable[Photo] = (),
    photo_kind: str = PhotoKind.BEFORE,
    changes: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    bump: bool = True,
) -> EventStep:
    if bump:
        event.version += 1
    step = EventStep(
        event=event,
        action=action,
        actor=_user_or_none(actor),
        actor_name=_actor_name(actor)[:60],
        actor_role=str(getattr(actor, "role", ""))[:30],
        at=at or timezone.now(),
        from_status=from_status,
        to_status=event.status,
        note=note,
        data=data or {},
    )
    stored = _photo_rows(event, step, photos, photo_kind, actor)
    new = event._state.adding
    if not new:
        try:
            event.save()
        except ConcurrentTransition:
            raise EventConflict(_("事件 %(n)s 已被他人更新，请刷新后再试") % {"n": event.number}) from None
    # a report's event, and every step with its photos, in one statement (core.inserts)
    insert_linked([event] if new else [], [step], stored)
    if event.new_steps is not None:
        event.new_steps.append((step, stored))
    audit_changes: dict[str, Any] = (
        {"status": [from_status, event.status]} if from_status != event.status else {}
    )
    audit_changes.update(changes or {})
    if stored:
        audit_changes["photos"] = len(stored)
    audit_record(actor=actor, action=f"event.{action}", obj=event, changes=audit_changes)
    return step


def _event_url(event: Event) -> str:
    head, tail = _event_url_around(get_script_prefix())
    return f"{head}{event.pk}{tail}"


_URL_MARK = "918273645546372819"  # a key no event has: where the key goes in the page's address


@functools.lru_cache(maxsize=16)
def _event_url_around(prefix: str) -> tuple[str, str]:
    """The event page's address before and after its key, under this script prefix, reversed once: every
    notification carries it, and ``reverse()`` takes about 60 µs."""
    head, _mark, tail = reverse("events:detail", args=[_URL_MARK]).partition(_URL_MARK)
    return head, tail


def _centre_staff(owner: Area) -> StaffAt:
    """Centre staff bound exactly to the node in charge (a street's office; the district's commanders).
    Not a list: notify() writes their notifications with one INSERT … SELECT."""
    return StaffAt(owner.pk, CENTRE_ROLES)


def _assignee_users(event: Event) -> list[User]:
    if event.assignee_department_id is not None:
        return list(
            User.objects.filter(is_active=True, memberships__department_id=event.assignee_department_id)
            .exclude(role=Role.LEADER)
            .distinct()
        )
    if event.assignee_area_id is not None:
        return list(
            User.objects.filter(
                is_active=True, role__in=AREA_HANDLER_ROLES, memberships__area_id=event.assignee_area_id
            ).distinct()
        )
    return []


def _verifiers(event: Event) -> list[User]:
    users = list(
        User.objects.filter(
            is_active=True, role=Role.GRID_WORKER, memberships__area_id=event.area_id
        ).distinct()
    )
    if event.reporter_id is not None and event.reporter is not None and event.reporter.is_active:
        users.append(event.reporter)
    return users  # followers of merged duplicates may not verify: they hear of the closure instead


def _reporters(event: Event) -> list[User]:
    """The reporter and the reporters of the duplicates merged into the event (they follow it)."""
    users = [event.reporter] if event.reporter_id is not None and event.reporter is not None else []
    followers = User.objects.filter(
        is_active=True, pk__in=Event.objects.filter(merged_into=event).values("reporter_id")
    )
    users.extend(u for u in followers if u.pk != event.reporter_id)
    return users


def _notify(
    users: Iterable[User], event: Event, kind: str, title: str, body: str = "", actor: Any = None
) -> None:
    notify(
        users=users,
        kind=f"event.{kind}",
        title=title,
        body=body,
        url=_event_url(event),
        obj=event,
        exclude=_user_or_none(actor),
    )


def _label(event: Event) -> str:
    return f"{event.number} {event.title}"


def _street_of(area: Area) -> Area:
    """The centre in charge of a new event: the grid's street (the district if there is none)."""
    for code in (area.code[:9], area.code[:6]):
        node: Area | None = area  # the ancestors read with the area (select_related) first: no query
        while node is not None:
            if node.code == code:
                return node
            node = node.parent if "parent" in node._state.fields_cache else None
        node = Area.objects.filter(code=code).first()
        if node is not None:
            return node
    return area


@functools.cache
def _increment_sql(alias: str, alone: bool) -> str:
    """The day's counter, incremented and read in one round trip (PostgreSQL; SQLite 3.35+); the table name
    comes from the model, the day is a parameter. ``alone``: the statement is a transaction of its own, which
    on PostgreSQL then commits without waiting for the disk (``set_config`` local to it; _next_number says
    why that loses nothing)."""
    connection = connections[alias]
    table = connection.ops.quote_name(EventCounter._meta.db_table)
    if alone and connection.vendor == "postgresql":
        return (
            "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
            f"UPDATE {table} SET last = last + 1 FROM async_commit WHERE day = %s RETURNING last"
        )
    return f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last"  # noqa: S608


def _next_number(now: dt.datetime) -> str:
    """YYYYMMDD + a 4-digit daily sequence. The day's counter row stays locked until the end of the
    transaction the increment runs in: outside one (event_report), that is this statement alone, and a
    number then stays drawn whatever happens to its report; inside one (an Open311 report), it rolls back
    with it.

    Alone, on PostgreSQL, the increment commits asynchronously: it does not wait for its WAL to reach the
    disk (one flush less per report, about 4 % of a report's CPU: docs/benchmarks.md). Nothing durable can
    hold a number whose increment a crash lost: whatever uses the number commits synchronously afterwards
    (the report's rows, or the audit row of an unused number), and that flushes the WAL up to its own commit,
    the increment's included. A crash can only take back an increment no durable row has used; its number is
    then drawn again."""
    day = timezone.localdate(now)
    connection = connections[EventCounter.objects.db]
    statement = _increment_sql(connection.alias, not connection.in_atomic_block)

    def increment() -> Any:
        with prepared_cursor(connection.alias) as cursor:
            cursor.execute(statement, [connection.ops.adapt_datefield_value(day)])
            return cursor.fetchone()

    row = increment()
    if row is None:  # the day's first report: its counter row
        try:
            with transaction.atomic():
                EventCounter.objects.create(day=day, last=1)
            row = (1,)
        except IntegrityError:  # another report made it first
            row = increment()
    return f"{day:%Y%m%d}{row[0]:04d}"


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# Django's ``Choices.values`` builds its list on every call (a value not a string is refused before the set,
# which could not hash a list)
_SOURCES = frozenset(Source.values)
_URGENCIES = frozenset(Urgency.values)
_TIERS = frozenset(Tier.values)


def _clean_coordinate(value: Any, low: int, high: int, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("坐标必须是数字")}) from None
    if not low <= number <= high:
        raise ValidationError({field: _("坐标超出范围，请检查是否填反了经纬度")})
    return number


def _location_errors(lat: Decimal, lon: Decimal) -> dict[str, str]:
    """A reported point must lie in mainland China and within reach of the district's grids."""
    from pingan.events.geo import in_district

    if not (
        LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1] and LONGITUDE_RANGE[0] <= lon <= LONGITUDE_RANGE[1]
    ):
        return {"latitude": _("位置不在境内，请检查定位（是否填反了经纬度）")}
    if not in_district(float(lat), float(lon)):
        return {"latitude": _("位置不在本辖区范围内，请检查定位或在地图上重新选点")}
    return {}


# --- report ------------------------------------------------------------------------------------------


def default_source(actor: Any) -> str:
    """The source a report takes when none is given: the reporter's own channel."""
    defaults: dict[str, str] = {
        Role.GRID_WORKER: Source.GRID_WORKER,
        Role.HOTLINE_OPERATOR: Source.HOTLINE,
        Role.DEPARTMENT_HANDLER: Source.DEPARTMENT,
    }
    return defaults.get(str(getattr(actor, "role", "")), Source.PATROL)


@_cleans_files
def event_report(
    *,
    actor: Any,
    area_id: int,
    category: str,
    title: str,
    description: str,
    source: str | None = None,
    urgency: str = Urgency.NORMAL,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    photos: Sequence[Any] = (),
    reported_at: dt.datetime | None = None,
    person_ids: Sequence[Any] = (),
    house_ids: Sequence[Any] = (),
    school_ids: Sequence[Any] = (),
) -> Event:
    """Report an event in a grid. The grid's street centre is in charge of it. ``person_ids``, ``house_ids``
    and ``school_ids``: the persons, houses and schools it concerns, within the reporter's scope.

    The input is checked and the photos are written first; then the day's number is drawn, and the rows are
    written in one transaction (``_report_write``). Called outside a transaction, the number is drawn in a
    statement of its own, so reports do not queue on the day's counter while they write (_next_number); a
    report that fails after that leaves its number unused, and an audit row says so."""
    # with its community and street (the centre in charge, the audit's area), in one statement
    area = area_with_ancestors(int(area_id)) if str(area_id).isdigit() and int(area_id) < 2**63 else None
    if area is None or not area.active:
        raise ValidationError({"area": _("请选择网格")})
    _require(actor, "events.report_event", area)
    errors: dict[str, str] = {}
    source = source or default_source(actor)
    if area.level != Level.GRID and source != Source.CITIZEN:
        errors["area"] = _("事件须落到网格")  # a citizen may not know the grid: the centre places it
    try:
        category = code_resolve("event_category", category)
    except UnknownCode:
        errors["category"] = _("事件类别不存在")
    else:
        if not category:
            errors["category"] = _("请选择事件类别")
    title = normalize_prose(str(title or ""), multiline=False)
    if not title:
        errors["title"] = _("请填写标题")
    elif len(title) > 80:
        errors["title"] = _("标题不能超过 80 个字")
    elif contains_markup(title):
        errors["title"] = _("标题不能含有 < > 等标记字符")
    description = normalize_prose(str(description or ""))
    if len(description) < 2:
        errors["description"] = _("请描述事件情况")
    elif len(description) > 2000:
        errors["description"] = _("事件描述不能超过 2000 个字")
    if not isinstance(source, str) or source not in _SOURCES:
        errors["source"] = _("来源不正确")
    if not isinstance(urgency, str) or urgency not in _URGENCIES:
        errors["urgency"] = _("紧急程度不正确")
    address = normalize_text(str(address or ""))
    if len(address) > 200:
        errors["address"] = _("地址不能超过 200 个字")
    elif contains_markup(address):
        errors["address"] = _("地址不能含有 < > 等标记字符")
    reporter_name = normalize_text(str(reporter_name or ""))
    if len(reporter_name) > 40 or contains_markup(reporter_name):
        errors["reporter_name"] = _("姓名不能超过 40 个字")
    reporter_phone = re.sub(r"[\s()（）]", "", normalize_text(str(reporter_phone or "")))
    if reporter_phone and not _PHONE.match(reporter_phone):
        errors["reporter_phone"] = _("电话号码格式不正确")
    try:
        lat = _clean_coordinate(latitude, -90, 90, "latitude")
        lon = _clean_coordinate(longitude, -180, 180, "longitude")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        lat = lon = None
    if "latitude" not in errors and "longitude" not in errors and (lat is None) != (lon is None):
        errors["latitude"] = _("经纬度须同时填写")
    elif lat is not None and lon is not None:
        errors.update(_location_errors(lat, lon))
    subjects: Subjects = {}
    try:
        subjects = _resolve_subjects(
            actor,
            {SubjectKind.PERSON: person_ids, SubjectKind.HOUSE: house_ids, SubjectKind.SCHOOL: school_ids},
        )
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    # no number is drawn for a report refused above; inside an outer transaction (Open311) the counter row
    # stays locked to its commit, so what takes time comes first
    checked = _write_photos(check_photos(photos))
    owner = _street_of(area)
    centre = _centre_staff(owner)
    tier = category_tier(category)
    now = timezone.now()
    own_number = not connections[Event.objects.db].in_atomic_block
    event = Event(
        number=_next_number(now),
        title=title,
        description=description,
        category=category,
        tier=tier,
        source=source,
        urgency=urgency,
        area=area,
        owner=owner,
        address=address,
        latitude=lat,
        longitude=lon,
        reporter=_user_or_none(actor),
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        reported_at=reported_at or now,
        public_note=_("已上报，等待受理"),
    )
    try:
        return _report_write(event, actor=actor, photos=checked, subjects=subjects, centre=centre)
    except BaseException:
        if own_number:
            _number_unused(actor, event)
        raise


@atomic_audited
def _report_write(
    event: Event, *, actor: Any, photos: list[Photo], subjects: Subjects, centre: StaffAt
) -> Event:
    """The rows of a checked report: the event, its report step and photos, its links, the centre's
    notifications and the audit row."""
    event.new_steps = []
    _save(
        event,
        actor=actor,
        action=StepAction.REPORT,
        from_status="",
        bump=False,
        note=event.description[:1000],
        data={"category": event.category, "source": event.source},
        photos=photos,
        photo_kind=PhotoKind.BEFORE,
        changes={
            "category": event.category,
            "source": event.source,
            "area": event.area.code,
            **{key: sorted(ids) for key, ids in _subject_changes(subjects).items()},
        },
        at=event.reported_at,
    )
    _add_subjects(event, subjects, actor)
    _notify(
        centre,
        event,
        "reported",
        _("新事件待受理：%(e)s") % {"e": _label(event)},
        code_label("event_category", event.category),
        actor,
    )
    return event


def _number_unused(actor: Any, event: Event) -> None:
    """Say in the audit trail that a drawn number was left unused (its report failed to be written), so that
    a gap in a day's numbers is explained. Best effort: the database may be what failed."""
    try:
        audit_record(
            actor=actor,
            action="event.number_unused",
            outcome=Outcome.FAILURE,
            area_code=event.area.code,
            changes={"number": event.number},
        )
    except DatabaseError:
        logger.warning("event number %s unused and not audited", event.number, exc_info=True)


# --- the centre ----------------------------------------------------------------------------------------


@atomic_audited
def event_accept(
    *, actor: Any, event_id: int, expected_version: int | None = None, tier: str | None = None, note: str = ""
) -> Event:
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.accept_event", event)
    note = _clean_note(note, required=False, label=_("说明"))
    if tier and (not isinstance(tier, str) or tier not in _TIERS):
        raise ValidationError({"tier": _("处置等级不正确")})
    before = event.status
    _transition(event, "accept")
    changes: dict[str, Any] = {}
    if tier and tier != event.tier:
        changes["tier"] = [event.tier, tier]
        event.tier = tier
    event.public_note = _("已受理")
    _save(
        event,
        actor=actor,
        action=StepAction.ACCEPT,
        from_status=before,
        note=note,
        data={"tier": event.tier},
        changes=changes,
    )
    return event


@atomic_audited
def event_place(*, actor: Any, event_id: int, area_id: Any, expected_version: int | None = None) -> Event:
    """Place an event reported outside a grid (a citizen's report by address) in a grid of the centre's
    area: the grid's street centre is then in charge of it, as if it had been reported there."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.accept_event", event)
    if event.status not in (Status.REPORTED, Status.ACCEPTED) or event.area.level == Level.GRID:
        raise EventConflict(
            _("事件 %(n)s 已在网格中，或已派遣") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    grid = area_with_ancestors(int(area_id)) if str(area_id).isdigit() and int(area_id) < 2**63 else None
    if (
        grid is None
        or not grid.active
        or grid.level != Level.GRID
        or not actor.has_perm("events.report_event", grid)
    ):
        raise ValidationError({"area": _("请选择您辖区内的网格")})
    before_area, before_owner = event.area, event.owner
    event.area, event.owner = grid, _street_of(grid)
    _save(
        event,
        actor=actor,
        action=StepAction.PLACE,
        from_status=event.status,
        data={"from": before_area.name, "to": grid.name},
        changes={"area": [before_area.code, grid.code], "owner": [before_owner.code, event.owner.code]},
    )
    if event.owner.pk != before_owner.pk:
        _notify(
            _centre_staff(event.owner),
            event,
            "placed",
            _("新事件待办理：%(e)s") % {"e": _label(event)},
            code_label("event_category", event.category),
            actor,
        )
    return event


@atomic_audited
def event_refuse(*, actor: Any, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.accept_event", event)
    reason = _clean_note(reason, required=True, label=_("不予立案的理由"), field="reason", max_length=300)
    before = event.status
    _transition(event, "refuse")
    event.public_note = str(PUBLIC_NOTES[Status.REFUSED])  # the reason may name people: it stays inside
    _save(event, actor=actor, action=StepAction.REFUSE, from_status=before, note=reason)
    if event.reporter is not None or event.merged_events.exists():
        _notify(
            _reporters(event),
            event,
            "refused",
            _("您上报的事件不予立案：%(e)s") % {"e": _label(event)},
            reason,
            actor,
        )
    return event


def _dispatch_target(
    event: Event, department_id: int | None, area_id: int | None
) -> tuple[Department | None, Area | None]:
    if (department_id is None) == (area_id is None):
        raise ValidationError({"department": _("请选择一个处置部门，或一个下级辖区")})
    if department_id is not None:
        department = departments_serving(event.area).filter(pk=department_id).first()
        if department is None:
            raise ValidationError({"department": _("该部门不负责事件所在辖区")})
        return department, None
    target = Area.objects.filter(pk=int(area_id or 0), active=True).first()
    if (
        target is None
        or target.level not in (Level.COMMUNITY, Level.GRID)
        or not event.area.code.startswith(target.code)
        or not target.code.startswith(event.owner.code)
        or target.code == event.owner.code
    ):
        raise ValidationError({"area": _("只能派遣到事件所在的社区或网格")})
    return None, target


@atomic_audited
def event_dispatch(
    *,
    actor: Any,
    event_id: int,
    department_id: int | None = None,
    area_id: int | None = None,
    tier: str | None = None,
    working_days: int | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Event:
    """Send the event to a department or a lower level with a deadline in working days (the category's
    tier unless the dispatcher chooses another tier or a number of days)."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.dispatch_event", event)
    note = _clean_note(note, required=False, label=_("派遣意见"))
    if tier and (not isinstance(tier, str) or tier not in _TIERS):
        raise ValidationError({"tier": _("处置等级不正确")})
    department, target = _dispatch_target(event, department_id, area_id)
    policy = EventPolicy.current()
    before = event.status
    _transition(event, "dispatch")
    if tier:
        event.tier = tier
    days = deadline_days(category=event.category, tier=event.tier, policy=policy)
    if working_days is not None:
        if not 0 <= int(working_days) <= policy.max_total_days:
            raise ValidationError(
                {"working_days": _("期限应在 0 到 %(n)d 个工作日之间") % {"n": policy.max_total_days}}
            )
        days = int(working_days)
    assert event.dispatched_at is not None
    event.assignee_department, event.assignee_area = department, target
    event.deadline_days, event.extension_days = days, 0
    event.extension_requested_days, event.extension_reason = None, ""
    event.deadline = end_of_working_day(event.dispatched_at, days)
    event.reminded_at = None
    event.public_note = _("已派遣处置")
    to_name = department.name if department else target.name if target else ""
    _save(
        event,
        actor=actor,
        action=StepAction.DISPATCH,
        from_status=before,
        note=note,
        data={
            "to": to_name,
            "department_id": department.pk if department else None,
            "area_id": target.pk if target else None,
            "tier": event.tier,
            "working_days": days,
            "deadline": event.deadline.isoformat(),
        },
        changes={"assignee": to_name, "deadline": event.deadline.isoformat(), "working_days": days},
    )
    _notify(
        _assignee_users(event),
        event,
        "dispatched",
        _("新派遣事件：%(e)s") % {"e": _label(event)},
        _("办理期限 %(d)s") % {"d": timezone.localtime(event.deadline).strftime("%Y-%m-%d %H:%M")},
        actor,
    )
    return event


@atomic_audited
def event_escalate(*, actor: Any, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """Hand the event up one level (street → district): the next centre is in charge from now on."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.escalate_event", event)
    reason = _clean_note(reason, required=True, label=_("提交上级的理由"), field="reason")
    _escalate(event, actor=actor, reason=reason)
    return event


def _escalate(event: Event, *, actor: Any, reason: str, automatic: bool = False) -> None:
    if event.status not in OPEN_STATUSES:
        raise EventConflict(
            _("事件 %(n)s 已办结，不能提交上级") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    parent = event.owner.parent
    if parent is None:
        raise EventConflict(
            _("事件 %(n)s 已由最高层级负责") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    before_owner = event.owner
    event.owner = parent
    event.escalation_count += 1
    event.escalated_at = timezone.now()
    _save(
        event,
        actor=actor,
        action=StepAction.ESCALATE,
        from_status=event.status,
        note=reason,
        data={"from": before_owner.name, "to": parent.name, "automatic": automatic},
        changes={"owner": [before_owner.code, parent.code]},
    )
    _notify(
        _centre_staff(parent),
        event,
        "escalated",
        _("下级提交的事件：%(e)s") % {"e": _label(event)},
        reason[:300],
        actor,
    )


@atomic_audited
def event_supervise(*, actor: Any, event_id: int, note: str, expected_version: int | None = None) -> Event:
    """A supervision note (督办) to whoever has the event."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.supervise_event", event)
    note = _clean_note(note, required=True, label=_("督办意见"))
    if event.status not in OPEN_STATUSES:
        raise EventConflict(
            _("事件 %(n)s 已办结，无需督办") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    event.supervision_count += 1
    _save(event, actor=actor, action=StepAction.SUPERVISE, from_status=event.status, note=note)
    users: Iterable[User] = (
        _assignee_users(event) if event.status in WORKING_STATUSES else _centre_staff(event.owner)
    )
    _notify(users, event, "supervised", _("督办：%(e)s") % {"e": _label(event)}, note[:300], actor)
    return event


@atomic_audited
def event_decide_extension(
    *, actor: Any, event_id: int, approve: bool, note: str = "", expected_version: int | None = None
) -> Event:
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.decide_extension", event)
    if own_work(user=actor, event=event, action="decide_extension"):
        raise ValidationError({"approve": _("不能审批自己提交的延期申请，请由其他人员审批")})
    note = _clean_note(note, required=not approve, label=_("驳回理由"))
    if event.extension_requested_days is None or event.status not in WORKING_STATUSES:
        raise EventConflict(
            _("事件 %(n)s 没有待审批的延期申请") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    requested = event.extension_requested_days
    event.extension_requested_days, event.extension_reason = None, ""
    if approve:
        assert event.dispatched_at is not None and event.deadline_days is not None
        before_deadline = event.deadline
        event.extension_days += requested
        event.extension_count += 1
        extended = end_of_working_day(event.dispatched_at, event.deadline_days + event.extension_days)
        event.deadline = max(extended, before_deadline) if before_deadline else extended  # never nearer
        event.reminded_at = None
        _save(
            event,
            actor=actor,
            action=StepAction.EXTENSION_APPROVE,
            from_status=event.status,
            note=note,
            data={"days": requested, "deadline": event.deadline.isoformat()},
            changes={
                "deadline": [
                    before_deadline.isoformat() if before_deadline else None,
                    event.deadline.isoformat(),
                ],
                "extension_days": event.extension_days,
            },
        )
        title = _("延期已批准：%(e)s") % {"e": _label(event)}
    else:
        _save(
            event,
            actor=actor,
            action=StepAction.EXTENSION_REJECT,
            from_status=event.status,
            note=note,
            data={"days": requested},
        )
        title = _("延期未批准：%(e)s") % {"e": _label(event)}
    _notify(_assignee_users(event), event, "extension_decided", title, note[:300], actor)
    return event


# --- the assignee --------------------------------------------------------------------------------------


@atomic_audited
def event_start(*, actor: Any, event_id: int, note: str = "", expected_version: int | None = None) -> Event:
    """The assignee signs for the task (签收)."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.handle_event", event)
    note = _clean_note(note, required=False, label=_("说明"))
    before = event.status
    _transition(event, "start")
    event.public_note = _("处置中")
    _save(event, actor=actor, action=StepAction.START, from_status=before, note=note)
    return event


@_cleans_files
@atomic_audited
def event_report_back(
    *, actor: Any, event_id: int, note: str, photos: Sequence[Any] = (), expected_version: int | None = None
) -> Event:
    """The assignee reports the handling done (反馈), with photos; the reporter or grid verifies next."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.handle_event", event)
    note = _clean_note(note, required=True, label=_("处置情况"))
    checked = check_photos(photos)
    if event.status == Status.DISPATCHED:  # handled without signing first: the timeline shows both
        _transition(event, "start")
        _save(
            event,
            actor=actor,
            action=StepAction.START,
            from_status=Status.DISPATCHED,
            note=_("随处置反馈签收"),
            bump=False,  # one action, one new version
        )
    before = event.status
    _transition(event, "report_back")
    event.extension_requested_days, event.extension_reason = None, ""
    event.public_note = _("已处置，等待核查")
    on_time = bool(event.deadline and event.handled_at and event.handled_at <= event.deadline)
    _save(
        event,
        actor=actor,
        action=StepAction.REPORT_BACK,
        from_status=before,
        note=note,
        data={"on_time": on_time},
        photos=checked,
        photo_kind=PhotoKind.AFTER,
    )
    _notify(_verifiers(event), event, "handled", _("待核查：%(e)s") % {"e": _label(event)}, note[:300], actor)
    return event


@atomic_audited
def event_return(*, actor: Any, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """The assignee sends the event back to the centre (退件) for another dispatch."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.handle_event", event)
    reason = _clean_note(reason, required=True, label=_("退件理由"), field="reason")
    before = event.status
    was = (
        event.assignee_department.name
        if event.assignee_department
        else (event.assignee_area.name if event.assignee_area else "")
    )
    _transition(event, "return_to_centre")
    event.assignee_department = event.assignee_area = None
    event.deadline = None
    event.deadline_days = None
    event.extension_days = 0
    event.extension_requested_days, event.extension_reason = None, ""
    event.public_note = _("重新派遣中")
    _save(
        event,
        actor=actor,
        action=StepAction.RETURN,
        from_status=before,
        note=reason,
        data={"from": was},
        changes={"assignee": [was, None]},
    )
    _notify(
        _centre_staff(event.owner), event, "returned", _("退件：%(e)s") % {"e": _label(event)}, reason, actor
    )
    return event


@atomic_audited
def event_request_extension(
    *, actor: Any, event_id: int, days: int, reason: str, expected_version: int | None = None
) -> Event:
    """Ask for more working days, before the deadline; the total may not pass the policy's maximum."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.handle_event", event)
    reason = _clean_note(reason, required=True, label=_("延期理由"), field="reason", max_length=300)
    if event.status not in WORKING_STATUSES:
        raise EventConflict(
            _("事件 %(n)s 当前状态为“%(s)s”，不能申请延期")
            % {"n": event.number, "s": event.get_status_display()},
            current_version=event.version,
            status=event.status,
        )
    if event.extension_requested_days is not None:
        raise EventConflict(
            _("事件 %(n)s 已有待审批的延期申请") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    if event.deadline is not None and event.deadline < timezone.now():
        raise ValidationError({"days": _("已超过办理期限，不能再申请延期")})
    policy = EventPolicy.current()
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": _("延期天数必须是整数")}) from None
    room = policy.max_total_days - (event.deadline_days or 0) - event.extension_days
    if days < 1 or days > room:
        raise ValidationError(
            {
                "days": _("最多还能延期 %(n)d 个工作日（含延期不超过 %(m)d 个工作日）")
                % {"n": max(room, 0), "m": policy.max_total_days}
            }
        )
    event.extension_requested_days, event.extension_reason = days, reason
    _save(
        event,
        actor=actor,
        action=StepAction.EXTENSION_REQUEST,
        from_status=event.status,
        note=reason,
        data={"days": days},
    )
    _notify(
        _centre_staff(event.owner),
        event,
        "extension_requested",
        _("延期申请：%(e)s") % {"e": _label(event)},
        _("申请延期 %(d)d 个工作日：%(r)s") % {"d": days, "r": reason},
        actor,
    )
    return event


# --- verification, closing, rating, reopening ----------------------------------------------------------


@_cleans_files
@atomic_audited
def event_verify(
    *,
    actor: Any,
    event_id: int,
    passed: bool,
    note: str = "",
    photos: Sequence[Any] = (),
    expected_version: int | None = None,
) -> Event:
    """Check the handling on the spot (核查). Passed: the event is closed (结案). Failed: back to the
    assignee, counted as rework (返工)."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.verify_event", event)
    if own_work(user=actor, event=event, action="verify"):
        raise ValidationError({"passed": _("不能核查自己反馈的处置结果，请由其他人员核查")})
    policy = EventPolicy.current()
    note = _clean_note(note, required=not passed, label=_("核查不通过的原因"))
    checked = check_photos(photos, policy)
    if passed and policy.verify_photo_required and not checked:
        raise ValidationError({"photos": _("核查通过须上传处置后的现场照片")})
    before = event.status
    if not passed:
        _transition(event, "verify_fail")
        event.public_note = _("核查未通过，返工处置中")
        # the rework gets as many working days as the task had, from now, if its deadline is nearer
        rework_deadline = end_of_working_day(
            timezone.now(), (event.deadline_days or 0) + event.extension_days
        )
        rework_data: dict[str, Any] = {}
        if event.deadline is None or event.deadline < rework_deadline:
            rework_data = {"deadline": rework_deadline.isoformat()}
            event.deadline, event.reminded_at = rework_deadline, None
        _save(
            event,
            actor=actor,
            action=StepAction.VERIFY_FAIL,
            from_status=before,
            note=note,
            data=rework_data,
            changes=rework_data,
            photos=checked,
            photo_kind=PhotoKind.AFTER,
        )
        _notify(
            _assignee_users(event),
            event,
            "rework",
            _("核查不通过，请返工：%(e)s") % {"e": _label(event)},
            note[:300],
            actor,
        )
        return event
    _transition(event, "verify_pass")
    assert event.closed_at is not None
    event.closed_on_time = bool(event.deadline and event.handled_at and event.handled_at <= event.deadline)
    if event.accepted_at is not None:
        event.handling_seconds = max(0, int((event.closed_at - event.accepted_at).total_seconds()))
    event.public_note = str(
        PUBLIC_NOTES[Status.CLOSED]
    )  # the verifier's note may name people: it stays inside
    _save(
        event,
        actor=actor,
        action=StepAction.VERIFY_PASS,
        from_status=before,
        note=note,
        photos=checked,
        photo_kind=PhotoKind.AFTER,
        changes={"closed_on_time": event.closed_on_time},
        at=event.closed_at,
    )
    EventStep.objects.create(
        event=event,
        action=StepAction.CLOSE,
        actor=_user_or_none(actor),
        actor_name=_actor_name(actor)[:60],
        actor_role=str(getattr(actor, "role", ""))[:30],
        at=event.closed_at,
        from_status=Status.CLOSED,
        to_status=Status.CLOSED,
        data={"on_time": event.closed_on_time},
    )
    _notify(
        [*_reporters(event), *_centre_staff(event.owner)],
        event,
        "closed",
        _("已结案：%(e)s") % {"e": _label(event)},
        "",
        actor,
    )
    return event


@atomic_audited
def event_rate(
    *, actor: Any, event_id: int, rating: int, note: str = "", expected_version: int | None = None
) -> Event:
    """The reporter's satisfaction, 1 (very dissatisfied) to 5 (very satisfied); the centre may enter a
    citizen's answer from a return call (回访). Once per closure."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.rate_event", event)
    note = _clean_note(note, required=False, label=_("评价意见"), max_length=300)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("评价须为 1 到 5 分")})
    if event.status != Status.CLOSED:
        raise EventConflict(
            _("事件 %(n)s 尚未结案，不能评价") % {"n": event.number},
            current_version=event.version,
            status=event.status,
        )
    if event.rating is not None:
        raise EventConflict(
            _("事件 %(n)s 已评价") % {"n": event.number}, current_version=event.version, status=event.status
        )
    event.rating, event.rating_note, event.rated_at = rating, note, timezone.now()
    _save(
        event,
        actor=actor,
        action=StepAction.RATE,
        from_status=event.status,
        note=note,
        data={"rating": rating},
        changes={"rating": rating},
    )
    return event


@atomic_audited
def event_reopen(*, actor: Any, event_id: int, reason: str, expected_version: int | None = None) -> Event:
    """Within ``reopen_days`` of the closure: the problem is back; the centre dispatches it again."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.reopen_event", event)
    reason = _clean_note(reason, required=True, label=_("重新处置的理由"), field="reason")
    policy = EventPolicy.current()
    if (
        event.status == Status.CLOSED
        and event.closed_at
        and (timezone.now() - event.closed_at > dt.timedelta(days=policy.reopen_days))
    ):
        raise ValidationError(
            {"reason": _("结案已超过 %(n)d 天，不能重新处置，请重新上报") % {"n": policy.reopen_days}}
        )
    before = event.status
    _transition(event, "reopen")
    previous_close = event.closed_at
    event.closed_at = event.closed_on_time = event.handling_seconds = None
    event.rating, event.rating_note, event.rated_at = None, "", None
    event.handled_at = None
    event.assignee_department = event.assignee_area = None
    event.deadline = event.deadline_days = None
    event.extension_days = 0
    event.public_note = _("重新处置中")
    _save(
        event,
        actor=actor,
        action=StepAction.REOPEN,
        from_status=before,
        note=reason,
        data={"closed_at": previous_close.isoformat() if previous_close else None},
    )
    _notify(
        _centre_staff(event.owner),
        event,
        "reopened",
        _("重新处置：%(e)s") % {"e": _label(event)},
        reason,
        actor,
    )
    return event


# --- configuration -------------------------------------------------------------------------------------

POLICY_FIELDS = EventPolicy.audit_public_fields


@atomic_audited
def event_policy_update(*, actor: Any, data: dict[str, Any]) -> EventPolicy:
    if not actor.has_perm("events.configure"):
        raise PermissionDenied
    policy = EventPolicy.objects.select_for_update().get_or_create(pk=EventPolicy.SINGLETON_PK)[0]
    before = {f: getattr(policy, f) for f in POLICY_FIELDS}
    for name in POLICY_FIELDS:
        if name in data:
            setattr(policy, name, data[name])
    if not policy.on_the_spot_days <= policy.ordinary_days <= policy.difficult_days <= policy.max_total_days:
        raise ValidationError({"max_total_days": _("期限应满足：即时 ≤ 一般 ≤ 疑难 ≤ 含延期最长期限")})
    if policy.max_total_days > 60:
        raise ValidationError({"max_total_days": _("含延期最长期限不能超过 60 个工作日")})
    if not 1 <= policy.photo_max_count <= 20:
        raise ValidationError({"photo_max_count": _("每次照片数应在 1 到 20 之间")})
    policy.save()
    from pingan.audit.services import diff_fields

    audit_record(
        actor=actor,
        action="event.policy_update",
        obj=policy,
        changes=diff_fields(before, {f: getattr(policy, f) for f in POLICY_FIELDS}),
    )
    return policy


@atomic_audited
def category_rule_save(
    *,
    actor: Any,
    category: str,
    tier: str,
    working_days: int | None = None,
    public: bool = True,
    default_department_id: int | None = None,
) -> EventCategoryRule:
    if not actor.has_perm("events.configure"):
        raise PermissionDenied
    try:
        category = code_resolve("event_category", category)
    except UnknownCode:
        raise ValidationError({"category": _("事件类别不存在")}) from None
    if not isinstance(tier, str) or tier not in _TIERS:
        raise ValidationError({"tier": _("处置等级不正确")})
    if working_days is not None and not 0 <= int(working_days) <= EventPolicy.current().max_total_days:
        raise ValidationError({"working_days": _("期限超出范围")})
    department = None
    if default_department_id:
        department = Department.objects.filter(pk=default_department_id, active=True).first()
        if department is None:
            raise ValidationError({"default_department": _("部门不存在")})
    rule, created = EventCategoryRule.objects.select_for_update().get_or_create(category=category)
    before = {
        "tier": rule.tier,
        "working_days": rule.working_days,
        "public": rule.public,
        "default_department_id": rule.default_department_id,
    }
    rule.tier, rule.working_days, rule.public, rule.default_department = (
        tier,
        working_days,
        public,
        department,
    )
    rule.save()
    from pingan.audit.services import diff_fields

    after = {
        "tier": rule.tier,
        "working_days": rule.working_days,
        "public": rule.public,
        "default_department_id": rule.default_department_id,
    }
    audit_record(
        actor=actor,
        action="event.category_rule_save",
        obj=rule,
        changes=diff_fields({} if created else before, after),
    )
    return rule


# Tiers of the seeded categories (DOMAIN.md: fix on the spot / ordinary / difficult). Configurable
# afterwards on the rules screen; seeding never overwrites a rule that exists.
DEFAULT_TIERS: dict[str, str] = {
    "01": Tier.ORDINARY,
    "0101": Tier.DIFFICULT,  # illegal structures: demolition procedures
    "0103": Tier.ON_THE_SPOT,
    "0104": Tier.ON_THE_SPOT,
    "0105": Tier.ON_THE_SPOT,
    "02": Tier.ORDINARY,
    "03": Tier.ORDINARY,
    "04": Tier.ORDINARY,
    "0401": Tier.ON_THE_SPOT,
    "05": Tier.ORDINARY,
    "0504": Tier.DIFFICULT,
    "06": Tier.ORDINARY,
    "0602": Tier.DIFFICULT,
    "07": Tier.ORDINARY,
    "0701": Tier.ON_THE_SPOT,
    "99": Tier.ORDINARY,
}
# Not offered to citizens' applications, nor listed by Open311 (GET requests shows where and what): public-
# security risks, disputes (a family's quarrel at its door) and public order near schools (minors)
DEFAULT_NOT_PUBLIC = frozenset({"03", "05", "0203"})


def seed_category_rules(**kwargs: Any) -> int:
    """post_migrate: create the missing default rules (idempotent; existing rules are kept)."""
    existing = set(EventCategoryRule.objects.values_list("category", flat=True))
    defaults = {**DEFAULT_TIERS, **dict.fromkeys(DEFAULT_NOT_PUBLIC - DEFAULT_TIERS.keys(), Tier.ORDINARY)}
    rows = [
        EventCategoryRule(category=c, tier=t, public=c not in DEFAULT_NOT_PUBLIC)
        for c, t in defaults.items()
        if c not in existing
    ]
    EventCategoryRule.objects.bulk_create(rows, ignore_conflicts=True)
    EventPolicy.current()
    return len(rows)


# --- Open311 GeoReport v2 (events/open311.py) ------------------------------------------------------------


class Open311Actor:
    """A citizens' application posting through Open311 with its api_key: it may report, nothing else.
    Audited as ``open311:<client name>``."""

    role = "open311"
    pk = None
    is_active = True
    is_authenticated = False
    is_admin_role = False

    def __init__(self, client: Any) -> None:
        self.client = client
        self.username = f"open311:{client.name}"[:150]
        self.display_name = f"Open311：{client.name}"

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return perm == "events.report_event"

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.display_name


def open311_client_for_key(key: str) -> Any:
    """The active client holding ``key`` (None for a missing, unknown or revoked key)."""
    from pingan.accounts.models import hash_token
    from pingan.events.models import Open311Client

    if not key or len(key) > 200:
        return None
    return Open311Client.objects.filter(key_hash=hash_token(key), revoked_at__isnull=True).first()


@atomic_audited
def open311_key_create(*, actor: Any, name: str) -> tuple[Any, str]:
    """A new client and its key (returned once; only its hash is stored)."""
    import secrets

    from pingan.accounts.models import hash_token
    from pingan.events.models import Open311Client

    if not actor.has_perm("events.manage_open311_keys"):
        raise PermissionDenied
    name = normalize_text(str(name or ""))
    if not name or len(name) > 60 or contains_markup(name):
        raise ValidationError({"name": _("名称不能为空，不超过 60 个字，且不能含有 < > 等标记字符")})
    if Open311Client.objects.filter(name=name).exists():
        raise ValidationError({"name": _("名称“%(n)s”已被使用") % {"n": name}})
    key = "o311_" + secrets.token_urlsafe(32)
    client = Open311Client.objects.create(
        name=name,
        key_hash=hash_token(key),
        key_prefix=key[:8],
        created_by=getattr(actor, "username", "")[:150],
    )
    audit_record(actor=actor, action="open311.key_create", obj=client, changes={"name": name})
    return client, key


@atomic_audited
def open311_key_revoke(*, actor: Any, client_id: int) -> Any:
    from pingan.events.models import Open311Client

    if not actor.has_perm("events.manage_open311_keys"):
        raise PermissionDenied
    client = Open311Client.objects.select_for_update().get(pk=client_id)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="open311.key_revoke", obj=client, changes={"revoked": True})
    return client


def open311_public_categories() -> list[str]:
    """The categories citizens may report (``EventCategoryRule.public``, inherited like the tier): leaves,
    and top-level categories without children."""
    from pingan.core.codes import code_table
    from pingan.events.selectors import category_rule

    items = list(code_table("event_category"))
    parents = {c.parent for c in items if c.parent}
    found = []
    for item in items:
        if item.code in parents:
            continue
        rule = category_rule(item.code)
        if rule is None or rule.public:
            found.append(item.code)
    return found


@_cleans_files
@atomic_audited
def event_report_open311(
    *,
    client: Any,
    service_code: str,
    latitude: Any = None,
    longitude: Any = None,
    address_string: str = "",
    description: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    media_url: str = "",
    attributes: dict[str, str] | None = None,
) -> Event:
    """A citizen's report from an Open311 application: it enters the loop as source "citizen". With
    coordinates it lands in the grid containing them; with an address only, at the district's centre,
    which places it (no geocoding: nothing leaves the intranet)."""
    from pingan.core.codes import code_label
    from pingan.events.geo import locate_grid

    if service_code not in open311_public_categories():
        raise ValidationError({"service_code": _("service_code not found")})
    area = None
    if latitude not in (None, "") or longitude not in (None, ""):
        lat = _clean_coordinate(latitude, -90, 90, "lat")
        lon = _clean_coordinate(longitude, -180, 180, "long")
        if lat is None or lon is None:
            raise ValidationError({"lat": _("lat and long must be given together")})
        area = locate_grid(float(lat), float(lon))
        if area is None:
            raise ValidationError({"lat": _("the location is outside the jurisdiction")})
    elif not normalize_text(address_string or ""):
        raise ValidationError({"lat": _("a location is required: lat and long, or address_string")})
    if area is None:
        area = Area.objects.filter(parent__isnull=True, active=True).order_by("code").first()
        if area is None:
            raise ValidationError({"lat": _("no jurisdiction is configured")})
    media_url = normalize_text(media_url or "")
    if media_url and (len(media_url) > 500 or not re.match(r"^https?://", media_url)):
        raise ValidationError({"media_url": _("media_url must be an http(s) URL")})
    label = code_label("event_category", service_code)
    text = normalize_prose(description or "")[:2000]
    event = event_report(
        actor=Open311Actor(client),
        area_id=area.pk,
        category=service_code,
        source=Source.CITIZEN,
        title=(f"{label}：{text[:40]}" if text else label)[:80],
        description=text if len(text) >= 2 else label,
        address=normalize_text(address_string or "")[:200],
        latitude=latitude if latitude not in (None, "") else None,
        longitude=longitude if longitude not in (None, "") else None,
        reporter_name=normalize_text(f"{last_name or ''}{first_name or ''}")[:40],
        reporter_phone=phone or "",
    )
    extra: dict[str, Any] = {"client": client.name}
    if media_url:
        extra["media_url"] = media_url  # recorded, never fetched
    if attributes:
        extra["attributes"] = {str(k)[:40]: str(v)[:200] for k, v in list(attributes.items())[:20]}
    step = event.steps.get(action=StepAction.REPORT)
    step.data = {**step.data, **extra}
    step.save(update_fields=["data"])
    type(client).objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return event


# --- persons and houses an event concerns (EventSubject) ----------------------------------------------

MAX_SUBJECTS = 20


def _ids(values: Iterable[Any], field: str, label: str) -> set[int]:
    found: set[int] = set()
    for value in values or ():
        text = str(value).strip()
        if not text:
            continue
        if not text.isdigit() or len(text) > 18:
            raise ValidationError({field: _("%(label)s不存在或不在您的辖区内") % {"label": label}})
        found.add(int(text))
    return found


Subjects = dict[str, set[int]]  # SubjectKind → the ids linked


def _resolve_subjects(
    actor: Any, given: Mapping[str, Iterable[Any]], *, keep: Iterable[tuple[str, int | None]] = ()
) -> Subjects:
    """The ids of the persons, houses and schools ``given`` (by kind), each visible to ``actor`` through its
    module's scoped selector. A missing id and an id outside the actor's scope give the same error.
    ``keep``: links that already exist (kept without asking again)."""
    from pingan.events.selectors import subject_sources

    sources = subject_sources()
    if not any(given.values()):  # a report without any: nothing to read or check
        return {kind: set() for kind in sources}
    found = {kind: _ids(given.get(kind, ()), src.field, str(src.label)) for kind, src in sources.items()}
    if sum(len(ids) for ids in found.values()) > MAX_SUBJECTS:
        raise ValidationError({"persons": _("最多关联 %(n)d 个人员、房屋和学校") % {"n": MAX_SUBJECTS}})
    kept = set(keep)
    for kind, ids in found.items():
        new = {i for i in ids if (kind, i) not in kept}
        if new:
            source = sources[kind]
            visible = set(source.visible(actor).filter(pk__in=new).values_list("pk", flat=True))
            if visible != new:
                raise ValidationError(
                    {source.field: _("%(label)s不存在或不在您的辖区内") % {"label": source.label}}
                )
    return found


def _add_subjects(event: Event, subjects: Mapping[str, Iterable[int]], actor: Any) -> None:
    if not any(subjects.values()):
        return
    by = _user_or_none(actor)
    EventSubject.objects.bulk_create(
        [
            EventSubject(event=event, kind=kind, created_by=by, **{f"{field}_id": target})
            for kind, field in SUBJECT_FIELDS.items()
            for target in sorted(subjects.get(kind, ()))
        ]
    )


def _subject_changes(subjects: Subjects) -> dict[str, set[int]]:
    """The audit row's "persons" / "houses" / "schools": the ids linked, for the kinds that have any."""
    return {f"{field}s": ids for kind, field in SUBJECT_FIELDS.items() if (ids := subjects.get(kind, set()))}


def _by_kind(pairs: Iterable[tuple[str, int | None]]) -> Subjects:
    grouped: Subjects = {}
    for kind, target in pairs:
        if target is not None:
            grouped.setdefault(kind, set()).add(target)
    return grouped


@atomic_audited
def event_subjects_set(
    *,
    actor: Any,
    event_id: int,
    person_ids: Sequence[Any] = (),
    house_ids: Sequence[Any] = (),
    school_ids: Sequence[Any] = (),
    note: str = "",
    expected_version: int | None = None,
) -> Event:
    """The centre in charge sets the persons, houses and schools the event concerns (the full list: those
    not given are unlinked). New links must be within the centre's scope; a timeline row lists what
    changed."""
    event = _lock(actor, event_id, expected_version)
    _require(actor, "events.link_subjects", event)
    note = _clean_note(note, required=False, label=_("说明"), max_length=300)
    current = {(s.kind, s.target_id): s.pk for s in event.subjects.all()}
    given: dict[str, Sequence[Any]] = {
        SubjectKind.PERSON: person_ids,
        SubjectKind.HOUSE: house_ids,
        SubjectKind.SCHOOL: school_ids,
    }
    subjects = _resolve_subjects(actor, given, keep=current.keys())
    wanted = {(str(kind), i) for kind, ids in subjects.items() for i in ids}
    added = wanted - set(current)
    removed = set(current) - wanted
    if not added and not removed:
        return event
    EventSubject.objects.filter(pk__in=[current[k] for k in removed]).delete()
    _add_subjects(event, _by_kind(added), actor)
    data = {
        "added": sorted([k, i] for k, i in added),
        "removed": sorted([k, i] for k, i in removed),
    }
    summary = _("新增关联 %(a)d 项，取消关联 %(r)d 项") % {"a": len(added), "r": len(removed)}
    _save(
        event,
        actor=actor,
        action=StepAction.LINK,
        from_status=event.status,
        note=f"{summary}{'：' + note if note else ''}",
        data=data,
        changes={"subjects": data},
    )
    return event


# --- merging duplicates --------------------------------------------------------------------------------


@atomic_audited
def event_merge(
    *,
    actor: Any,
    event_id: int,
    into_id: int,
    reason: str = "",
    expected_version: int | None = None,
    into_version: int | None = None,
) -> Event:
    """Merge the duplicate ``event_id`` (B) into ``into_id`` (A): B becomes 已合并 with ``merged_into`` = A;
    B's reporter (and those who followed B) now follow A — they see A and are notified of its progress;
    B's persons and houses are linked to A. Both rows are locked (in id order, so two merges cannot
    deadlock); the second of two concurrent merges gets ``EventConflict`` (409). Returns A."""
    if str(event_id) == str(into_id):
        raise ValidationError({"into": _("不能将事件并入其自身")})
    versions = {event_id: expected_version, into_id: into_version}
    locked: dict[Any, Event] = {}
    for pk in sorted((event_id, into_id), key=lambda v: int(v) if str(v).isdigit() else 0):
        locked[pk] = _lock(actor, pk, versions[pk])
    dup, keep = locked[event_id], locked[into_id]
    _require(actor, "events.merge_event", dup)
    _require(actor, "events.merge_event", keep)
    reason = _clean_note(reason, required=False, label=_("说明"), field="reason", max_length=300)
    if keep.status in (Status.MERGED, Status.REFUSED):
        raise EventConflict(
            _("事件 %(n)s 当前状态为“%(s)s”，不能接收合并")
            % {"n": keep.number, "s": keep.get_status_display()},
            current_version=keep.version,
            status=keep.status,
        )
    before = dup.status
    _transition(dup, "merge_into")
    dup.merged_into = keep
    dup.public_note = _("已与事件 %(n)s 合并办理，请查询该编号了解进度") % {"n": keep.number}
    _save(
        dup,
        actor=actor,
        action=StepAction.MERGED,
        from_status=before,
        note=reason,
        data={"into": keep.number, "into_id": keep.pk},
        changes={"merged_into": keep.number},
    )
    # Those who followed B now follow A; B's subjects are linked to A.
    followers = list(Event.objects.filter(merged_into=dup).values_list("pk", flat=True))
    Event.objects.filter(pk__in=followers).update(merged_into=keep)
    have = {(s.kind, s.target_id) for s in keep.subjects.all()}
    moved = [s for s in dup.subjects.all() if (s.kind, s.target_id) not in have]
    _add_subjects(keep, _by_kind((s.kind, s.target_id) for s in moved), actor)
    _save(
        keep,
        actor=actor,
        action=StepAction.MERGE,
        from_status=keep.status,
        note=reason,
        data={"from": dup.number, "from_id": dup.pk, "subjects": len(moved)},
        changes={"merged": dup.number},
    )
    informed = [dup.reporter] if dup.reporter_id is not None and dup.reporter is not None else []
    informed += list(
        User.objects.filter(
            is_active=True, pk__in=Event.objects.filter(pk__in=followers).values("reporter_id")
        )
    )
    _notify(
        informed,
        keep,
        "merged",
        _("您上报的事件 %(d)s 已与 %(e)s 合并办理") % {"d": dup.number, "e": _label(keep)},
        _("之后的办理进度将在该事件中通知您"),
        actor,
    )
    return keep
