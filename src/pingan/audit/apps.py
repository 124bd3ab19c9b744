from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "pingan.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from pingan.audit import checks  # noqa: F401  (system check of the retention setting)
        from pingan.audit.selectors import audit_figures, may_read_audit
        from pingan.core.navigation import NavItem, register
        from pingan.core.selectors import register_figures

        register(
            NavItem(_("安全审计"), _("审计日志"), "audit:events", "journal-text", may_read_audit, order=90)
        )
        register_figures(audit_figures, order=5)
