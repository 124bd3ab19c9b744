from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from pingan.accounts import security, services
from pingan.accounts.forms import (
    EnrolForm,
    LoginForm,
    OtpForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    SecurityPolicyForm,
    TotpResetForm,
    UserForm,
)
from pingan.accounts.models import LoginAttempt, User
from pingan.accounts.roles import Role
from pingan.accounts.selectors import user_get, user_list
from pingan.areas.models import Area, Department
from pingan.audit.context import client_ip
from pingan.audit.services import audit_record
from pingan.core import ratelimit
from pingan.core.forms import apply_errors
from pingan.core.types import AuthedRequest

PENDING_SECONDS = {"verify": security.PENDING_SECONDS, "enrol": 3 * security.PENDING_SECONDS}
LOGOUT_REASONS = {
    "idle": _("长时间未操作，会话已超时，请重新登录。"),
    "lifetime": _("会话已超过最长时限，请重新登录。"),
}

# --- login: password, then the second factor -------------------------------------------------------


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _begin_pending(request: HttpRequest, user: User, stage: str, next_url: str) -> None:
    request.session.cycle_key()
    request.session[security.PENDING_KEY] = {
        "user_id": user.pk,
        "stage": stage,
        "at": timezone.now().timestamp(),
        "next": next_url,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "hash": user.get_session_auth_hash(),
    }


def _pending(request: HttpRequest, stage: str) -> tuple[User, dict[str, Any]] | None:
    data = request.session.get(security.PENDING_KEY)
    if not isinstance(data, dict) or data.get("stage") != stage:
        return None
    if timezone.now().timestamp() - float(data.get("at", 0)) > PENDING_SECONDS[stage]:
        request.session.pop(security.PENDING_KEY, None)
        return None
    user_id = data.get("user_id")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None or not hmac.compare_digest(str(data.get("hash", "")), user.get_session_auth_hash()):
        request.session.pop(security.PENDING_KEY, None)
        return None
    return user, data


def _complete_login(request: HttpRequest, user: User, data: dict[str, Any], second_factor: str) -> None:
    request.session.pop(security.PENDING_KEY, None)
    login(request, user, backend=data["backend"])  # a new session key (cycle_key)
    security.login_succeeded(request=request, user=user, second_factor=second_factor)


def _locked_refusal(request: HttpRequest, user: User) -> bool:
    """True (and counted, audited) when the account or address is locked."""
    ip = client_ip(request)
    if security.locked_until(username=user.username, ip=ip) is None:
        return False
    security.record_attempt(
        username=user.username, ip=ip, success=False, kind=LoginAttempt.Kind.OTP, blocked=True
    )
    audit_record(
        actor=None,
        action="auth.login_failed",
        outcome="failure",
        actor_username=user.username,
        changes={"reason": "locked"},
    )
    return True


@login_not_required
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if ratelimit.exceeded(request, "login"):  # per source address, LOGIN_RATE_PER_MINUTE
            form.errors.clear()
            form.add_error(None, str(ratelimit.MESSAGE))
            status = 429
        elif form.is_valid():
            check = security.check_password_step(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
            user = check.user
            if user is None:
                form.add_error(None, str(security.GENERIC_LOGIN_ERROR))
            elif security.totp_device(user) is not None:
                _begin_pending(request, user, "verify", next_url)
                return redirect("accounts:login_verify")
            elif security.totp_required(user):
                _begin_pending(request, user, "enrol", next_url)
                return redirect("accounts:login_enrol")
            else:
                _complete_login(request, user, {"backend": user.backend}, "none")
                return redirect(next_url)
    reason = request.session.pop(security.LOGOUT_REASON_KEY, None) if request.method == "GET" else None
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": next_url if request.GET.get("next") or request.POST.get("next") else "",
            "logout_reason": LOGOUT_REASONS.get(reason or ""),
        },
        status=status,
    )


