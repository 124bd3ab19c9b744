from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from pingan.core.middleware import FOCUS_SESSION_KEY
from pingan.core.ratelimit import rate_limit
from pingan.core.search import global_search
from pingan.core.selectors import code_item_list, code_table_list, home_figures


def home(request: HttpRequest) -> HttpResponse:
    from pingan.areas.selectors import street_overview

    overview = street_overview(user=request.user)
    chart_option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [pgettext("figure", "社区"), pgettext("figure", "网格")]},
        "grid": {"left": 40, "right": 16, "bottom": 60, "top": 36},
        "xAxis": {"type": "category", "data": [s["name"] for s in overview], "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": pgettext("figure", "社区"),
                "type": "bar",
                "data": [s["communities"] for s in overview],
                "color": "#1f4e8c",
            },
            {
                "name": pgettext("figure", "网格"),
                "type": "bar",
                "data": [s["grids"] for s in overview],
                "color": "#e8a33d",
            },
        ],
    }
    context = {"figures": home_figures(user=request.user), "overview": overview, "chart_option": chart_option}
    return render(request, "core/home.html", context)


@require_GET
@rate_limit("search")  # per user, PINGAN_SEARCH_RATE_PER_MINUTE
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    hits = global_search(user=request.user, q=q) if q else []
    return render(request, "core/search.html", {"q": q, "hits": hits})


@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    """我的导出: the user's large exports made in the background, with their state and download links."""
    from django.core.paginator import Paginator

    from pingan.core.exports import keep_hours, my_exports

    page = Paginator(my_exports(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/exports.html", {"page": page, "keep_hours": keep_hours()})


exports.rate_limit_exempt = "the user's own job list: no personal data"  # type: ignore[attr-defined]


@require_GET
@rate_limit("export")
def export_download(request: HttpRequest, job_id: int) -> HttpResponse:
    from pingan.core import exports as core_exports

    result = core_exports.export_download(user=request.user, job_id=job_id)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(result.filename)}"
    return response


@require_POST
def switch_scope(request: HttpRequest) -> HttpResponse:
    from pingan.accounts.selectors import forget_scope, scope_switch_options

    code = request.POST.get("area", "")
    allowed = {area.code for area in scope_switch_options(request.user)}
    if code and code in allowed:
        request.session[FOCUS_SESSION_KEY] = code
    else:
        request.session.pop(FOCUS_SESSION_KEY, None)
    forget_scope(request.user)
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


def code_tables(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("table", "")
    tables = list(code_table_list())
    current = next((t for t in tables if t.key == key), tables[0] if tables else None)
    items = list(code_item_list(table_key=current.key)) if current else []
    return render(request, "core/code_tables.html", {"tables": tables, "current": current, "items": items})


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "message": _("运行正常")})
