from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "pingan.schools"
    label = "schools"
    verbose_name = _("学校台账")

    def ready(self) -> None:
        from pingan.core.demo import register_demo
        from pingan.core.navigation import NavItem, perm, register
        from pingan.core.search import register_provider
        from pingan.core.selectors import register_figures
        from pingan.schools.demo import load_schools
        from pingan.schools.selectors import school_home_figures, school_search

        register(
            NavItem(
                _("实有人口"),
                _("学校台账"),
                "schools:list",
                "mortarboard",
                perm("schools.view_schools"),
                order=23,
            )
        )
        register_figures(school_home_figures, order=15)
        register_provider("schools", school_search)
        register_demo("schools", 45, load_schools)
