from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """The working-day calendar (节假日与调休). Named ``workdays``, not ``calendar``, so that it never
    shadows the standard library's ``calendar`` module."""

    name = "pingan.workdays"
    label = "workdays"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        from pingan.core.navigation import NavItem, perm, register
        from pingan.core.selectors import register_figures
        from pingan.workdays.selectors import calendar_figures
        from pingan.workdays.services import sync_after_migrate

        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="pingan_workdays_sync")
        register(
            NavItem(
                _("系统管理"),
                _("节假日与调休"),
                "workdays:holidays",
                "calendar3",
                perm("workdays.manage_holidays"),
                order=84,
            )
        )
        register_figures(calendar_figures, order=5)

        from pingan.core.periodic import register_job
        from pingan.workdays.tasks import calendar_check

        register_job("workdays", calendar_check, every=3600)
