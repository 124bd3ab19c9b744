# No `from __future__ import annotations` here: django-ninja resolves the parameter annotations at import
# (Query[...] under @paginate, Form[...], File[...]).
"""Events API: list, detail, report, and one operation per action of the loop.

Operations that carry photos (report, report back, verify) take multipart/form-data with ``photos`` files;
the others take JSON. Every action accepts ``version`` (the version the caller saw): when the event has
changed since, or the action is not possible in its current state, the answer is 409 with the error body
``{"error": {"code": "conflict", ...}}``.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from ninja import File, Form, Query, Router, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import paginate

from pingan.accounts.rules import perm_checker
from pingan.core.api import ERROR_RESPONSES, Page
from pingan.core.ratelimit import rate_limit
from pingan.events import selectors, services
from pingan.events.models import Event
from pingan.events.schemas import (
    EventAcceptIn,
    EventCreateIn,
    EventDispatchIn,
    EventDuplicateOut,
    EventDuplicatesIn,
    EventExtensionDecisionIn,
    EventExtensionRequestIn,
    EventFilterIn,
    EventListOut,
    EventMergeIn,
    EventNoteIn,
    EventOut,
    EventPlaceIn,
    EventRateIn,
    EventReasonIn,
    EventReportBackIn,
    EventSubjectsIn,
    EventVerifyIn,
)

router = Router(tags=["events 网格事件"])


def conflicts_as_409(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except services.EventConflict as exc:
            raise HttpError(409, exc.message) from None

    return wrapper


def _photo_url(event_id: int, photo_id: int) -> str:
    return f"/api/v1/events/{event_id}/photos/{photo_id}"


def _detail(request: HttpRequest, event: Event) -> Any:
    """The event as the caller now sees it. After an action that takes it out of their sight (a department
    returning it) they get its state once more, from the event they just acted on, with no actions."""
    try:
        fresh = selectors.event_get(user=request.user, event_id=event.pk)
    except Http404:
        return _Detail(event, None)
    return _Detail(fresh, request.user)


class _Detail:
    """The event with its timeline, photos and the caller's actions, shaped for EventOut. ``new``: an event
    the caller has just reported (theirs to see; nothing merged into it or it into anything), answered from
    the instance the service returned, with the steps it wrote, instead of reading them again (a third of a
    report's cost); ``linked``:
    whether persons, houses or schools were linked (their query is skipped otherwise)."""

    def __init__(self, event: Event, user: Any, *, new: bool = False, linked: bool = True) -> None:
        self._event = event
        if new and event.new_steps is not None:  # the steps the report wrote, with their photos
            timeline = event.new_steps
        else:
            timeline = [(s, list(s.photos.all())) for s in selectors.event_steps(event=event)]
        self.steps = [
            {
                "id": s.pk,
                "action": s.action,
                "action_label": str(s.get_action_display()),
                "actor_name": s.actor_name,
                "at": s.at,
                "from_status": s.from_status,
                "to_status": s.to_status,
                "note": s.note,
                "data": s.data,
                "photos": [_photo(event.pk, p) for p in photos],
            }
            for s, photos in timeline
        ]
        if new:  # every photo of a new event came with its report step
            self.photos = [photo for step in self.steps for photo in step["photos"]]
        else:
            self.photos = [_photo(event.pk, p) for p in event.photos.all()]
        may = perm_checker(user, event) if user is not None else None
        self.actions = selectors.available_actions(user=user, event=event, may=may) if may is not None else []
        self.subjects = (
            selectors.event_subjects(user=user, event=event) if user is not None and linked else []
        )
        self.merged_into = (
            {"id": event.merged_into_id, "number": event.merged_into.number}  # type: ignore[union-attr]
            if event.merged_into_id
            else None
        )
        self.merged_events = (
            list(selectors.event_list(user=user).filter(merged_into=event).values("id", "number")[:100])
            if user is not None and not new
            else []
        )
        self.can_link_subjects = bool(
            may is not None and event.status not in ("merged", "refused") and may("events.link_subjects")
        )
        self.can_merge = bool(may is not None and event.is_open and may("events.merge_event"))
        # what EventListOut's resolvers give a list: EventOut reads attributes only
        self.category_label = EventListOut.resolve_category_label(event)
        self.status_label = EventListOut.resolve_status_label(event)
        self.late = EventListOut.resolve_late(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._event, name)


def _photo(event_id: int, photo: Any) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "kind": photo.kind,
        "content_type": photo.content_type,
        "size": photo.size,
        "url": _photo_url(event_id, photo.pk),
    }


def _searching(request: HttpRequest) -> bool:
    return bool((request.GET.get("q") or "").strip())


@router.get("/events", response={200: list[EventListOut], **ERROR_RESPONSES})
@paginate(Page)
@rate_limit("search", when=_searching)  # per user: free-text search, as on the list page
def list_events(request: HttpRequest, filters: Query[EventFilterIn]) -> Any:
    """Events the caller may see, newest first. ``late``: past the deadline while with the assignee."""
    return selectors.event_list(
        user=request.user,
        filters=selectors.EventFilter(
            status=list(filters.status),
            category=filters.category,
            source=filters.source,
            urgency=filters.urgency,
            tier=filters.tier,
            area_id=filters.area,
            department_id=filters.department,
            overdue=filters.late,
            q=filters.q,
            reported_from=filters.reported_from,
            reported_to=filters.reported_to,
        ),
    )


@router.get("/events/duplicates", response={200: list[EventDuplicateOut], **ERROR_RESPONSES})
def event_duplicates(request: HttpRequest, params: Query[EventDuplicatesIn]) -> Any:
    """Possible duplicates of a report: events you may see of the same category, within 50 m, reported in
    the last 7 days, nearest first (at most 10)."""
    from pingan.core.codes import UnknownCode, code_resolve

    try:
        category = code_resolve("event_category", params.category)
    except UnknownCode:
        category = ""
    found = selectors.event_duplicates(
        user=request.user, category=category, latitude=params.lat, longitude=params.lng
    )
    return [{"event": d.event, "distance_m": d.distance_m} for d in found]


@router.get("/events/{event_id}", response={200: EventOut, **ERROR_RESPONSES})
def get_event(request: HttpRequest, event_id: int) -> Any:
    return _Detail(selectors.event_get(user=request.user, event_id=event_id), request.user)


@router.get(
    "/events/{event_id}/photos/{photo_id}",
    response={200: None, **ERROR_RESPONSES},
    openapi_extra={
        "responses": {
            "200": {
                "description": "the image",
                "content": {
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "image/webp": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def get_photo(request: HttpRequest, event_id: int, photo_id: int) -> Any:
    photo = selectors.event_photo_get(user=request.user, event_id=event_id, photo_id=photo_id)
    return _file_response(photo)


def _file_response(photo: Any) -> FileResponse:
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="event-{photo.event_id}-{photo.pk}{_suffix(photo)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _suffix(photo: Any) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(photo.content_type, "")


@router.post("/events", response={201: EventOut, **ERROR_RESPONSES})
def create_event(
    request: HttpRequest,
    payload: Form[EventCreateIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    """Report an event (multipart/form-data; ``photos``: JPEG, PNG or WebP files)."""
    event = services.event_report(
        actor=request.user,
        area_id=payload.area_id,
        category=payload.category,
        title=payload.title,
        description=payload.description,
        source=payload.source,
        urgency=payload.urgency,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        photos=photos or [],
        person_ids=payload.person_ids,
        house_ids=payload.house_ids,
        school_ids=payload.school_ids,
    )
    linked = bool(payload.person_ids or payload.house_ids or payload.school_ids)
    return Status(201, _Detail(event, request.user, new=True, linked=linked))


def _action(path: str, summary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        return router.post(path, response={200: EventOut, **ERROR_RESPONSES}, summary=summary)(
            conflicts_as_409(view)
        )

    return decorate


@_action("/events/{event_id}/accept", "立案 accept")
def accept_event(request: HttpRequest, event_id: int, payload: EventAcceptIn) -> Any:
    event = services.event_accept(
        actor=request.user,
        event_id=event_id,
        expected_version=payload.version,
        tier=payload.tier,
        note=payload.note,
    )
    return _detail(request, event)


@_action("/events/{event_id}/refuse", "不予立案 refuse")
def refuse_event(request: HttpRequest, event_id: int, payload: EventReasonIn) -> Any:
    event = services.event_refuse(
        actor=request.user, event_id=event_id, reason=payload.reason, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/dispatch", "派遣 dispatch")
def dispatch_event(request: HttpRequest, event_id: int, payload: EventDispatchIn) -> Any:
    event = services.event_dispatch(
        actor=request.user,
        event_id=event_id,
        department_id=payload.department_id,
        area_id=payload.area_id,
        tier=payload.tier,
        working_days=payload.working_days,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/start", "签收 start")
def start_event(request: HttpRequest, event_id: int, payload: EventNoteIn) -> Any:
    event = services.event_start(
        actor=request.user, event_id=event_id, note=payload.note, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/report-back", "处置反馈 report back")
def report_back_event(
    request: HttpRequest,
    event_id: int,
    payload: Form[EventReportBackIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    event = services.event_report_back(
        actor=request.user,
        event_id=event_id,
        note=payload.note,
        photos=photos or [],
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/return", "退件 return")
def return_event(request: HttpRequest, event_id: int, payload: EventReasonIn) -> Any:
    event = services.event_return(
        actor=request.user, event_id=event_id, reason=payload.reason, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/verify", "核查 verify")
def verify_event(
    request: HttpRequest,
    event_id: int,
    payload: Form[EventVerifyIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    event = services.event_verify(
        actor=request.user,
        event_id=event_id,
        passed=payload.passed,
        note=payload.note,
        photos=photos or [],
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/rate", "评价 rate")
def rate_event(request: HttpRequest, event_id: int, payload: EventRateIn) -> Any:
    event = services.event_rate(
        actor=request.user,
        event_id=event_id,
        rating=payload.rating,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/reopen", "重新处置 reopen")
def reopen_event(request: HttpRequest, event_id: int, payload: EventReasonIn) -> Any:
    event = services.event_reopen(
        actor=request.user, event_id=event_id, reason=payload.reason, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/extension", "申请延期 request an extension")
def request_extension(request: HttpRequest, event_id: int, payload: EventExtensionRequestIn) -> Any:
    event = services.event_request_extension(
        actor=request.user,
        event_id=event_id,
        days=payload.days,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/extension/decision", "审批延期 decide an extension")
def decide_extension(request: HttpRequest, event_id: int, payload: EventExtensionDecisionIn) -> Any:
    event = services.event_decide_extension(
        actor=request.user,
        event_id=event_id,
        approve=payload.approve,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/escalate", "提交上级 escalate")
def escalate_event(request: HttpRequest, event_id: int, payload: EventReasonIn) -> Any:
    event = services.event_escalate(
        actor=request.user, event_id=event_id, reason=payload.reason, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/supervise", "督办 supervise")
def supervise_event(request: HttpRequest, event_id: int, payload: EventNoteIn) -> Any:
    event = services.event_supervise(
        actor=request.user, event_id=event_id, note=payload.note, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/place", "指定网格 place an event reported outside a grid")
def place_event(request: HttpRequest, event_id: int, payload: EventPlaceIn) -> Any:
    event = services.event_place(
        actor=request.user, event_id=event_id, area_id=payload.area_id, expected_version=payload.version
    )
    return _detail(request, event)


@_action("/events/{event_id}/subjects", "关联人员房屋学校 set persons, houses and schools")
def set_event_subjects(request: HttpRequest, event_id: int, payload: EventSubjectsIn) -> Any:
    """The centre in charge sets the persons, houses and schools (the full list; ids outside your scope →
    422)."""
    event = services.event_subjects_set(
        actor=request.user,
        event_id=event_id,
        person_ids=payload.person_ids,
        house_ids=payload.house_ids,
        school_ids=payload.school_ids,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, event)


@_action("/events/{event_id}/merge", "合并重复事件 merge a duplicate into another event")
def merge_event(request: HttpRequest, event_id: int, payload: EventMergeIn) -> Any:
    """Merge this event (a duplicate) into ``into_id``; answers the event it was merged into."""
    event = services.event_merge(
        actor=request.user,
        event_id=event_id,
        into_id=payload.into_id,
        reason=payload.reason,
        expected_version=payload.version,
        into_version=payload.into_version,
    )
    return _detail(request, event)
