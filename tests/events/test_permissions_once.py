"""An event's permissions asked once per rule (``accounts.rules.perm_checker``), and the event page's address
made once per script prefix (``events.services._event_url``): both give what Django's own calls give."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse, set_script_prefix

from pingan.accounts.rules import perm_checker
from pingan.events import services
from pingan.events.selectors import ACTIONS, available_actions
from tests.events.conftest import STATES

PERMS = sorted({perm for perm, _states in ACTIONS.values()} | {"events.link_subjects", "events.merge_event"})


@pytest.mark.parametrize("state", STATES)
def test_the_checker_answers_as_has_perm_for_every_persona(
    state, make_event, grid_a1, grid_b1, street_a, dept_handler, district_admin, leader
):
    event = make_event(state)
    for user in (grid_a1, grid_b1, street_a, dept_handler, district_admin, leader, AnonymousUser()):
        may = perm_checker(user, event)
        assert {p: may(p) for p in PERMS} == {p: user.has_perm(p, event) for p in PERMS}, user
        # and asked again, from its answers
        assert {p: may(p) for p in reversed(PERMS)} == {p: user.has_perm(p, event) for p in PERMS}, user


def test_permissions_of_one_rule_are_tested_once(make_event, street_a):
    """accept, refuse, escalate, supervise, place, link and merge of a new report: all the centre's rule."""
    event = make_event("reported")
    expected = available_actions(user=street_a, event=event)
    with mock.patch.object(
        type(street_a), "has_perm", autospec=True, side_effect=type(street_a).has_perm
    ) as spy:
        may = perm_checker(street_a, event)
        assert available_actions(user=street_a, event=event, may=may) == expected
        assert may("events.link_subjects") and may("events.merge_event")
    assert expected == ["accept", "refuse", "escalate", "supervise"]
    assert spy.call_count == 1


def test_different_rules_are_each_tested(make_event, street_a, grid_a1):
    event = make_event("closed")
    may = perm_checker(grid_a1, event)
    assert may("events.rate_event") and may("events.reopen_event")  # the reporter's
    assert not may("events.accept_event")  # the centre's
    assert may("events.verify_event")
    assert not perm_checker(street_a, event)("events.handle_event")


def test_the_event_address_is_reversed_once_per_prefix(make_event):
    event = make_event("reported")
    assert services._event_url(event) == reverse("events:detail", args=[event.pk]) == f"/events/{event.pk}/"
    try:
        set_script_prefix("/pingan/")
        assert services._event_url(event) == reverse("events:detail", args=[event.pk])
        assert services._event_url(event) == f"/pingan/events/{event.pk}/"
    finally:
        set_script_prefix("/")
    assert services._event_url(event) == f"/events/{event.pk}/"
