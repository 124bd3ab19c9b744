from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core.forms import DateInput, SpreadsheetForm, bootstrap
from pingan.workdays.models import DayKind


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DateInput())
    kind = forms.ChoiceField(label=_("类型"), choices=DayKind.choices)
    name = forms.CharField(label=_("名称"), max_length=40, help_text=_("如：国庆节、春节"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class HolidayImportForm(SpreadsheetForm):
    max_mb = 2
