"""Grid events (网格事件) and their closed loop: report → accept → dispatch → handle → report back →
verify → close → rate (docs/events.md).

The status moves only through the transitions below, called only from ``events.services`` (the field is
protected: assigning it raises). Every service writes a timeline row (``EventStep``) and bumps ``version``
under ``select_for_update``: two people acting on one event at once cannot both succeed.

Links to persons, houses and schools (a separate ``EventSubject`` table: event,
kind, target), so this table needs no change for them.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from pingan.core.fields import EncryptedQuerySet, EncryptedTextField
from pingan.core.models import ChoiceLabels, TimeStamped


class Status(models.TextChoices):
    REPORTED = "reported", _("待受理")
    ACCEPTED = "accepted", _("待派遣")
    REFUSED = "refused", _("不予立案")
    DISPATCHED = "dispatched", _("待签收")
    HANDLING = "handling", _("处置中")
    HANDLED = "handled", _("待核查")
    CLOSED = "closed", _("已结案")
    MERGED = "merged", _("已合并")  # a duplicate merged into another event (``merged_into``)


OPEN_STATUSES = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLING, Status.HANDLED)
# The task is with its assignee (the deadline runs).
WORKING_STATUSES = (Status.DISPATCHED, Status.HANDLING)


class Tier(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", _("即时处置")
    ORDINARY = "ordinary", _("一般")
    DIFFICULT = "difficult", _("疑难")


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员上报")
    CITIZEN = "citizen", _("群众反映")
    HOTLINE = "hotline", _("热线")
    PATROL = "patrol", _("巡查")
    DEPARTMENT = "department", _("部门移交")
    SCHOOL_INSPECTION = "school_inspection", _("校园周边检查")
    CAMPAIGN = "campaign", _("专项行动")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class EventPolicy(models.Model):
    """The loop's rules (one row, pk=1), configured by the district centre. Defaults follow DOMAIN.md."""

    SINGLETON_PK = 1

    on_the_spot_days = models.PositiveSmallIntegerField(
        _("即时处置期限（工作日）"), default=0, help_text=_("0 表示当天办结")
    )
    ordinary_days = models.PositiveSmallIntegerField(_("一般事件期限（工作日）"), default=3)
    difficult_days = models.PositiveSmallIntegerField(_("疑难事件期限（工作日）"), default=7)
    max_total_days = models.PositiveSmallIntegerField(
        _("含延期最长期限（工作日）"), default=15, help_text=_("原期限与批准延期之和的上限")
    )
    reminder_hours = models.PositiveSmallIntegerField(_("到期前提醒（小时）"), default=24)
    escalation_grace_hours = models.PositiveSmallIntegerField(
        _("超期后自动升级（小时）"),
        default=24,
        help_text=_("超期满此时长仍未办结的，自动提交上一级督办；0 表示不自动升级"),
    )
    reopen_days = models.PositiveSmallIntegerField(_("结案后可重新处置（天）"), default=30)
    verify_photo_required = models.BooleanField(_("核查通过须上传现场照片"), default=True)
    photo_max_bytes = models.PositiveIntegerField(_("单张照片上限（字节）"), default=10 * 1024 * 1024)
    photo_max_count = models.PositiveSmallIntegerField(_("每次最多照片数"), default=6)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    audit_public_fields = (
        "on_the_spot_days",
        "ordinary_days",
        "difficult_days",
        "max_total_days",
        "reminder_hours",
        "escalation_grace_hours",
        "reopen_days",
        "verify_photo_required",
        "photo_max_bytes",
        "photo_max_count",
    )

    class Meta:
        verbose_name = _("事件办理规则")
        verbose_name_plural = _("事件办理规则")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="eventpolicy_singleton"),
            models.CheckConstraint(
                condition=Q(
                    on_the_spot_days__lte=F("ordinary_days"),
                    ordinary_days__lte=F("difficult_days"),
                    difficult_days__lte=F("max_total_days"),
                ),
                name="eventpolicy_days_ordered",
            ),
            models.CheckConstraint(condition=Q(max_total_days__lte=60), name="eventpolicy_max_total_sane"),
            models.CheckConstraint(
                condition=Q(photo_max_count__gte=1, photo_max_count__lte=20),
                name="eventpolicy_photo_count_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("事件办理规则"))

    @classmethod
    def current(cls) -> EventPolicy:
        # read on every report and action: a plain read of the row (get_or_create costs twice as much)
        policy = next(iter(cls.objects.filter(pk=cls.SINGLETON_PK)[:1]), None)
        if policy is None:
            policy, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return policy

    def days_for(self, tier: str) -> int:
        return {
            Tier.ON_THE_SPOT: self.on_the_spot_days,
            Tier.ORDINARY: self.ordinary_days,
            Tier.DIFFICULT: self.difficult_days,
        }[Tier(tier)]


class EventCategoryRule(TimeStamped):
    """Per category of the ``event_category`` code table: its tier, an optional own deadline, whether
    citizens may report it (Open311 services), and the department it usually goes to. A category without
    a rule takes its parent's rule, then the ordinary tier."""

    category = models.CharField(_("事件类别"), max_length=20, unique=True)
    tier = models.CharField(_("处置等级"), max_length=20, choices=Tier.choices, default=Tier.ORDINARY)
    working_days = models.PositiveSmallIntegerField(
        _("期限（工作日）"), null=True, blank=True, help_text=_("留空则按处置等级的期限")
    )
    public = models.BooleanField(_("群众可上报"), default=True)
    default_department = models.ForeignKey(
        "areas.Department",
        verbose_name=_("默认处置部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    audit_public_fields = ("category", "tier", "working_days", "public", "default_department_id")

    class Meta:
        verbose_name = _("事件类别规则")
        verbose_name_plural = _("事件类别规则")
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__in=[t.value for t in Tier]), name="eventcategoryrule_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(working_days__isnull=True) | Q(working_days__lte=60),
                name="eventcategoryrule_days_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.get_tier_display()}"


class EventCounter(models.Model):
    """Per-day sequence of event numbers (YYYYMMDD + 4 digits)."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last}"


class EventQuerySet(EncryptedQuerySet["Event"]):
    def open(self) -> EventQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Event(ConcurrentTransitionMixin, TimeStamped):
    number = models.CharField(_("事件编号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=80)
    description = models.TextField(_("事件描述"), max_length=2000)
    category = models.CharField(_("事件类别"), max_length=20)  # code table event_category
    tier = models.CharField(_("处置等级"), max_length=20, choices=Tier.choices, default=Tier.ORDINARY)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    # Where: the grid. Who is in charge of triage: a centre (street, or district after escalation).
    # db_index=False on the keys that lead a composite index below (event_area_status, event_owner_status,
    # event_dept_status, event_reporter): an index of their own would be written by every insert and move
    # and read by nothing the composite does not serve.
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    owner = models.ForeignKey(
        "areas.Area", verbose_name=_("责任中心"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Who reported: a user, and/or a citizen's contact (encrypted, shown masked).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reporter_name = EncryptedTextField(_("反映人姓名"), mask="name", blank=True, default="")
    reporter_phone = EncryptedTextField(_("反映人电话"), mask="phone", blank=True, default="")

    status = FSMField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.REPORTED, protected=True
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    # not a column: the steps written while this instance was reported (services.event_report), each with
    # its photos, so that the answer to the report needs no query
    new_steps: list[tuple[EventStep, list[EventPhoto]]] | None = None
    public_note = models.CharField(_("办理说明"), max_length=300, blank=True)

    reported_at = models.DateTimeField(_("上报时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    assignee_department = models.ForeignKey(
        "areas.Department",
        verbose_name=_("处置部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assignee_area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("处置辖区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.DateTimeField(_("办理期限"), null=True, blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("期限（工作日）"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("已批准延期（工作日）"), default=0)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("申请延期（工作日）"), null=True, blank=True
    )
    extension_reason = models.CharField(_("延期理由"), max_length=300, blank=True)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)

    overdue = models.BooleanField(_("曾超期"), default=False)
    overdue_at = models.DateTimeField(_("超期时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("到期提醒时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("最近升级时间"), null=True, blank=True)

    closed_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)
    handling_seconds = models.PositiveIntegerField(_("办理用时（秒）"), null=True, blank=True)
    verification_count = models.PositiveSmallIntegerField(_("核查次数"), default=0)
    failed_verification_count = models.PositiveSmallIntegerField(_("核查不通过次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退件次数"), default=0)
    escalation_count = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    supervision_count = models.PositiveSmallIntegerField(_("督办次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重新处置次数"), default=0)
    rating = models.PositiveSmallIntegerField(_("满意度评价"), null=True, blank=True)
    rating_note = models.CharField(_("评价意见"), max_length=300, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入事件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # a merged duplicate is part of the event it was merged into
        related_name="merged_events",
    )

    objects = EventQuerySet.as_manager()

    audit_public_fields = (
        "number",
        "category",
        "tier",
        "source",
        "urgency",
        "area_id",
        "owner_id",
        "status",
        "version",
        "assignee_department_id",
        "assignee_area_id",
        "deadline",
        "deadline_days",
        "extension_days",
        "rating",
        "overdue",
        "merged_into_id",
    )

    class Meta:
        verbose_name = _("网格事件")
        verbose_name_plural = _("网格事件")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "-reported_at"], name="event_owner_status"),
            models.Index(fields=["area", "status", "-reported_at"], name="event_area_status"),
            models.Index(fields=["assignee_department", "status", "-reported_at"], name="event_dept_status"),
            models.Index(fields=["status", "deadline"], name="event_status_deadline"),
            models.Index(fields=["-reported_at", "-id"], name="event_recent"),
            models.Index(fields=["reporter", "-reported_at"], name="event_reporter"),
            # duplicate suggestion: same category, the bounding box's latitude band (±50 m: a few rows), then
            # longitude and the date window checked inside the index; also the category filter of the lists
            models.Index(
                fields=["category", "latitude", "longitude", "reported_at"], name="event_category_place"
            ),
            models.Index(fields=["updated_at"], name="event_updated"),  # day statistics: what changed
            # the live part of the figures (open, late) by any grouping: answered from the index alone
            models.Index(
                fields=["status", "deadline"],
                include=["area", "assignee_department", "category", "reported_at"],
                condition=Q(status__in=["reported", "accepted", "dispatched", "handling", "handled"]),
                name="event_open_figures",
            ),
            # the queues (events/selectors.py triage_groups, department_queue) read open events only, a few
            # percent of all: partial indexes in each queue's order, holding the columns of the scope filters
            # so that the capped counts are index-only scans
            models.Index(
                fields=["status", "reported_at", "id"],
                include=["owner", "area", "reporter", "assignee_department"],
                condition=Q(status__in=["reported", "accepted", "dispatched", "handling", "handled"]),
                name="event_open_queue",
            ),
            models.Index(
                fields=["deadline", "id"],
                include=["status", "owner", "area", "reporter", "assignee_department"],
                condition=Q(status__in=["dispatched", "handling"]),
                name="event_working_deadline",
            ),
            models.Index(
                fields=["reported_at", "id"],
                include=["status", "owner", "area", "reporter", "assignee_department"],
                condition=Q(extension_requested_days__isnull=False),
                name="event_extension_pending",
            ),
            models.Index(
                fields=["assignee_department", "deadline", "id"],
                include=["status", "reporter"],
                condition=Q(status__in=["reported", "accepted", "dispatched", "handling", "handled"]),
                name="event_department_open",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="event_title_not_blank"),
            models.CheckConstraint(condition=~Q(category=""), name="event_category_not_blank"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="event_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="event_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=(
                    Q(latitude__isnull=True, longitude__isnull=True)
                    | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180)
                ),
                name="event_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=Q(failed_verification_count__lte=F("verification_count")),
                name="event_failed_verifications_le_verifications",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="event_closed_has_closed_at"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["dispatched", "handling", "handled"])
                | Q(deadline__isnull=False)
                & (Q(assignee_department__isnull=False) | Q(assignee_area__isnull=False)),
                name="event_dispatched_has_assignee_and_deadline",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | ~Q(status="merged") & Q(merged_into__isnull=True),
                name="event_merged_has_target",
            ),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="event_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"事件 {self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_late(self) -> bool:
        return bool(self.deadline and self.status in WORKING_STATUSES and self.deadline < timezone.now())

    # --- transitions: state changes only; services do the rest (timeline, audit, notifications) ---------

    @transition(field=status, source=Status.REPORTED, target=Status.ACCEPTED)
    def accept(self) -> None:
        self.accepted_at = timezone.now()

    @transition(field=status, source=Status.REPORTED, target=Status.REFUSED)
    def refuse(self) -> None:
        pass

    @transition(field=status, source=Status.ACCEPTED, target=Status.DISPATCHED)
    def dispatch(self) -> None:
        self.dispatched_at = timezone.now()

    @transition(field=status, source=Status.DISPATCHED, target=Status.HANDLING)
    def start(self) -> None:
        pass

    @transition(field=status, source=[Status.DISPATCHED, Status.HANDLING], target=Status.HANDLED)
    def report_back(self) -> None:
        self.handled_at = timezone.now()

    @transition(field=status, source=[Status.DISPATCHED, Status.HANDLING], target=Status.ACCEPTED)
    def return_to_centre(self) -> None:
        self.return_count += 1

    @transition(field=status, source=Status.HANDLED, target=Status.CLOSED)
    def verify_pass(self) -> None:
        self.verification_count += 1
        self.closed_at = timezone.now()

    @transition(field=status, source=Status.HANDLED, target=Status.HANDLING)
    def verify_fail(self) -> None:
        self.verification_count += 1
        self.failed_verification_count += 1

    @transition(field=status, source=Status.CLOSED, target=Status.ACCEPTED)
    def reopen(self) -> None:
        self.reopen_count += 1

    @transition(field=status, source=list(OPEN_STATUSES), target=Status.MERGED)
    def merge_into(self) -> None:
        """A duplicate: its reporters follow the event it is merged into (``merged_into``, set by the
        service)."""
        self.extension_requested_days = None


class StepAction(models.TextChoices):
    REPORT = "report", _("上报")
    ACCEPT = "accept", _("立案")
    REFUSE = "refuse", _("不予立案")
    DISPATCH = "dispatch", _("派遣")
    START = "start", _("签收")
    REPORT_BACK = "report_back", _("处置反馈")
    RETURN = "return", _("退件")
    VERIFY_PASS = "verify_pass", _("核查通过")
    VERIFY_FAIL = "verify_fail", _("核查不通过（返工）")
    CLOSE = "close", _("结案")
    RATE = "rate", _("评价")
    EXTENSION_REQUEST = "extension_request", _("申请延期")
    EXTENSION_APPROVE = "extension_approve", _("批准延期")
    EXTENSION_REJECT = "extension_reject", _("驳回延期")
    ESCALATE = "escalate", _("提交上级")
    SUPERVISE = "supervise", _("督办")
    REOPEN = "reopen", _("重新处置")
    OVERDUE = "overdue", _("超期")
    REMIND = "remind", _("到期提醒")
    LINK = "link", _("关联人员房屋")
    MERGE = "merge", _("合并重复事件")
    MERGED = "merged", _("并入其他事件")
    PLACE = "place", _("指定网格")


class EventStep(ChoiceLabels):
    """One row of the timeline: who did what, when, with what note (and photos)."""

    # no index of its own: eventstep_event_at (event, at) serves every lookup by event (one index less to
    # write per step, docs/benchmarks.md)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="steps", db_index=False)
    action = models.CharField(_("环节"), max_length=30, choices=StepAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("办理人"), max_length=60, blank=True)
    actor_role = models.CharField(_("岗位"), max_length=30, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(_("说明"), max_length=1000, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["event", "at"], name="eventstep_event_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=[a.value for a in StepAction]), name="eventstep_action_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class SubjectKind(models.TextChoices):
    PERSON = "person", _("人员")
    HOUSE = "house", _("房屋")
    SCHOOL = "school", _("学校")


# the field of EventSubject each kind sets (exactly one of them, by the check constraint)
SUBJECT_FIELDS = {SubjectKind.PERSON: "person", SubjectKind.HOUSE: "house", SubjectKind.SCHOOL: "school"}


class EventSubject(models.Model):
    """A person, a house or a school an event concerns (links to the people and schools modules). Set when
    reporting, edited by the centre in charge; every change is a timeline row and an audit event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="subjects")
    kind = models.CharField(_("类型"), max_length=10, choices=SubjectKind.choices)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="event_links"
    )
    house = models.ForeignKey(
        "people.House", null=True, blank=True, on_delete=models.CASCADE, related_name="event_links"
    )
    school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.CASCADE, related_name="event_links"
    )
    created_at = models.DateTimeField(_("关联时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("事件关联对象")
        verbose_name_plural = _("事件关联对象")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="person", person__isnull=False, house__isnull=True, school__isnull=True)
                | Q(kind="house", house__isnull=False, person__isnull=True, school__isnull=True)
                | Q(kind="school", school__isnull=False, person__isnull=True, house__isnull=True),
                name="eventsubject_kind_matches_one_target",
            ),
            models.UniqueConstraint(
                fields=["event", "person"], condition=Q(person__isnull=False), name="eventsubject_person_once"
            ),
            models.UniqueConstraint(
                fields=["event", "house"], condition=Q(house__isnull=False), name="eventsubject_house_once"
            ),
            models.UniqueConstraint(
                fields=["event", "school"], condition=Q(school__isnull=False), name="eventsubject_school_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.kind} {self.target_id}"

    @property
    def target_id(self) -> int | None:
        """The id of the person, house or school linked."""
        return getattr(self, f"{SUBJECT_FIELDS[SubjectKind(self.kind)]}_id")


class EventDayStat(models.Model):
    """Figures per report day and one dimension (the grid, the top-level category or the department), kept
    by the worker (``events.stats``) so district-wide figures do not scan every event. Additive values only;
    "open" and "late" are always counted live."""

    class Dim(models.TextChoices):
        AREA = "area", _("网格")
        CATEGORY = "category", _("类别")
        DEPARTMENT = "department", _("部门")

    day = models.DateField()
    dim = models.CharField(max_length=10, choices=Dim.choices)
    key = models.CharField(max_length=20, blank=True)  # grid code, category (2 digits), department id or ""
    count = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    verifications = models.PositiveIntegerField(default=0)
    failed_verifications = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    handling_sum = models.BigIntegerField(default=0)
    handling_n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("事件日统计")
        verbose_name_plural = _("事件日统计")
        constraints = [
            models.UniqueConstraint(fields=["dim", "day", "key"], name="eventdaystat_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dim} {self.key}"


class EventStatsState(models.Model):
    """One row: the day statistics hold every change made before ``watermark`` (None: not built yet)."""

    watermark = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"event stats @ {self.watermark}"


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("现场照片")
    AFTER = "after", _("处置后照片")


def photo_upload_to(instance: EventPhoto, filename: str) -> str:
    """events/2026/11/<random>.jpg — the client's file name is never used (nor trusted)."""
    suffix = PurePosixPath(filename).suffix.lower()
    now = timezone.now()
    return f"events/{now:%Y}/{now:%m}/{os.urandom(16).hex()}{suffix}"


class EventPhoto(models.Model):
    """An image under MEDIA_ROOT, served only through ``events:photo`` to users who may see the event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    step = models.ForeignKey(
        EventStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=PhotoKind.choices, default=PhotoKind.BEFORE)
    file = models.FileField(_("文件"), upload_to=photo_upload_to, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事件照片")
        verbose_name_plural = _("事件照片")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png", "image/webp"]),
                name="eventphoto_content_type_image",
            )
        ]

    def __str__(self) -> str:
        return f"photo {self.pk} of event {self.event_id}"


class Open311Client(models.Model):
    """An application allowed to post citizens' reports through Open311 GeoReport v2 (``api_key``).
    Only the SHA-256 of the key is stored; the key is shown once when it is created."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(_("密钥前缀"), max_length=8)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.CharField(_("创建人"), max_length=150, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    audit_public_fields = ("name", "key_prefix", "revoked_at")

    class Meta:
        verbose_name = _("Open311 接入密钥")
        verbose_name_plural = _("Open311 接入密钥")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="open311client_name_not_blank")]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None
