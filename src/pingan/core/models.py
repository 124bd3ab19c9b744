"""Base models and the code tables (字典) shared by every module."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from pingan.core.fields import EncryptedTextField

_CHOICE_LABELS: dict[models.Field[Any, Any], dict[Any, Any]] = {}


class ChoiceLabels(models.Model):
    """``get_FOO_display()`` from a table of the field's labels made once. Django rebuilds the table on every
    call and hashes each (value, label) pair in it, which translates every label: 0.1–0.3 ms for an event's
    state or a step's action, once per row of a list. The labels stay lazy, so each call translates one, in
    the language of the moment. Fields whose choices are a callable keep Django's way."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> Any:
        labels = _CHOICE_LABELS.get(field)
        if labels is None:
            if isinstance(field.choices, CallableChoiceIterator):
                return super()._get_FIELD_display(field)
            labels = _CHOICE_LABELS[field] = dict(field.flatchoices)
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value (never one of the choices)
            label = value
        return force_str(label, strings_only=True)


class TimeStamped(ChoiceLabels):
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


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("可下载")
    FAILED = "failed", _("失败")
    EXPIRED = "expired", _("已过期")


class ExportJob(TimeStamped):
    """A large export (more than ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows) produced by the worker
    (``core.exports``). The file is stored SM4-GCM encrypted until it expires, and only the user who
    asked for it may download it (我的导出); queueing and each download are audited."""

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("导出人"), on_delete=models.PROTECT, related_name="export_jobs"
    )
    exporter = models.CharField(_("导出类型"), max_length=60)
    label = models.CharField(_("名称"), max_length=100)
    params = models.JSONField(_("导出条件"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    estimated_rows = models.PositiveIntegerField(_("预计行数"), default=0)
    rows = models.PositiveIntegerField(_("行数"), null=True, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    # the xlsx, base64, SM4-GCM encrypted (covered by `pingan keys rotate`); emptied when it expires
    content = EncryptedTextField(_("文件"), blank=True, default="")
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    download_count = models.PositiveIntegerField(_("下载次数"), default=0)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="exportjob_user_created"),
            models.Index(fields=["status", "expires_at"], name="exportjob_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed", "expired"]),
                name="exportjob_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} #{self.pk}"
