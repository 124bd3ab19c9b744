from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftercareConfig(AppConfig):
    name = "pingan.aftercare"
    label = "aftercare"
    verbose_name = _("安置帮教")

    def ready(self) -> None:
        from pingan.aftercare.models import GroupMember
        from pingan.core.sensitive import register_sensitive

        def select_member(user: object, pk: object, *, reason: str = "") -> GroupMember:
            from django.shortcuts import get_object_or_404

            from pingan.aftercare.selectors import CaseFilter, case_list

            cases = case_list(user=user, filters=CaseFilter(status="all"), reason=reason or None)
            return get_object_or_404(GroupMember.objects.filter(case__in=cases.values("pk")), pk=int(str(pk)))

        register_sensitive(
            GroupMember,
            fields={"phone": "phone", "name": "name"},
            selector=select_member,
            permission="aftercare.reveal_sensitive",
        )

        from pingan.aftercare.selectors import aftercare_home_figures, aftercare_search
        from pingan.core.search import register_provider
        from pingan.core.selectors import register_figures

        register_figures(aftercare_home_figures, order=45)
        register_provider("aftercare", aftercare_search)

        from pingan.core.navigation import NavItem, perm, register

        section = _("安置帮教")
        register(
            NavItem(
                section,
                _("刑释人员"),
                "aftercare:list",
                "person-check",
                perm("aftercare.view_cases"),
                order=50,
            )
        )
        register(
            NavItem(
                section,
                _("预释放名单导入"),
                "aftercare:import",
                "upload",
                perm("aftercare.import_cases"),
                order=51,
            )
        )
        register(
            NavItem(
                section,
                _("统计报表"),
                "aftercare:figures",
                "bar-chart",
                perm("aftercare.view_figures"),
                order=52,
            )
        )

        from pingan.people.tabs import PersonTab, register_tab

        def tab_context(user: object, person: object) -> dict[str, object] | None:
            from pingan.aftercare.selectors import cases_of_person, may_view_cases

            if not may_view_cases(user):
                return None
            cases = list(cases_of_person(user=user, person=person))
            return {"cases": cases, "person": person} if cases else None

        register_tab(
            PersonTab("aftercare", _("安置帮教"), "aftercare/_person_tab.html", tab_context, order=40)
        )

        from pingan.aftercare.demo import load_aftercare
        from pingan.core.demo import register_demo

        register_demo("aftercare", 60, load_aftercare)

        from pingan.aftercare.tasks import run_aftercare_reminders
        from pingan.core.periodic import register_job

        register_job("aftercare", run_aftercare_reminders, every=3600)
