"""Demo residents, houses and households across the demo grids (order 40, after areas and accounts).

Synthetic and obviously so: names are a common surname + "示例" + a number (王示例12); ID numbers carry
the district's address code 120103, a birth date and sequence drawn from a seeded generator, and a
correctly computed check character, so they validate but belong to nobody; phones use the reserved-looking
prefix 170 0000 xxxx. Per grid: 12 houses in one compound, 1–4 residents each (about 2,500 people over the
60 demo grids), a household per house, a share of floating residents with residence permits (dates relative
to the day of loading: some end within 30 days, some residents are due for re-verification), and a few
overseas residents (境外人员: passport numbers DEMO…, one grid in twelve) with their registrations.
Idempotent: the ID numbers and house codes are deterministic; rows that exist are left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from pingan.areas.models import Area
from pingan.core.demo import DemoContext
from pingan.core.fields import index_field_for
from pingan.core.validators import id_check_char
from pingan.people.models import (
    FloatingRecord,
    House,
    Household,
    HouseholdMember,
    Occupancy,
    OverseasRecord,
    Person,
)
from pingan.people.pinyin import name_pinyin

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
HOUSES_PER_GRID = 12
# (nationality, surname, given name, foreign surname, foreign given name, purpose, sex): one each in every
# twelfth grid, living in its first house; no draws from the generator, so the rest of the demo is unchanged
OVERSEAS = [
    ("KOR", "金", "示例敏", "KIM", "SHILI MIN", "务工", "2"),
    ("JPN", "佐藤", "示例", "SATO", "SHIREI", "商务", "1"),
    ("RUS", "伊万诺夫", "示例", "IVANOV", "PRIMER", "学习", "1"),
    ("HKG", "陈", "示例港", "CHAN", "SI LAI", "探亲", "2"),
    ("USA", "史密斯", "示例", "SMITH", "EXAMPLE", "教学", "1"),
]


def _id(rng: random.Random, seq: int, male: bool) -> tuple[str, dt.date]:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
    sequence = (seq % 500) * 2 + (1 if male else 0)
    first17 = f"120103{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17), birth


def load_people(ctx: DemoContext) -> None:
    rng = random.Random(f"people-{ctx.rng.random()}")  # one draw from the shared generator  # noqa: S311
    today = timezone.localdate()
    grids = list(Area.objects.filter(level="grid", active=True, code__startswith="120103").order_by("code"))
    index = index_field_for(Person, "id_number")
    created_people = created_houses = 0
    serial = 0
    for grid_no, grid in enumerate(grids):
        compound = f"示例{grid.name.replace('网格', '')}小区"
        houses = []
        for n in range(HOUSES_PER_GRID):
            code = f"DEMO{grid.code}{n:03d}"
            house = House.objects.filter(code=code).first()
            rented = rng.random() < 0.25
            floor_area = rng.choice([48, 56.5, 65, 72, 88, 96])
            if house is None:
                house = House(
                    area=grid,
                    code=code,
                    compound=compound,
                    building=str(n // 6 + 1),
                    unit=str(n % 2 + 1),
                    room=f"{(n % 6) // 2 + 1}0{n % 2 + 1}",
                    rented=rented,
                    use=House.Use.RENTAL if rented else House.Use.RESIDENTIAL,
                    floor_area=floor_area,
                )
                house.save()
                created_houses += 1
            houses.append(house)
        for n, house in enumerate(houses):
            residents: list[Person] = []
            for k in range(rng.randint(1, 4)):
                serial += 1
                male = rng.random() < 0.5
                number, birth = _id(rng, grid_no * 100 + n * 5 + k, male)
                floating = rng.random() < 0.7 and house.rented
                name = f"{SURNAMES[serial % len(SURNAMES)]}示例{serial}"
                phone = f"1700000{serial % 10000:04d}"
                # every draw happens before the existence check, so a second run draws the same sequence
                moved_in = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, 1800))
                # permits and checks relative to the day of loading, as a district's would be: about one in
                # fifteen permits ends within 30 days, one in four residents is due for re-verification
                registered_on = today - dt.timedelta(days=rng.randrange(30, 1100))
                valid_to = today + dt.timedelta(days=rng.randrange(-20, 400))
                verified_on = today - dt.timedelta(days=rng.randrange(0, 240))
                existing = Person._base_manager.filter(id_number_index=index.index_for(number)).first()
                if existing is not None:
                    residents.append(existing)
                    continue
                person = Person(
                    area=grid,
                    name=name,
                    id_number=number,
                    sex="1" if male else "2",
                    birth_date=birth,
                    ethnic_group="01",
                    phone=phone,
                    current_house=house,
                    is_registered=not floating,
                    is_floating=floating,
                    household_consistent=not floating,
                    registered_address="天津市河西区示例路" if not floating else "外省示例县示例村",
                )
                person.name_pinyin, person.name_initials = name_pinyin(name)
                person.save()
                created_people += 1
                Occupancy.objects.create(
                    person=person,
                    house=house,
                    role="tenant" if floating else "resident",
                    start=moved_in,
                )
                if floating:
                    FloatingRecord.objects.create(
                        person=person,
                        permit_number=f"DEMO{serial:08d}",
                        inflow_reason="务工",
                        registered_on=registered_on,
                        valid_to=valid_to,
                        last_verified_on=verified_on if verified_on >= registered_on else None,
                    )
                residents.append(person)
            head = residents[0]
            household, made = Household.objects.get_or_create(
                number=f"DEMO{grid.code}{n:03d}", defaults={"area": grid, "householder": head, "house": house}
            )
            if made:
                for k, person in enumerate(residents):
                    if not HouseholdMember.objects.filter(person=person).exists():
                        HouseholdMember.objects.create(
                            household=household,
                            person=person,
                            relation="02" if k == 0 else ("10" if k == 1 else "20"),
                        )
            if house.owner_id is None and not house.rented:
                House.objects.filter(pk=house.pk).update(owner=head)
    created_people += _load_overseas(grids[::12], index)
    ctx.counts["people_created"] = created_people
    ctx.counts["houses_created"] = created_houses
    ctx.log(f"people: {created_people} residents and {created_houses} houses created")


def _load_overseas(grids: list[Area], index: Any) -> int:
    """An overseas resident in the first house of each of ``grids``, with an entry date some months ago and
    an expected departure within weeks (so the lists' "leaving soon" filter finds them)."""
    today = timezone.localdate()
    created = 0
    for n, (grid, row) in enumerate(zip(grids, OVERSEAS, strict=False)):
        nationality, surname, given, foreign_surname, foreign_given, purpose, sex = row
        number = f"DEMO{nationality}{n + 1:05d}"
        if Person._base_manager.filter(id_number_index=index.index_for(number)).exists():
            continue
        house = House.objects.filter(code=f"DEMO{grid.code}000").first()
        name = surname + given
        person = Person(
            area=grid,
            name=name,
            id_type="516" if nationality == "HKG" else "414",  # 港澳居民来往内地通行证, 普通护照
            id_number=number,
            sex=sex,
            birth_date=dt.date(1980 + 3 * n, 3, 1 + n),
            nationality=nationality,
            phone=f"1700001{n:04d}",
            current_house=house,
            is_overseas=True,
            household_consistent=False,
        )
        person.name_pinyin, person.name_initials = name_pinyin(name)
        person.save()
        created += 1
        entry = today - dt.timedelta(days=90 + 30 * n)
        if house is not None:
            Occupancy.objects.create(person=person, house=house, role="tenant", start=entry)
        OverseasRecord.objects.create(
            person=person,
            nationality=nationality,
            foreign_surname=foreign_surname,
            foreign_given_name=foreign_given,
            document_number=number,
            visa_type="Z" if purpose == "务工" else "",
            entry_date=entry,
            stay_until=today + dt.timedelta(days=20 + 60 * n),
            expected_departure=today + dt.timedelta(days=10 + 60 * n),
            purpose=purpose,
        )
    return created
