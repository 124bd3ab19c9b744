"""Who sees personal data in full, and sealed records (未成年人犯罪记录封存).

Reveal ("显示"): pages, exports and API answers show personal data masked (``core.masking``). A user
whose role may reveal (``REVEAL_ROLES``, permission ``core.reveal_sensitive``: role and the record in
scope) clicks "显示", states a reason, and sees the full value of one field of one record; the reveal
is an access event (``audit_access(purpose="reveal")``). Modules declare what may be revealed::

    register_sensitive(Person, fields={"id_number": "id_number", "phone": "phone", "name": "name"})

(in ``AppConfig.ready``); the registry's selector enforces the scope, so a record outside it answers 404
like a missing one. Administrators (三员) never reveal.

Sealed records: models inherit ``Sealable`` (``sealed``, ``sealed_at``, ``sealed_reason``). Every list,
search, count, export and dashboard reads through ``scoped_visible(qs, user, reason=...)``: the user's
scope, and sealed rows only for holders of the Django permission ``core.view_sealed`` (granted
explicitly, ``sealed_access_grant``) who stated a reason; each sealed record they then load is an access
event (``audit_access(purpose="sealed")``). Counts and aggregates include sealed rows for such users but
record no event (no record was seen).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import rules
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.query import ModelIterable
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BeforeValidator, WithJsonSchema

from pingan.accounts.roles import REVEAL_ROLES as _REVEAL_ROLES
from pingan.core.fields import EncryptedQuerySet, EncryptedTextField
from pingan.core.masking import mask_value

M = TypeVar("M", bound=models.Model)

# Roles that may reveal a full value of a record in their scope: defined beside the roles
# (``accounts.roles.REVEAL_ROLES``) because the login needs them too — every one of them must use a
# second factor (``accounts.roles.TOTP_MANDATORY_ROLES``).
REVEAL_ROLES = _REVEAL_ROLES
REASON_MIN_LENGTH = 4
REASON_MAX_LENGTH = 200
SEALED_PERMISSION = "core.view_sealed"


# --- permissions ----------------------------------------------------------------------------------


def _predicates() -> tuple[rules.Predicate, rules.Predicate]:
    from pingan.accounts.rules import has_role, in_scope

    return has_role(*REVEAL_ROLES), in_scope


def holds_sealed_grant(user: Any) -> bool:
    """The user was granted ``core.view_sealed`` explicitly (directly or through a group) and is a
    business user. Superuser status does not count, administrators never qualify."""
    from django.contrib.auth.models import Permission

    from pingan.accounts.rules import is_business_user

    if not is_business_user(user):
        return False
    cached = getattr(user, "_pingan_sealed_grant", None)
    if cached is None:
        app_label, codename = SEALED_PERMISSION.split(".")
        cached = (
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._pingan_sealed_grant = cached
    return bool(cached)


def may_view_sealed(user: Any, reason: str | None = None) -> bool:
    """Sealed rows are visible to ``user`` with this ``reason``."""
    return holds_sealed_grant(user) and clean_reason(reason, required=False) != ""


def register_permissions() -> None:
    """Called by core/rules.py (rules autodiscovery, at start-up)."""
    may_reveal_role, in_scope = _predicates()
    if not rules.perm_exists("core.reveal_sensitive"):
        rules.add_perm("core.reveal_sensitive", may_reveal_role & in_scope)
    if not rules.perm_exists("core.access_sealed"):
        rules.add_perm("core.access_sealed", rules.predicate(holds_sealed_grant, name="holds_sealed_grant"))


def clean_reason(reason: str | None, *, required: bool = True) -> str:
    """The stated reason, stripped; "" when absent or too short (or ValidationError if ``required``)."""
    text = " ".join((reason or "").split())
    if len(text) < REASON_MIN_LENGTH:
        if required:
            raise ValidationError(
                {"reason": _("请填写查看原因（至少%(n)d个字）") % {"n": REASON_MIN_LENGTH}}, code="reason"
            )
        return ""
    return text[:REASON_MAX_LENGTH]


# --- sealed records -------------------------------------------------------------------------------


def _audit_sealed_access(user: Any, reason: str, objs: Iterable[models.Model]) -> None:
    from pingan.audit.services import audit_access

    for obj in objs:
        audit_access(actor=user, obj=obj, purpose="sealed", reason=reason)


class SealableQuerySet(models.QuerySet[M]):
    """``visible_to(user, reason)`` hides sealed rows, or lets them through for a holder of
    ``core.view_sealed`` with a reason and records an access event for every sealed record loaded."""

    _sealed_access: tuple[Any, str] | None = None

    def _clone(self) -> Any:
        clone = super()._clone()  # type: ignore[misc]
        clone._sealed_access = self._sealed_access
        return clone

    def visible_to(self, user: Any, reason: str | None = None) -> SealableQuerySet[M]:
        if may_view_sealed(user, reason):
            clone = self._chain()  # type: ignore[attr-defined]
            clone._sealed_access = (user, clean_reason(reason))
            return clone
        return self.filter(sealed=False)

    def unsealed(self) -> SealableQuerySet[M]:
        return self.filter(sealed=False)

    def _is_aggregate(self) -> bool:
        query = self.query
        return bool(
            query.group_by is not None
            or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
        )

    def _sealed_in_result(self) -> list[models.Model]:
        """Sealed records among the rows this (non-model) query returns: the same query for pk and flag."""
        if self._is_aggregate():
            return []
        companion = self._chain()  # type: ignore[attr-defined]
        companion._sealed_access = None
        pks = [pk for pk, sealed in companion.values_list("pk", "sealed") if sealed]
        return list(self.model._base_manager.filter(pk__in=pks)) if pks else []

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._sealed_access is not None:
            user, reason = self._sealed_access
            if self._iterable_class is ModelIterable:
                sealed: list[models.Model] = [
                    o for o in self._result_cache or [] if getattr(o, "sealed", False)
                ]
            else:
                sealed = self._sealed_in_result()
            _audit_sealed_access(user, reason, sealed)

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        if self._sealed_access is None:
            yield from super().iterator(chunk_size=chunk_size)
            return
        user, reason = self._sealed_access
        if self._iterable_class is ModelIterable:
            for obj in super().iterator(chunk_size=chunk_size):
                if getattr(obj, "sealed", False):
                    _audit_sealed_access(user, reason, [obj])
                yield obj
            return
        _audit_sealed_access(user, reason, self._sealed_in_result())
        yield from super().iterator(chunk_size=chunk_size)


class SensitiveQuerySet(SealableQuerySet[M], EncryptedQuerySet[M]):  # type: ignore[override]
    """For models with encrypted fields and a sealed flag."""


class Sealable(models.Model):
    """A record that may be sealed by law (未成年人犯罪记录封存). Set the flag only with ``apply_seal``."""

    sealed = models.BooleanField(gettext_lazy("已封存"), default=False, db_index=True, editable=False)
    sealed_at = models.DateTimeField(gettext_lazy("封存时间"), null=True, blank=True, editable=False)
    sealed_reason = models.CharField(gettext_lazy("封存依据"), max_length=200, blank=True, editable=False)

    objects = SensitiveQuerySet.as_manager()

    class Meta:
        abstract = True


def scoped_visible(
    queryset: models.QuerySet[M], user: Any, reason: str | None = None, *, area_field: str = "area"
) -> models.QuerySet[M]:
    """The one read path for lists, search, counts, exports and dashboards: rows inside the user's
    scope, sealed rows only for holders of ``core.view_sealed`` with a reason (audited on load)."""
    from pingan.accounts.selectors import user_scope

    qs = user_scope(user).filter(queryset, area_field)
    if issubclass(qs.model, Sealable) or any(f.name == "sealed" for f in qs.model._meta.concrete_fields):
        if not isinstance(qs, SealableQuerySet):
            qs = SealableQuerySet(model=qs.model, query=qs.query.chain(), using=qs.db)
        return qs.visible_to(user, reason)
    return qs


def apply_seal(obj: Sealable, *, actor: Any, reason: str, sealed: bool = True) -> Sealable:
    """Seal (or unseal) a record, from inside the owning module's service (which checks who may).
    Records a write event in the caller's transaction."""
    from pingan.audit.services import audit_record

    reason = clean_reason(reason)
    obj.sealed = sealed
    obj.sealed_at = timezone.now() if sealed else None
    obj.sealed_reason = reason if sealed else ""
    type(obj)._base_manager.filter(pk=obj.pk).update(
        sealed=obj.sealed, sealed_at=obj.sealed_at, sealed_reason=obj.sealed_reason
    )
    audit_record(
        actor=actor,
        action="record.seal" if sealed else "record.unseal",
        obj=obj,
        reason=reason,
        changes={"sealed": [not sealed, sealed]},
    )
    return obj


