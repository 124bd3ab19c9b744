"""notify(): one row per distinct active user, the actor left out, from a list or from a query."""

from __future__ import annotations

import pytest

from pingan.accounts.models import Membership, User
from pingan.notifications.models import Notification
from pingan.notifications.services import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    users = [UserFactory(username=f"n{i}") for i in range(4)]
    for user in users:  # two memberships each: a join that repeats every user
        Membership.objects.create(user=user, area=tree.a1)
        Membership.objects.create(user=user, area=tree.a1_1)
    users[3].is_active = False
    users[3].save()
    return users


@pytest.mark.parametrize("as_query", [False, True])
def test_one_notification_per_distinct_active_user_without_the_actor(people, tree, as_query):
    actor, *others = people
    users = (
        User.objects.filter(memberships__area__in=[tree.a1, tree.a1_1])
        if as_query
        else [p for p in people for _ in range(2)]
    )
    written = notify(
        users=users, kind="test.kind", title="标题", body="内容", url="/x/", obj=tree.a1, exclude=actor
    )
    rows = list(Notification.objects.order_by("user_id"))
    assert written == 2 == len(rows)
    assert [r.user_id for r in rows] == sorted(u.pk for u in others[:2])  # the inactive one is left out
    row = rows[0]
    assert (row.kind, row.title, row.body, row.url) == ("test.kind", "标题", "内容", "/x/")
    assert (row.object_type, row.object_id, row.read_at) == ("areas.area", str(tree.a1.pk), None)
    assert row.created_at is not None


def test_a_query_is_written_in_one_statement(people, tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        notify(users=User.objects.filter(memberships__area=tree.a1), kind="k", title="t")
    assert Notification.objects.count() == 3
