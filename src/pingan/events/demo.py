"""Demo events: about 360 events over the last six months across the demo grids, in every state of the
loop, with their timelines (registered with ``core.demo`` at order 50, after areas and accounts).

Deterministic: every choice comes from ``ctx.rng``; times are offsets from the start of today, so the
same run on the same day gives the same data. Loaded once: when the table already has events the loader
does nothing (a second ``pingan demo`` changes nothing). Rows are written straight to the ORM with the
times they would have had (the services stamp "now"); deadlines come from the working-day calendar and the
category rules, so figures, queues and the map look like a district's real half year. The persona accounts
get work waiting for them: ``street1`` events to accept and dispatch, ``handler1`` tasks to sign for and
report back, ``grid1`` handled events to verify and closed ones to rate.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from pingan.accounts.models import User
from pingan.areas.models import Area, Department
from pingan.core.codes import code_table
from pingan.core.demo import DemoContext
from pingan.events.models import (
    Event,
    EventCounter,
    EventPolicy,
    EventStep,
    Source,
    Status,
    StepAction,
    Urgency,
)
from pingan.events.selectors import category_tier, deadline_days, departments_serving
from pingan.workdays.selectors import WorkCalendar

TOTAL = 360
DAYS = 182
HOUR = dt.timedelta(hours=1)

TITLES: dict[str, list[str]] = {
    "0101": ["楼顶私搭彩钢房", "小区绿地内违建棚屋", "底商违规扩建"],
    "0102": ["早市无证摊贩占用人行道", "学校门口流动摊贩", "夜市无证烧烤摊"],
    "0103": ["商户占道摆放货物", "饭店门前占道经营", "水果店占用人行道"],
    "0104": ["车辆堵塞小区出入口", "共享单车乱停乱放", "机动车占用非机动车道"],
    "0105": ["车辆压占盲道", "货物堆放占用盲道"],
    "0106": ["破损广告牌存在坠落隐患", "违规悬挂条幅"],
    "0201": ["校门口小卖部售卖三无食品", "学校周边无证餐饮"],
    "0202": ["放学时段校门口车辆拥堵", "校门口缺少减速标志"],
    "0203": ["校园周边有社会闲散人员聚集", "学生反映放学路上被拦截"],
    "0204": ["学校周边新开网吧", "校门口游戏厅接待未成年人"],
    "0301": ["楼道内有可疑物品", "夜间有可疑人员徘徊"],
    "0302": ["深夜饮酒喧哗聚集", "广场纠纷引发围观"],
    "0303": ["小区监控探头损坏", "单元门禁失灵"],
    "0304": ["出租屋人员频繁变动", "地下室违规住人"],
    "0401": ["消防通道被车辆堵塞", "楼道堆放杂物堵塞通道"],
    "0402": ["电动车楼道内充电", "飞线充电"],
    "0403": ["灭火器过期", "消火栓损坏"],
    "0404": ["群租房消防隐患", "老旧线路存在隐患"],
    "0501": ["楼上漏水引发邻里纠纷", "噪音扰邻引发争吵"],
    "0502": ["家庭赡养纠纷", "夫妻矛盾求助"],
    "0503": ["业主与物业费用纠纷", "停车位管理纠纷"],
    "0504": ["装修工人讨薪", "餐馆拖欠员工工资"],
    "0505": ["租赁合同纠纷", "宠物伤人纠纷"],
    "0601": ["工地未设安全围挡", "脚手架搭设不规范"],
    "0602": ["居民区违规存放液化气罐", "小作坊存放易燃品"],
    "0603": ["电梯故障困人隐患", "井盖缺失"],
    "0701": ["垃圾桶满溢未清运", "建筑垃圾乱倒"],
    "0702": ["夜间施工噪声扰民", "广场舞音响过大"],
    "0703": ["餐馆油烟直排", "污水外溢"],
    "0704": ["路灯损坏", "健身器材损坏"],
    "99": ["其他需协调的问题"],
}
# Department kinds that usually take each top-level category (the first that serves the grid is used).
DEPARTMENT_KINDS = {
    "01": ["law_enforcement"],
    "02": ["education", "market", "traffic", "police"],
    "03": ["police"],
    "04": ["fire", "police", "housing"],
    "05": ["judicial"],
    "06": ["housing", "law_enforcement"],
    "07": ["law_enforcement", "civil_affairs"],
    "99": ["civil_affairs"],
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华"
# Where the work-in-progress events stop.
STOP_WEIGHTS = {
    Status.REPORTED: 14,
    Status.ACCEPTED: 10,
    Status.DISPATCHED: 16,
    Status.HANDLING: 30,
    Status.HANDLED: 16,
    Status.CLOSED: 14,
}
RATINGS = [5] * 50 + [4] * 30 + [3] * 12 + [2] * 5 + [1] * 3


def _pick_weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


class _Clock:
    """Times of the steps of one event; stops the walk when the next step would be in the future."""

    def __init__(self, start: dt.datetime, now: dt.datetime) -> None:
        self.at, self.now = start, now

    def after(self, hours_low: float, hours_high: float, rng: random.Random) -> dt.datetime | None:
        candidate = self.at + dt.timedelta(hours=rng.uniform(hours_low, hours_high))
        if candidate >= self.now:
            return None
        self.at = candidate
        return candidate


def load_events(ctx: DemoContext) -> None:
    if Event.objects.exists():
        ctx.counts["events"] = Event.objects.count()
        ctx.log("事件：已有数据，跳过")
        return
    rng = ctx.rng
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    now = today  # the data ends at the start of today: reproducible within the day
    grids = list(Area.objects.filter(level="grid", active=True).order_by("code"))
    if not grids:
        ctx.log("事件：没有网格，跳过")
        return
    policy = EventPolicy.current()
    calendar = WorkCalendar.load(
        (today - dt.timedelta(days=DAYS + 7)).date(), (today + dt.timedelta(days=120)).date()
    )
    areas = {a.code: a for a in Area.objects.all()}
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "commander",
                "street1",
                "community1",
                "grid1",
                "grid2",
                "police1",
                "handler1",
                "hotline1",
            ]
        )
    }
    grid_workers = {
        m_area: u
        for u in users.values()
        if u.role == "grid_worker"
        for m_area in u.memberships.values_list("area__code", flat=True)
    }
    street_staff = {
        m_area: u
        for u in users.values()
        if u.role == "street_staff"
        for m_area in u.memberships.values_list("area__code", flat=True)
    }
    community_staff = {
        m_area: u
        for u in users.values()
        if u.role == "community_staff"
        for m_area in u.memberships.values_list("area__code", flat=True)
    }
    department_users: dict[int, User] = {}
    for user in users.values():
        for dept_id in user.memberships.exclude(department__isnull=True).values_list(
            "department_id", flat=True
        ):
            department_users.setdefault(dept_id, user)
    serving: dict[int, list[Department]] = {g.pk: list(departments_serving(g)) for g in grids}
    categories = [c.code for c in code_table("event_category") if c.code in TITLES]
    weights_by_grid = [
        6.0 if g.code in grid_workers else 3.0 if g.code.startswith(tuple(street_staff)) else 1.0
        for g in grids
    ]
    per_day: Counter[dt.date] = Counter()
    plans: list[dict[str, Any]] = []
    for index in range(TOTAL):
        grid = _pick_weighted(rng, grids, weights_by_grid)
        category = rng.choice(categories)
        stop = None
        if index % 6 == 0:  # the work in progress: recent events stopped in each state of the loop
            age_days = rng.uniform(0.05, 12)
            stop = _pick_weighted(rng, list(STOP_WEIGHTS), list(STOP_WEIGHTS.values()))
        else:
            age_days = rng.random() ** 1.35 * DAYS  # more recent events than old ones
        reported = now - dt.timedelta(days=age_days)
        reported = reported.replace(
            hour=rng.randint(7, 20), minute=rng.randint(0, 59), second=rng.randint(0, 59)
        )
        if reported >= now:
            reported = now - dt.timedelta(hours=rng.uniform(1, 12))
        plans.append({"grid": grid, "category": category, "reported": reported, "stop": stop})
    plans.sort(key=lambda p: p["reported"])
    events: list[Event] = []
    steps: list[list[EventStep]] = []
    for plan in plans:
        event, timeline = _walk(
            plan,
            rng=rng,
            now=now,
            policy=policy,
            calendar=calendar,
            areas=areas,
            grid_workers=grid_workers,
            street_staff=street_staff,
            community_staff=community_staff,
            users=users,
            department_users=department_users,
            serving=serving,
        )
        event = _with_status(event)
        # every step a user took bumped the version (system marks and the closing row do not)
        event.version = sum(1 for step in timeline if step.action not in ("overdue", "remind", "close"))
        day = timezone.localdate(event.reported_at)
        per_day[day] += 1
        event.number = f"{day:%Y%m%d}{per_day[day]:04d}"
        events.append(event)
        steps.append(timeline)
    Event.objects.bulk_create(events, batch_size=500)
    for event, timeline in zip(events, steps, strict=True):
        for step in timeline:
            step.event = event
    EventStep.objects.bulk_create([s for timeline in steps for s in timeline], batch_size=2000)
    duplicate = _demo_duplicate(events, per_day, users)
    if duplicate is not None:
        events.append(duplicate)
    for day, count in per_day.items():
        EventCounter.objects.update_or_create(day=day, defaults={"last": count})
    by_status = Counter(e.status for e in events)
    ctx.counts["events"] = len(events)
    ctx.log("事件：" + "，".join(f"{Status(s).label} {n}" for s, n in sorted(by_status.items())))


def _actor(who: User | None, fallback: str) -> dict[str, Any]:
    return {"actor": who, "actor_name": str(who) if who else fallback, "actor_role": who.role if who else ""}


def _walk(
    plan: dict[str, Any],
    *,
    rng: random.Random,
    now: dt.datetime,
    policy: EventPolicy,
    calendar: WorkCalendar,
    areas: dict[str, Area],
    grid_workers: dict[str, User],
    street_staff: dict[str, User],
    community_staff: dict[str, User],
    users: dict[str, User],
    department_users: dict[int, User],
    serving: dict[int, list[Department]],
) -> tuple[Event, list[EventStep]]:
    grid: Area = plan["grid"]
    category: str = plan["category"]
    reported: dt.datetime = plan["reported"]
    stop: str | None = plan["stop"]
    street = areas.get(grid.code[:9]) or areas[grid.code[:6]]
    community = areas.get(grid.code[:12])
    reporter = grid_workers.get(grid.code)
    source = _pick_weighted(
        rng,
        [
            Source.GRID_WORKER,
            Source.CITIZEN,
            Source.HOTLINE,
            Source.PATROL,
            Source.SCHOOL_INSPECTION,
            Source.CAMPAIGN,
        ],
        [55, 15, 12, 10, 4, 4],
    )
    if category.startswith("02") and rng.random() < 0.5:
        source = Source.SCHOOL_INSPECTION
    if source == Source.HOTLINE:
        reporter = users.get("hotline1")
    elif source != Source.GRID_WORKER:
        reporter = None if source == Source.CITIZEN else reporter
    name = phone = ""
    if source in (Source.CITIZEN, Source.HOTLINE):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    west, south, east, north = _bbox(grid)
    has_point = rng.random() < 0.85 and west is not None
    tier = category_tier(category)
    event = Event(
        title=rng.choice(TITLES[category]),
        category=category,
        tier=tier,
        source=source,
        urgency=_pick_weighted(rng, [Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL], [85, 12, 3]),
        area=grid,
        owner=street,
        address=f"{grid.name.removesuffix('网格')}{rng.randint(1, 60)}号附近",
        latitude=round(rng.uniform(south + (north - south) * 0.1, north - (north - south) * 0.1), 6)
        if has_point
        else None,
        longitude=round(rng.uniform(west + (east - west) * 0.1, east - (east - west) * 0.1), 6)
        if has_point
        else None,
        reporter=reporter,
        reporter_name=name,
        reporter_phone=phone,
        reported_at=reported,
        public_note="已上报，等待受理",
    )
    event.description = f"{event.title}。{'群众来电反映，' if source == Source.HOTLINE else ''}请核实处置。"
    timeline: list[EventStep] = []
    reporter_name = str(reporter) if reporter else ("市民" if source == Source.CITIZEN else "网格员")

    def step(
        action: str,
        at: dt.datetime,
        who: User | None,
        fallback: str,
        before: str,
        after: str,
        note: str = "",
        **data: Any,
    ) -> None:
        timeline.append(
            EventStep(
                action=action,
                at=at,
                from_status=before,
                to_status=after,
                note=note,
                data=data,
                **_actor(who, fallback),
            )
        )

    step(StepAction.REPORT, reported, reporter, reporter_name, "", Status.REPORTED, event.description)
    centre = street_staff.get(street.code) or users.get("commander")
    centre_name = str(centre) if centre else f"{street.name}综治中心"
    clock = _Clock(reported, now)
    state = Status.REPORTED
    _set(event, state)
    if stop == Status.REPORTED:
        return event, timeline

    accepted_at = clock.after(0.3, 10, rng)
    if accepted_at is None:
        return event, timeline
    if rng.random() < 0.05:
        step(
            StepAction.REFUSE, accepted_at, centre, centre_name, state, Status.REFUSED, "经核实不属于综治事件"
        )
        _set(event, Status.REFUSED)
        event.public_note = "经核实不属于综治事件"
        return event, timeline
    event.accepted_at = accepted_at
    step(StepAction.ACCEPT, accepted_at, centre, centre_name, state, Status.ACCEPTED)
    state = Status.ACCEPTED
    _set(event, state)
    event.public_note = "已受理"
    if stop == Status.ACCEPTED:
        return event, timeline
    if rng.random() < 0.03 and street.parent_id:
        at = clock.after(0.2, 2, rng)
        if at is None:
            return event, timeline
        district = areas[grid.code[:6]]
        step(
            StepAction.ESCALATE,
            at,
            centre,
            centre_name,
            state,
            state,
            "涉及多个部门，提请区级协调",
            **{"from": street.name, "to": district.name, "automatic": False},
        )
        event.owner, event.escalation_count, event.escalated_at = district, 1, at
        centre = users.get("commander")
        centre_name = str(centre) if centre else "区综治中心"

    dispatched_at = clock.after(0.2, 6, rng)
    if dispatched_at is None:
        return event, timeline
    department = _department_for(category, serving[grid.pk], rng)
    days = deadline_days(category=category, tier=event.tier, policy=policy)
    local = community_staff.get(grid.code[:12])
    handler = department_users.get(department.pk) if department else local
    handler_name = (
        str(handler)
        if handler
        else f"{department.name}处置人员"
        if department
        else f"{(community or grid).name}工作人员"
    )
    _dispatch(event, step, dispatched_at, centre, centre_name, department, community or grid, days, calendar)
    state = Status.DISPATCHED
    if rng.random() < 0.05:  # returned once, dispatched again
        at = clock.after(1, 20, rng)
        if at is None:
            return event, timeline
        step(
            StepAction.RETURN,
            at,
            handler,
            handler_name,
            state,
            Status.ACCEPTED,
            "不属于本部门职责，请重新派遣",
            **{"from": department.name if department else (community or grid).name},
        )
        event.return_count += 1
        department = None
        handler = local
        handler_name = str(handler) if handler else f"{(community or grid).name}工作人员"
        again = clock.after(0.5, 4, rng)
        if again is None:
            _set(event, Status.ACCEPTED)
            event.assignee_department = event.assignee_area = None
            event.deadline = event.deadline_days = None
            return event, timeline
        _dispatch(event, step, again, centre, centre_name, None, community or grid, days, calendar)
    _set(event, Status.DISPATCHED)
    if stop == Status.DISPATCHED:
        return _finish_open(event, timeline, step, now)

    started = clock.after(0.5, 20, rng)
    if started is None:
        return _finish_open(event, timeline, step, now)
    step(StepAction.START, started, handler, handler_name, state, Status.HANDLING)
    state = Status.HANDLING
    _set(event, state)
    event.public_note = "处置中"
    if stop == Status.HANDLING:
        return _finish_open(event, timeline, step, now)
    assert event.deadline is not None and event.dispatched_at is not None and event.deadline_days is not None
    if rng.random() < 0.08:
        at = clock.after(2, 24, rng)
        if at is None or at > event.deadline:
            return _finish_open(event, timeline, step, now)
        extra = rng.randint(2, max(2, policy.max_total_days - event.deadline_days))
        step(
            StepAction.EXTENSION_REQUEST,
            at,
            handler,
            handler_name,
            state,
            state,
            "需协调其他部门",
            days=extra,
        )
        approved = clock.after(1, 8, rng)
        if approved is None:
            event.extension_requested_days, event.extension_reason = extra, "需协调其他部门"
            return _finish_open(event, timeline, step, now)
        event.extension_days, event.extension_count = extra, 1
        deadline = calendar.add_working_days(
            timezone.localdate(event.dispatched_at), event.deadline_days + extra
        )
        event.deadline = _end_of(deadline or timezone.localdate(event.deadline))
        step(
            StepAction.EXTENSION_APPROVE,
            approved,
            centre,
            centre_name,
            state,
            state,
            days=extra,
            deadline=event.deadline.isoformat(),
        )
    rework = rng.random() < 0.1
    for attempt in range(2 if rework else 1):
        span = (event.deadline - clock.at).total_seconds() / 3600
        late = rng.random() < 0.15
        handled = clock.after(max(0.5, span * 0.2), max(1.0, span * (1.4 if late else 0.9)), rng)
        if handled is None:
            return _finish_open(event, timeline, step, now)
        event.handled_at = handled
        step(
            StepAction.REPORT_BACK,
            handled,
            handler,
            handler_name,
            state,
            Status.HANDLED,
            rng.choice(["已现场处置完毕", "已责令整改，现场恢复", "已协调相关方解决"]),
            on_time=handled <= event.deadline,
        )
        state = Status.HANDLED
        _set(event, state)
        event.public_note = "已处置，等待核查"
        if stop == Status.HANDLED:
            return event, timeline
        verified = clock.after(1, 30, rng)
        if verified is None:
            return _finish_open(event, timeline, step, now)
        verifier = reporter if reporter and reporter.role == "grid_worker" else grid_workers.get(grid.code)
        verifier_name = str(verifier) if verifier else "网格员"
        event.verification_count += 1
        if rework and attempt == 0:
            event.failed_verification_count += 1
            step(
                StepAction.VERIFY_FAIL,
                verified,
                verifier,
                verifier_name,
                state,
                Status.HANDLING,
                "问题仍然存在",
            )
            state = Status.HANDLING
            _set(event, state)
            continue
        step(StepAction.VERIFY_PASS, verified, verifier, verifier_name, state, Status.CLOSED, "现场已恢复")
        step(
            StepAction.CLOSE,
            verified,
            verifier,
            verifier_name,
            Status.CLOSED,
            Status.CLOSED,
            on_time=handled <= event.deadline,
        )
        _set(event, Status.CLOSED)
        event.closed_at = verified
        event.closed_on_time = handled <= event.deadline
        event.handling_seconds = (
            int((verified - event.accepted_at).total_seconds()) if event.accepted_at else None
        )
        event.public_note = "已办结"
        if handled > event.deadline:
            event.overdue, event.overdue_at = True, event.deadline
        if rng.random() < 0.7:
            rated = clock.after(2, 72, rng)
            if rated is not None:
                event.rating, event.rated_at = rng.choice(RATINGS), rated
                step(
                    StepAction.RATE,
                    rated,
                    reporter,
                    reporter_name,
                    Status.CLOSED,
                    Status.CLOSED,
                    rating=event.rating,
                )
        return event, timeline
    return event, timeline


def _set(event: Event, status: str) -> None:
    """The state the walk reached (the status field itself is protected: see ``_with_status``)."""
    event.demo_status = status  # type: ignore[attr-defined]


def _with_status(event: Event) -> Event:
    """A copy of the unsaved event created with the status its walk reached."""
    values = {f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields if f.name != "status"}
    return Event(status=event.demo_status, **values)  # type: ignore[attr-defined]


def _bbox(area: Area) -> tuple[Any, Any, Any, Any]:
    geometry = area.boundary or {}
    coordinates = geometry.get("coordinates") or []
    points = [p for ring in coordinates for p in ring] if geometry.get("type") == "Polygon" else []
    if not points:
        return None, None, None, None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max), timezone.get_current_timezone())


def _department_for(category: str, serving: list[Department], rng: random.Random) -> Department | None:
    if category.startswith("05") and rng.random() < 0.4:
        return None  # disputes often go to the community's mediation
    for kind in DEPARTMENT_KINDS.get(category[:2], []):
        for department in serving:
            if department.kind == kind:
                return department
    return None


def _dispatch(
    event: Event,
    step: Any,
    at: dt.datetime,
    centre: User | None,
    centre_name: str,
    department: Department | None,
    area: Area,
    days: int,
    calendar: WorkCalendar,
) -> None:
    event.dispatched_at = at
    event.assignee_department = department
    event.assignee_area = None if department else area
    event.deadline_days, event.extension_days = days, 0
    due = calendar.add_working_days(timezone.localdate(at), days) or timezone.localdate(at)
    event.deadline = _end_of(due)
    event.public_note = "已派遣处置"
    to = department.name if department else area.name
    step(
        StepAction.DISPATCH,
        at,
        centre,
        centre_name,
        Status.ACCEPTED,
        Status.DISPATCHED,
        to=to,
        working_days=days,
        deadline=event.deadline.isoformat(),
        tier=event.tier,
    )


def _finish_open(
    event: Event, timeline: list[EventStep], step: Any, now: dt.datetime
) -> tuple[Event, list[EventStep]]:
    """An event still with its assignee: marked overdue as the worker would have, if past its deadline."""
    if (
        event.deadline is not None
        and event.deadline < now
        and event.demo_status in (Status.DISPATCHED, Status.HANDLING)  # type: ignore[attr-defined]
    ):
        event.overdue, event.overdue_at = True, event.deadline + dt.timedelta(minutes=1)
        step(
            StepAction.OVERDUE,
            event.overdue_at,
            None,
            "系统",
            event.demo_status,  # type: ignore[attr-defined]
            event.demo_status,  # type: ignore[attr-defined]
            f"已超过办理期限 {timezone.localtime(event.deadline):%Y-%m-%d %H:%M}",
        )
    return event, timeline


def _demo_duplicate(events: list[Event], per_day: Counter[dt.date], users: dict[str, User]) -> Event | None:
    """One duplicate report (same category, about 10 m away, an hour later) merged into the most recent
    reported event with coordinates, by the street centre in charge: shows the merge and the 已合并 state."""
    from pingan.core.actors import SYSTEM
    from pingan.events.services import event_merge

    target = next(
        (e for e in reversed(events) if e.status == "reported" and e.latitude is not None),
        None,
    )
    if target is None:
        return None
    reported = min(target.reported_at + dt.timedelta(hours=1), timezone.now())
    day = timezone.localdate(reported)
    per_day[day] += 1
    copy = Event(
        number=f"{day:%Y%m%d}{per_day[day]:04d}",
        title=target.title,
        description="同一地点再次反映：" + target.description[:100],
        category=target.category,
        tier=target.tier,
        source="citizen",
        urgency=target.urgency,
        area_id=target.area_id,
        owner_id=target.owner_id,
        address=target.address,
        latitude=(Decimal(str(target.latitude)) + Decimal("0.000090")).quantize(
            Decimal("0.000001")
        ),  # ~10 m N
        longitude=target.longitude,
        reporter=users.get("hotline1"),
        reported_at=reported,
        public_note="已上报，等待受理",
    )
    copy.save()
    EventStep.objects.create(
        event=copy,
        action="report",
        at=reported,
        to_status="reported",
        note=copy.description,
        **_actor(users.get("hotline1"), "热线"),
    )
    event_merge(actor=SYSTEM, event_id=copy.pk, into_id=target.pk, reason="同一问题重复反映")
    copy.refresh_from_db()
    return copy


# the categories about schools and their surroundings (food near schools, traffic at the gate, order around
# the campus, internet cafés and arcades near schools), and street vending at a school gate
SCHOOL_CATEGORIES = ("0201", "0202", "0203", "0204")


def link_demo_schools(ctx: DemoContext) -> None:
    """Link each demo event about a school to a school of its community (the first by name), as a reporter
    would have: events about schools then show on the school's page. Idempotent: a linked event is skipped."""
    from pingan.events.models import EventSubject, SubjectKind
    from pingan.schools.models import School

    by_community: dict[str, School] = {}
    for school in School.objects.select_related("area").order_by("name"):
        by_community.setdefault(school.area.code[:12], school)
    events = (
        Event.objects.filter(
            Q(category__in=SCHOOL_CATEGORIES) | Q(title__contains="学校"), area__code__startswith="120103"
        )
        .exclude(subjects__kind=SubjectKind.SCHOOL)
        .select_related("area")
    )
    links = [
        EventSubject(event=e, kind=SubjectKind.SCHOOL, school=by_community[e.area.code[:12]])
        for e in events
        if e.area.code[:12] in by_community
    ]
    EventSubject.objects.bulk_create(links)
    ctx.counts["event_school_links"] = len(links)
