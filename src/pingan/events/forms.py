"""Forms of the event screens. They only parse input; the services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from pingan.core.codes import code_label, code_table
from pingan.core.forms import bootstrap
from pingan.events.models import EventPolicy, Source, Tier, Urgency
from pingan.events.selectors import current_policy


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several image files (phone camera or gallery). The services check type and size by content."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp,image/*", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def category_choices() -> list[tuple[str, Any]]:
    """Grouped by the top-level category: [(group label, [(code, label), …]), (code, label) …]."""
    items = list(code_table("event_category"))
    children: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        if item.parent:
            children.setdefault(item.parent, []).append((item.code, code_label("event_category", item.code)))
    choices: list[tuple[str, Any]] = [("", _("请选择"))]
    for item in items:
        if item.parent:
            continue
        label = code_label("event_category", item.code)  # in the page's language
        if item.code in children:
            choices.append((label, children[item.code]))
        else:
            choices.append((item.code, label))
    return choices


# a number of working days, in the words of the services' own checks (Django's defaults speak of "该值")
DEADLINE_ERRORS = {
    "invalid": _("期限须填写整数个工作日"),
    "min_value": _("期限应在 0 到 60 个工作日之间"),
    "max_value": _("期限应在 0 到 60 个工作日之间"),
}
EXTENSION_ERRORS = {
    "invalid": _("延期天数须填写整数个工作日"),
    "min_value": _("延期天数应在 1 到 60 个工作日之间"),
    "max_value": _("延期天数应在 1 到 60 个工作日之间"),
}


class ReportForm(forms.Form):
    area = forms.TypedChoiceField(label=_("网格"), coerce=int)
    category = forms.ChoiceField(label=_("事件类别"))
    title = forms.CharField(
        label=_("标题"),
        max_length=80,
        error_messages={"max_length": _("标题不能超过 80 个字")},
        widget=forms.TextInput(attrs={"placeholder": _("一句话说明，如：人行道无证摊贩")}),
    )
    description = forms.CharField(
        label=_("事件描述"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("事件描述不能超过 2000 个字")},
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    source = forms.ChoiceField(label=_("来源"), choices=Source.choices, required=False)
    address = forms.CharField(
        label=_("地址"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("地址不能超过 200 个字")},
    )
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=10, decimal_places=6)
    reporter_name = forms.CharField(label=_("反映人姓名"), max_length=40, required=False)
    reporter_phone = forms.CharField(label=_("反映人电话"), max_length=20, required=False)
    photos = PhotosField(label=_("现场照片"))

    def __init__(self, *args: Any, grids: list[tuple[int, str]], show_contact: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("请选择")), *grids]  # type: ignore[attr-defined]
        if len(grids) == 1:
            self.fields["area"].initial = grids[0][0]
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        if not show_contact:
            for name in ("reporter_name", "reporter_phone", "source"):
                del self.fields[name]
        bootstrap(self)
        self.fields["photos"].widget.attrs["capture"] = "environment"
        if show_contact:
            self.fields["reporter_phone"].widget.attrs["inputmode"] = "tel"
        policy = EventPolicy.current()
        self.fields["photos"].help_text = _("可直接拍照；最多 %(n)d 张，每张不超过 %(mb)d MB") % {
            "n": policy.photo_max_count,
            "mb": policy.photo_max_bytes // (1024 * 1024),
        }


class ActionForm(forms.Form):
    """One form for every action of the event page; each action uses the fields it needs."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("说明"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("说明不能超过 1000 个字")},
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("理由不能超过 1000 个字")},
    )
    tier = forms.ChoiceField(
        label=_("处置等级"), choices=[("", _("按类别")), *list(Tier.choices)], required=False
    )
    target = forms.CharField(label=_("派遣对象"), required=False)  # "d:<department id>" or "a:<area id>"
    working_days = forms.IntegerField(
        label=_("期限（工作日）"), min_value=0, max_value=60, required=False, error_messages=DEADLINE_ERRORS
    )
    days = forms.IntegerField(
        label=_("延期天数（工作日）"),
        min_value=1,
        max_value=60,
        required=False,
        error_messages=EXTENSION_ERRORS,
    )
    approve = forms.TypedChoiceField(
        label=_("审批"),
        choices=[("1", _("批准")), ("0", _("驳回"))],
        coerce=lambda v: v == "1",
        required=False,
    )
    passed = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("通过")), ("0", _("不通过"))],
        coerce=lambda v: v == "1",
        required=False,
    )
    rating = forms.TypedChoiceField(
        label=_("满意度"), choices=[(str(i), str(i)) for i in range(5, 0, -1)], coerce=int, required=False
    )
    photos = PhotosField(label=_("照片"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the day limits are the policy's (含延期最长期限), so the form's messages agree with the service's
        cap = current_policy().max_total_days
        for name, low, words in (
            ("working_days", 0, _("期限应在 0 到 %(n)d 个工作日之间")),
            ("days", 1, _("延期天数应在 1 到 %(n)d 个工作日之间")),
        ):
            field = self.fields[name]
            message = words % {"n": cap}
            field.max_value = cap  # type: ignore[attr-defined]
            field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)]
            field.validators.append(MaxValueValidator(cap, message=message))
            field.error_messages.update({"min_value": message, "max_value": message})
            field.widget.attrs.update({"min": low, "max": cap})
        bootstrap(self)
        self.fields["photos"].widget.attrs["capture"] = "environment"


class PolicyForm(forms.ModelForm):
    class Meta:
        model = EventPolicy
        fields = list(EventPolicy.audit_public_fields)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)  # type: ignore[arg-type]


class CategoryRuleForm(forms.Form):
    category = forms.CharField(widget=forms.HiddenInput)
    tier = forms.ChoiceField(label=_("处置等级"), choices=Tier.choices)
    working_days = forms.IntegerField(
        label=_("期限（工作日）"), min_value=0, max_value=60, required=False, error_messages=DEADLINE_ERRORS
    )
    public = forms.BooleanField(label=_("群众可上报"), required=False)
    default_department = forms.TypedChoiceField(
        label=_("默认处置部门"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, departments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_department"].choices = [("", "—"), *departments]  # type: ignore[attr-defined]
        bootstrap(self)
