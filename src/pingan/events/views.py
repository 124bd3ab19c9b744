"""Event screens: the phone report form, my tasks, the centre's triage queue, the department queue, the event
page with its timeline and action forms (htmx), the list, the map and the figures. Every read is a selector,
every write a service — the same ones the API calls."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.rules import may_write_business, perm_checker
from pingan.core.codes import code_label, code_table
from pingan.core.forms import apply_errors
from pingan.core.pagination import CappedPaginator
from pingan.core.ratelimit import rate_limit
from pingan.events import selectors, services
from pingan.events.forms import ActionForm, CategoryRuleForm, PolicyForm, ReportForm
from pingan.events.models import Event, EventCategoryRule, EventPolicy, Status, Tier
from pingan.events.rules import CENTRE_ROLES

PAGE_SIZE = 30
SUBJECT_ERROR_FIELDS = ("persons", "houses", "schools")  # the services' error keys for the links
TRIAGE_ROWS = 50  # per group on the triage page (oldest first; the list page has the rest)


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not request.user.has_perm(perm, obj):
        raise PermissionDenied


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _filters(request: HttpRequest) -> selectors.EventFilter:
    return selectors.EventFilter.from_params(request.GET)


def _decorate(events: Any) -> list[Event]:
    items = list(events)
    for event in items:
        event.category_label = code_label("event_category", event.category)
    return items


def _filter_context(request: HttpRequest) -> dict[str, Any]:
    from pingan.areas.selectors import area_choices

    query = request.GET.copy()
    query.pop("page", None)
    return {
        "statuses": Status.choices,
        "categories": [c for c in code_table("event_category") if not c.parent],
        "areas": area_choices(user=request.user, level="street")
        + area_choices(user=request.user, level="community"),
        "query": query.urlencode(),
        "selected_status": request.GET.getlist("status"),
    }


# --- lists -------------------------------------------------------------------------------------------


def _searching(request: HttpRequest) -> bool:
    return bool((request.GET.get("q") or "").strip())


@rate_limit("search", when=_searching)  # per user: free-text search (reporter, address, description)
def event_list(request: HttpRequest) -> HttpResponse:
    _require(request, "events.view_events")
    qs = selectors.event_list(user=request.user, filters=_filters(request))
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "events/event_list.html",
        {
            "page": page,
            "events": _decorate(page.object_list),
            **_filter_context(request),
            "can_report": may_write_business(request.user),
        },
    )


@rate_limit("export")
def event_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as xlsx; a large one is made by the worker and downloaded from 我的导出."""
    from pingan.core.exports import ExportJob, export_or_queue
    from pingan.core.wizards import xlsx_response
    from pingan.events.exports import EXPORTER_NAME, export_params

    _require(request, "events.view_events")
    try:
        result = export_or_queue(actor=request.user, name=EXPORTER_NAME, params=export_params(request.GET))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(f"{reverse('events:list')}?{request.GET.urlencode()}")
    if isinstance(result, ExportJob):
        messages.info(request, _("导出行数较多，已转入后台生成，完成后请在“我的导出”中下载。"))
        return redirect("core:exports")
    return xlsx_response(result.content, result.filename)


def my_tasks(request: HttpRequest) -> HttpResponse:
    _require(request, "events.view_events")
    events = _decorate(selectors.my_tasks(user=request.user)[:100])
    return render(
        request,
        "events/my_tasks.html",
        {
            "events": events,
            "can_report": may_write_business(request.user),
        },
    )


def triage(request: HttpRequest) -> HttpResponse:
    """The centre's queue: what waits to be accepted or dispatched, extensions to decide, what is late."""
    _require(request, "events.view_events")
    if getattr(request.user, "role", None) not in CENTRE_ROLES:
        raise PermissionDenied
    groups = selectors.triage_groups(user=request.user, limit=TRIAGE_ROWS)
    for group in groups.values():
        _decorate(group.events)
    reported = groups["reported"].events  # duplicates to merge before accepting
    counts = selectors.duplicate_counts(user=request.user, events=reported)
    for e in reported:
        e.duplicate_count = counts.get(e.pk, 0)  # type: ignore[attr-defined]
    return render(request, "events/triage.html", {"groups": groups, "rows": TRIAGE_ROWS})