@transaction.atomic
def sealed_access_grant(*, actor: Any, user: Any, allowed: bool) -> None:
    """The security administrator grants or withdraws ``core.view_sealed`` for a business user."""
    from django.contrib.auth.models import Permission

    from pingan.accounts.rules import is_business_user, is_security_admin
    from pingan.audit.services import audit_record

    if not is_security_admin(actor):
        raise PermissionDenied
    if not is_business_user(user):
        raise ValidationError(_("封存记录查阅权限只能授予业务岗位用户"))
    app_label, codename = SEALED_PERMISSION.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    if allowed:
        user.user_permissions.add(permission)
    else:
        user.user_permissions.remove(permission)
    if hasattr(user, "_pingan_sealed_grant"):
        del user._pingan_sealed_grant
    audit_record(
        actor=actor,
        action="permission.sealed_access",
        obj=user,
        changes={"view_sealed": [not allowed, allowed]},
    )


# --- the reveal registry --------------------------------------------------------------------------

Selector = Callable[..., models.Model]


@dataclass(frozen=True)
class SensitiveSpec:
    model: type[models.Model]
    fields: Mapping[str, str]  # field name → masking rule
    selector: Selector
    permission: str

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower


_REGISTRY: dict[str, SensitiveSpec] = {}


def _mask_kind(model: type[models.Model], name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except Exception:
        field = None
    if isinstance(field, EncryptedTextField):
        return field.mask
    for kind, parts in (
        ("id_number", ("id_number", "id_card", "idcard")),
        ("phone", ("phone", "mobile", "tel")),
        ("address", ("address",)),
        ("name", ("name",)),
    ):
        if any(p in name for p in parts):
            return kind
    return "generic"


def default_selector(model: type[M]) -> Selector:
    def select(user: Any, pk: Any, *, reason: str = "") -> M:
        return get_object_or_404(scoped_visible(model._default_manager.all(), user, reason), pk=pk)

    return select


def register_sensitive(
    model: type[models.Model],
    *,
    fields: Sequence[str] | Mapping[str, str],
    selector: Selector | None = None,
    permission: str = "core.reveal_sensitive",
) -> SensitiveSpec:
    """Declare which fields of ``model`` may be revealed. ``fields``: names, or name → masking rule
    (default: the EncryptedTextField's ``mask``, else guessed from the name). ``selector(user, pk, *,
    reason="")`` returns the record if the user may see it and raises Http404 otherwise (default: the
    user's scope through ``scoped_visible``)."""
    kinds = (
        dict(fields) if isinstance(fields, Mapping) else {name: _mask_kind(model, name) for name in fields}
    )
    for name in kinds:
        model._meta.get_field(name)  # fails loudly on a typo
    if selector is not None and "reason" not in inspect.signature(selector).parameters:
        plain = selector

        def selector(user: Any, pk: Any, *, reason: str = "") -> models.Model:
            return plain(user, pk)

    spec = SensitiveSpec(model, kinds, selector or default_selector(model), permission)
    _REGISTRY[spec.object_type] = spec
    return spec


def sensitive_spec(model_or_label: type[models.Model] | models.Model | str) -> SensitiveSpec | None:
    label = model_or_label if isinstance(model_or_label, str) else model_or_label._meta.label_lower
    return _REGISTRY.get(label.lower())


def may_reveal(user: Any, obj: models.Model, field: str | None = None) -> bool:
    """Show the "显示" button? The field is registered and the user holds the permission for ``obj``."""
    spec = sensitive_spec(obj)
    if spec is None or (field is not None and field not in spec.fields):
        return False
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(spec.permission, obj))