@login_not_required
@csrf_protect
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    pending = _pending(request, "verify")
    if pending is None:
        return redirect("accounts:login")
    user, data = pending
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _locked_refusal(request, user):
            form.add_error(None, str(security.GENERIC_LOGIN_ERROR))
        else:
            method = security.second_factor_verify(user, form.cleaned_data["code"])
            if method is None:
                security.second_factor_failed(request=request, user=user)
                form.add_error(None, str(security.GENERIC_LOGIN_ERROR))
            else:
                _complete_login(request, user, data, method)
                if method == "recovery_code":
                    messages.warning(
                        request,
                        _("您使用了一个恢复码（每个只能用一次），还剩 %(n)d 个。")
                        % {"n": security.recovery_codes_left(user)},
                    )
                return redirect(data["next"])
    return render(request, "accounts/login_verify.html", {"form": form, "pending_user": user})


@login_not_required
@csrf_protect
@never_cache
def login_enrol(request: HttpRequest) -> HttpResponse:
    """A user whose role requires TOTP and who has no authenticator yet enrols right after the password."""
    pending = _pending(request, "enrol")
    if pending is None:
        return redirect("accounts:login")
    user, data = pending
    form = EnrolForm(request.POST or None, ask_password=False)
    if request.method == "POST" and form.is_valid():
        if _locked_refusal(request, user):
            form.add_error(None, str(security.GENERIC_LOGIN_ERROR))
        else:
            try:
                codes = security.totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
            except ValidationError as exc:
                security.second_factor_failed(request=request, user=user, reason="otp_enrol")
                apply_errors(form, exc)
            else:
                _complete_login(request, user, data, "totp_enrol")
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "continue_url": data["next"], "first": True},
                )
    _device, secret = security.totp_enrolment_start(user=user)
    return render(
        request,
        "accounts/login_enrol.html",
        {"form": form, "pending_user": user, **_enrol_context(user, secret)},
    )


def _enrol_context(user: User, secret: str) -> dict[str, Any]:
    uri = security.totp_provisioning_uri(user, secret)
    return {
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": security.qr_svg_data_uri(uri),
        "otpauth_uri": uri,
    }


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit_record(actor=request.user, action="auth.logout")
        return super().post(request, *args, **kwargs)


# --- the user's own account security (账号安全) ------------------------------------------------------


def account_security(request: AuthedRequest) -> HttpResponse:
    user = request.user
    policy = security.security_policy()
    device = security.totp_device(user)
    return render(
        request,
        "accounts/account_security.html",
        {
            "password_changed_at": user.password_changed_at,
            "password_expires_at": security.password_expires_at(user, policy),
            "device": device,
            "totp_required": security.totp_required(user, policy),
            "codes_left": security.recovery_codes_left(user) if device else 0,
            "sessions": security.user_sessions_active(user),
            "current_key": request.session.session_key,
            "confirm_form": PasswordConfirmForm(),
        },
    )


def _password_ok(request: AuthedRequest, form: PasswordConfirmForm | EnrolForm) -> bool:
    ip = client_ip(request)
    if security.locked_until(username=request.user.username, ip=ip) is not None:
        form.add_error("password", str(security.GENERIC_LOGIN_ERROR))
        return False
    if not request.user.check_password(form.cleaned_data["password"]):
        security.record_attempt(username=request.user.username, ip=ip, success=False)
        form.add_error("password", _("当前密码不正确"))
        return False
    return True


@sensitive_post_parameters("password")
def totp_enrol(request: AuthedRequest) -> HttpResponse:
    form = EnrolForm(request.POST or None, ask_password=True)
    if request.method == "POST" and form.is_valid() and _password_ok(request, form):
        try:
            codes = security.totp_enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "continue_url": reverse("accounts:security"), "first": True},
            )
    _device, secret = security.totp_enrolment_start(user=request.user)
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "replacing": security.totp_device(request.user) is not None,
            **_enrol_context(request.user, secret),
        },
    )


