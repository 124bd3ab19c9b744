"""Community correction (社区矫正): the client (矫正对象) and what happens during the correction period.

A client links to one ``people.Person`` (一人一档); one open correction record per person (a partial
unique constraint), the correction number is unique. Reception (报到): the client must report within
``RECEPTION_DAYS`` (10) days after the judgment took effect; ``reception_deadline`` is stored (computed
on save). A client not reported by the deadline, or reported after it, is a missing-supervision case
(漏管) shown until a staff member resolves it (``missing_resolved_at``).

Criminal history is sensitive: every read goes through ``correction.selectors`` (scope, sealed flag,
access audit). A client whose offence was committed under 18 is sealed (``Sealable``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField
from pingan.core.masking import mask_name
from pingan.core.models import TimeStamped
from pingan.core.sensitive import Sealable, SensitiveQuerySet

RECEPTION_DAYS = 10


def reception_deadline_for(effective: dt.date) -> dt.date:
    """The last day to report: the judgment's effective date plus 10 calendar days."""
    days = int(getattr(settings, "PINGAN_CORRECTION_RECEPTION_DAYS", RECEPTION_DAYS))
    return effective + dt.timedelta(days=days)


class ClientStatus(models.TextChoices):
    PENDING = "pending", _("待报到")
    ACTIVE = "active", _("在矫")
    TERMINATED = "terminated", _("已解除/终止")


class Termination(models.TextChoices):
    COMPLETED = "completed", _("期满解除")
    REVOKED = "revoked", _("收监执行")
    DEATH = "death", _("死亡")
    OTHER = "other", _("其他")


ClientManager = models.Manager.from_queryset(SensitiveQuerySet)


