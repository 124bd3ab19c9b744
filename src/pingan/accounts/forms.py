from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.accounts.roles import TOTP_MANDATORY_ROLES, Role
from pingan.areas.models import Area, Department


class LoginForm(forms.Form):
    """The first login step. The view checks the lockout and the password (accounts.security)."""

    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), max_length=256, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        )
        self.fields["password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )


class UserForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=40, required=False)
    role = forms.ChoiceField(label=_("岗位"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    areas = forms.ModelMultipleChoiceField(
        label=_("辖区"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_("用户能看到所选节点及其全部下级"),
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("部门"), queryset=Department.objects.none(), required=False
    )
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("新建时必填；修改时留空表示不变"),
    )

    def __init__(self, *args: Any, areas: Any, departments: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["areas"]
        department_field = self.fields["departments"]
        assert isinstance(area_field, forms.ModelMultipleChoiceField)
        assert isinstance(department_field, forms.ModelMultipleChoiceField)
        area_field.queryset = areas
        area_field.label_from_instance = lambda a: f"{a.code} {a.name}"  # type: ignore[method-assign,assignment]
        department_field.queryset = departments
        self.fields["password"].required = creating
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)
            if name in ("areas", "departments"):
                field.widget.attrs["size"] = 8


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=20,
        help_text=_("手机验证器（动态口令）上的 6 位数字；手机不在身边时可输入一个恢复码"),
    )

    def __init__(self, *args: Any, recovery: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not recovery:
            self.fields["code"].help_text = _("手机验证器上显示的 6 位数字")
        self.fields["code"].widget.attrs.update(
            {
                "class": "form-control",
                "autocomplete": "one-time-code",
                "inputmode": "numeric" if not recovery else "text",
                "autofocus": True,
            }
        )


class EnrolForm(forms.Form):
    """Confirms a new authenticator with its first code; signed-in users also confirm their password."""

    password = forms.CharField(label=_("当前密码"), strip=False, widget=forms.PasswordInput, max_length=256)
    code = forms.CharField(
        label=_("验证码"), max_length=10, help_text=_("扫描二维码后，验证器上显示的 6 位数字")
    )

    def __init__(self, *args: Any, ask_password: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ask_password:
            del self.fields["password"]
        else:
            self.fields["password"].widget.attrs.update(
                {"class": "form-control", "autocomplete": "current-password"}
            )
        self.fields["code"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "one-time-code", "inputmode": "numeric"}
        )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(label=_("当前密码"), strip=False, widget=forms.PasswordInput, max_length=256)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"), strip=False, widget=forms.PasswordInput, max_length=256
    )
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput, max_length=256
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, widget=forms.PasswordInput, max_length=256
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.contrib.auth import password_validation

        self.fields["new_password1"].help_text = password_validation.password_validators_help_text_html()
        self.fields["old_password"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "current-password"}
        )
        for name in ("new_password1", "new_password2"):
            self.fields[name].widget.attrs.update({"class": "form-control", "autocomplete": "new-password"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致"))
        return data


class SecurityPolicyForm(forms.Form):
    min_length = forms.IntegerField(label=_("密码最小长度"), min_value=8, max_value=64)
    min_classes = forms.IntegerField(
        label=_("至少包含的字符种类"),
        min_value=1,
        max_value=4,
        help_text=_("大写字母、小写字母、数字、符号四类中至少几类"),
    )
    reject_common = forms.BooleanField(label=_("禁止常见弱密码"), required=False)
    history_count = forms.IntegerField(
        label=_("不得与最近几次密码相同"), min_value=0, max_value=24, help_text=_("0 表示不检查")
    )
    max_age_days = forms.IntegerField(
        label=_("密码有效期（天）"),
        min_value=0,
        max_value=365,
        help_text=_("到期后登录须先修改密码；0 表示永不过期"),
    )
    lockout_threshold = forms.IntegerField(label=_("账号锁定：失败次数"), min_value=3, max_value=20)
    ip_lockout_threshold = forms.IntegerField(
        label=_("来源地址锁定：失败次数"),
        min_value=3,
        max_value=1000,
        help_text=_("多人共用一个出口地址时可适当调高"),
    )
    lockout_window_minutes = forms.IntegerField(
        label=_("失败次数统计时段（分钟）"), min_value=1, max_value=1440
    )
    lockout_minutes = forms.IntegerField(label=_("锁定时长（分钟）"), min_value=1, max_value=1440)
    idle_timeout_minutes = forms.IntegerField(label=_("会话空闲超时（分钟）"), min_value=1, max_value=120)
    session_lifetime_hours = forms.IntegerField(label=_("会话最长时限（小时）"), min_value=1, max_value=24)
    totp_required_roles = forms.MultipleChoiceField(
        label=_("必须使用动态口令的岗位"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("三员和可查看敏感信息原文的岗位始终必须使用（不可取消）；可另行勾选其他岗位"),
    )
    # Always required (roles.TOTP_MANDATORY_ROLES): shown checked and disabled, added back on save.
    mandatory_roles = frozenset(role.value for role in TOTP_MANDATORY_ROLES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif name != "totp_required_roles":
                field.widget.attrs.setdefault("class", "form-control")

    def clean_totp_required_roles(self) -> list[str]:
        return sorted(set(self.cleaned_data.get("totp_required_roles") or []) | self.mandatory_roles)


class TotpResetForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"), max_length=150, help_text=_("该用户的动态口令和恢复码将被清除，下次登录时重新绑定")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"class": "form-control"})
