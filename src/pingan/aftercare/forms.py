from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.aftercare.models import AidKind, MemberRole, Resettlement, RiskLevel
from pingan.core.codes import code_choices
from pingan.core.forms import DateInput, SpreadsheetForm, bootstrap

DATE_ERRORS = {"invalid": _("请输入有效的日期"), "required": _("请填写日期")}


def _date(label: Any, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), error_messages=DATE_ERRORS)


class CaseForm(forms.Form):
    area = forms.ChoiceField(label=_("所属社区/网格"))
    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请填写姓名")})
    id_number = forms.CharField(
        label=_("公民身份号码"), max_length=40, error_messages={"required": _("请填写公民身份号码")}
    )
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    offence = forms.ChoiceField(label=_("原罪名"), error_messages={"required": _("请选择罪名")})
    offence_note = forms.CharField(label=_("罪名说明"), max_length=200, required=False)
    offence_under_18 = forms.BooleanField(label=_("犯罪时未满十八周岁（档案将依法封存）"), required=False)
    sentence = forms.CharField(label=_("原判刑罚"), max_length=60, required=False)
    sentence_months = forms.IntegerField(
        label=_("原判刑期（月）"), min_value=0, max_value=1200, required=False
    )
    prison = forms.CharField(label=_("服刑场所"), max_length=100, required=False)
    release_date = _date(_("释放日期"))
    is_recidivist = forms.BooleanField(label=_("累犯"), required=False)
    risk_level = forms.ChoiceField(label=_("风险评估"), required=False)
    risk_note = forms.CharField(label=_("评估说明"), max_length=300, required=False)
    is_key_person = forms.BooleanField(label=_("重点帮教对象（必接必送）"), required=False)
    assistance_end = _date(_("帮教期满日期（空则按释放日期起算默认年限）"), required=False)
    received_on = _date(_("已接收日期（已衔接到位时填写）"), required=False)
    remarks = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args: Any, areas: Any = None, edit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offence"].choices = [("", "—"), *code_choices("offence")]  # type: ignore[attr-defined]
        self.fields["risk_level"].choices = [("", "—"), *RiskLevel.choices]  # type: ignore[attr-defined]
        if edit:
            for key in (
                "area",
                "name",
                "id_number",
                "phone",
                "offence_under_18",
                "release_date",
                "received_on",
            ):
                del self.fields[key]
        else:
            self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas or []]  # type: ignore[attr-defined]
        bootstrap(self)


class ReceiveForm(forms.Form):
    received_on = _date(_("接收日期"))
    release_date = _date(_("实际释放日期（与预计不同时填写）"), required=False)
    met_at_release = forms.BooleanField(label=_("已在释放时接回（必接必送）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class NotReceivedForm(forms.Form):
    reason = forms.CharField(label=_("未接收原因"), max_length=200)
    on = _date(_("确认日期"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class ResettlementForm(forms.Form):
    kind = forms.ChoiceField(label=_("安置情况"), choices=Resettlement.choices)
    detail = forms.CharField(label=_("安置说明（单位、岗位等）"), max_length=200, required=False)
    reason = forms.CharField(label=_("未安置原因"), max_length=200, required=False)
    resettled_on = _date(_("安置日期"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("成员类别"), choices=MemberRole.choices)
    name = forms.CharField(label=_("姓名"), max_length=50)
    unit = forms.CharField(label=_("单位/关系"), max_length=100, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class VisitForm(forms.Form):
    visited_on = _date(_("走访日期"))
    visitors = forms.CharField(label=_("走访人"), max_length=100)
    content = forms.CharField(label=_("走访内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    next_visit_on = _date(_("下次走访日期"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class AidForm(forms.Form):
    kind = forms.ChoiceField(label=_("帮扶类别"), choices=AidKind.choices)
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=10, decimal_places=2, min_value=0, required=False
    )
    items = forms.CharField(label=_("物品/内容"), max_length=200, required=False)
    approver = forms.CharField(label=_("审批人"), max_length=50, required=False)
    disbursed_on = _date(_("发放日期"))
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class ReoffenceForm(forms.Form):
    offence_date = _date(_("犯罪日期"))
    offence = forms.ChoiceField(label=_("罪名"))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offence"].choices = [("", "—"), *code_choices("offence")]  # type: ignore[attr-defined]
        bootstrap(self)


class ImportForm(SpreadsheetForm):
    label = _("预释放名单文件（.xlsx / .xls / .csv）")
    max_mb = 10
