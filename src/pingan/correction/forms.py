"""Forms of the correction pages. Validation rules live in the services (Chinese messages); the forms only
shape the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core.codes import code_choices
from pingan.core.forms import DateInput, SpreadsheetForm, bootstrap


class ClientForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=40, required=False)
    number = forms.CharField(label=_("矫正编号"), max_length=40)
    category = forms.ChoiceField(label=_("矫正类别"))
    offence = forms.CharField(label=_("罪名"), max_length=100)
    offence_code = forms.CharField(
        label=_("罪名代码"),
        max_length=20,
        required=False,
        help_text=_("可填罪名代码表中的代码或名称；罪名与代码表中的名称一致时自动填写"),
    )
    sentence = forms.CharField(label=_("原判刑罚"), max_length=100, required=False)
    sentence_months = forms.CharField(label=_("原判刑期（月）"), max_length=4, required=False)
    start_date = forms.CharField(label=_("矫正期起"), widget=DateInput())
    end_date = forms.CharField(label=_("矫正期止"), widget=DateInput())
    authority = forms.CharField(label=_("决定机关"), max_length=100)
    judgment_effective_date = forms.CharField(label=_("判决生效日期"), widget=DateInput())
    reported_on = forms.CharField(
        label=_("报到日期"), required=False, widget=DateInput(), help_text=_("尚未报到的留空")
    )
    minor_at_offence = forms.BooleanField(label=_("犯罪时未满十八周岁（档案将依法封存）"), required=False)
    checkin_every_days = forms.IntegerField(label=_("报告周期（天）"), min_value=1, max_value=90, initial=30)
    visit_every_days = forms.IntegerField(label=_("走访周期（天）"), min_value=1, max_value=180, initial=30)
    remarks = forms.CharField(label=_("备注"), max_length=300, required=False)
    area = forms.ChoiceField(label=_("所属社区/网格"))

    def __init__(self, *args: Any, areas: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *code_choices("correction_category")]  # type: ignore[attr-defined]
        self.fields["area"].choices = [(a.pk, f"{a.name}（{a.code}）") for a in areas]  # type: ignore[attr-defined]
        if editing:
            for key in ("name", "id_number", "reported_on", "minor_at_offence", "area"):
                del self.fields[key]
        else:
            self.fields["name"].required = True
            self.fields["id_number"].required = True
        bootstrap(self)


class ImportForm(SpreadsheetForm):
    pass