@require_POST
@sensitive_post_parameters("password")
def recovery_codes_regenerate(request: AuthedRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    if form.is_valid() and _password_ok(request, form):
        try:
            codes = security.recovery_codes_regenerate(user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "continue_url": reverse("accounts:security"), "first": False},
            )
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("accounts:security")


@require_POST
@sensitive_post_parameters("password")
def totp_disable(request: AuthedRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    if form.is_valid() and _password_ok(request, form):
        try:
            security.totp_disable(user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已停用动态口令"))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("accounts:security")


@require_POST
def sessions_end_others(request: AuthedRequest) -> HttpResponse:
    ended = security.sessions_end_others(user=request.user, current_key=request.session.session_key)
    messages.success(request, _("已结束其他 %(n)d 个会话") % {"n": ended})
    return redirect("accounts:security")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def password_change(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        old_key = request.session.session_key
        try:
            ended = security.password_change(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                request=request,
                keep_session_key=old_key,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            update_session_auth_hash(request, user)  # keeps this session, under a fresh key
            security.session_rekeyed(old_key, request.session.session_key)
            messages.success(
                request, _("密码已修改。其他 %(n)d 个会话已结束，接口令牌已作废。") % {"n": ended}
            )
            return redirect("accounts:security")
    policy = security.security_policy()
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "expired": security.password_expired(user, policy),
            "expires_at": security.password_expires_at(user, policy),
        },
    )


# --- the security administrator's policy screen ------------------------------------------------------


def _policy_initial(policy: Any) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in security.POLICY_FIELDS}


def security_policy(request: AuthedRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.manage_security_policy"):
        raise PermissionDenied
    policy = security.security_policy()
    form = SecurityPolicyForm(request.POST or None, initial=_policy_initial(policy))
    if request.method == "POST" and form.is_valid():
        try:
            security.security_policy_update(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("安全策略已保存"))
            return redirect("accounts:security_policy")
    return render(
        request,
        "accounts/security_policy.html",
        {
            "form": form,
            "policy": policy,
            "reset_form": TotpResetForm(),
            "updated_at": policy.updated_at if policy.pk and policy.updated_at else None,
        },
    )


@require_POST
def security_totp_reset(request: AuthedRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.manage_security_policy"):
        raise PermissionDenied
    form = TotpResetForm(request.POST)
    if form.is_valid():
        try:
            target = security.totp_reset(actor=request.user, username=form.cleaned_data["username"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已重置 %(u)s 的动态口令") % {"u": target.username})
    return redirect("accounts:security_policy")


# --- user management ---------------------------------------------------------------------------------


def _require_manage(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.manage_users"):
        raise PermissionDenied


def users(request: AuthedRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.view_user_list"):
        raise PermissionDenied
    filters = {"q": request.GET.get("q", "").strip()[:50], "role": request.GET.get("role", "")}
    qs = user_list(user=request.user, filters=filters).prefetch_related(
        "memberships__area", "memberships__department"
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "filters": filters,
            "roles": Role.choices,
            "can_manage": request.user.has_perm("accounts.manage_users"),
        },
    )


def user_edit(request: AuthedRequest, user_id: int | None = None) -> HttpResponse:
    _require_manage(request)
    target = user_get(user=request.user, user_id=user_id) if user_id else None
    initial = {}
    if target is not None:
        initial = {
            "username": target.username,
            "full_name": target.full_name,
            "role": target.role,
            "is_active": target.is_active,
            "areas": [m.area_id for m in target.memberships.all() if m.area_id],
            "departments": [m.department_id for m in target.memberships.all() if m.department_id],
        }
    form = UserForm(
        request.POST or None,
        initial=initial,
        areas=Area.objects.all(),
        departments=Department.objects.all(),
        creating=target is None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.user_save(
                actor=request.user,
                user_id=target.pk if target else None,
                data={k: data[k] for k in ("username", "full_name", "role", "is_active")},
                areas=list(data["areas"]),
                departments=list(data["departments"]),
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
