"""Sealed records (未成年人犯罪记录封存): hidden from lists, search, counts and exports unless the user
holds core.view_sealed and states a reason; every sealed record so loaded is an access event."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.core.search import global_search
from pingan.core.sensitive import (
    apply_seal,
    holds_sealed_grant,
    may_view_sealed,
    scoped_visible,
    sealed_access_grant,
    sensitive_reveal,
)
from tests.testapp.models import Citizen
from tests.testapp.selectors import (
    citizen_count,
    citizen_export,
    citizen_get,
    citizen_list,
    citizen_search,
)

SEALED_ID = "120103200801011235"
REASON = "法院调阅，案号(2024)津0103刑初1号"


@pytest.fixture
def people(tree):
    open_a = Citizen.objects.create(
        area=tree.a1, name="张公开", id_number="120103199001011234", phone="13800000001"
    )
    sealed = Citizen.objects.create(area=tree.a1, name="王封存", id_number=SEALED_ID, phone="13800000002")
    open_b = Citizen.objects.create(area=tree.b1, name="李乙", id_number="120103198501012345")
    apply_seal(sealed, actor=None, reason="刑事诉讼法第286条")
    return open_a, sealed, open_b


def grant(user):
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_sealed"))
    if hasattr(user, "_pingan_sealed_grant"):
        del user._pingan_sealed_grant
    return user


def sealed_events():
    return AuditEvent.objects.filter(action="access.sealed")


def export_names(data: bytes) -> list[str]:
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    return [str(row[1]) for row in rows[1:]]


@pytest.mark.parametrize("name", ["community_a1", "street_a", "district_admin", "leader"])
def test_sealed_rows_are_invisible_to_ordinary_personas(people, persona, name):
    open_a, sealed, _open_b = people
    user = persona(name)
    assert sealed not in citizen_list(user=user)
    assert sealed not in citizen_list(user=user, reason=REASON)  # a reason alone does not open it
    assert open_a in citizen_list(user=user)
    assert citizen_count(user=user) == citizen_list(user=user).count()
    assert not citizen_search(user=user, q="王封存").exists()
    assert not citizen_search(user=user, q=SEALED_ID).exists()
    assert "王*存" not in export_names(citizen_export(user=user))
    assert not [h for h in global_search(user=user, q="封存") if h.kind == "citizen"]
    with pytest.raises(Http404):
        citizen_get(user=user, citizen_id=sealed.pk, reason=REASON)
    assert not sealed_events().exists()


def test_counts_exclude_sealed_rows(people, street_a, district_admin):
    assert citizen_count(user=street_a) == 1
    assert citizen_count(user=district_admin) == 2
    grant(district_admin)
    assert citizen_count(user=district_admin, reason=REASON) == 3
    assert citizen_count(user=district_admin, reason="") == 2
    assert not sealed_events().exists()  # a count shows no record


def test_with_the_permission_and_a_reason_sealed_rows_appear_and_each_load_is_audited(people, community_a1):
    open_a, sealed, _open_b = people
    grant(community_a1)
    assert may_view_sealed(community_a1, REASON) and not may_view_sealed(community_a1, "")
    rows = list(citizen_list(user=community_a1, reason=REASON))
    assert rows == [open_a, sealed]
    event = sealed_events().get()
    assert event.actor_username == "community_a1" and event.reason == REASON
    assert event.object_id == str(sealed.pk) and event.kind == "access"
    assert "王封存" not in event.object_repr

    assert citizen_get(user=community_a1, citizen_id=sealed.pk, reason=REASON) == sealed
    assert citizen_search(user=community_a1, q=SEALED_ID, reason=REASON).get() == sealed
    assert "王*存" in export_names(citizen_export(user=community_a1, reason=REASON))  # iterator() path
    assert sealed_events().count() == 4
    # the open row alone: no event
    list(citizen_list(user=community_a1, reason=REASON).filter(pk=open_a.pk))
    assert sealed_events().count() == 4
    # values()/values_list() reads are audited too
    names = list(citizen_list(user=community_a1, reason=REASON).values_list("name", flat=True))
    assert "王封存" in names and sealed_events().count() == 5
    # aggregates are not record views
    from django.db.models import Count

    list(citizen_list(user=community_a1, reason=REASON).values("area").annotate(n=Count("id")))
    assert sealed_events().count() == 5


@pytest.mark.parametrize("reason", [None, "", "  ", "看看"])
def test_with_the_permission_but_without_a_reason_sealed_rows_stay_hidden(people, community_a1, reason):
    _open_a, sealed, _ = people
    grant(community_a1)
    assert sealed not in citizen_list(user=community_a1, reason=reason)
    assert not sealed_events().exists()


def test_the_permission_does_not_widen_the_scope(people, community_b1):
    _open_a, _sealed, open_b = people
    grant(community_b1)
    assert list(citizen_list(user=community_b1, reason=REASON)) == [open_b]


@pytest.mark.parametrize("name", ["auditor", "system_admin", "security_admin"])
def test_administrators_never_see_sealed_rows_even_when_granted(people, persona, name):
    user = grant(persona(name))
    assert not holds_sealed_grant(user)
    assert not citizen_list(user=user, reason=REASON).exists()


def test_superuser_status_is_not_a_grant(people, community_a1):
    community_a1.is_superuser = True
    community_a1.save()
    assert community_a1.has_perm("core.view_sealed")  # Django's ModelBackend says yes …
    assert not holds_sealed_grant(community_a1)  # … but sealed records need the explicit grant
    assert people[1] not in citizen_list(user=community_a1, reason=REASON)


def test_a_group_grant_counts(people, community_a1):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="封存查阅")
    group.permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_sealed"))
    community_a1.groups.add(group)
    assert holds_sealed_grant(community_a1)


def test_sealed_records_cannot_be_revealed_without_access(people, community_a1):
    _open_a, sealed, _ = people
    with pytest.raises(Http404):
        sensitive_reveal(
            actor=community_a1,
            object_type="testapp.citizen",
            object_id=str(sealed.pk),
            field="id_number",
            reason=REASON,
        )
    grant(community_a1)
    result = sensitive_reveal(
        actor=community_a1,
        object_type="testapp.citizen",
        object_id=str(sealed.pk),
        field="id_number",
        reason=REASON,
    )
    assert result.value == SEALED_ID
    assert sealed_events().count() == 1
    assert AuditEvent.objects.filter(action="access.reveal", outcome="success").count() == 1


def test_grant_service(people, security_admin, system_admin, community_a1, auditor):
    sealed_access_grant(actor=security_admin, user=community_a1, allowed=True)
    assert holds_sealed_grant(community_a1)
    event = AuditEvent.objects.get(action="permission.sealed_access")
    assert event.actor_username == "security_admin" and event.changes == {"view_sealed": [False, True]}
    sealed_access_grant(actor=security_admin, user=community_a1, allowed=False)
    assert not holds_sealed_grant(community_a1)
    with pytest.raises(PermissionDenied):
        sealed_access_grant(actor=system_admin, user=community_a1, allowed=True)
    with pytest.raises(PermissionDenied):
        sealed_access_grant(actor=community_a1, user=community_a1, allowed=True)
    with pytest.raises(ValidationError):
        sealed_access_grant(actor=security_admin, user=auditor, allowed=True)


def test_apply_seal_and_unseal(people, street_a):
    open_a, sealed, _ = people
    assert sealed.sealed and sealed.sealed_at is not None
    assert AuditEvent.objects.filter(action="record.seal", object_id=str(sealed.pk)).exists()
    apply_seal(open_a, actor=street_a, reason="依法封存（测试）")
    assert not citizen_list(user=street_a).filter(pk=open_a.pk).exists()
    apply_seal(open_a, actor=street_a, reason="撤销封存（测试）", sealed=False)
    assert citizen_list(user=street_a).filter(pk=open_a.pk).exists()
    with pytest.raises(ValidationError):
        apply_seal(open_a, actor=street_a, reason="")


def test_scoped_visible_works_on_a_plain_queryset(people, street_a):
    from django.db.models import QuerySet

    qs = scoped_visible(QuerySet(model=Citizen), street_a)
    assert people[1] not in qs and people[0] in qs
