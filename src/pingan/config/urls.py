from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from pingan.config.api import api
from pingan.core.api import json_method_not_allowed


def _api_urls() -> tuple[list[Any], str, str]:
    """The API authenticates by itself (401 with the error body, never a login redirect)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = json_method_not_allowed(pattern.callback)
        pattern.callback.login_required = False  # type: ignore[union-attr]
    return patterns, app_name, namespace


urlpatterns = [
    path("", include("pingan.core.urls")),
    path("accounts/", include("pingan.accounts.urls")),
    path("areas/", include("pingan.areas.urls")),
    path("audit/", include("pingan.audit.urls")),
    path("calendar/", include("pingan.workdays.urls")),
    path("events/", include("pingan.events.urls")),
    path("open311/v2/", include("pingan.events.urls_open311")),
    path("follow/", include("pingan.events.urls_follow")),
    path("notifications/", include("pingan.notifications.urls")),
    path("people/", include("pingan.people.urls")),
    path("schools/", include("pingan.schools.urls")),
    path("correction/", include("pingan.correction.urls")),
    path("aftercare/", include("pingan.aftercare.urls")),
    path("api/v1/", _api_urls()),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("i18n/js/", login_not_required(JavaScriptCatalog.as_view()), name="javascript_catalog"),
]
