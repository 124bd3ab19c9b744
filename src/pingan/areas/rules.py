import rules

from pingan.accounts.rules import is_system_admin

rules.add_perm("areas.manage_areas", is_system_admin)
rules.add_perm("areas.manage_departments", is_system_admin)