def department_queue(request: HttpRequest) -> HttpResponse:
    _require(request, "events.view_events")
    events = _decorate(selectors.department_page(user=request.user))
    return render(request, "events/department_queue.html", {"events": events, "now": timezone.now()})


# --- report ------------------------------------------------------------------------------------------


SUBMIT_TOKEN_SECONDS = 24 * 3600


def _photos_not_kept(request: HttpRequest, form: Any) -> None:
    """A browser cannot be given back the files it sent: when a form with photos comes back with an error,
    its photos field says they were not kept, or the next submit would go without them unnoticed."""
    chosen = len([f for f in request.FILES.getlist("photos") if f])
    if chosen and form.errors and "photos" not in form.errors:
        form.add_error("photos", _("表单未提交成功，照片没有保存：请重新选择这 %(n)d 张照片") % {"n": chosen})


def report(request: HttpRequest) -> HttpResponse:
    """The phone-width report form: grid, category, a few words, camera photos, GPS."""
    from pingan.areas.selectors import area_choices

    if not may_write_business(request.user):
        raise PermissionDenied
    grids = area_choices(user=request.user, level="grid")
    show_contact = request.user.role != "grid_worker"  # type: ignore[union-attr]
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        grids=grids,
        show_contact=show_contact,
        initial={"source": services.default_source(request.user)},  # a hotline operator's is 热线
    )
    token = str(request.POST.get("submit_token") or "")[:40] or uuid.uuid4().hex
    key = f"pingan:report-submit:{request.user.pk}:{token}"
    # one form, one report: a second submit of the same form (a double tap, a retry after a slow answer)
    # finds the first one's event instead of reporting it again
    if request.method == "POST" and form.is_valid() and not cache.add(key, 0, timeout=SUBMIT_TOKEN_SECONDS):
        first = cache.get(key)
        if first:
            messages.info(request, _("该表单已提交过，这是已上报的事件"))
            return redirect("events:detail", event_id=first)
        form.add_error(None, _("该表单正在提交，请稍候查看“我的任务”或事件列表，不要重复提交"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = services.event_report(
                actor=request.user,
                area_id=data["area"],
                category=data["category"],
                title=data["title"],
                description=data["description"],
                urgency=data["urgency"],
                address=data["address"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                source=data.get("source") or None,
                reporter_name=data.get("reporter_name", ""),
                reporter_phone=data.get("reporter_phone", ""),
                photos=data["photos"],
                person_ids=request.POST.getlist("person"),
                house_ids=request.POST.getlist("house"),
                school_ids=request.POST.getlist("school"),
            )
        except ValidationError as exc:
            cache.delete(key)  # corrected, the same form may be sent again
            apply_errors(form, exc)
        except PermissionDenied:
            cache.delete(key)
            form.add_error("area", _("只能在自己负责的网格上报"))
        except BaseException:
            cache.delete(key)
            raise
        else:
            cache.set(key, event.pk, timeout=SUBMIT_TOKEN_SECONDS)
            messages.success(request, _("已上报，事件编号 %(n)s") % {"n": event.number})
            return redirect("events:detail", event_id=event.pk)
    _photos_not_kept(request, form)
    return render(
        request,
        "events/report.html",
        {
            "form": form,
            "submit_token": token,
            "may_link": request.user.has_perm("people.view_people")
            or request.user.has_perm("schools.view_schools"),
            "subject_errors": [e for f in SUBJECT_ERROR_FIELDS for e in form.errors.get(f, [])],
            # a form that comes back with an error keeps what was ticked
            "picked": selectors.subject_choices(
                user=request.user,
                given={k: request.POST.getlist(k) for k in ("person", "house", "school")},
            )
            if request.method == "POST"
            else [],
        },
    )


@require_GET
def report_duplicates(request: HttpRequest) -> HttpResponse:
    """htmx: possible duplicates of the report being written (same category, 50 m, 7 days)."""
    _require(request, "events.view_events")
    found = selectors.event_duplicates(
        user=request.user,
        category=request.GET.get("category", "")[:20],
        latitude=request.GET.get("latitude"),
        longitude=request.GET.get("longitude"),
    )
    return render(request, "events/_report_duplicates.html", {"duplicates": found})


@require_GET
@rate_limit("search")  # per user: a name or ID-number search over people
def subject_search(request: HttpRequest) -> HttpResponse:
    """htmx: persons, houses and schools in the user's scope matching a text, as checkboxes (masked)."""
    _require(request, "events.view_events")
    q = (request.GET.get("q") or request.GET.get("subject_q") or "")[:40]
    candidates = selectors.subject_candidates(user=request.user, q=q)
    return render(
        request,
        "events/_subject_candidates.html",
        {"candidates": candidates, "searched": bool(q.strip()), "too_short": len(q.strip()) == 1},
    )


# --- the event page ----------------------------------------------------------------------------------


def _event_context(request: HttpRequest, event: Event, **extra: Any) -> dict[str, Any]:
    may = perm_checker(request.user, event)
    actions = selectors.available_actions(user=request.user, event=event, may=may)
    steps = list(selectors.event_steps(event=event))
    context = {
        "event": event,
        "steps": steps,
        "photos": [p for s in steps for p in s.photos.all()],
        "actions": actions,
        "category_label": code_label("event_category", event.category),
        "form": extra.pop("form", None) or ActionForm(initial={"version": event.version}),
        "open_action": extra.pop("open_action", ""),
        "dispatch": selectors.dispatch_options(user=request.user, event=event)
        if "dispatch" in actions
        else None,
        "grids": selectors.place_options(user=request.user) if "place" in actions else [],
        "tiers": Tier.choices,
        "policy": EventPolicy.current(),
        "is_handler": request.user.role == "department_handler",  # type: ignore[union-attr]
    }
    context.update(_links_context(request, event, may))
    context.update(extra)
    return context


def _links_context(request: HttpRequest, event: Event, may: Callable[[str], bool]) -> dict[str, Any]:
    """Persons, houses and schools, duplicates and merges (docs/events.md)."""
    user = request.user
    can_link = event.status not in (Status.MERGED, Status.REFUSED) and may("events.link_subjects")
    can_merge = event.is_open and may("events.merge_event")
    duplicates = selectors.event_duplicates_of(user=user, event=event) if event.is_open else []
    for d in duplicates:
        d.mergeable = d.event.status not in (Status.MERGED, Status.REFUSED) and user.has_perm(  # type: ignore[attr-defined]
            "events.merge_event", d.event
        )
    subject_q = (request.GET.get("subject_q") or "")[:40] if can_link else ""
    merged_into_visible = bool(
        event.merged_into_id and selectors.event_list(user=user).filter(pk=event.merged_into_id).exists()
    )
    return {
        "subjects": selectors.event_subjects(user=user, event=event),
        "can_link": can_link,
        "can_merge": can_merge,
        "duplicates": duplicates,
        "merged_events": list(selectors.event_list(user=user).filter(merged_into=event)[:50]),
        "merged_into_visible": merged_into_visible,
        "subject_q": subject_q,
        "searched": bool(subject_q.strip()),
        "candidates": selectors.subject_candidates(user=user, q=subject_q)
        if subject_q
        else {"persons": [], "houses": [], "schools": []},
    }


@require_POST
def event_subjects(request: HttpRequest, event_id: int) -> HttpResponse:
    """The centre in charge sets the persons, houses and schools of the event (the ticked boxes)."""
    event = selectors.event_get(user=request.user, event_id=event_id)
    version = request.POST.get("version", "")
    try:
        services.event_subjects_set(
            actor=request.user,
            event_id=event.pk,
            person_ids=request.POST.getlist("person"),
            house_ids=request.POST.getlist("house"),
            school_ids=request.POST.getlist("school"),
            note=request.POST.get("note", "")[:300],
            expected_version=int(version) if version.isdigit() else None,
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return render(
            request,
            "events/event_detail.html",
            _event_context(request, event, subject_errors=exc.messages),
            status=400,
        )
    except services.EventConflict as exc:
        fresh = selectors.event_get(user=request.user, event_id=event_id)
        return render(
            request,
            "events/event_detail.html",
            _event_context(request, fresh, conflict=exc.message),
            status=409,
        )
    messages.success(request, _("已保存关联"))
    return redirect("events:detail", event_id=event_id)


@require_POST
def event_merge(request: HttpRequest, event_id: int) -> HttpResponse:
    """The centre in charge merges this event (a duplicate) into another one."""
    event = selectors.event_get(user=request.user, event_id=event_id)
    into, version = request.POST.get("into", ""), request.POST.get("version", "")
    if not into.isdigit():
        raise Http404
    try:
        keep = services.event_merge(
            actor=request.user,
            event_id=event.pk,
            into_id=int(into),
            reason=request.POST.get("reason", "")[:300],
            expected_version=int(version) if version.isdigit() else None,
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return render(
            request,
            "events/event_detail.html",
            _event_context(request, event, merge_errors=exc.messages),
            status=400,
        )
    except services.EventConflict as exc:
        fresh = selectors.event_get(user=request.user, event_id=event_id)
        return render(
            request,
            "events/event_detail.html",
            _event_context(request, fresh, conflict=exc.message),
            status=409,
        )
    messages.success(request, _("已将事件 %(d)s 并入 %(n)s") % {"d": event.number, "n": keep.number})
    return redirect("events:detail", event_id=keep.pk)


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(user=request.user, event_id=event_id)
    return render(request, "events/event_detail.html", _event_context(request, event))


def _run_action(request: HttpRequest, event: Event, action: str, form: ActionForm) -> Event:
    data = form.cleaned_data
    common = {"actor": request.user, "event_id": event.pk, "expected_version": data["version"]}
    if action == "accept":
        return services.event_accept(**common, tier=data["tier"] or None, note=data["note"])
    if action == "refuse":
        return services.event_refuse(**common, reason=data["reason"])
    if action == "dispatch":
        target = data["target"] or ""
        kind, _sep, pk = target.partition(":")
        if kind not in ("d", "a") or not pk.isdigit():
            raise ValidationError({"target": _("请选择派遣对象")})
        return services.event_dispatch(
            **common,
            department_id=int(pk) if kind == "d" else None,
            area_id=int(pk) if kind == "a" else None,
            tier=data["tier"] or None,
            working_days=data["working_days"],
            note=data["note"],
        )
    if action == "start":
        return services.event_start(**common, note=data["note"])
    if action == "report_back":
        return services.event_report_back(**common, note=data["note"], photos=data["photos"])
    if action == "return":
        return services.event_return(**common, reason=data["reason"])
    if action == "request_extension":
        if not data["days"]:
            raise ValidationError({"days": _("请填写延期天数")})
        return services.event_request_extension(**common, days=data["days"], reason=data["reason"])
    if action == "decide_extension":
        if data["approve"] in (None, ""):
            raise ValidationError({"approve": _("请选择审批结果：批准或驳回")})
        return services.event_decide_extension(**common, approve=bool(data["approve"]), note=data["note"])
    if action == "verify":
        if data["passed"] in (None, ""):
            raise ValidationError({"passed": _("请选择核查结果")})
        return services.event_verify(
            **common, passed=bool(data["passed"]), note=data["note"], photos=data["photos"]
        )
    if action == "rate":
        if not data["rating"]:
            raise ValidationError({"rating": _("请选择满意度")})
        return services.event_rate(**common, rating=data["rating"], note=data["note"])
    if action == "reopen":
        return services.event_reopen(**common, reason=data["reason"])
    if action == "escalate":
        return services.event_escalate(**common, reason=data["reason"])
    if action == "supervise":
        return services.event_supervise(**common, note=data["note"])
    if action == "place":
        return services.event_place(**common, area_id=request.POST.get("area", ""))
    raise Http404


ACTION_DONE = {
    "accept": gettext_lazy("已立案"),
    "refuse": gettext_lazy("已不予立案"),
    "dispatch": gettext_lazy("已派遣"),
    "start": gettext_lazy("已签收"),
    "report_back": gettext_lazy("已反馈，等待核查"),
    "return": gettext_lazy("已退件"),
    "request_extension": gettext_lazy("已提交延期申请"),
    "decide_extension": gettext_lazy("已审批延期申请"),
    "verify": gettext_lazy("已核查"),
    "rate": gettext_lazy("感谢评价"),
    "reopen": gettext_lazy("已重新处置"),
    "escalate": gettext_lazy("已提交上级"),
    "supervise": gettext_lazy("已督办"),
    "place": gettext_lazy("已指定网格，转所在街道办理"),
}


@require_POST
def event_action(request: HttpRequest, event_id: int, action: str) -> HttpResponse:
    """POST an action from the event page. htmx swaps the event panel; without JavaScript it redirects."""
    event = selectors.event_get(user=request.user, event_id=event_id)
    if action not in selectors.ACTIONS:
        raise Http404
    form = ActionForm(request.POST, request.FILES)
    template = "events/_event.html" if request.htmx else "events/event_detail.html"  # type: ignore[attr-defined]
    # errors of a form the page does not show (an action not open to the user now, a page without its
    # version) are said as a conflict, not left unseen on an unchanged page
    conflict = ""
    posted = str(request.POST.get("version", ""))
    if action not in selectors.available_actions(user=request.user, event=event):
        conflict = (
            _("事件 %(n)s 已被他人更新，请刷新后再试") % {"n": event.number}
            if posted != str(event.version)
            else ""
        ) or _("事件 %(n)s 当前为“%(s)s”，您不能执行此操作") % {
            "n": event.number,
            "s": event.get_status_display(),
        }
    elif not form.is_valid() and "version" in form.errors:
        conflict = _("页面已过期，请刷新后再试")
    if conflict:
        status = 200 if request.htmx else 409  # type: ignore[attr-defined]
        return render(request, template, _event_context(request, event, conflict=conflict), status=status)
    if not form.is_valid():
        _photos_not_kept(request, form)
        return render(request, template, _event_context(request, event, form=form, open_action=action))
    try:
        _run_action(request, event, action, form)
    except ValidationError as exc:
        apply_errors(form, exc)
        _photos_not_kept(request, form)
        return render(request, template, _event_context(request, event, form=form, open_action=action))
    except services.EventConflict as exc:
        fresh = selectors.event_get(user=request.user, event_id=event_id)
        status = 200 if request.htmx else 409  # type: ignore[attr-defined]
        kept: dict[str, Any] = {}
        if action in selectors.available_actions(user=request.user, event=fresh):
            # still possible on the fresh state: its form comes back open with what was typed, to send again
            typed = {
                k: request.POST.get(k)
                for k in ("note", "reason", "days", "working_days")
                if request.POST.get(k)
            }
            kept = {"form": ActionForm(initial={**typed, "version": fresh.version}), "open_action": action}
        return render(
            request, template, _event_context(request, fresh, conflict=exc.message, **kept), status=status
        )
    done = str(ACTION_DONE.get(action, _("已保存")))
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, done)
    try:
        fresh = selectors.event_get(user=request.user, event_id=event_id)
    except Http404:  # e.g. a department returned it: it is no longer theirs
        handler = getattr(request.user, "role", None) == "department_handler"
        target = reverse("events:department_queue" if handler else "events:list")
        if request.htmx:  # type: ignore[attr-defined]
            messages.success(request, done)
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "events/_event.html", _event_context(request, fresh, done=done))
    return redirect("events:detail", event_id=event_id)


@require_GET
def event_photo(request: HttpRequest, event_id: int, photo_id: int) -> FileResponse:
    """A photo, only for users who may see the event (never a public media URL)."""
    photo = selectors.event_photo_get(user=request.user, event_id=event_id, photo_id=photo_id)
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = "inline"
    return response


# --- figures, map ------------------------------------------------------------------------------------


@rate_limit("export", when=lambda request: request.GET.get("format") == "xlsx")
def kpis(request: HttpRequest) -> HttpResponse:
    _require(request, "events.view_events")
    group_by = request.GET.get("group", "area")
    if group_by not in selectors.GROUPS:
        group_by = "area"
    filters = _filters(request)
    if not request.GET.get("from") and not request.GET.get("to"):
        today = timezone.localdate()
        filters.reported_from = today.replace(day=1) - dt.timedelta(days=150)
        filters.reported_from = filters.reported_from.replace(day=1)
    result = selectors.event_kpis(user=request.user, filters=filters, group_by=group_by)
    if request.GET.get("format") == "xlsx":
        return _kpi_xlsx(result, filters)
    chart = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [_("结案率"), _("按期结案率"), _("返工率")]},
        "grid": {"left": 48, "right": 16, "bottom": 70, "top": 36},
        "xAxis": {"type": "category", "data": [r.label for r in result.rows], "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": [round((getattr(r, attr) or 0) * 100, 1) for r in result.rows],
            }
            for name, attr in (
                (_("结案率"), "closure_rate"),
                (_("按期结案率"), "on_time_rate"),
                (_("返工率"), "rework_rate"),
            )
        ],
    }
    return render(
        request,
        "events/kpis.html",
        {
            "result": result,
            "group_by": group_by,
            "chart": chart,
            "filters": filters,
            "groups": [
                ("area", _("辖区")),
                ("department", _("部门")),
                ("category", _("类别")),
                ("period", _("月份")),
            ],
            **_filter_context(request),
        },
    )


