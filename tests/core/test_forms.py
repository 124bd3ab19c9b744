"""Shared form pieces (``pingan.core.forms``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import translation

from pingan.aftercare.forms import CaseForm
from pingan.core.forms import DateInput


class _Form(forms.Form):
    on = forms.DateField(widget=DateInput())


def test_date_input_renders_the_iso_form_a_browser_date_field_reads() -> None:
    # Chinese formats put "%Y/%m/%d" first; <input type="date"> shows that as an empty field
    with translation.override("zh-hans"):
        html = str(_Form(initial={"on": dt.date(2026, 3, 5)})["on"])
    assert 'type="date"' in html and 'value="2026-03-05"' in html


def test_date_input_reads_back_what_it_rendered() -> None:
    with translation.override("zh-hans"):
        form = _Form({"on": "2026-03-05"})
        assert form.is_valid() and form.cleaned_data["on"] == dt.date(2026, 3, 5)


def test_module_forms_use_it() -> None:
    assert isinstance(CaseForm.base_fields["release_date"].widget, DateInput)
