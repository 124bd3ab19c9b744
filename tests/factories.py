"""factory-boy factories for the foundation models, and small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import factory
from django.test import Client
from factory.django import DjangoModelFactory

from pingan.accounts.models import Membership, User
from pingan.accounts.roles import Role
from pingan.areas.models import CODE_LENGTH, Area, Department

# Every persona signs in with this password (client.login(username=..., password=PASSWORD)).
PASSWORD = "Pingan-Test-2024!"

LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}


class AreaFactory(DjangoModelFactory):
    """``AreaFactory(code=..., name=..., parent=...)``; the level follows from the code length."""

    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{120200 + n:06d}")
    name = factory.Sequence(lambda n: f"辖区{n}")
    level = factory.LazyAttribute(lambda o: LEVEL_BY_LENGTH[len(o.code)].value)
    parent = None


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"部门{n}")
    kind = "other"
    area = factory.SubFactory(AreaFactory)

    @factory.post_generation
    def serves(self, create: bool, extracted: list[Area] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.serves.set(extracted)


class UserFactory(DjangoModelFactory):
    """A user with ``role``; ``areas=[...]`` and ``departments=[...]`` create the memberships."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.COMMUNITY_STAFF
    is_active = True
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def areas(self, create: bool, extracted: list[Area] | None, **kwargs: Any) -> None:
        if create and extracted:
            Membership.objects.bulk_create([Membership(user=self, area=area) for area in extracted])

    @factory.post_generation
    def departments(self, create: bool, extracted: list[Department] | None, **kwargs: Any) -> None:
        if create and extracted:
            Membership.objects.bulk_create([Membership(user=self, department=d) for d in extracted])


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    area = None
    department = None


def api_client_for(user: User | None) -> Client:
    """A Django test client signed in as ``user`` (anonymous for None), for pages and the API."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def bearer(token: str) -> dict[str, str]:
    """Request headers for a bearer token: ``client.get(url, headers=bearer(key))``."""
    return {"Authorization": f"Bearer {token}"}


# --- second factor (TOTP) ---------------------------------------------------------------------------

# The authenticator secret of enrolled personas (base32, as an authenticator app stores it).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_totp(user: User, secret: str = TOTP_SECRET) -> str:
    """Give ``user`` a confirmed TOTP device with ``secret`` (as if they had enrolled); returns the secret."""
    from django.utils import timezone

    from pingan.accounts.models import TotpDevice

    TotpDevice.objects.filter(user=user).delete()
    TotpDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    return secret


def totp_now(user: User) -> str:
    """A TOTP code the server accepts for ``user`` now, enrolling them first when they have no device.
    Codes are single-use: this forgets the last used step when needed, so it may be called repeatedly."""
    from pingan.accounts import security
    from pingan.accounts.models import TotpDevice

    device = security.totp_device(user)
    if device is None:
        enrol_totp(user)
        device = security.totp_device(user)
        assert device is not None
    step = int(security.timezone.now().timestamp()) // security.TOTP_PERIOD
    if device.last_used_step >= step:
        TotpDevice.objects.filter(pk=device.pk).update(last_used_step=step - 1)
    return security.totp_code(security.totp_secret(device), step)
