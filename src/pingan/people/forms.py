from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core.codes import code_choices
from pingan.core.forms import bootstrap
from pingan.people.models import House


def _codes(key: str) -> list[tuple[str, str]]:
    return [("", "—"), *code_choices(key)]


class PersonForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")})
    id_type = forms.ChoiceField(label=_("证件类型"), required=False)
    id_number = forms.CharField(label=_("证件号码"), max_length=40, required=False)
    former_name = forms.CharField(label=_("曾用名"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("性别"), required=False)
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("请输入有效的日期")},
    )
    ethnic_group = forms.ChoiceField(label=_("民族"), required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    political_status = forms.ChoiceField(label=_("政治面貌"), required=False)
    education = forms.ChoiceField(label=_("文化程度"), required=False)
    marital_status = forms.ChoiceField(label=_("婚姻状况"), required=False)
    occupation = forms.CharField(label=_("职业"), max_length=60, required=False)
    workplace = forms.CharField(label=_("服务处所"), max_length=120, required=False)
    registered_address = forms.CharField(label=_("户籍地址"), max_length=200, required=False)
    current_address = forms.CharField(label=_("现住址"), max_length=200, required=False)
    is_registered = forms.BooleanField(label=_("户籍人口"), required=False)
    is_floating = forms.BooleanField(label=_("流动人口"), required=False)
    is_overseas = forms.BooleanField(label=_("境外人员"), required=False)
    is_left_behind = forms.BooleanField(label=_("留守人员"), required=False)
    remarks = forms.CharField(label=_("备注"), max_length=300, required=False)
    area = forms.ChoiceField(label=_("所属网格"))

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in ("id_type", "sex", "ethnic_group", "political_status", "education", "marital_status"):
            self.fields[key].choices = _codes(key)  # type: ignore[attr-defined]
        self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas]  # type: ignore[attr-defined]
        bootstrap(self)

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("area")
        return data


class HouseForm(forms.Form):
    compound = forms.CharField(
        label=_("小区/道路"), max_length=80, error_messages={"required": _("请填写小区或道路")}
    )
    building = forms.CharField(label=_("楼栋"), max_length=20, required=False)
    unit = forms.CharField(label=_("单元"), max_length=20, required=False)
    room = forms.CharField(label=_("室号"), max_length=20, required=False)
    code = forms.CharField(label=_("房屋编码"), max_length=40, required=False)
    use = forms.ChoiceField(label=_("房屋用途"), choices=House.Use.choices)
    floor_area = forms.DecimalField(
        label=_("面积（㎡）"), required=False, min_value=0.01, max_digits=8, decimal_places=2
    )
    rented = forms.BooleanField(label=_("出租房屋"), required=False)
    hazards = forms.CharField(label=_("安全隐患"), max_length=300, required=False)
    area = forms.ChoiceField(label=_("所属网格"))

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas]  # type: ignore[attr-defined]
        bootstrap(self)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("花名册文件（.xlsx / .xls / .csv）"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ".xlsx,.xls,.csv"})

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 20 MB"))
        if not upload.name.lower().endswith((".xlsx", ".xls", ".csv")):
            raise forms.ValidationError(_("只支持 .xlsx、.xls 和 .csv 文件"))
        return upload
