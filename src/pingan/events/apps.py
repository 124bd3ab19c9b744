from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "pingan.events"
    label = "events"
    verbose_name = _("网格事件")

    def ready(self) -> None:
        from pingan.events.services import seed_category_rules

        post_migrate.connect(seed_category_rules, sender=self, dispatch_uid="pingan_events_seed_rules")

        from pingan.core.periodic import register_job
        from pingan.events.tasks import run_event_jobs

        register_job("events", run_event_jobs, every=60)
        from pingan.events.stats import run_stats_job

        register_job("event_stats", run_stats_job, every=60)

        from pingan.core.sensitive import register_sensitive
        from pingan.events.models import Event

        def select(user: object, pk: object) -> Event:
            from pingan.events.selectors import event_get

            return event_get(user=user, event_id=int(str(pk)))

        register_sensitive(
            Event, fields={"reporter_name": "name", "reporter_phone": "phone"}, selector=select
        )

        from pingan.accounts.roles import Role
        from pingan.accounts.rules import may_write_business
        from pingan.core.navigation import NavItem, perm, register
        from pingan.core.search import register_provider
        from pingan.core.selectors import register_figures
        from pingan.events.selectors import event_figures, event_search

        def role_in(*roles: str) -> Callable[[Any], bool]:
            return lambda user: bool(getattr(user, "is_authenticated", False) and user.role in roles)

        section = _("网格事件")
        register(NavItem(section, _("上报事件"), "events:report", "camera", may_write_business, order=30))
        register(
            NavItem(section, _("我的任务"), "events:my_tasks", "check2-square", may_write_business, order=31)
        )
        register(
            NavItem(
                section,
                _("受理中心"),
                "events:triage",
                "inboxes",
                role_in(Role.COMMANDER, Role.STREET_STAFF),
                order=32,
            )
        )
        register(
            NavItem(
                section,
                _("部门待办"),
                "events:department_queue",
                "briefcase",
                role_in(Role.DEPARTMENT_HANDLER),
                order=33,
            )
        )
        register(
            NavItem(section, _("事件列表"), "events:list", "list-ul", perm("events.view_events"), order=34)
        )
        register(
            NavItem(section, _("事件地图"), "events:map", "geo-alt", perm("events.view_events"), order=35)
        )
        register(
            NavItem(section, _("事件统计"), "events:kpis", "bar-chart", perm("events.view_events"), order=36)
        )
        register(
            NavItem(section, _("办理规则"), "events:rules", "sliders", perm("events.configure"), order=37)
        )
        register(
            NavItem(
                _("系统管理"),
                _("Open311 接入"),
                "events:open311_keys",
                "key",
                perm("events.manage_open311_keys"),
                order=85,
            )
        )
        from pingan.events.selectors import house_events_section, person_events_tab, school_events_section
        from pingan.people.tabs import PersonTab, register_house_section, register_tab
        from pingan.schools.selectors import SCHOOL_SECTIONS

        register_tab(
            PersonTab("events", _("事件"), "events/_subject_events.html", person_events_tab, order=40)
        )
        register_house_section(
            PersonTab("events", _("事件"), "events/_subject_events.html", house_events_section, order=40)
        )
        SCHOOL_SECTIONS.register(
            PersonTab("events", _("事件"), "events/_subject_events.html", school_events_section, order=40)
        )
        register_figures(event_figures, order=20)
        register_provider("events", event_search)

        from pingan.core.demo import register_demo
        from pingan.events.demo import link_demo_schools, load_events

        register_demo("events", 50, load_events)
        register_demo("event_schools", 55, link_demo_schools)
