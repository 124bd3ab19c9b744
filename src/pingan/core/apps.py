from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "pingan.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from pingan.core.codes import sync_code_tables_after_migrate

        post_migrate.connect(sync_code_tables_after_migrate, sender=self)

        from pingan.core.navigation import NavItem, register

        def signed_in(user: object) -> bool:
            return bool(getattr(user, "is_authenticated", False))

        register(NavItem(_("工作台"), _("首页"), "core:home", "house", signed_in, order=0))
        register(NavItem(_("基础数据"), _("代码字典"), "core:code_tables", "book", signed_in, order=29))
        register(NavItem(_("工作台"), _("我的导出"), "core:exports", "download", signed_in, order=5))

        from pingan.core.exports import expire_export_files
        from pingan.core.periodic import register_job

        register_job("core.exports", expire_export_files, every=3600)
