"""``pingan seed --people N``: synthetic residents for benchmarks, valid by every import rule."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from pingan.core.validators import parse_id_number
from pingan.people.models import House, Person


def test_seed_people(tree, capsys):
    call_command("seed", people=60, under=tree.street_a.code)
    people = list(Person.objects.select_related("current_house", "area"))
    assert len(people) == 60 and House.objects.exists()
    assert len({p.id_number for p in people}) == 60
    for person in people:
        parsed = parse_id_number(person.id_number)
        assert parsed.sex == person.sex and parsed.birth_date == person.birth_date
        assert person.area.code.startswith(tree.street_a.code) and person.area.level == "grid"
        assert person.current_house.area_id == person.area_id
        assert person.name_pinyin and person.name_initials and person.phone
    assert Person.objects.filter_exact(id_number=people[0].id_number).get() == people[0]
    assert "已生成 60 人" in capsys.readouterr().out


def test_seed_refuses_bad_arguments(tree):
    with pytest.raises(CommandError):
        call_command("seed", people=0)
    with pytest.raises(CommandError):
        call_command("seed", people=10, under="999999")
