"""Who may do what with people and houses.

Reading: the staff who work with residents (district centre, leaders read-only, street office, community
staff, grid workers, community police, assistance officers), inside their scope. Department handlers,
mediators, hotline operators and the three administrators do not browse the population register.
Writing (register, update, move, merge, import, export): the same minus leaders, inside the scope of the
record.
"""

from __future__ import annotations

import rules

from pingan.accounts.roles import Role
from pingan.accounts.rules import has_role, in_scope, is_read_only

PEOPLE_ROLES = (
    Role.COMMANDER,
    Role.LEADER,
    Role.STREET_STAFF,
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.POLICE,
    Role.ASSISTANCE_OFFICER,
)

may_view_people = has_role(*PEOPLE_ROLES)
may_write_people = may_view_people & ~is_read_only

rules.add_perm("people.view_people", may_view_people)
rules.add_perm("people.write_people", may_write_people)
rules.add_perm("people.manage_person", may_write_people & in_scope)
rules.add_perm("people.import_people", may_write_people)
rules.add_perm("people.export_people", may_write_people)
