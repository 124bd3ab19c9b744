"""Demo accounts: one per role, bound to nodes and departments of the demo district.

Idempotent by username. Passwords: with ``ctx.password`` (PINGAN_DEMO_PASSWORD) every demo account
gets that password on every run; otherwise only the accounts created in this run get one freshly
generated password (shared by all of them, printed once by the command) and existing accounts keep
theirs. The names are synthetic.

The accounts whose role requires a second factor (the security policy's TOTP-required roles) are
enrolled with a TOTP secret generated once per database and kept on later runs; the command prints the
secrets and ``var/demo-accounts.txt`` lists them (username, a tab, the base32 secret) so that a tester can
add them to an authenticator, or compute codes (``python -c "import pyotp; print(pyotp.TOTP(S).now())"``).
The demo command refuses to run in production, so production never gets such accounts or the file.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import ApiToken, Membership, TotpDevice, User
from pingan.accounts.roles import Role
from pingan.accounts.selectors import forget_scope
from pingan.areas.demo import COMMUNITY_CODES, DISTRICT_CODE, STREET_CODES, grid_code
from pingan.areas.models import Area, Department
from pingan.core.demo import DemoContext


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    areas: tuple[str, ...] = ()  # area codes
    departments: tuple[str, ...] = ()  # department codes


_GUAJIASI = STREET_CODES["挂甲寺街"]
_LUANSHUILI = COMMUNITY_CODES["滦水里社区"]
_YUEJIANGLI = COMMUNITY_CODES["粤江里社区"]  # in 东海街

DEMO_USERS: list[DemoUser] = [
    DemoUser("commander", "周立军", Role.COMMANDER, areas=(DISTRICT_CODE,)),
    DemoUser("leader", "孙建华", Role.LEADER, areas=(DISTRICT_CODE,)),
    DemoUser("street1", "王海燕", Role.STREET_STAFF, areas=(_GUAJIASI,)),
    DemoUser("community1", "李秀英", Role.COMMUNITY_STAFF, areas=(_LUANSHUILI,)),
    DemoUser("grid1", "张伟", Role.GRID_WORKER, areas=(grid_code(_LUANSHUILI, 1),)),
    DemoUser("grid2", "刘洋", Role.GRID_WORKER, areas=(grid_code(_YUEJIANGLI, 2),)),
    DemoUser("police1", "陈刚", Role.POLICE, areas=(_LUANSHUILI,), departments=("hx-police-guajiasi",)),
    DemoUser("handler1", "赵磊", Role.DEPARTMENT_HANDLER, departments=("hx-law-enforcement",)),
    DemoUser("mediator1", "杨淑芬", Role.MEDIATOR, areas=(_GUAJIASI,)),
    DemoUser(
        "assist1",
        "黄志强",
        Role.ASSISTANCE_OFFICER,
        areas=(_GUAJIASI,),
        departments=("hx-judicial-guajiasi",),
    ),
    DemoUser("hotline1", "吴静", Role.HOTLINE_OPERATOR, areas=(DISTRICT_CODE,)),
    DemoUser("sysadmin", "郑宏", Role.SYSTEM_ADMIN),
    DemoUser("secadmin", "马俊", Role.SECURITY_ADMIN),
    DemoUser("auditor", "何丽", Role.AUDIT_ADMIN),
]
DEMO_USERNAMES = [u.username for u in DEMO_USERS]


def generate_password() -> str:
    """One strong random password: upper, lower, digits and a symbol, at least 15 characters,
    and accepted by the configured Django password validators."""
    alphabet = string.ascii_letters + string.digits
    while True:
        token = "".join(secrets.choice(alphabet) for _ in range(12))
        password = f"Pa-{token}"
        if not (
            any(c.isupper() for c in token)
            and any(c.islower() for c in token)
            and any(c.isdigit() for c in token)
        ):
            continue
        try:
            password_validation.validate_password(password)
        except ValidationError:
            continue
        return password


def _wanted_memberships(
    spec: DemoUser, areas: dict[str, Area], departments: dict[str, Department]
) -> set[tuple[int | None, int | None]]:
    """(area_id, department_id) pairs, one row per area and one per department, as
    ``accounts.services.user_save`` writes them."""
    return {(areas[c].pk, None) for c in spec.areas} | {(None, departments[c].pk) for c in spec.departments}


def load_users(ctx: DemoContext) -> None:
    areas = {a.code: a for a in Area.objects.filter(code__in={c for u in DEMO_USERS for c in u.areas})}
    departments = {
        d.code: d for d in Department.objects.filter(code__in={c for u in DEMO_USERS for c in u.departments})
    }
    generated: str | None = None
    updated = 0
    accounts: list[tuple[str, str, str]] = []  # (username, role label, scope) for the command's table
    now = timezone.now()
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        created = user is None
        if user is None:
            user = User(username=spec.username, is_active=True)
        changed = created or user.full_name != spec.full_name or user.role != spec.role
        user.full_name, user.role = spec.full_name, str(spec.role)

        new_password: str | None = None
        if ctx.password:
            if created or not user.check_password(ctx.password):
                new_password = ctx.password
        elif created:
            generated = generated or generate_password()
            new_password = generated
        if new_password is not None:
            user.set_password(new_password)
            user.password_changed_at = now
            changed = True
            if not created:  # a reset password ends the API tokens issued under the old one
                ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            user.save()

        wanted = _wanted_memberships(spec, areas, departments)
        existing = {(m.area_id, m.department_id): m for m in user.memberships.all()}
        stale = [m.pk for key, m in existing.items() if key not in wanted]
        missing = [key for key in wanted if key not in existing]
        if stale:
            Membership.objects.filter(pk__in=stale).delete()
        if missing:
            Membership.objects.bulk_create(
                [Membership(user=user, area_id=a, department_id=d) for a, d in sorted(missing, key=str)]
            )
        forget_scope(user)
        places = [areas[c].name for c in spec.areas] + [departments[c].name for c in spec.departments]
        accounts.append((spec.username, str(spec.role.label), "、".join(places)))
        if created:
            ctx.created_users.append(spec.username)
        elif changed or stale or missing:
            updated += 1

    ctx.notes["accounts"] = accounts
    enrolled = enrol_demo_totp()
    ctx.notes["totp_secrets"] = enrolled
    transaction.on_commit(lambda: write_demo_accounts_file(enrolled))
    ctx.notes["account_count"] = len(DEMO_USERS)
    if generated is not None:
        ctx.notes["generated_password"] = generated
    ctx.counts.update(
        {
            "users": User.objects.filter(username__in=DEMO_USERNAMES).count(),
            "users_created": len(ctx.created_users),
            "users_updated": updated,
        }
    )


DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


def enrol_demo_totp() -> list[tuple[str, str]]:
    """(username, base32 secret) of the demo accounts that need TOTP, enrolling those without a device."""
    import pyotp

    from pingan.accounts import security

    policy = security.security_policy()
    enrolled: list[tuple[str, str]] = []
    for user in User.objects.filter(username__in=DEMO_USERNAMES).order_by("username"):
        device = security.totp_device(user)
        if device is None:
            if not security.totp_required(user, policy):
                continue
            TotpDevice.objects.filter(user=user).delete()  # a pending enrolment
            device = TotpDevice.objects.create(
                user=user, secret=pyotp.random_base32(), confirmed_at=timezone.now()
            )
        enrolled.append((user.username, security.totp_secret(device)))
    return enrolled


def write_demo_accounts_file(enrolled: list[tuple[str, str]]) -> None:
    if getattr(settings, "PRODUCTION", False):  # the demo command refuses production already
        return
    path = settings.VAR_DIR / DEMO_ACCOUNTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{username}\t{secret}\n" for username, secret in enrolled), encoding="utf-8")
    path.chmod(0o600)
