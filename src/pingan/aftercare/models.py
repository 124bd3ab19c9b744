"""Released persons: hand-over, resettlement, assistance (安置帮教).

One ``AftercareCase`` per release of one person (``people.Person``, 一人一档: the person is found or
registered by ID number). The case belongs to the person's grid or community (``area``) for scoping.
Everything here is sensitive (criminal history): only the roles in ``rules.CASE_ROLES`` read it
(assistance officers, and leaders read-only), inside their scope; the commander sees figures only. An
offence committed under 18 seals the case (``core.sensitive.Sealable``): it leaves lists, searches,
counts, exports and figures.

- ``Handover`` (衔接): one per case, created with it (by the pre-release import or by hand).
- ``GroupMember``: the assistance group (帮教小组) of named members.
- ``Visit`` (走访), ``Aid`` (救助台账), ``Reoffence`` (重新犯罪): ledgers of the case.
Resettlement (安置) is a state of the case (its type, reason and date).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedQuerySet, EncryptedTextField
from pingan.core.masking import mask_name
from pingan.core.models import TimeStamped
from pingan.core.sensitive import Sealable, SensitiveQuerySet


class CaseStatus(models.TextChoices):
    PENDING = "pending", _("待衔接")
    ASSISTING = "assisting", _("帮教中")
    ENDED = "ended", _("帮教期满")
    REOFFENDED = "reoffended", _("重新犯罪")
    CLOSED = "closed", _("其他终止")


OPEN_STATUSES = (CaseStatus.PENDING, CaseStatus.ASSISTING)


class RiskLevel(models.TextChoices):
    LOW = "low", _("低风险")
    MEDIUM = "medium", _("中风险")
    HIGH = "high", _("高风险")


class Resettlement(models.TextChoices):
    EMPLOYMENT = "employment", _("就业")
    SELF_EMPLOYMENT = "self_employment", _("自主创业")
    RELIEF = "relief", _("社会救助")
    OTHER = "other", _("其他安置")
    NONE = "none", _("未安置")


RESETTLED = (Resettlement.EMPLOYMENT, Resettlement.SELF_EMPLOYMENT, Resettlement.RELIEF, Resettlement.OTHER)

CaseManager = models.Manager.from_queryset(SensitiveQuerySet)


class AftercareCase(Sealable, TimeStamped):
    person = models.ForeignKey(
        "people.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="aftercare_cases"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所属社区/网格"), on_delete=models.PROTECT, related_name="+"
    )
    offence = models.CharField(_("原罪名"), max_length=10)  # code table offence
    offence_note = models.CharField(_("罪名说明"), max_length=200, blank=True)
    offence_under_18 = models.BooleanField(_("犯罪时未满十八周岁"), default=False)
    sentence = models.CharField(_("原判刑罚"), max_length=60, blank=True)
    sentence_months = models.PositiveIntegerField(_("原判刑期（月）"), null=True, blank=True)
    prison = models.CharField(_("服刑场所"), max_length=100, blank=True)
    release_date = models.DateField(_("释放日期"))
    is_recidivist = models.BooleanField(_("累犯"), default=False)
    risk_level = models.CharField(_("风险评估"), max_length=10, choices=RiskLevel.choices, blank=True)
    risk_note = models.CharField(_("评估说明"), max_length=300, blank=True)
    is_key_person = models.BooleanField(_("重点帮教对象"), default=False)
    assistance_end = models.DateField(_("帮教期满日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.PENDING
    )
    status_note = models.CharField(_("终止说明"), max_length=200, blank=True)
    resettlement = models.CharField(_("安置情况"), max_length=16, choices=Resettlement.choices, blank=True)
    resettlement_detail = models.CharField(_("安置说明"), max_length=200, blank=True)
    unresettled_reason = models.CharField(_("未安置原因"), max_length=200, blank=True)
    resettled_on = models.DateField(_("安置日期"), null=True, blank=True)
    remarks = models.CharField(_("备注"), max_length=300, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = CaseManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("安置帮教对象")
        verbose_name_plural = _("安置帮教对象")
        ordering = ["-release_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["person", "release_date"], name="aftercare_case_one_per_release"),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["pending", "assisting"]),
                name="aftercare_case_one_open_per_person",
            ),
            models.CheckConstraint(condition=~Q(offence=""), name="aftercare_case_offence_required"),
            models.CheckConstraint(
                condition=Q(assistance_end__gte=models.F("release_date")),
                name="aftercare_case_end_after_release",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="aftercare_case_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(resettlement=Resettlement.NONE) | ~Q(unresettled_reason=""),
                name="aftercare_case_unresettled_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["area", "status"], name="aftercare_case_area_status"),
            models.Index(fields=["release_date"], name="aftercare_case_release"),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.person.name)} · {self.release_date}"

    def audit_repr(self) -> str:
        return f"安置帮教 {mask_name(self.person.name)}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def in_assistance_on(self, day: dt.date) -> bool:
        return self.release_date <= day <= self.assistance_end


class HandoverStatus(models.TextChoices):
    PENDING = "pending", _("待接收")
    RECEIVED = "received", _("已接收")
    NOT_RECEIVED = "not_received", _("未接收")


class Handover(TimeStamped):
    """衔接: the community receives the released person (key persons are met at the gate, 必接必送)."""

    case = models.OneToOneField(AftercareCase, on_delete=models.CASCADE, related_name="handover")
    expected_release_date = models.DateField(_("预计释放日期"))
    must_meet = models.BooleanField(_("必接必送"), default=False)
    status = models.CharField(
        _("衔接状态"), max_length=14, choices=HandoverStatus.choices, default=HandoverStatus.PENDING
    )
    received_on = models.DateField(_("接收日期"), null=True, blank=True)
    met_at_release = models.BooleanField(_("已接回"), default=False)
    not_received_on = models.DateField(_("确认未接收日期"), null=True, blank=True)
    not_received_reason = models.CharField(_("未接收原因"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=120, blank=True)  # import file name, or "登记"
    flagged_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("衔接")
        verbose_name_plural = _("衔接")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=HandoverStatus.RECEIVED) | Q(received_on__isnull=False),
                name="aftercare_handover_received_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=HandoverStatus.NOT_RECEIVED) | ~Q(not_received_reason=""),
                name="aftercare_handover_not_received_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.status}"

    def overdue_on(self, day: dt.date) -> bool:
        """Unreceived after the release date: flagged."""
        return self.status != HandoverStatus.RECEIVED and self.expected_release_date < day


class MemberRole(models.TextChoices):
    CADRE = "cadre", _("社区干部")
    POLICE = "police", _("民警")
    FAMILY = "family", _("家属")
    VOLUNTEER = "volunteer", _("志愿者")


class GroupMember(TimeStamped):
    case = models.ForeignKey(AftercareCase, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("成员类别"), max_length=10, choices=MemberRole.choices)
    name = models.CharField(_("姓名"), max_length=50)
    unit = models.CharField(_("单位/关系"), max_length=100, blank=True)
    phone = EncryptedTextField(_("联系电话"), mask="phone", blank=True)
    active = models.BooleanField(_("在组"), default=True)

    objects = EncryptedQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮教小组成员")
        verbose_name_plural = _("帮教小组成员")
        ordering = ["role", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="aftercare_member_name_required"),
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="aftercare_member_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return mask_name(self.name)

    def audit_repr(self) -> str:
        return mask_name(self.name)

    # The case's area: scope checks (``accounts.rules.in_scope``) and the audit's area code use it.
    @property
    def area_id(self) -> int:
        return self.case.area_id

    @property
    def area(self) -> object:
        return self.case.area


class Visit(TimeStamped):
    case = models.ForeignKey(AftercareCase, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    visitors = models.CharField(_("走访人"), max_length=100)
    content = models.TextField(_("走访内容"), max_length=2000)
    next_visit_on = models.DateField(_("下次走访日期"), null=True, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150, editable=False)
    reminded_at = models.DateTimeField(_("到期提醒时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_visit_on__isnull=True) | Q(next_visit_on__gt=models.F("visited_on")),
                name="aftercare_visit_next_after",
            ),
        ]
        indexes = [models.Index(fields=["case", "visited_on"], name="aftercare_visit_case_date")]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.visited_on}"


class AidKind(models.TextChoices):
    NECESSITIES = "necessities", _("生活必需品")
    HARDSHIP_GRANT = "hardship_grant", _("一次性困难救助金")
    OTHER = "other", _("其他帮扶")


class Aid(TimeStamped):
    """The ledger of help given (救助台账). A hardship grant has an amount, an approver and a date."""

    case = models.ForeignKey(AftercareCase, on_delete=models.CASCADE, related_name="aid")
    kind = models.CharField(_("帮扶类别"), max_length=16, choices=AidKind.choices)
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2, default=Decimal("0"))
    items = models.CharField(_("物品/内容"), max_length=200, blank=True)
    approver = models.CharField(_("审批人"), max_length=50, blank=True)
    disbursed_on = models.DateField(_("发放日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150, editable=False)

    class Meta:
        verbose_name = _("帮扶救助")
        verbose_name_plural = _("帮扶救助")
        ordering = ["-disbursed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="aftercare_aid_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind=AidKind.HARDSHIP_GRANT) | (Q(amount__gt=0) & ~Q(approver="")),
                name="aftercare_aid_grant_amount_approver",
            ),
            models.CheckConstraint(condition=Q(kind__in=AidKind.values), name="aftercare_aid_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind} {self.amount}"


class Reoffence(TimeStamped):
    case = models.ForeignKey(AftercareCase, on_delete=models.CASCADE, related_name="reoffences")
    offence_date = models.DateField(_("犯罪日期"))
    offence = models.CharField(_("罪名"), max_length=10)  # code table offence
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150, editable=False)

    class Meta:
        verbose_name = _("重新犯罪记录")
        verbose_name_plural = _("重新犯罪记录")
        ordering = ["-offence_date", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(offence=""), name="aftercare_reoffence_offence")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.offence} @ {self.offence_date}"
