from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingan.accounts import services
from pingan.accounts.forms import LoginForm, UserForm
from pingan.accounts.roles import Role
from pingan.accounts.selectors import user_get, user_list
from pingan.areas.models import Area, Department
from pingan.core.forms import apply_errors
from pingan.core.types import AuthedRequest


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _require_manage(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.manage_users"):
        raise PermissionDenied


def users(request: AuthedRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.view_user_list"):
        raise PermissionDenied
    filters = {"q": request.GET.get("q", "").strip()[:50], "role": request.GET.get("role", "")}
    qs = user_list(user=request.user, filters=filters).prefetch_related("memberships__area", "memberships__department")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {
        "page": page, "filters": filters, "roles": Role.choices,
        "can_manage": request.user.has_perm("accounts.manage_users"),
    })


def user_edit(request: AuthedRequest, user_id: int | None = None) -> HttpResponse:
    _require_manage(request)
    target = user_get(user=request.user, user_id=user_id) if user_id else None
    initial = {}
    if target is not None:
        initial = {
            "username": target.username, "full_name": target.full_name, "role": target.role,
            "is_active": target.is_active,
            "areas": [m.area_id for m in target.memberships.all() if m.area_id],
            "departments": [m.department_id for m in target.memberships.all() if m.department_id],
        }
    form = UserForm(
        request.POST or None, initial=initial, areas=Area.objects.all(),
        departments=Department.objects.all(), creating=target is None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.user_save(
                actor=request.user, user_id=target.pk if target else None,
                data={k: data[k] for k in ("username", "full_name", "role", "is_active")},
                areas=list(data["areas"]), departments=list(data["departments"]),
                password=data["password"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存用户 %(u)s") % {"u": saved.username})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@require_POST
def user_end_sessions(request: AuthedRequest, user_id: int) -> HttpResponse:
    _require_manage(request)
    target = user_get(user=request.user, user_id=user_id)
    ended = services.user_end_sessions(actor=request.user, user_id=target.pk)
    messages.success(request, _("已结束 %(u)s 的 %(n)d 个会话") % {"u": target.username, "n": ended})
    return redirect("accounts:users")
