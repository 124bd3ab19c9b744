"""Who may do what to one event (``user.has_perm("events.accept_event", event)``).

- centre staff (district commander, street office) act on the events their centre is in charge of
  (``owner`` inside their scope): accept/refuse, dispatch, escalate, supervise, decide extensions;
- the assignee (a member of the department it was dispatched to, or community/grid staff of the area it
  was dispatched to) signs for it, reports back, returns it, asks for an extension;
- the reporter, the grid's staff, or the centre verify the handling, rate it, reopen it;
- leaders read (``events.view_events``) and never write; the three administrators see nothing.
"""

from __future__ import annotations

from typing import Any

import rules

from pingan.accounts.roles import Role
from pingan.accounts.rules import has_role, in_scope, is_business_user, may_write_business
from pingan.accounts.selectors import user_scope

CENTRE_ROLES = (Role.COMMANDER, Role.STREET_STAFF)
AREA_HANDLER_ROLES = frozenset({Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.POLICE})
VERIFIER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE)

is_centre_staff = has_role(*CENTRE_ROLES)


@rules.predicate
def owns_event(user: Any, event: Any) -> bool:
    """The event's centre in charge lies inside the user's scope."""
    return event is not None and user_scope(user).contains_area_id(getattr(event, "owner_id", None))


@rules.predicate
def is_assignee(user: Any, event: Any) -> bool:
    if event is None:
        return False
    scope = user_scope(user)
    if event.assignee_department_id is not None and event.assignee_department_id in scope.department_ids:
        return True
    return bool(
        event.assignee_area_id is not None
        and getattr(user, "role", None) in AREA_HANDLER_ROLES
        and scope.contains_area_id(event.assignee_area_id)
    )


@rules.predicate
def is_reporter(user: Any, event: Any) -> bool:
    return (
        event is not None and event.reporter_id is not None and event.reporter_id == getattr(user, "pk", None)
    )


@rules.predicate
def in_event_area(user: Any, event: Any) -> bool:
    return event is not None and user_scope(user).contains_area_id(event.area_id)


centre = may_write_business & is_centre_staff & owns_event
assignee = may_write_business & is_assignee
grid_staff = has_role(*VERIFIER_ROLES) & in_event_area

rules.add_perm("events.view_events", is_business_user)
rules.add_perm("events.report_event", may_write_business & in_scope)  # object: the grid (areas.Area)
rules.add_perm("events.accept_event", centre)
rules.add_perm("events.dispatch_event", centre)
rules.add_perm("events.escalate_event", centre)
rules.add_perm("events.supervise_event", centre)
rules.add_perm("events.decide_extension", centre)
rules.add_perm("events.handle_event", assignee)
rules.add_perm("events.verify_event", may_write_business & (is_reporter | grid_staff | centre))
rules.add_perm("events.rate_event", may_write_business & (is_reporter | centre))
rules.add_perm("events.reopen_event", may_write_business & (is_reporter | centre))
rules.add_perm("events.configure", has_role(Role.COMMANDER))
# Persons and houses an event concerns, and merging duplicates: the centre in charge (docs/events.md).
rules.add_perm("events.link_subjects", centre)
rules.add_perm("events.merge_event", centre)

# Open311 client keys are issued and revoked by the system administrator (no personal data involved).
rules.add_perm("events.manage_open311_keys", has_role(Role.SYSTEM_ADMIN))
