"""Pages: person list, person page (一人一档, with tabs), house and household pages, forms, the import
wizard, export. They call the same selectors and services as the API and the importer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingan.areas.models import Area
from pingan.areas.selectors import places_in_scope
from pingan.core import wizards
from pingan.core.codes import code_label
from pingan.core.forms import apply_errors
from pingan.core.masking import mask_name
from pingan.core.ratelimit import rate_limit
from pingan.core.wizards import ImportWizard, xlsx_response
from pingan.people import importers, selectors, services
from pingan.people.exports import EXPORTER_NAME, export_params
from pingan.people.forms import (
    FloatingForm,
    HouseForm,
    HouseholderForm,
    HouseholdForm,
    HouseholdMemberForm,
    ImportForm,
    MoveInForm,
    OccupancyEndForm,
    OccupancyStartForm,
    OverseasForm,
    PersonForm,
)
from pingan.people.tabs import house_sections_for, tabs_for


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _searching(request: HttpRequest) -> bool:
    return bool(request.GET.get("q", "").strip())


@rate_limit("search", when=_searching)  # per user: search by name, ID number, phone
def person_list(request: HttpRequest) -> HttpResponse:
    _require(request, "people.view_people")
    filters = selectors.PersonFilter.from_params(request.GET)
    page = selectors.person_pages(user=request.user, filters=filters).get_page(request.GET.get("page"))
    return render(
        request,
        "people/person_list.html",
        {
            "page": page,
            "filters": filters,
            "query": request.GET.urlencode(),
            "can_write": request.user.has_perm("people.write_people"),
            "can_export": request.user.has_perm("people.export_people"),
            "categories": [
                ("registered", _("户籍人口")),
                ("floating", _("流动人口")),
                ("overseas", _("境外人员")),
                ("left_behind", _("留守人员")),
            ],
        },
    )


def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    _require(request, "people.view_people")
    person = selectors.person_get(user=request.user, person_id=person_id)
    labels = {
        key: code_label(key, getattr(person, key))
        for key in (
            "sex",
            "ethnic_group",
            "political_status",
            "education",
            "marital_status",
            "nationality",
            "religion",
            "id_type",
        )
    }
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "labels": labels,
            "categories": [code_label("person_category", c) for c in person.categories],
            "history": selectors.person_history(person=person)[:50],
            "occupancies": person.occupancies.select_related("house")[:20],
            "floating": person.floating_records.select_related("landlord")[:10],
            "overseas": [
                _labelled(o, nationality_label=code_label("nationality", o.nationality))
                for o in person.overseas_records.all()[:10]
            ],
            "membership": selectors.person_household(user=request.user, person=person),
            "duplicates": selectors.person_duplicates(user=request.user, person=person)[:10],
            "tabs": tabs_for(request.user, person),
            "can_manage": request.user.has_perm("people.manage_person", person),
            "today": timezone.localdate(),
        },
    )


def _labelled(obj: Any, **labels: str) -> Any:
    for key, value in labels.items():
        setattr(obj, key, value)
    return obj


def person_edit(request: HttpRequest, person_id: int | None = None) -> HttpResponse:
    _require(request, "people.write_people")
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False) if person_id else None
    initial: dict[str, Any] = {}
    if person is not None:
        initial = {f: getattr(person, f) for f in services.PERSON_FIELDS if f != "household_consistent"}
        initial["area"] = person.area_id
    areas = list(places_in_scope(request.user))
    form = PersonForm(request.POST or None, initial=initial, areas=areas)
    if request.method == "POST" and form.is_valid():
        area = next((a for a in areas if str(a.pk) == form.cleaned_data["area"]), None)
        try:
            if area is None:
                raise Http404
            if person is None:
                # 登记 is for someone new: a number that already has a record in the user's care is opened
                # and edited there, never overwritten from an empty form (the API and the roster upsert)
                same = services.find_by_id_number(str(form.cleaned_data.get("id_number") or ""))
                if same is not None and request.user.has_perm("people.manage_person", same):
                    known = _("该证件号码已有档案（档案号 #%(n)d），请在该档案中修改，不要重复登记")
                    raise ValidationError({"id_number": known % {"n": same.pk}})
                person, _created = services.person_register(
                    actor=request.user, area=area, data=form.data_for_service()
                )
            else:
                services.person_update(actor=request.user, person_id=person.pk, data=form.data_for_service())
                if person.area_id != area.pk:
                    services.person_move_in(actor=request.user, person_id=person.pk, area=area)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})


def person_move_out(request: HttpRequest, person_id: int) -> HttpResponse:
    _require(request, "people.write_people")
    selectors.person_get(user=request.user, person_id=person_id, audit=False)  # 404: missing or forbidden
    if request.method != "POST":
        return redirect("people:detail", person_id=person_id)
    try:
        services.person_move_out(
            actor=request.user,
            person_id=person_id,
            status=request.POST.get("status", "moved_out"),
            note=request.POST.get("note", "")[:300],
            on=_posted_date(request.POST.get("on", "")),
        )
        messages.success(request, _("已办理注销"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("people:detail", person_id=person_id)


def _posted_date(value: str) -> dt.date | None:
    """A date input's value (YYYY-MM-DD); empty is None (the service's default)."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({"on": [_("请输入有效的日期")]}) from None


