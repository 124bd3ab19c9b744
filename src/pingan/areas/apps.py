from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AreasConfig(AppConfig):
    name = "pingan.areas"
    label = "areas"
    verbose_name = _("辖区与部门")

    def ready(self) -> None:
        from pingan.areas.selectors import area_figures, area_search
        from pingan.core.navigation import NavItem, register
        from pingan.core.search import register_provider
        from pingan.core.selectors import register_figures

        def sees_areas(user: object) -> bool:
            return bool(getattr(user, "is_authenticated", False)) and (
                not user.is_admin_role or user.has_perm("areas.manage_areas")  # type: ignore[attr-defined]
            )

        register(NavItem(_("基础数据"), _("辖区网格"), "areas:tree", "map", sees_areas, order=20))
        register(NavItem(_("基础数据"), _("职能部门"), "areas:departments", "building", sees_areas, order=21))
        register_figures(area_figures, order=10)
        register_provider("areas", area_search)

        from pingan.areas.demo import load_areas
        from pingan.core.demo import register_demo

        register_demo("areas", 10, load_areas)
