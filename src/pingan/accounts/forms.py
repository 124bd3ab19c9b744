from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from pingan.accounts.roles import Role
from pingan.areas.models import Area, Department


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。"),
        "inactive": _("用户名或密码不正确。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"class": "form-control", "autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"class": "form-control", "autocomplete": "current-password"})


class UserForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=40, required=False)
    role = forms.ChoiceField(label=_("岗位"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    areas = forms.ModelMultipleChoiceField(
        label=_("辖区"), queryset=Area.objects.none(), required=False,
        help_text=_("用户能看到所选节点及其全部下级"),
    )
    departments = forms.ModelMultipleChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False)
    password = forms.CharField(
        label=_("初始密码"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("新建时必填；修改时留空表示不变"),
    )

    def __init__(self, *args: Any, areas: Any, departments: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = areas
        self.fields["areas"].label_from_instance = lambda a: f"{a.code} {a.name}"
        self.fields["departments"].queryset = departments
        self.fields["password"].required = creating
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)
            if name in ("areas", "departments"):
                field.widget.attrs["size"] = 8
