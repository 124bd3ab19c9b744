from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "pingan.people"
    label = "people"
    verbose_name = _("实有人口")

    def ready(self) -> None:
        from pingan.core.search import register_provider
        from pingan.core.selectors import register_figures
        from pingan.core.sensitive import register_sensitive
        from pingan.people.models import Person
        from pingan.people.selectors import people_figures, people_search

        def select(user: object, pk: object, *, reason: str = "") -> Person:
            from pingan.people.selectors import person_get

            return person_get(user=user, person_id=int(str(pk)), audit=False, reason=reason or None)

        register_sensitive(
            Person,
            fields={
                "id_number": "id_number",
                "phone": "phone",
                "name": "name",
                "former_name": "name",
                "registered_address": "address",
                "current_address": "address",
            },
            selector=select,
        )
        register_figures(people_figures, order=10)
        register_provider("people", people_search)
        from pingan.core.navigation import NavItem, perm, register

        section = _("实有人口")
        register(NavItem(section, _("人员"), "people:list", "people", perm("people.view_people"), order=20))
        register(NavItem(section, _("房屋"), "people:houses", "house", perm("people.view_people"), order=21))
        register(
            NavItem(
                section, _("户"), "people:household_list", "house-heart", perm("people.view_people"), order=21
            )
        )
        register(
            NavItem(
                section,
                _("流动人口提醒"),
                "people:floating_reminders",
                "bell",
                perm("people.view_people"),
                order=21,
            )
        )
        register(
            NavItem(
                section, _("导入花名册"), "people:import", "upload", perm("people.import_people"), order=22
            )
        )

        from pingan.core.demo import register_demo
        from pingan.people.demo import load_people

        register_demo("people", 40, load_people)

        from pingan.core.periodic import register_job
        from pingan.people.tasks import run_people_reminders

        register_job("people", run_people_reminders, every=3600)
