from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core.codes import code_choices
from pingan.core.forms import DateInput, SpreadsheetForm, bootstrap
from pingan.people.models import FloatingRecord, House, Occupancy


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
        widget=DateInput(),
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


def _date(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        error_messages={"invalid": _("请输入有效的日期"), "required": _("请填写日期")},
    )


class PersonPickField(forms.CharField):
    """A person in the user's sight, named by a full ID number or an archive number (the record id); the
    form's ``user`` resolves it (``selectors.person_pick``) into ``cleaned_data``."""

    def __init__(self, *, label: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            required=required,
            max_length=40,
            help_text=_("填写身份证号或档案号，或用上方的搜索选择"),
            error_messages={"required": _("请填写身份证号或档案号")},
            **kwargs,
        )


class _PickerForm(forms.Form):
    """A form whose ``PersonPickField``s are resolved inside the user's sight."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        from pingan.people.selectors import person_pick

        cleaned = super().clean() or {}
        for name, field in self.fields.items():
            if isinstance(field, PersonPickField) and cleaned.get(name):
                person = person_pick(user=self.user, text=cleaned[name])
                if person is None:
                    self.add_error(name, _("辖区内没有该人员，请核对身份证号或档案号"))
                else:
                    cleaned[name] = person
        return cleaned


class OccupancyStartForm(_PickerForm):
    person = PersonPickField(label=_("人员"))
    # no preselected relation: an unnoticed default recorded residents as owners
    role = forms.ChoiceField(
        label=_("居住关系"),
        choices=[("", _("请选择")), *Occupancy.Role.choices],
        error_messages={"required": _("请选择居住关系")},
    )
    start = _date(_("入住日期"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class OccupancyEndForm(forms.Form):
    end = _date(_("迁出日期"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class HouseholdForm(_PickerForm):
    number = forms.CharField(label=_("户号"), max_length=30, error_messages={"required": _("请填写户号")})
    area = forms.ChoiceField(label=_("所属网格"))
    householder = PersonPickField(label=_("户主"), required=False)
    house = forms.CharField(
        label=_("住址房屋"),
        max_length=40,
        required=False,
        help_text=_("房屋编码或房屋编号，可留空"),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas]  # type: ignore[attr-defined]
        bootstrap(self)

    def clean_house(self) -> House | None:
        from pingan.people.selectors import house_pick

        text = self.cleaned_data.get("house", "")
        if not text:
            return None
        house = house_pick(user=self.user, text=text)
        if house is None:
            raise forms.ValidationError(_("辖区内没有该房屋，请核对房屋编码"))
        return house


class HouseholdMemberForm(_PickerForm):
    person = PersonPickField(label=_("人员"))
    relation = forms.ChoiceField(label=_("与户主关系"), error_messages={"required": _("请选择与户主关系")})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = _codes("household_relation")  # type: ignore[attr-defined]
        bootstrap(self)


class HouseholderForm(forms.Form):
    """变更户主: the new householder among the members the user sees, and what the former one becomes."""

    person = forms.ChoiceField(label=_("新户主"), error_messages={"required": _("请选择新户主")})
    former_relation = forms.ChoiceField(
        label=_("原户主与新户主的关系"),
        required=False,
        help_text=_("原户主留在本户，按所选关系登记"),
    )

    def __init__(self, *args: Any, members: Any, householder_id: int | None, **kwargs: Any) -> None:
        from pingan.core.masking import mask_id_number, mask_name

        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *(
                (
                    str(m.person_id),
                    f"{mask_name(m.person.name)} · {mask_id_number(m.person.id_number) or '—'}",
                )
                for m in members
                if m.person_id != householder_id
            ),
        ]
        self.fields["former_relation"].choices = [  # type: ignore[attr-defined]
            (code, label) for code, label in _codes("household_relation") if code != "02"
        ]
        if householder_id is not None:
            self.fields["former_relation"].required = True
            self.fields["former_relation"].error_messages["required"] = _("请选择原户主与新户主的关系")
        else:  # no householder yet: nobody to give a new relation to
            del self.fields["former_relation"]
        bootstrap(self)


class FloatingForm(_PickerForm):
    permit_type = forms.ChoiceField(label=_("证件类别"), choices=FloatingRecord.PermitType.choices)
    permit_number = forms.CharField(label=_("居住证号"), max_length=40, required=False)
    valid_from = _date(_("有效期起"))
    valid_to = _date(_("有效期至"))
    inflow_reason = forms.CharField(label=_("流入原因"), max_length=60, required=False)
    registered_on = _date(_("登记日期"), required=True)
    last_verified_on = _date(_("最近核查日期"))
    landlord = PersonPickField(label=_("房东"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("permit_type") == FloatingRecord.PermitType.RESIDENCE_PERMIT and not cleaned.get(
            "permit_number"
        ):
            self.add_error("permit_number", _("已办理居住证的，请填写居住证号"))
        return cleaned

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["landlord"] = data.get("landlord") or None
        return data


class OverseasForm(forms.Form):
    nationality = forms.ChoiceField(label=_("国籍/地区"), error_messages={"required": _("请选择国籍或地区")})
    foreign_surname = forms.CharField(label=_("外文姓"), max_length=60, required=False)
    foreign_given_name = forms.CharField(label=_("外文名"), max_length=80, required=False)
    document_number = forms.CharField(label=_("护照/通行证号"), max_length=40, required=False)
    visa_type = forms.CharField(label=_("签证/签注类型"), max_length=40, required=False)
    entry_date = _date(_("入境日期"), required=True)
    stay_until = _date(_("停留有效期至"))
    expected_departure = _date(_("预计离开日期"))
    purpose = forms.CharField(label=_("来华事由"), max_length=60, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nationality"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(code, label) for code, label in code_choices("nationality") if code != "CHN"],
        ]
        bootstrap(self)


class MoveInForm(_PickerForm):
    area = forms.ChoiceField(label=_("迁入网格"))
    house = forms.CharField(
        label=_("迁入房屋"), max_length=40, required=False, help_text=_("房屋编码或房屋编号，可留空")
    )
    on = _date(_("迁入日期"), required=True)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas]  # type: ignore[attr-defined]
        bootstrap(self)

    clean_house = HouseholdForm.clean_house


class ImportForm(SpreadsheetForm):
    label = _("花名册文件（.xlsx / .xls / .csv）")