def person_merge(request: HttpRequest, person_id: int) -> HttpResponse:
    _require(request, "people.write_people")
    selectors.person_get(user=request.user, person_id=person_id, audit=False)  # 404: missing or forbidden
    if request.method != "POST":
        return redirect("people:detail", person_id=person_id)
    other = request.POST.get("merge_id", "")
    if not other.isdigit():
        raise Http404
    try:
        services.person_merge(
            actor=request.user,
            keep_id=person_id,
            merge_id=int(other),
            reason=request.POST.get("reason", "")[:200],
        )
        messages.success(request, _("已合并"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("people:detail", person_id=person_id)


@rate_limit("export")
def person_export_view(request: HttpRequest) -> HttpResponse:
    _require(request, "people.export_people")
    from pingan.core.exports import ExportJob, export_or_queue

    reveal = request.GET.get("reveal") == "1"
    params = export_params(request.GET, reveal=reveal, reason=request.GET.get("reason", ""))
    try:
        # more than PINGAN_EXPORT_SYNC_MAX_ROWS rows: made by the worker, downloaded from 我的导出
        result = export_or_queue(actor=request.user, name=EXPORTER_NAME, params=params)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("people:list")
    if isinstance(result, ExportJob):
        messages.info(request, _("导出行数较多，已转入后台生成，完成后请在“我的导出”中下载。"))
        return redirect("core:exports")
    return xlsx_response(result.content, result.filename)


@rate_limit("search", when=_searching)
def house_list(request: HttpRequest) -> HttpResponse:
    _require(request, "people.view_people")
    q = request.GET.get("q", "").strip()[:60]
    page = Paginator(selectors.house_list(user=request.user, q=q), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "people/house_list.html",
        {"page": page, "q": q, "can_write": request.user.has_perm("people.write_people")},
    )


def house_detail(request: HttpRequest, house_id: int) -> HttpResponse:
    _require(request, "people.view_people")
    house = selectors.house_get(user=request.user, house_id=house_id)
    return render(
        request,
        "people/house_detail.html",
        {
            "house": house,
            "residents": selectors.house_residents(user=request.user, house=house)[:200],
            "occupancies": selectors.house_occupancies(user=request.user, house=house)[:200],
            "households": selectors.household_list(user=request.user).filter(house=house),
            "sections": house_sections_for(request.user, house),
            "can_manage": request.user.has_perm("people.manage_person", house),
        },
    )


def house_edit(request: HttpRequest, house_id: int | None = None) -> HttpResponse:
    """登记房屋, or 编辑 a house (its grid stays: a house moves grid only with the areas' own changes)."""
    _require(request, "people.write_people")
    house = selectors.house_get(user=request.user, house_id=house_id) if house_id else None
    if house is not None and not request.user.has_perm("people.manage_person", house):
        raise PermissionDenied
    areas = list(places_in_scope(request.user))
    initial = {f: getattr(house, f) for f in services.HOUSE_FIELDS} | {"area": house.area_id} if house else {}
    form = HouseForm(request.POST or None, areas=areas, initial=initial)
    if house is not None:
        form.fields["area"].disabled = True
        form.fields["area"].choices = [(house.area_id, house.area.name)]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        area_id = str(data.pop("area"))  # popped once: the generator below reads it for every area
        try:
            if house is not None:
                house = services.house_update(actor=request.user, house_id=house.pk, data=data)
            else:
                area = next((a for a in areas if str(a.pk) == area_id), None)
                if area is None:
                    raise Http404
                house = services.house_create(actor=request.user, area=area, data=data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("people:house", house_id=house.pk)
    return render(request, "people/house_form.html", {"form": form, "house": house})


def _area_param(request: HttpRequest, areas: list[Area]) -> int | None:
    """The list's ``area`` filter: one of ``areas`` (the user's communities and grids), else none."""
    area = request.GET.get("area", "").strip()
    return int(area) if area.isdigit() and any(str(a.pk) == area for a in areas) else None


def _reminder_kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind", "expiring")
    return kind if kind in selectors.REMINDER_KINDS else "expiring"


def _searching_householder(request: HttpRequest) -> bool:
    return bool(request.GET.get("householder", "").strip())


@rate_limit("search", when=_searching_householder)  # a search of people, as the person list's
def household_list(request: HttpRequest) -> HttpResponse:
    _require(request, "people.view_people")
    number = request.GET.get("number", "").strip()[:30]
    householder = request.GET.get("householder", "").strip()[:60]
    areas = list(places_in_scope(request.user))
    area_id = _area_param(request, areas)
    paginator = selectors.household_pages(
        user=request.user, number=number, area_id=area_id, householder=householder
    )
    return render(
        request,
        "people/household_list.html",
        {
            "page": paginator.get_page(request.GET.get("page")),
            "number": number,
            "householder": householder,
            "area_id": area_id,
            "areas": areas,
            "can_write": request.user.has_perm("people.write_people"),
        },
    )


def floating_reminders(request: HttpRequest) -> HttpResponse:
    """流动人口提醒: residence permits ending soon and residents not re-verified in time, counted per grid and
    listed (the same rules as the worker's notifications: ``selectors.expiring_permits`` and
    ``selectors.overdue_verifications``); a re-verification is one click."""
    _require(request, "people.view_people")
    from pingan.core.pagination import CappedPaginator

    kind = _reminder_kind(request)
    areas = list(places_in_scope(request.user))
    area_id = _area_param(request, areas)
    today = timezone.localdate()
    records = selectors.floating_reminders(user=request.user, kind=kind, today=today, area_id=area_id)
    counts = selectors.floating_reminder_counts(user=request.user, today=today)
    page = CappedPaginator(records, 50).get_page(request.GET.get("page"))
    for record in page:
        record.days_left = (record.valid_to - today).days if record.valid_to else None
        record.can_manage = request.user.has_perm("people.manage_person", record.person)
    return render(
        request,
        "people/floating_reminders.html",
        {
            "kind": kind,
            "page": page,
            "counts": counts,
            "totals": {k: sum(c[k] for c in counts) for k in selectors.REMINDER_KINDS},
            "area_id": area_id,
            "areas": areas,
            "permit_days": selectors.permit_reminder_days(),
            "reverify_days": selectors.reverify_days(),
            "can_export": request.user.has_perm("people.export_people"),
        },
    )


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def floating_reminders_export(request: HttpRequest) -> HttpResponse:
    """The reminders list of one kind as an xlsx (masked, audited; at most a few thousand rows: at once)."""
    _require(request, "people.export_people")
    from pingan.people.exports import floating_reminder_export

    kind = _reminder_kind(request)
    area_id = _area_param(request, list(places_in_scope(request.user)))
    content = floating_reminder_export(actor=request.user, kind=kind, area_id=area_id)
    return xlsx_response(content, f"floating-{kind}-{timezone.localdate():%Y%m%d}.xlsx")


def floating_verify(request: HttpRequest, record_id: int) -> HttpResponse:
    """核查 from the reminders page: the record's last verification set to today (``floating_update``)."""
    _require(request, "people.write_people")
    if request.method != "POST":
        return redirect("people:floating_reminders")
    try:
        record = services.floating_update(
            actor=request.user, record_id=record_id, data={"last_verified_on": timezone.localdate()}
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已记录核查：%(name)s") % {"name": mask_name(record.person.name)})
    back = request.POST.get("next", "")
    if back.startswith("/people/floating/reminders/") and "//" not in back:
        return redirect(back)
    return redirect("people:floating_reminders")


def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    _require(request, "people.view_people")
    household = selectors.household_get(user=request.user, household_id=household_id)
    members = selectors.household_members(user=request.user, household=household)
    for m in members:
        m.relation_label = code_label("household_relation", m.relation)
    return render(
        request,
        "people/household_detail.html",
        {
            "household": household,
            "members": members,
            "can_manage": request.user.has_perm("people.manage_person", household),
        },
    )


# --- forms for occupancy, households, floating and overseas records, moving in --------------------------
# Each answers 404 for an object outside the user's scope (or one the user may not manage), offers only
# choices inside the scope, writes through the service (audited) and shows its errors next to the fields.


def _managed(request: HttpRequest, obj: Any) -> None:
    """Writing needs ``people.write_people``; an object the user may not manage answers 404."""
    _require(request, "people.write_people")
    if not request.user.has_perm("people.manage_person", obj):
        raise Http404


def _picker(request: HttpRequest, field: str) -> dict[str, Any]:
    """The search beside a person field: candidates in sight, each a link that fills the field."""
    q = request.GET.get("q", "").strip()[:60]
    found = []
    for p in selectors.person_candidates(user=request.user, q=q):
        params = request.GET.copy()
        params[field] = str(p.pk)
        found.append({"person": p, "url": f"?{params.urlencode()}"})
    return {"q": q, "candidates": found, "searched": len(q) >= 2, "field": field}


def _form_page(request: HttpRequest, form: Any, *, title: str, back: str, **extra: Any) -> HttpResponse:
    return render(request, "people/record_form.html", {"form": form, "title": title, "back": back, **extra})


def _initial_pick(request: HttpRequest, field: str) -> dict[str, str]:
    value = request.GET.get(field, "").strip()
    return {field: value} if value.isdigit() else {}


@rate_limit("search", when=_searching)  # the person picker searches like the list
def occupancy_add(request: HttpRequest, house_id: int) -> HttpResponse:
    """以房管人: a person starts living in (or owning, or renting) this house."""
    house = selectors.house_get(user=request.user, house_id=house_id)
    _managed(request, house)
    form = OccupancyStartForm(
        request.POST or None,
        user=request.user,
        initial={"start": timezone.localdate(), **_initial_pick(request, "person")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.occupancy_start(
                actor=request.user,
                person_id=form.cleaned_data["person"].pk,
                house_id=house.pk,
                role=form.cleaned_data["role"],
                start=form.cleaned_data["start"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记居住关系"))
            return redirect("people:house", house_id=house.pk)
    back = reverse("people:house", args=[house.pk])
    return _form_page(
        request,
        form,
        title=_("登记居住人员"),
        back=back,
        subject=house.address,
        picker=_picker(request, "person"),
    )


def occupancy_end(request: HttpRequest, occupancy_id: int) -> HttpResponse:
    occupancy = selectors.occupancy_get(user=request.user, occupancy_id=occupancy_id)
    _managed(request, occupancy.person)
    form = OccupancyEndForm(request.POST or None, initial={"end": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.occupancy_end(
                actor=request.user, occupancy_id=occupancy.pk, end=form.cleaned_data["end"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已办理迁出"))
            return redirect("people:house", house_id=occupancy.house_id)
    from pingan.core.masking import mask_name

    subject = (
        f"{mask_name(occupancy.person.name)} · {occupancy.house.address} · {occupancy.get_role_display()}"
    )
    back = reverse("people:house", args=[occupancy.house_id])
    return _form_page(request, form, title=_("结束居住关系"), back=back, subject=subject)


@rate_limit("search", when=_searching)  # the person picker searches like the list
def household_create(request: HttpRequest) -> HttpResponse:
    _require(request, "people.write_people")
    areas = list(places_in_scope(request.user))
    initial: dict[str, Any] = _initial_pick(request, "householder")
    house_param = request.GET.get("house", "")
    back = reverse("people:household_list")
    if house_param.isdigit():
        house = selectors.house_get(user=request.user, house_id=int(house_param))  # 404 outside the scope
        initial.update(house=house.code or str(house.pk), area=house.area_id)
        back = reverse("people:house", args=[house.pk])
    form = HouseholdForm(request.POST or None, user=request.user, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        area = next((a for a in areas if str(a.pk) == form.cleaned_data["area"]), None)
        if area is None:
            raise Http404
        try:
            household = services.household_create(
                actor=request.user,
                area=area,
                number=form.cleaned_data["number"],
                householder=form.cleaned_data["householder"] or None,
                house=form.cleaned_data["house"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已建户"))
            return redirect("people:household", household_id=household.pk)
    return _form_page(
        request,
        form,
        title=_("新建户"),
        back=back,
        picker=_picker(request, "householder"),
    )


@rate_limit("search", when=_searching)  # the person picker searches like the list
def household_member_add(request: HttpRequest, household_id: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, household_id=household_id)
    _managed(request, household)
    form = HouseholdMemberForm(
        request.POST or None, user=request.user, initial=_initial_pick(request, "person")
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = services.household_add_member(
                actor=request.user,
                household_id=household.pk,
                person_id=form.cleaned_data["person"].pk,
                relation=form.cleaned_data["relation"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            before = member.previous_relation  # type: ignore[attr-defined]
            if before is None:
                messages.success(request, _("已添加户成员"))
            elif before == member.relation:
                messages.info(request, _("该人员已是本户成员，与户主关系未变"))
            else:
                messages.success(
                    request,
                    _("该人员已是本户成员：与户主关系由“%(a)s”改为“%(b)s”")
                    % {
                        "a": code_label("household_relation", before),
                        "b": code_label("household_relation", member.relation),
                    },
                )
            return redirect("people:household", household_id=household.pk)
    return _form_page(
        request,
        form,
        title=_("添加户成员"),
        back=reverse("people:household", args=[household.pk]),
        subject=_("户号 %(n)s") % {"n": household.number},
        picker=_picker(request, "person"),
    )


def household_member_remove(request: HttpRequest, household_id: int) -> HttpResponse:
    """移出户成员 (POST from the household page; the person in ``person``)."""
    household = selectors.household_get(user=request.user, household_id=household_id)
    _managed(request, household)
    if request.method != "POST":
        return redirect("people:household", household_id=household.pk)
    person_id = request.POST.get("person", "")
    if not person_id.isdigit() or len(person_id) > 18:
        raise Http404
    try:
        services.household_remove_member(
            actor=request.user, household_id=household.pk, person_id=int(person_id)
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已移出户成员"))
    return redirect("people:household", household_id=household.pk)


def household_householder(request: HttpRequest, household_id: int) -> HttpResponse:
    """变更户主: a member becomes the householder; the former one stays with the relation chosen here."""
    household = selectors.household_get(user=request.user, household_id=household_id)
    _managed(request, household)
    members = selectors.household_members(user=request.user, household=household)
    form = HouseholderForm(request.POST or None, members=members, householder_id=household.householder_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_change_householder(
                actor=request.user,
                household_id=household.pk,
                person_id=int(form.cleaned_data["person"]),
                former_relation=form.cleaned_data.get("former_relation", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已变更户主"))
            return redirect("people:household", household_id=household.pk)
    return _form_page(
        request,
        form,
        title=_("变更户主"),
        back=reverse("people:household", args=[household.pk]),
        subject=_("户号 %(n)s") % {"n": household.number},
    )


@rate_limit("search", when=_searching)  # the person picker searches like the list
def floating_edit(request: HttpRequest, person_id: int, record_id: int | None = None) -> HttpResponse:
    """Register a floating-population record, or correct/renew one (``record_id``)."""
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False)
    _managed(request, person)
    record = selectors.floating_get(user=request.user, record_id=record_id) if record_id else None
    if record is not None and record.person_id != person.pk:
        raise Http404
    initial: dict[str, Any] = {"registered_on": timezone.localdate()}
    if record is not None:
        initial = {k: getattr(record, k) for k in services.FLOATING_FIELDS if k != "landlord"}
        initial["landlord"] = str(record.landlord_id or "")
    initial.update(_initial_pick(request, "landlord"))
    form = FloatingForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if record is None:
                services.floating_register(
                    actor=request.user, person_id=person.pk, data=form.data_for_service()
                )
            else:
                services.floating_update(
                    actor=request.user, record_id=record.pk, data=form.data_for_service()
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("people:detail", person_id=person.pk)
    from pingan.core.masking import mask_name

    return _form_page(
        request,
        form,
        title=_("修改流动人口登记") if record else _("流动人口登记"),
        back=reverse("people:detail", args=[person.pk]),
        subject=mask_name(person.name),
        picker=_picker(request, "landlord"),
        picker_label=_("查找房东"),
    )


def overseas_edit(request: HttpRequest, person_id: int, record_id: int | None = None) -> HttpResponse:
    """Register an overseas record, or correct one (``record_id``)."""
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False)
    _managed(request, person)
    record = selectors.overseas_get(user=request.user, record_id=record_id) if record_id else None
    if record is not None and record.person_id != person.pk:
        raise Http404
    initial = {k: getattr(record, k) for k in services.OVERSEAS_FIELDS} if record is not None else {}
    form = OverseasForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if record is None:
                services.overseas_register(actor=request.user, person_id=person.pk, data=form.cleaned_data)
            else:
                services.overseas_update(actor=request.user, record_id=record.pk, data=form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("people:detail", person_id=person.pk)
    from pingan.core.masking import mask_name

    return _form_page(
        request,
        form,
        title=_("修改境外人员登记") if record else _("境外人员登记"),
        back=reverse("people:detail", args=[person.pk]),
        subject=mask_name(person.name),
    )


def person_move_in_view(request: HttpRequest, person_id: int) -> HttpResponse:
    """迁入: a person (re-)registered in a grid of the user's scope, optionally into a house."""
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False)
    _managed(request, person)
    areas = list(places_in_scope(request.user))
    form = MoveInForm(
        request.POST or None,
        user=request.user,
        areas=areas,
        initial={"area": person.area_id, "on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        area = next((a for a in areas if str(a.pk) == form.cleaned_data["area"]), None)
        if area is None:
            raise Http404
        try:
            services.person_move_in(
                actor=request.user,
                person_id=person.pk,
                area=area,
                house=form.cleaned_data["house"],
                note=form.cleaned_data["note"],
                on=form.cleaned_data["on"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已办理迁入"))
            return redirect("people:detail", person_id=person.pk)
    from pingan.core.masking import mask_name

    return _form_page(
        request,
        form,
        title=_("办理迁入"),
        back=reverse("people:detail", args=[person.pk]),
        subject=mask_name(person.name),
    )


def import_template(request: HttpRequest) -> HttpResponse:
    _require(request, "people.import_people")
    return xlsx_response(importers.roster_template(), "roster-template.xlsx")


def _large_roster(request: HttpRequest, name: str, data: bytes, table: Any) -> HttpResponse | None:
    """A roster too large to preview inside the request goes to the worker, with a progress bar."""
    if len(table.rows) <= importers.sync_max_rows():
        return None
    job = importers.import_job_create(actor=request.user, filename=name, data=data, rows=len(table.rows))
    return redirect("people:import_job", job_id=job.pk)


WIZARD = ImportWizard(
    key="people_import",
    title=gettext_lazy("导入人员花名册"),
    help=gettext_lazy(
        "按身份证号更新或新增；同一文件重复导入不会产生重复档案。必填列：姓名、公民身份号码、所属网格。"
        "身份证号请以文本格式保存（Excel 把 18 位数字当作数字保存时末尾会变成 0，这样的行会被拒绝）。"
    ),
    columns=importers.ROSTER_COLUMNS,
    run=importers.people_import,
    form=ImportForm,
    permission="people.import_people",
    template_url="people:import_template",
    errors_url="people:import_errors",
    large=_large_roster,
)


def import_wizard(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run, errors listed, error report downloadable) → commit (core.wizards); a large
    roster runs in the background (``import_job``)."""
    return wizards.import_wizard(request, WIZARD)


def _own_import_job(request: HttpRequest, job_id: int) -> Any:
    _require(request, "people.import_people")
    from pingan.people.models import ImportJob

    return get_object_or_404(ImportJob, pk=job_id, user=request.user)  # nobody else's job: 404


def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A large roster's preview or import as the worker runs it: the progress (the page asks again every two
    seconds while it runs), then the result as the wizard shows it, with 确认导入 after a preview."""
    job = _own_import_job(request, job_id)
    context = {"job": job, "result": importers.import_job_result(job)}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "people/_import_job.html", context)
    return render(request, "people/import_job.html", context)


@require_POST
def import_job_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    _own_import_job(request, job_id)
    try:
        job = importers.import_job_commit(actor=request.user, job_id=job_id)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("people:import")
    return redirect("people:import_job", job_id=job.pk)


def import_job_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_import_job(request, job_id)
    result = importers.import_job_result(job) or importers.PeopleImportResult()
    return xlsx_response(importers.error_report(result, filename=job.filename), "import-errors.xlsx")


def import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD)
