"""Who may see and do what in community correction (社区矫正). Criminal history: narrow on purpose (issue 6:
"only assistance and correction officers and leaders of the jurisdiction see these cases").

- See clients (lists, client page, alerts, leave list, search, person-page tab, exports, API; inside the
  scope): assistance/correction officers (role ``assistance_officer``), department handlers of a judicial
  office (司法所, department kind ``judicial``: their scope is the areas the office serves) — the correction
  officers — and leaders, read-only.
- Write and approve (register, check-ins, visits, leave decisions, warnings, termination, alerts, import):
  assistance officers and judicial-office handlers only, on a client inside the scope.
- Figures (aggregates, no person): the same three plus the district centre (commander).
- Everyone else (commander for clients, street office, community staff, grid workers, police, other
  department handlers, hotline operators, mediators, the three administrators) sees nothing: 404.
"""

from __future__ import annotations

from typing import Any

import rules

from pingan.accounts.roles import Role
from pingan.accounts.rules import has_role, in_scope

OFFICER_ROLES = (Role.ASSISTANCE_OFFICER,)
READER_ROLES = (Role.LEADER,)
FIGURE_ROLES = (Role.COMMANDER,)


@rules.predicate
def is_judicial_handler(user: Any) -> bool:
    """A department handler belonging to a judicial office (司法所)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role != Role.DEPARTMENT_HANDLER:
        return False
    cached = getattr(user, "_pingan_judicial", None)
    if cached is None:
        from pingan.accounts.models import Membership

        cached = Membership.objects.filter(
            user=user, department__kind="judicial", department__active=True
        ).exists()
        user._pingan_judicial = cached
    return bool(cached)


may_write = has_role(*OFFICER_ROLES) | is_judicial_handler
may_view_clients = may_write | has_role(*READER_ROLES)
may_view_figures = may_view_clients | has_role(*FIGURE_ROLES)

rules.add_perm("correction.view_clients", may_view_clients)
rules.add_perm("correction.write_clients", may_write)
rules.add_perm("correction.manage_client", may_write & in_scope)
rules.add_perm("correction.approve", may_write)
rules.add_perm("correction.approve_client", may_write & in_scope)
rules.add_perm("correction.import_clients", may_write)
rules.add_perm("correction.export_clients", may_view_clients)
rules.add_perm("correction.view_figures", may_view_figures)
