"""core.models.ChoiceLabels: get_FOO_display() from a table made once gives Django's answers."""

from __future__ import annotations

from django.db import models
from django.utils import translation

from pingan.events.models import Event, EventStep


def django_display(obj: models.Model, name: str) -> object:
    return models.Model._get_FIELD_display(obj, obj._meta.get_field(name))  # Django's own


def test_every_label_as_django_gives_it_in_both_languages():
    cases = [(Event, "status"), (Event, "source"), (Event, "urgency"), (EventStep, "action")]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for model, name in cases:
                field = model._meta.get_field(name)
                for value, _label in field.flatchoices:
                    obj = model(**{name: value})
                    shown = getattr(obj, f"get_{name}_display")()
                    assert shown == django_display(obj, name) and isinstance(shown, str)


def test_the_label_follows_the_language_of_the_moment():
    event = Event(status="reported")
    with translation.override("zh-hans"):
        chinese = event.get_status_display()
    with translation.override("en"):
        english = event.get_status_display()
    assert (chinese, english) == ("待受理", "Awaiting acceptance")


def test_a_value_outside_the_choices_is_shown_as_it_is():
    assert Event(status="unknown").get_status_display() == "unknown"
    assert Event(status=None).get_status_display() is None  # as Django: strings_only keeps None
