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

        from django.db.backends.signals import connection_created

        connection_created.connect(postgres_session_settings, dispatch_uid="pingan.core.postgres_session")

        from pingan.core.navigation import NavItem, register

        def signed_in(user: object) -> bool:
            return bool(getattr(user, "is_authenticated", False))

        register(NavItem(_("工作台"), _("首页"), "core:home", "house", signed_in, order=0))
        register(NavItem(_("基础数据"), _("代码字典"), "core:code_tables", "book", signed_in, order=29))
        register(NavItem(_("工作台"), _("我的导出"), "core:exports", "download", signed_in, order=5))

        from pingan.core.exports import expire_export_files
        from pingan.core.periodic import register_job

        register_job("core.exports", expire_export_files, every=3600)

        from pingan.core import headers

        headers.install()  # Django's header parsing, its answers remembered (core.headers)


def postgres_session_settings(sender: object, connection: object, **kwargs: object) -> None:
    """Every new PostgreSQL connection:

    - no JIT compilation. This is a short-query workload; PostgreSQL compiles any query its planner costs
      above ``jit_above_cost`` (100,000), which the broad searches of 1M people are: compiling took 30 ms
      of a 95 ms count and 1.2 s of a 1.6 s page (docs/benchmarks.md);
    - ``random_page_cost`` from ``PG_RANDOM_PAGE_COST`` (1.1: SSD or memory). With the server default (4)
      a search for "wangxiu" (1,858 people of a million) walked 54,000 rows in list order instead of
      reading its matches through the index (27 ms against 8), and a street's triage queue took 56 ms p95
      instead of 48 (docs/benchmarks.md)."""
    if getattr(connection, "vendor", "") != "postgresql":
        return
    from django.conf import settings

    statements = ["SET jit = off"]
    cost = str(getattr(settings, "PG_RANDOM_PAGE_COST", "") or "").strip()
    if cost:
        statements.append(f"SET random_page_cost = {float(cost)!r}")  # a number, never the raw text
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        for statement in statements:
            cursor.execute(statement)
