"""Base models and the code tables (字典) shared by every module."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class CodeTable(models.Model):
    """One code table, e.g. ethnic_group (GB 3304). Seeded from data/codes/*.csv."""

    key = models.SlugField(_("表标识"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    standard = models.CharField(_("依据标准"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("代码表")
        verbose_name_plural = _("代码表")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class CodeItem(models.Model):
    table = models.ForeignKey(CodeTable, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("代码"), max_length=20)
    label = models.CharField(_("名称"), max_length=100)
    label_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    parent_code = models.CharField(_("上级代码"), max_length=20, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("代码项")
        verbose_name_plural = _("代码项")
        ordering = ["table", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["table", "code"], name="codeitem_unique_code"),
            models.CheckConstraint(condition=~Q(code=""), name="codeitem_code_not_blank"),
            models.CheckConstraint(condition=~Q(label=""), name="codeitem_label_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class SensitiveData(models.Model):
    """No rows, no table: the holder of the global permissions about personal data (core.sensitive).
    ``core.view_sealed`` lets a business user see sealed records (未成年人犯罪记录封存) when they state a
    reason; the security administrator grants it explicitly (``sensitive.sealed_access_grant``)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_sealed", _("查阅封存记录"))]
        verbose_name = _("个人信息")
        verbose_name_plural = _("个人信息")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