class CorrectionClient(Sealable, TimeStamped):
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="correction_records"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属社区/网格"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("矫正编号"), max_length=40, unique=True)
    category = models.CharField(_("矫正类别"), max_length=4)  # code table correction_category
    offence = models.CharField(_("罪名"), max_length=100)
    offence_code = models.CharField(_("罪名代码"), max_length=20, blank=True)
    sentence = models.CharField(_("原判刑罚"), max_length=100, blank=True)
    sentence_months = models.PositiveIntegerField(_("原判刑期（月）"), null=True, blank=True)
    start_date = models.DateField(_("矫正期起"))
    end_date = models.DateField(_("矫正期止"))
    authority = models.CharField(_("决定机关"), max_length=100)
    judgment_effective_date = models.DateField(_("判决生效日期"))
    reception_deadline = models.DateField(_("报到期限"), editable=False)
    reported_on = models.DateField(_("报到日期"), null=True, blank=True)
    minor_at_offence = models.BooleanField(_("犯罪时未满十八周岁"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=ClientStatus.choices, default=ClientStatus.PENDING
    )
    checkin_every_days = models.PositiveSmallIntegerField(_("报告周期（天）"), default=30)
    visit_every_days = models.PositiveSmallIntegerField(_("走访周期（天）"), default=30)
    next_checkin_due = models.DateField(_("下次报告期限"), null=True, blank=True)
    next_visit_due = models.DateField(_("下次走访期限"), null=True, blank=True)
    reminded_checkin_due = models.DateField(null=True, blank=True, editable=False)
    missing_resolved_at = models.DateTimeField(_("漏管处理时间"), null=True, blank=True)
    missing_resolution = models.CharField(_("漏管处理情况"), max_length=300, blank=True)
    termination = models.CharField(_("解除/终止方式"), max_length=12, choices=Termination.choices, blank=True)
    termination_date = models.DateField(_("解除/终止日期"), null=True, blank=True)
    termination_note = models.CharField(_("解除/终止说明"), max_length=300, blank=True)
    remarks = models.CharField(_("备注"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("社区矫正对象")
        verbose_name_plural = _("社区矫正对象")
        ordering = ["-judgment_effective_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=~Q(status="terminated"), name="correction_one_open_per_person"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="correction_period"
            ),
            models.CheckConstraint(condition=~Q(number=""), name="correction_number_not_blank"),
            models.CheckConstraint(condition=~Q(offence=""), name="correction_offence_not_blank"),
            models.CheckConstraint(
                condition=Q(status__in=ClientStatus.values), name="correction_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="terminated") | (~Q(termination="") & Q(termination_date__isnull=False)),
                name="correction_termination_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["area", "status"], name="correction_area_status"),
            models.Index(fields=["status", "reception_deadline"], name="correction_deadline"),
            models.Index(fields=["status", "next_checkin_due"], name="correction_checkin_due"),
        ]

    def __str__(self) -> str:
        return self.number

    def audit_repr(self) -> str:
        return f"{self.number} {mask_name(self.person.name)}"

    def audit_subject(self) -> tuple[str, str, str]:
        return "people.person", str(self.person_id), mask_name(self.person.name)

    audit_public_fields = (
        "number",
        "category",
        "offence",
        "offence_code",
        "sentence",
        "sentence_months",
        "start_date",
        "end_date",
        "authority",
        "judgment_effective_date",
        "reported_on",
        "status",
        "termination",
        "termination_date",
    )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.judgment_effective_date:
            self.reception_deadline = reception_deadline_for(self.judgment_effective_date)
        super().save(*args, **kwargs)

    def reported_late(self) -> bool:
        return self.reported_on is not None and self.reported_on > self.reception_deadline

    def is_missing(self, today: dt.date) -> bool:
        """漏管 alert shown: not reported by the deadline (or reported late) and not yet resolved."""
        if self.missing_resolved_at is not None:
            return False
        if self.reported_on is None:
            return self.status == ClientStatus.PENDING and today > self.reception_deadline
        return self.reported_on > self.reception_deadline


class ClientChild(models.Model):
    """Base of the records kept on a client (all reads go through the client's selector)."""

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    created_by = models.CharField(_("登记人"), max_length=150, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @property
    def area_id(self) -> int:
        return int(self.client.area_id)

    def audit_subject(self) -> tuple[str, str, str]:
        return self.client.audit_subject()

    def audit_repr(self) -> str:
        return f"{self.client.number}"


class GroupMember(ClientChild):
    class Kind(models.TextChoices):
        JUDICIAL = "judicial", _("司法所工作人员")
        POLICE = "police", _("社区民警")
        CADRE = "cadre", _("社区干部")
        FAMILY = "family", _("家庭成员")
        VOLUNTEER = "volunteer", _("志愿者")
        OTHER = "other", _("其他")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="group_members")
    name = models.CharField(_("姓名"), max_length=50)
    kind = models.CharField(_("身份"), max_length=12, choices=Kind.choices)
    unit = models.CharField(_("单位/关系"), max_length=80, blank=True)
    phone = EncryptedTextField(_("联系电话"), mask="phone", blank=True)
    active = models.BooleanField(_("在组"), default=True)

    class Meta:
        verbose_name = _("矫正小组成员")
        verbose_name_plural = _("矫正小组成员")
        ordering = ["pk"]


class SupervisionPlan(ClientChild):
    class Level(models.TextChoices):
        STRICT = "strict", _("严管")
        NORMAL = "normal", _("普管")
        LENIENT = "lenient", _("宽管")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="plans")
    level = models.CharField(_("管理等级"), max_length=10, choices=Level.choices, default=Level.NORMAL)
    content = models.TextField(_("矫正方案"), max_length=2000)
    checkin_every_days = models.PositiveSmallIntegerField(_("报告周期（天）"))
    visit_every_days = models.PositiveSmallIntegerField(_("走访周期（天）"))
    effective_from = models.DateField(_("执行日期"))

    class Meta:
        verbose_name = _("矫正方案")
        verbose_name_plural = _("矫正方案")
        ordering = ["-effective_from", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checkin_every_days__gte=1, visit_every_days__gte=1),
                name="correction_plan_periods",
            )
        ]


