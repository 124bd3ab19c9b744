"""Schools and kindergartens (学校台账): the places the school-surroundings work (校园及周边治安) is about.

A school sits in a community or a grid of the jurisdiction tree and is read and written inside the user's
scope like every place. Its safety fields are the source document's "4 个 100%": full-time guards
(专职保安), closed campus management (封闭化管理), a one-button alarm linked to the police with video
(一键报警与公安联网), and a guard post at the gate (护学岗). Events link to schools (events.EventSubject).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStamped


class School(TimeStamped):
    class Kind(models.TextChoices):
        KINDERGARTEN = "kindergarten", _("幼儿园")
        PRIMARY = "primary", _("小学")
        JUNIOR = "junior", _("初级中学")
        SENIOR = "senior", _("高级中学")
        COMPLETE = "complete", _("完全中学")
        NINE_YEAR = "nine_year", _("九年一贯制学校")
        VOCATIONAL = "vocational", _("中等职业学校")
        SPECIAL = "special", _("特殊教育学校")
        HIGHER = "higher", _("高等学校")
        TRAINING = "training", _("校外培训机构")
        OTHER = "other", _("其他")

    class Ownership(models.TextChoices):
        PUBLIC = "public", _("公办")
        PRIVATE = "private", _("民办")

    area = models.ForeignKey(
        "areas.Area", verbose_name=_("所在社区/网格"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("学校标识码"), max_length=10, null=True, blank=True, unique=True)
    name = models.CharField(_("学校名称"), max_length=80)
    kind = models.CharField(_("学校类别"), max_length=20, choices=Kind.choices)
    ownership = models.CharField(
        _("办学性质"), max_length=10, choices=Ownership.choices, default=Ownership.PUBLIC
    )
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    students = models.PositiveIntegerField(_("在校学生数"), null=True, blank=True)
    staff = models.PositiveIntegerField(_("教职工数"), null=True, blank=True)
    principal = models.CharField(_("校长（园长）"), max_length=30, blank=True)
    safety_lead = models.CharField(_("安全负责人"), max_length=30, blank=True)
    phone = models.CharField(_("安全值班电话"), max_length=30, blank=True)
    guards = models.PositiveIntegerField(_("专职保安人数"), default=0)
    closed_campus = models.BooleanField(_("封闭化管理"), default=False)
    alarm_linked = models.BooleanField(_("一键报警与公安联网"), default=False)
    guard_post = models.BooleanField(_("护学岗"), default=False)
    active = models.BooleanField(_("在办"), default=True)

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["area", "name"], name="school_area_name")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="school_name_not_blank"),
            models.UniqueConstraint(fields=["area", "name"], name="school_unique_name_in_area"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="school_coordinates_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # "4 个 100%" (docs/schools.md): each measure, and all four
    MEASURES = ("guards", "closed_campus", "alarm_linked", "guard_post")
    MEASURE_LABELS = {
        "guards": _("配备专职保安"),
        "closed_campus": _("封闭化管理"),
        "alarm_linked": _("一键报警与公安联网"),
        "guard_post": _("设立护学岗"),
    }

    def measure_met(self, measure: str) -> bool:
        return self.guards > 0 if measure == "guards" else bool(getattr(self, measure))

    @property
    def meets_all(self) -> bool:
        return all(self.measure_met(m) for m in self.MEASURES)
