"""Who may do what with the school registry.

Reading: the district centre, leaders (read-only), street offices, community staff, grid workers and
community police, inside their scope. Writing (register, edit, import): the district centre, street offices
and community staff, inside the scope of the school. Exporting: those who may write.
"""

from __future__ import annotations

import rules

from pingan.accounts.roles import Role
from pingan.accounts.rules import has_role, in_scope, is_read_only

SCHOOL_VIEW_ROLES = (
    Role.COMMANDER,
    Role.LEADER,
    Role.STREET_STAFF,
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.POLICE,
)
SCHOOL_WRITE_ROLES = (Role.COMMANDER, Role.STREET_STAFF, Role.COMMUNITY_STAFF)

may_view_schools = has_role(*SCHOOL_VIEW_ROLES)
may_write_schools = has_role(*SCHOOL_WRITE_ROLES) & ~is_read_only

rules.add_perm("schools.view_schools", may_view_schools)
rules.add_perm("schools.write_schools", may_write_schools)
rules.add_perm("schools.manage_school", may_write_schools & in_scope)
rules.add_perm("schools.export_schools", may_write_schools)
