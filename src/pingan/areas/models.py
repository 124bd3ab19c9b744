"""The jurisdiction tree (district → street → community → grid) and departments.

The official code is the materialised path: a street's 9 digits start with its district's 6, a
community's 12 with its street's 9, a grid's 15 with its community's 12. "Inside node X" is the
range ``X.code <= code < X.code + ":"`` on the unique code index (codes are digits only).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from pingan.core.models import TimeStamped

models.CharField.register_lookup(Length)


class Level(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")


LEVEL_ORDER = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}


def subtree_q(code: str, field: str = "code") -> Q:
    """Rows whose code lies in the subtree rooted at ``code`` (one indexed range scan)."""
    return Q(**{f"{field}__gte": code, f"{field}__lt": code + ":"})


class Area(TimeStamped):
    code = models.CharField(_("区划代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    population = models.PositiveIntegerField(_("人口数"), null=True, blank=True)
    households = models.PositiveIntegerField(_("户数"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("辖区")
        verbose_name_plural = _("辖区")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="area_level_code")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="district", code__length=6, parent__isnull=True)
                    | Q(level="street", code__length=9, parent__isnull=False)
                    | Q(level="community", code__length=12, parent__isnull=False)
                    | Q(level="grid", code__length=15, parent__isnull=False)
                ),
                name="area_code_length_matches_level",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="area_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_codes(self) -> list[str]:
        return [self.code[:n] for n in (6, 9, 12) if n < len(self.code)]

    @property
    def child_level(self) -> str | None:
        index = LEVEL_ORDER.index(Level(self.level))
        return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


class Department(TimeStamped):
    """A functional department or unit (职能部门) that receives dispatched work."""

    code = models.SlugField(_("部门标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类别"), max_length=30)  # code table department_type
    area = models.ForeignKey(
        Area, verbose_name=_("所属辖区"), on_delete=models.PROTECT, related_name="departments"
    )
    serves = models.ManyToManyField(Area, verbose_name=_("服务辖区"), related_name="served_by", blank=True)
    phone = models.CharField(_("值班电话"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="department_unique_name_in_area"),
            models.CheckConstraint(condition=~Q(name=""), name="department_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


def within_area(qs: QuerySet[Any], area_id: int, field: str = "area") -> QuerySet[Any]:
    """The rows of ``qs`` whose ``field`` lies in the subtree of area ``area_id`` (none when there is no such
    area): the area filter of the lists."""
    area = Area.objects.filter(pk=area_id).only("code").first()
    if area is None:
        return qs.none()
    return qs.filter(**{f"{field}__in": Area.objects.filter(subtree_q(area.code))})