class CheckIn(ClientChild):
    class Kind(models.TextChoices):
        IN_PERSON = "in_person", _("当面报告")
        PHONE = "phone", _("电话报告")
        VIDEO = "video", _("视频报告")
        WRITTEN = "written", _("书面报告")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="checkins")
    date = models.DateField(_("报告日期"))
    kind = models.CharField(_("报告方式"), max_length=12, choices=Kind.choices)
    content = models.CharField(_("报告内容"), max_length=500, blank=True)
    due_on = models.DateField(_("应报告期限"), null=True, blank=True)
    on_time = models.BooleanField(_("按时"), default=True)

    class Meta:
        verbose_name = _("定期报告")
        verbose_name_plural = _("定期报告")
        ordering = ["-date", "-pk"]


class Visit(ClientChild):
    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField(_("走访日期"))
    visitors = models.CharField(_("走访人"), max_length=100)
    content = models.CharField(_("走访情况"), max_length=500)
    due_on = models.DateField(_("应走访期限"), null=True, blank=True)
    on_time = models.BooleanField(_("按时"), default=True)
    next_visit_date = models.DateField(_("下次走访日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("走访")
        verbose_name_plural = _("走访")
        ordering = ["-date", "-pk"]


class LeaveStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("不批准")
    CANCELLED = "cancelled", _("已撤回")
    RETURNED = "returned", _("已销假")


class LeaveRequest(ClientChild):
    class Kind(models.TextChoices):
        LEAVE = "leave", _("请假")
        TRAVEL = "travel", _("外出")
        RESIDENCE = "residence", _("变更居住地")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="leaves")
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    destination = models.CharField(_("目的地"), max_length=100)
    reason = models.CharField(_("事由"), max_length=300)
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=LeaveStatus.choices, default=LeaveStatus.PENDING
    )
    decided_by = models.CharField(_("审批人"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    returned_on = models.DateField(_("销假日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("请假外出申请")
        verbose_name_plural = _("请假外出申请")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="correction_leave_period"),
            models.CheckConstraint(
                condition=Q(status__in=LeaveStatus.values), name="correction_leave_status"
            ),
        ]


class Sanction(ClientChild):
    class Kind(models.TextChoices):
        ADMONITION = "admonition", _("训诫")
        WARNING = "warning", _("警告")
        PUBLIC_SECURITY = "public_security", _("提请治安管理处罚")
        REVOCATION = "revocation", _("提请撤销缓刑/假释")
        IMPRISONMENT = "imprisonment", _("提请收监执行")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("日期"))
    reason = models.CharField(_("事由"), max_length=300)

    class Meta:
        verbose_name = _("警告与处罚")
        verbose_name_plural = _("警告与处罚")
        ordering = ["-date", "-pk"]


class Reward(ClientChild):
    class Kind(models.TextChoices):
        PRAISE = "praise", _("表扬")
        COMMENDATION = "commendation", _("表彰")
        COMMUTATION = "commutation", _("提请减刑")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="rewards")
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("日期"))
    reason = models.CharField(_("事由"), max_length=300)

    class Meta:
        verbose_name = _("奖励")
        verbose_name_plural = _("奖励")
        ordering = ["-date", "-pk"]


class ServiceHours(ClientChild):
    class Kind(models.TextChoices):
        EDUCATION = "education", _("教育学习")
        COMMUNITY_SERVICE = "community_service", _("公益活动")

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="service_hours")
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("日期"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=5, decimal_places=1)
    content = models.CharField(_("内容"), max_length=300)

    class Meta:
        verbose_name = _("教育与公益活动")
        verbose_name_plural = _("教育与公益活动")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="correction_hours_range")
        ]


class Reoffence(ClientChild):
    """Re-offending during the correction period (重新违法犯罪)."""

    client = models.ForeignKey(CorrectionClient, on_delete=models.CASCADE, related_name="reoffences")
    date = models.DateField(_("日期"))
    offence = models.CharField(_("罪名/违法行为"), max_length=100)

    class Meta:
        verbose_name = _("重新犯罪")
        verbose_name_plural = _("重新犯罪")
        ordering = ["-date", "-pk"]
