"""The security policy: only the security administrator changes it (screen and service), every change is
audited, values are validated, and the three administrators always need TOTP."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from pingan.accounts import security
from pingan.accounts.models import DEFAULT_TOTP_REQUIRED_ROLES, SecurityPolicy, TotpDevice
from pingan.accounts.roles import Role
from pingan.audit.models import AuditEvent
from tests.factories import api_client_for, enrol_totp

pytestmark = pytest.mark.django_db


def test_defaults_follow_mlps(db):
    policy = security.security_policy()
    assert (policy.min_length, policy.min_classes, policy.history_count, policy.max_age_days) == (8, 3, 5, 90)
    assert (policy.lockout_threshold, policy.lockout_window_minutes, policy.lockout_minutes) == (5, 15, 30)
    assert policy.ip_lockout_threshold == 5
    assert (policy.idle_timeout_minutes, policy.session_lifetime_hours) == (30, 12)
    assert set(policy.totp_required_roles) == {
        "system_admin",
        "security_admin",
        "audit_admin",
        "commander",
        "street_staff",
        "community_staff",
        "grid_worker",
        "police",
        "assistance_officer",
    }
    assert policy.reject_common
    assert not SecurityPolicy.objects.exists()  # reading never writes


def test_security_admin_updates_the_policy_audited(security_admin):
    policy = security.security_policy_update(
        actor=security_admin, data={"min_length": 12, "lockout_minutes": 60, "reject_common": True}
    )
    assert (policy.min_length, policy.lockout_minutes, policy.pk) == (12, 60, 1)
    assert security.security_policy().min_length == 12
    event = AuditEvent.objects.get(action="security.policy_update")
    assert event.actor == security_admin and event.kind == "policy"
    assert event.changes == {"min_length": [8, 12], "lockout_minutes": [30, 60]}
    with pytest.raises(ValidationError):
        security.PolicyMinimumLengthValidator().validate("Elevenchar1")


@pytest.mark.parametrize("name", ["system_admin", "auditor", "district_admin", "street_a"])
def test_nobody_else_changes_the_policy(persona, name):
    with pytest.raises(PermissionDenied):
        security.security_policy_update(actor=persona(name), data={"min_length": 6})
    assert not AuditEvent.objects.filter(action="security.policy_update").exists()
    assert api_client_for(persona(name)).get("/accounts/security-policy/").status_code in (403, 404)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"min_length": 6}, "min_length"),
        ({"min_classes": 5}, "min_classes"),
        ({"history_count": 30}, "history_count"),
        ({"lockout_threshold": 1}, "lockout_threshold"),
        ({"idle_timeout_minutes": 0}, "idle_timeout_minutes"),
        ({"session_lifetime_hours": 48}, "session_lifetime_hours"),
        ({"max_age_days": "x"}, "max_age_days"),
        ({"totp_required_roles": ["commander"]}, "totp_required_roles"),
        ({"totp_required_roles": ["system_admin", "security_admin", "audit_admin"]}, "totp_required_roles"),
        (
            {"totp_required_roles": [r for r in DEFAULT_TOTP_REQUIRED_ROLES if r != "grid_worker"]},
            "totp_required_roles",
        ),
        (
            {"totp_required_roles": ["system_admin", "security_admin", "audit_admin", "root"]},
            "totp_required_roles",
        ),
    ],
)
def test_policy_validation(security_admin, data, field):
    with pytest.raises(ValidationError) as exc_info:
        security.security_policy_update(actor=security_admin, data=data)
    assert field in exc_info.value.message_dict
    assert not AuditEvent.objects.filter(action="security.policy_update").exists()


def test_the_database_refuses_a_second_row_and_bad_values(security_admin):
    security.security_policy_update(actor=security_admin, data={})
    with pytest.raises(IntegrityError), transaction.atomic():
        SecurityPolicy.objects.create(pk=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        SecurityPolicy.objects.filter(pk=1).update(min_length=4)


def test_policy_screen(security_admin):
    client = api_client_for(security_admin)
    page = client.get("/accounts/security-policy/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "必须使用动态口令的岗位" in body and "会话空闲超时" in body
    form = {
        "min_length": 10,
        "min_classes": 3,
        "reject_common": "on",
        "history_count": 5,
        "max_age_days": 60,
        "lockout_threshold": 5,
        "ip_lockout_threshold": 50,
        "lockout_window_minutes": 15,
        "lockout_minutes": 30,
        "idle_timeout_minutes": 20,
        "session_lifetime_hours": 8,
        "totp_required_roles": [Role.HOTLINE_OPERATOR.value],  # the mandatory roles are added
    }
    response = client.post("/accounts/security-policy/", form)
    assert response.status_code == 302
    policy = security.security_policy()
    assert (policy.min_length, policy.ip_lockout_threshold, policy.idle_timeout_minutes) == (10, 50, 20)
    assert set(policy.totp_required_roles) == {*DEFAULT_TOTP_REQUIRED_ROLES, "hotline_operator"}
    event = AuditEvent.objects.get(action="security.policy_update")
    assert "hotline_operator" in event.changes["second_factor_roles"][1]  # role names, not masked as secrets

    # the mandatory roles are shown checked and disabled; a form without them keeps them
    html = client.get("/accounts/security-policy/").content.decode()
    assert html.count("checked disabled") == len(DEFAULT_TOTP_REQUIRED_ROLES)
    response = client.post("/accounts/security-policy/", form | {"totp_required_roles": ["mediator"]})
    assert response.status_code == 302
    assert set(security.security_policy().totp_required_roles) == {*DEFAULT_TOTP_REQUIRED_ROLES, "mediator"}
    # the service itself refuses a list without them
    with pytest.raises(ValidationError) as exc_info:
        security.security_policy_update(actor=security_admin, data={"totp_required_roles": ["mediator"]})
    assert "必须使用动态口令" in str(exc_info.value)


def test_required_roles_follow_the_policy(security_admin, leader):
    assert not security.totp_required(leader)
    security.security_policy_update(
        actor=security_admin, data={"totp_required_roles": [*DEFAULT_TOTP_REQUIRED_ROLES, "leader"]}
    )
    assert security.totp_required(leader)


def test_security_admin_resets_a_users_totp(security_admin, district_admin):
    enrol_totp(district_admin)
    other = api_client_for(district_admin)
    client = api_client_for(security_admin)
    response = client.post("/accounts/security-policy/totp-reset/", {"username": "district_admin"})
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=district_admin).exists()
    assert other.get("/").status_code == 302  # their sessions ended
    event = AuditEvent.objects.get(action="security.totp_reset")
    assert event.actor == security_admin and event.object_id == str(district_admin.pk)
    with pytest.raises(PermissionDenied):
        security.totp_reset(actor=district_admin, username="security_admin")
