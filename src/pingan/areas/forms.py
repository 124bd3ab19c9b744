from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.areas.models import Area, Level
from pingan.core.codes import code_choices
from pingan.core.forms import SpreadsheetForm, bootstrap


class AreaForm(forms.Form):
    parent = forms.ModelChoiceField(label=_("上级"), queryset=Area.objects.none(), required=False)
    level = forms.ChoiceField(label=_("层级"), choices=Level.choices)
    code = forms.CharField(label=_("区划代码"), max_length=15)
    name = forms.CharField(label=_("名称"), max_length=60)
    population = forms.IntegerField(label=_("人口数"), min_value=0, required=False)
    households = forms.IntegerField(label=_("户数"), min_value=0, required=False)
    boundary = forms.CharField(
        label=_("边界 (GeoJSON)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, parents: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent: Any = self.fields["parent"]
        parent.queryset = parents
        parent.label_from_instance = lambda a: f"{a.code} {a.name}"
        if editing:
            for name in ("parent", "level"):
                self.fields[name].disabled = True
        bootstrap(self)

    @staticmethod
    def initial_for(area: Area) -> dict[str, Any]:
        return {
            "parent": area.parent_id,
            "level": area.level,
            "code": area.code,
            "name": area.name,
            "population": area.population,
            "households": area.households,
            "active": area.active,
            "boundary": json.dumps(area.boundary, ensure_ascii=False) if area.boundary else "",
        }


class AreaImportForm(SpreadsheetForm):
    pass


class DepartmentForm(forms.Form):
    code = forms.CharField(
        label=_("部门标识"), max_length=40, help_text=_("字母、数字、- 和 _，如 hx-police")
    )
    name = forms.CharField(label=_("名称"), max_length=80)
    kind = forms.ChoiceField(label=_("类别"))
    area = forms.ModelChoiceField(label=_("所属辖区"), queryset=Area.objects.none())
    serves = forms.ModelMultipleChoiceField(label=_("服务辖区"), queryset=Area.objects.none(), required=False)
    phone = forms.CharField(label=_("值班电话"), max_length=30, required=False)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind: Any = self.fields["kind"]
        kind.choices = [("", "—"), *code_choices("department_type")]
        for name in ("area", "serves"):
            field: Any = self.fields[name]
            field.queryset = areas
            field.label_from_instance = lambda a: f"{a.code} {a.name}"
        self.fields["serves"].widget.attrs["size"] = 8
        bootstrap(self)
