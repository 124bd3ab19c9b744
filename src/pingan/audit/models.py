"""The audit trail: append-only, hash-chained rows (MLPS level 3, 8.1.4.3 安全审计).

Rows are only ever inserted, by ``services.audit_record`` (which assigns ``seq``, ``prev_hash`` and
``row_hash`` inside the writing transaction). The application has no update or delete path: ``save()``
of an existing row, ``delete()``, ``QuerySet.update()``/``delete()``/``bulk_update()`` all raise
``AuditImmutableError``; on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE as well
(migration 0004). The only deletion is the retention purge (``pingan audit purge``), which the
trigger admits for rows older than 180 days while the purge command holds its session flag.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditImmutableError(RuntimeError):
    """Audit rows cannot be changed or deleted by the application."""


def _refuse(what: str) -> NoReturn:
    raise AuditImmutableError(f"audit events are append-only: {what} refused")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    DENIED = "denied", _("拒绝")


class Kind(models.TextChoices):
    WRITE = "write", _("数据变更")
    ACCESS = "access", _("敏感访问")
    AUTH = "auth", _("登录认证")
    EXPORT = "export", _("导出")
    POLICY = "policy", _("权限与策略")


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def _raw_delete(self, using: Any) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        _refuse("bulk update")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        # Rows must be chained; the only bulk path is pingan.audit.chain.append_bulk.
        _refuse("bulk create outside the chain")

    def _chain_insert(self, objs: list[AuditEvent]) -> None:
        """Insert rows already chained by pingan.audit.chain.append_bulk (under the chain lock)."""
        models.QuerySet.bulk_create(self, objs)

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create")


AuditManager = models.Manager.from_queryset(AuditQuerySet)


class AuditEvent(models.Model):
    """One audited action or access. Inserted only by ``services.audit_record``."""

    seq = models.BigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.WRITE)
    # No database constraint and no cascade: deleting or changing a user must never touch an audit
    # row (a SET_NULL would rewrite it). The username and role are kept as text beside the id.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the screen filters by actor_username (audit_actor_seq)
        related_name="+",
    )
    actor_username = models.CharField(_("操作人"), max_length=150, blank=True)
    actor_role = models.CharField(_("岗位"), max_length=30, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=60, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    area_code = models.CharField(_("辖区代码"), max_length=15, blank=True)
    # Access events (访问留痕): whose record was seen; the label is masked (张*明).
    subject_type = models.CharField(_("当事人类型"), max_length=60, blank=True)
    subject_id = models.CharField(_("当事人编号"), max_length=60, blank=True)
    subject_label = models.CharField(_("当事人"), max_length=60, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    # ``changes`` exactly as the MAC covers it (canonical JSON text). PostgreSQL's jsonb rewrites the text it
    # stores; this copy lets the server rebuild the signed bytes of a row on its own (``chain.verify``), and
    # verification checks that both say the same.
    changes_json = models.TextField(blank=True, default="{}", editable=False)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    source_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    prev_hash = models.CharField(_("前一条摘要"), max_length=64)
    row_hash = models.CharField(_("本条摘要"), max_length=64)

    objects = AuditManager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["actor_username", "seq"], name="audit_actor_seq"),
            models.Index(fields=["kind", "occurred_at"], name="audit_kind_time"),
            models.Index(fields=["area_code", "seq"], name="audit_area_seq"),
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
            # Two rows can never chain onto the same predecessor (a fork): the database refuses it.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_prev_hash_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            _refuse("update")
        if not self.row_hash or not self.prev_hash:
            raise AuditImmutableError("audit events are written by pingan.audit.services.audit_record")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")