def dom_id(object_type: str, object_id: Any, field: str) -> str:
    """The HTML id of one value's control (the same on the page and in the htmx answer)."""
    safe = "".join(ch if ch.isalnum() else "-" for ch in f"{object_type}-{object_id}-{field}")
    return f"pa-sv-{safe}"


def field_label(model: type[models.Model] | models.Model, name: str) -> str:
    """The field's verbose name (for the reveal control and dialog)."""
    field = model._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def masked(obj: models.Model, field: str) -> str:
    """The masked form of ``obj.field`` (the rule registered for it, or guessed)."""
    spec = sensitive_spec(obj)
    kind = spec.fields.get(field) if spec else None
    return mask_value(kind or _mask_kind(type(obj), field), getattr(obj, field, None))


class RevealRateLimited(PermissionDenied):
    """Too many reveals in a short time (a brake on harvesting through the reveal button)."""


def _rate_limit(user: Any) -> None:
    from pingan.core.ratelimit import exceeded

    if exceeded(None, "reveal", user=user):  # PINGAN_REVEAL_RATE, "60/600" by default
        raise RevealRateLimited(_("查看过于频繁，请稍后再试"))


@dataclass(frozen=True)
class Reveal:
    obj: models.Model
    field: str
    value: str
    masked: str
    object_type: str


