import rules

from pingan.accounts.rules import is_business_user, is_system_admin

# The holiday table decides every deadline: the system administrator maintains it (screen, import);
# business users may read it (no personal data in it).
rules.add_perm("workdays.manage_holidays", is_system_admin)
rules.add_perm("workdays.view_holidays", is_system_admin | is_business_user)
