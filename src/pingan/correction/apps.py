from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorrectionConfig(AppConfig):
    name = "pingan.correction"
    label = "correction"
    verbose_name = _("社区矫正")

    def ready(self) -> None:
        from pingan.core.navigation import NavItem, perm, register
        from pingan.core.selectors import register_figures
        from pingan.correction.selectors import home_figures, person_tab_context
        from pingan.people.tabs import PersonTab, register_tab

        section = _("社区矫正")
        view = perm("correction.view_clients")
        register(NavItem(section, _("矫正对象"), "correction:list", "person-lock", view, order=60))
        register(NavItem(section, _("漏管预警"), "correction:alerts", "exclamation-triangle", view, order=61))
        register(NavItem(section, _("请假外出审批"), "correction:leaves", "calendar-check", view, order=62))
        register(
            NavItem(
                section,
                _("矫正统计"),
                "correction:figures",
                "bar-chart",
                perm("correction.view_figures"),
                order=63,
            )
        )
        register_figures(home_figures, order=60)
        from pingan.core.search import register_provider
        from pingan.correction.selectors import correction_search

        register_provider("correction", correction_search)
        register_tab(
            PersonTab(
                "correction", _("社区矫正"), "correction/_person_tab.html", person_tab_context, order=50
            )
        )

        from pingan.core.sensitive import register_sensitive
        from pingan.correction.models import GroupMember

        def member_select(user: object, pk: object, *, reason: str = "") -> GroupMember:
            from django.shortcuts import get_object_or_404

            from pingan.correction.selectors import client_base

            visible = client_base(user, reason or None).values("pk")
            return get_object_or_404(GroupMember.objects.filter(client__in=visible), pk=int(str(pk)))

        register_sensitive(GroupMember, fields={"phone": "phone"}, selector=member_select)

        from pingan.core.demo import register_demo
        from pingan.correction.demo import load_correction

        register_demo("correction", 60, load_correction)

        from pingan.core.periodic import register_job
        from pingan.correction.tasks import run_correction_reminders

        register_job("correction", run_correction_reminders, every=3600)
