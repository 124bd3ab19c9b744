from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core.forms import SpreadsheetForm, bootstrap
from pingan.schools.models import School


class SchoolForm(forms.Form):
    """The register/edit form; the service validates again (the same rules as the import and the API)."""

    name = forms.CharField(
        label=_("学校名称"), max_length=80, error_messages={"required": _("请填写学校名称")}
    )
    code = forms.CharField(
        label=_("学校标识码"),
        max_length=10,
        required=False,
        help_text=_("教育部门核发的 10 位数字，可留空"),
    )
    kind = forms.ChoiceField(
        label=_("学校类别"),
        choices=[("", _("请选择")), *School.Kind.choices],
        error_messages={"required": _("请选择学校类别")},
    )
    ownership = forms.ChoiceField(label=_("办学性质"), choices=School.Ownership.choices)
    area = forms.ChoiceField(label=_("所在社区/网格"), error_messages={"required": _("请选择所在社区或网格")})
    address = forms.CharField(label=_("地址"), max_length=200, error_messages={"required": _("请填写地址")})
    latitude = forms.CharField(label=_("纬度"), required=False, max_length=20)
    longitude = forms.CharField(label=_("经度"), required=False, max_length=20)
    students = forms.CharField(label=_("在校学生数"), required=False, max_length=10)
    staff = forms.CharField(label=_("教职工数"), required=False, max_length=10)
    principal = forms.CharField(label=_("校长（园长）"), required=False, max_length=30)
    safety_lead = forms.CharField(label=_("安全负责人"), required=False, max_length=30)
    phone = forms.CharField(label=_("安全值班电话"), required=False, max_length=30)
    guards = forms.CharField(label=_("专职保安人数"), required=False, max_length=10)
    closed_campus = forms.BooleanField(label=_("封闭化管理"), required=False)
    alarm_linked = forms.BooleanField(label=_("一键报警与公安联网（含视频）"), required=False)
    guard_post = forms.BooleanField(label=_("设立护学岗"), required=False)
    active = forms.BooleanField(label=_("在办"), required=False, initial=True)

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("请选择")), *((a.pk, f"{a.name}（{a.code}）") for a in areas)]  # type: ignore[attr-defined]
        for name in ("students", "staff", "guards"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        for name in ("latitude", "longitude"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        bootstrap(self)


class SchoolImportForm(SpreadsheetForm):
    max_mb = 5
