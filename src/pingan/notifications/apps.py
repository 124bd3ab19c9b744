from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """In-app notifications with an unread count (the bell in the top bar). Generic: any module writes
    them with ``notifications.services.notify``."""

    name = "pingan.notifications"
    label = "notifications"
    verbose_name = _("站内通知")
