"""Who may do what with released-person cases (安置帮教).

A case is criminal history (issue 6, "Access"): only those who work it see it — assistance and
correction officers (帮教矫正工作人员) inside their scope, and leaders (领导) of the jurisdiction inside
their scope, read-only. Every other role (commander, street office, community staff, grid workers,
community police, department handlers, hotline operators, mediators, the three administrators) sees no
case at all: no list, no case page (404), no search hit, no person-page tab, no export, no API, no
reminder. The figures (aggregates only, no personal data) are for the case roles and the district centre
(commander). Writes (register, hand-over, resettlement, group, visits, aid, re-offence, import):
assistance officers only, on cases inside their scope.

These tuples are the one place the rule lives: the selectors (``case_list``, ``case_get``, the search
provider, the person tab, the figures), the views, the API, the exports and the reminders' recipients
(``tasks.recipients``) all go through them.
"""

from __future__ import annotations

import rules

from pingan.accounts.roles import Role
from pingan.accounts.rules import has_role, in_scope

# Read cases (lists, case page, search, person tab, exports, API).
CASE_ROLES = (Role.ASSISTANCE_OFFICER, Role.LEADER)
# Write cases and import pre-release lists; also the reminders' recipients.
WRITE_ROLES = (Role.ASSISTANCE_OFFICER,)
# Aggregates only.
FIGURE_ROLES = (*CASE_ROLES, Role.COMMANDER)
IMPORT_ROLES = WRITE_ROLES
REMINDER_ROLES = WRITE_ROLES

may_view_cases = has_role(*CASE_ROLES)
may_write_cases = has_role(*WRITE_ROLES)

rules.add_perm("aftercare.view_cases", may_view_cases)
rules.add_perm("aftercare.write_cases", may_write_cases)
rules.add_perm("aftercare.manage_case", may_write_cases & in_scope)
rules.add_perm("aftercare.import_cases", has_role(*IMPORT_ROLES))
rules.add_perm("aftercare.export_cases", may_view_cases)
rules.add_perm("aftercare.view_figures", has_role(*FIGURE_ROLES))
# Revealing a group member's name or phone (core.sensitive): assistance officers, in scope. Not leaders
# (accounts.roles.REVEAL_ROLES leaves them out: they read the case, masked).
rules.add_perm("aftercare.reveal_sensitive", may_write_cases & in_scope)
