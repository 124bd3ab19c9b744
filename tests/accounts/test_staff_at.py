"""accounts.selectors.StaffAt: its queryset and its written-out statement select the same users."""

from __future__ import annotations

import pytest
from django.db import connection

from pingan.accounts.roles import Role
from pingan.accounts.selectors import StaffAt
from pingan.notifications.models import Notification
from pingan.notifications.services import notify
from tests.conftest import Tree
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def selected(staff: StaffAt, exclude: int | None = None) -> set[int]:
    sql, params = staff.id_select(connection.alias, exclude=exclude)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def test_the_statement_states_the_queryset_rule(tree: Tree) -> None:
    office = UserFactory(username="office", role=Role.STREET_STAFF, areas=[tree.street_a])
    commander = UserFactory(username="cmd", role=Role.COMMANDER, areas=[tree.street_a, tree.district])
    UserFactory(username="below", role=Role.STREET_STAFF, areas=[tree.a1])  # another node
    UserFactory(username="grid", role=Role.GRID_WORKER, areas=[tree.street_a])  # another role
    UserFactory(username="gone", role=Role.STREET_STAFF, areas=[tree.street_a], is_active=False)
    UserFactory(username="other", role=Role.STREET_STAFF, areas=[tree.street_b])
    staff = StaffAt(tree.street_a.pk, (Role.COMMANDER, Role.STREET_STAFF))
    expected = {office.pk, commander.pk}
    assert {u.pk for u in staff.queryset()} == expected
    assert {u.pk for u in staff} == expected
    assert selected(staff) == expected
    assert selected(staff, exclude=office.pk) == {commander.pk}


def test_notify_writes_one_row_per_selected_user(tree: Tree) -> None:
    office = UserFactory(username="office", role=Role.STREET_STAFF, areas=[tree.street_a])
    actor = UserFactory(username="actor", role=Role.STREET_STAFF, areas=[tree.street_a])
    written = notify(
        users=StaffAt(tree.street_a.pk, (Role.STREET_STAFF,)), kind="t.x", title="标题", exclude=actor
    )
    assert written == 1
    row = Notification.objects.get()
    assert (row.user_id, row.kind, row.title) == (office.pk, "t.x", "标题")
