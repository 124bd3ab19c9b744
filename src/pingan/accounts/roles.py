"""Roles (岗位) and what each may do in general. Object-level rules live in rules.py; which rows
a user sees is the scope (selectors.user_scope)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMANDER = "commander", _("区综治中心指挥")
    LEADER = "leader", _("领导")
    STREET_STAFF = "street_staff", _("街道综治办")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    GRID_WORKER = "grid_worker", _("网格员")
    POLICE = "police", _("社区民警")
    DEPARTMENT_HANDLER = "department_handler", _("职能部门处置人员")
    MEDIATOR = "mediator", _("调解员")
    ASSISTANCE_OFFICER = "assistance_officer", _("帮教矫正工作人员")
    HOTLINE_OPERATOR = "hotline_operator", _("12355热线接线员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# The three separated administrators (三员分立) never read business or personal data.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Roles that read business data inside their scope.
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)
# Roles that never write business data.
READ_ONLY_ROLES = frozenset({Role.LEADER})
# Roles that may reveal a full value of a personal-data field of a record in their scope (permission
# ``core.reveal_sensitive``, see ``core.sensitive``): the people who meet residents and clients face to
# face and must check who they are (community staff, grid workers, community police, assistance and
# correction officers, the street office handling the case) and the district centre that dispatches.
# Not leaders (figures, not persons), not department handlers, mediators or hotline operators (a module
# may allow them for its own records with ``register_sensitive(..., permission=...)``), never the three
# administrators.
REVEAL_ROLES = frozenset(
    {
        Role.COMMANDER,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
        Role.GRID_WORKER,
        Role.POLICE,
        Role.ASSISTANCE_OFFICER,
    }
)
# Roles that must sign in with a second factor (TOTP), whatever the security policy says (issue 3,
# GB/T 22239 8.1.4.1 d)): the three administrators and every role that may reveal sensitive fields. The
# security administrator may add other roles (``SecurityPolicy.totp_required_roles``), never remove these.
TOTP_MANDATORY_ROLES = ADMIN_ROLES | REVEAL_ROLES
# Roles whose membership normally is an area node (others: a department).
AREA_ROLES = frozenset(
    {Role.COMMANDER, Role.LEADER, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.POLICE}
)