def _audit_refused(actor: Any, object_type: str, object_id: Any, field: str, reason: str, why: str) -> None:
    from pingan.audit.models import Kind, Outcome
    from pingan.audit.services import audit_record

    with transaction.atomic():
        audit_record(
            actor=actor,
            action="access.reveal",
            kind=Kind.ACCESS,
            outcome=Outcome.DENIED,
            reason=reason,
            changes={
                "object_type": str(object_type)[:60],
                "object_id": str(object_id)[:60],
                "fields": [str(field)[:60]],
                "refused": why,
            },
        )


def sensitive_reveal(*, actor: Any, object_type: str, object_id: Any, field: str, reason: str) -> Reveal:
    """The full value of ``field`` of one record, for a user who may see it; audited.

    Raises ValidationError (no or too short a reason), Http404 (unknown type or field, record missing,
    outside the scope, sealed, or the user may not reveal: all look alike), RevealRateLimited."""
    reason = clean_reason(reason)
    spec = sensitive_spec(object_type) if isinstance(object_type, str) else None
    if spec is None or field not in spec.fields:
        _audit_refused(actor, object_type, object_id, field, reason, "unknown")
        raise Http404
    try:
        _rate_limit(actor)
    except RevealRateLimited:
        _audit_refused(actor, object_type, object_id, field, reason, "rate_limited")
        raise
    try:
        obj = spec.selector(actor, object_id, reason=reason)
    except (Http404, ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        _audit_refused(actor, object_type, object_id, field, reason, "not_visible")
        raise Http404 from None
    if not actor.has_perm(spec.permission, obj):
        _audit_refused(actor, object_type, object_id, field, reason, "not_permitted")
        raise Http404
    from pingan.audit.services import audit_access

    with transaction.atomic():
        audit_access(actor=actor, obj=obj, purpose="reveal", reason=reason, fields=[field])
    value = getattr(obj, field)
    value = "" if value is None else str(value)
    return Reveal(obj, field, value, mask_value(spec.fields[field], value), spec.object_type)


# --- API output (django-ninja / pydantic) ---------------------------------------------------------


class Revealed(str):
    """A value the caller may see in full (made only by ``reveal_fields``, after the audit)."""

    __slots__ = ()


def _masker(kind: str) -> Callable[[Any], Any]:
    def mask(value: Any) -> Any:
        if value is None or isinstance(value, Revealed):
            return None if value is None else str(value)
        return mask_value(kind, str(value))

    return mask


def Masked(kind: str) -> Any:
    """The type of a sensitive field in an *output* schema: ``id_number: Masked("id_number")``. Any
    value is masked on its way out unless it is a ``Revealed`` value (``reveal_fields``)."""
    return Annotated[
        str | None,
        BeforeValidator(_masker(kind)),
        WithJsonSchema(
            {"type": "string", "nullable": True, "description": f"masked ({kind}) unless revealed"}
        ),
    ]


def reveal_fields(
    *, actor: Any, obj: models.Model, fields: Iterable[str], reason: str | None
) -> dict[str, Revealed]:
    """For a detail endpoint asked ``?reveal=id_number,phone&reason=...``: the requested registered
    fields the actor may reveal, as ``Revealed`` values (one audited access event), else ``{}``. Put them
    into the schema's input (``{**schema_data, **revealed}``)."""
    spec = sensitive_spec(obj)
    wanted = [f for f in fields if f]
    if not wanted or spec is None:
        return {}
    unknown = [f for f in wanted if f not in spec.fields]
    if unknown or not actor.has_perm(spec.permission, obj):
        raise Http404
    reason = clean_reason(reason)
    _rate_limit(actor)
    from pingan.audit.services import audit_access

    with transaction.atomic():
        audit_access(actor=actor, obj=obj, purpose="reveal", reason=reason, fields=wanted)
    return {f: Revealed("" if getattr(obj, f) is None else getattr(obj, f)) for f in wanted}
