"""Who may read the audit trail: the audit administrator, and nobody else — not the system or security
administrator, not the commander (三员分立, GB/T 22239-2019 8.1.4.2 and 8.1.4.3)."""

from __future__ import annotations

import rules

from pingan.accounts.rules import is_audit_admin

rules.add_perm("audit.view_events", is_audit_admin)
