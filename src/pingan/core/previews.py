"""Import wizards (upload → preview → 确认导入): the uploaded file waits in the session between the two steps.

Each preview gets a token, sent back by the page's 确认导入 form. The file committed is the one previewed on
that page: a preview made since in another window replaces the stored file and its token, so the older page's
confirmation is refused instead of writing the other file; a confirmation sent twice finds nothing. One rule
for every wizard (people, areas, holidays, correction clients, pre-release notices)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib import messages
from django.utils.translation import gettext_lazy as _

from pingan.core.excel import Table, read_table

UPLOAD_FIELD = "upload"  # the 确认导入 form's hidden field, holding the token
STALE = _("预览已失效（可能已经导入，或在另一个窗口上传了其他文件），请重新上传文件并预览")


def stash(request: Any, key: str, name: str, data: bytes) -> str:
    """Keep the previewed file under ``key``; returns the token for the page's confirmation form."""
    token = secrets.token_urlsafe(16)
    request.session[key] = {"name": name, "data": data.hex(), "token": token}
    return token


def take(request: Any, key: str, columns: Mapping[str, Sequence[str]]) -> tuple[str, Table] | None:
    """(file name, table) of the file previewed on the page that sent the confirmation, removed from the
    session; None when there is none or another preview has replaced it — the user is told so (``STALE``)."""
    stored = request.session.get(key)
    sent = str(request.POST.get(UPLOAD_FIELD, ""))
    if not stored or not sent or not secrets.compare_digest(str(stored.get("token", "")), sent):
        messages.error(request, STALE)
        return None
    del request.session[key]
    name = str(stored["name"])
    return name, read_table(bytes.fromhex(stored["data"]), name, columns)
