"""The working-day calendar: the days that differ from "Monday to Friday work, weekends off".

A row is either a day off on a weekday or weekend (``holiday``: public holidays, including the weekend
days inside a holiday period) or a weekend day worked to make up for a bridge day (``workday``, 调休上班).
Every other day follows the week: Monday–Friday working, Saturday and Sunday off. A year without any
row has no published arrangement (see ``selectors.calendar_missing_years``): it falls back to weekends.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStamped


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    WORKDAY = "workday", _("调休上班")


class DaySource(models.TextChoices):
    PACKAGE = "package", _("内置数据（chinese-calendar）")
    IMPORT = "import", _("导入")
    MANUAL = "manual", _("手工录入")


class Holiday(TimeStamped):
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=40)
    source = models.CharField(_("来源"), max_length=10, choices=DaySource.choices, default=DaySource.MANUAL)

    audit_public_fields = ("date", "kind", "name", "source")

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["holiday", "workday"]), name="holiday_kind_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="holiday_name_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}（{self.get_kind_display()}）"
