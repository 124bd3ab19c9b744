"""In-app notifications (站内通知): a row per recipient, read or unread. Any module writes them through
``notifications.services.notify`` inside its own transaction (they are data, like the timeline: they
commit or roll back with the change that caused them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    # no index of its own: notification_user_recent (user, -created_at) serves every lookup by user
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=120)
    body = models.CharField(_("内容"), max_length=300, blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    # What the notification is about ("events.event", "42"): lets a module clear or find its own.
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_user_unread"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(title=""), name="notification_title_not_blank")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