def _kpi_xlsx(result: selectors.KpiResult, filters: selectors.EventFilter) -> HttpResponse:
    from pingan.core.excel import Column, write_xlsx
    from pingan.events.exports import describe_filters

    def pct(value: float | None) -> float | str:  # a number (percent), so the sheet can calculate on it
        return "" if value is None else round(value * 100, 1)

    rows = [
        [
            r.label,
            r.count,
            r.accepted,
            r.closed,
            pct(r.closure_rate),
            pct(r.on_time_rate),
            pct(r.rework_rate),
            pct(r.extension_rate),
            r.avg_handling_hours if r.avg_handling_hours is not None else "",
            round(r.avg_rating, 2) if r.avg_rating is not None else "",
            r.rated,
        ]
        for r in [*result.rows, result.total]
    ]
    columns = [
        Column(t, w)
        for t, w in (
            ("分组", 18),
            ("事件数", 8),
            ("立案数", 8),
            ("结案数", 8),
            ("结案率（%）", 10),
            ("按期结案率（%）", 12),
            ("返工率（%）", 10),
            ("延期率（%）", 10),
            ("平均办理时长（小时）", 14),
            ("满意度", 8),
            ("评价数", 8),
        )
    ]
    content = write_xlsx(
        columns=columns, rows=rows, title="网格事件办理情况", note=f"筛选：{describe_filters(filters)}"
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="event-kpis.xlsx"'
    return response


def event_map(request: HttpRequest) -> HttpResponse:
    from pingan.areas.selectors import AreaFilter, area_list

    _require(request, "events.view_events")
    filters = _filters(request)
    counts = selectors.grid_event_counts(user=request.user, filters=filters)
    grids = area_list(user=request.user, filters=AreaFilter(level="grid")).exclude(boundary__isnull=True)
    shapes = [
        {
            "id": g.pk,
            "name": g.name,
            "code": g.code,
            "geometry": g.boundary,
            "count": counts.get(g.pk, 0),
            "url": f"{reverse('events:list')}?area={g.pk}",
        }
        for g in grids[:3000]
    ]
    return render(
        request,
        "events/map.html",
        {
            "shapes": shapes,
            "data_url": reverse("events:map_data"),
            **_filter_context(request),
        },
    )


@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    _require(request, "events.view_events")
    bbox = None
    parts = request.GET.get("bbox", "").split(",")
    if len(parts) == 4:
        try:
            west, south, east, north = (float(p) for p in parts)
            bbox = (west, south, east, north)
        except ValueError:
            bbox = None
    zoom = _int(request.GET.get("zoom")) or 13
    return JsonResponse(
        selectors.map_markers(user=request.user, filters=_filters(request), bbox=bbox, zoom=zoom)
    )


# --- configuration -----------------------------------------------------------------------------------


def rules(request: HttpRequest) -> HttpResponse:
    """The centre's rules: deadlines per tier, reminder and escalation times, and the tier per category."""
    from pingan.areas.selectors import department_list

    _require(request, "events.configure")
    policy = EventPolicy.current()
    departments = [(d.pk, d.name) for d in department_list(user=request.user)]
    policy_form = PolicyForm(request.POST if request.POST.get("form") == "policy" else None, instance=policy)
    if request.method == "POST" and request.POST.get("form") == "policy" and policy_form.is_valid():
        try:
            services.event_policy_update(actor=request.user, data=policy_form.cleaned_data)
        except ValidationError as exc:
            apply_errors(policy_form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("已保存办理规则"))
            return redirect("events:rules")
    if request.method == "POST" and request.POST.get("form") == "category":
        form = CategoryRuleForm(request.POST, departments=departments)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.category_rule_save(
                    actor=request.user,
                    category=data["category"],
                    tier=data["tier"],
                    working_days=data["working_days"],
                    public=data["public"],
                    default_department_id=data["default_department"],
                )
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, _("已保存类别规则"))
            return redirect("events:rules")
        messages.error(request, _("类别规则填写不正确"))
    existing = {r.category: r for r in selectors.category_rule_list()}
    rows = []
    for item in code_table("event_category"):
        rule = existing.get(item.code)
        effective = selectors.category_rule(item.code, existing)  # as saved, not as cached
        rows.append(
            {
                "item": item,
                "rule": rule,
                "effective": effective,
                "form": CategoryRuleForm(
                    departments=departments,
                    auto_id=f"id_c{item.code}_%s",
                    initial={
                        "category": item.code,
                        "tier": (rule or effective or EventCategoryRule(tier=Tier.ORDINARY)).tier,
                        "working_days": rule.working_days if rule else None,
                        "public": rule.public if rule else True,
                        "default_department": rule.default_department_id if rule else None,
                    },
                ),
            }
        )
    return render(request, "events/rules.html", {"policy_form": policy_form, "rows": rows, "policy": policy})


def open311_keys(request: HttpRequest) -> HttpResponse:
    """The system administrator issues and revokes the Open311 api_keys of citizens' applications."""
    from pingan.events.models import Open311Client

    _require(request, "events.manage_open311_keys")
    context: dict[str, Any] = {}
    if request.method == "POST":
        revoke = _int(request.POST.get("revoke"))
        if revoke:
            client = Open311Client.objects.filter(pk=revoke).first()
            if client is None:
                raise Http404
            services.open311_key_revoke(actor=request.user, client_id=client.pk)
            messages.success(request, _("已吊销 %(n)s 的密钥") % {"n": client.name})
            return redirect("events:open311_keys")
        try:
            client, key = services.open311_key_create(actor=request.user, name=request.POST.get("name", ""))
        except ValidationError as exc:
            context["error"] = "；".join(exc.messages)
        else:
            context.update({"new_client": client, "new_key": key})
    context["clients"] = list(Open311Client.objects.order_by("revoked_at", "name"))
    return render(request, "events/open311_keys.html", context)
