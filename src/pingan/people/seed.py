"""Realistic synthetic people and houses in bulk, for benchmarks (``pingan seed --people N``).

Not the demo (``people/demo.py`` builds a small, readable district): this fills the active grids under an
area with ``count`` residents whose shape resembles a real district's roster, so that search and list
timings mean something at a million rows:

- names: a surname drawn with the frequencies of the common Chinese surnames (王, 李, 张, 刘… cover most
  people; a long tail of rarer ones) and a one- or two-character given name from a pool of common
  characters, so short name queries match many people and full names few;
- ID numbers: the district's address code, birth dates over 90 years, a sequence whose parity is the sex,
  the computed check character; unique;
- phones: mobile numbers with realistic prefixes; a household-register address (encrypted);
- houses: compounds of buildings, units and rooms per grid (about four people per house), every person
  living in one (``current_house``), so address search has real addresses to match;
- categories: about 85 % registered, 12 % floating, 1 % overseas, 3 % left-behind.

Deterministic for a given ``seed``. Rows are written with COPY on PostgreSQL (``people/bulk.py``), with the
encoding in worker processes; elsewhere with ``bulk_create``. Synthetic: it must never reach production
(the command refuses there).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction

from pingan.areas.models import Area
from pingan.core.validators import id_check_char
from pingan.people.bulk import (
    PersonEncoder,
    copy_lines,
    copy_rows,
    encode_parallel,
    is_postgresql,
    reserve_ids,
)
from pingan.people.models import House, Person
from pingan.people.pinyin import name_pinyin

# common surnames, weighted roughly by their share of the population (percent)
SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.6), ("杨", 3.1), ("黄", 2.4), ("赵", 2.3),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.5), ("马", 1.4), ("朱", 1.3), ("胡", 1.3), ("郭", 1.2),
    ("何", 1.2), ("高", 1.1), ("林", 1.1), ("罗", 1.0), ("郑", 1.0), ("梁", 0.9), ("谢", 0.8), ("宋", 0.7),
    ("唐", 0.7), ("许", 0.6), ("韩", 0.6), ("冯", 0.6), ("邓", 0.6), ("曹", 0.5), ("彭", 0.5), ("曾", 0.5),
    ("肖", 0.5), ("田", 0.5), ("董", 0.5), ("袁", 0.4), ("潘", 0.4), ("于", 0.4), ("蒋", 0.4), ("蔡", 0.4),
    ("余", 0.4), ("杜", 0.4), ("叶", 0.4), ("程", 0.4), ("苏", 0.3), ("魏", 0.3), ("吕", 0.3), ("丁", 0.3),
    ("任", 0.3), ("沈", 0.3), ("姚", 0.3), ("卢", 0.3), ("姜", 0.3), ("崔", 0.3), ("钟", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.2), ("金", 0.2), ("石", 0.2), ("廖", 0.2), ("贾", 0.2), ("夏", 0.2),
    ("韦", 0.2), ("付", 0.2), ("方", 0.2), ("白", 0.2), ("邹", 0.2), ("孟", 0.2), ("熊", 0.2), ("秦", 0.2),
    ("邱", 0.2), ("江", 0.2), ("尹", 0.2), ("薛", 0.2), ("闫", 0.2), ("段", 0.2), ("雷", 0.2), ("侯", 0.2),
    ("龙", 0.2), ("史", 0.2), ("陶", 0.2), ("黎", 0.2), ("贺", 0.2), ("顾", 0.2), ("毛", 0.2), ("郝", 0.2),
    ("龚", 0.2), ("邵", 0.2), ("万", 0.2), ("钱", 0.2), ("严", 0.1), ("覃", 0.1), ("武", 0.1), ("戴", 0.1),
    ("莫", 0.1), ("孔", 0.1), ("向", 0.1), ("汤", 0.1), ("欧阳", 0.05), ("司马", 0.02), ("诸葛", 0.01),
)  # fmt: skip
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳"
    "佳丹晨婷雪琳晶颖倩文博志国海鹏辉亮成德新春燕梅荣光天翔子轩梓涵一诺欣怡浩然雨萱思远家豪嘉怡晓东永刚"
)
COMPOUNDS = ("佟楼", "挂甲寺", "滦水", "珠江", "友谊", "陈塘", "紫金山", "梅江", "尖山", "马场", "越秀",
             "平江", "解放南", "大沽南", "微山", "卫津", "广东", "柳林")  # fmt: skip
COMPOUND_KINDS = ("里", "花园", "公寓", "家园", "新村", "小区")
PHONE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159",
                  "166", "177", "180", "181", "186", "187", "188", "189", "199")  # fmt: skip
PEOPLE_PER_HOUSE = 4


def _surname_picker(rng: random.Random) -> Callable[[], str]:
    names = [s for s, _w in SURNAMES]
    weights = [w for _s, w in SURNAMES]
    return lambda: rng.choices(names, weights)[0]


def seed_people(
    count: int,
    *,
    under: Area | None = None,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Add ``count`` synthetic people (and their houses) to the active grids under ``under`` (every grid
    when None). Returns the numbers written."""
    grids_qs = Area.objects.filter(level="grid", active=True)
    if under is not None:
        from pingan.areas.models import subtree_q

        grids_qs = grids_qs.filter(subtree_q(under.code))
    grids = list(grids_qs.order_by("code").values_list("pk", "code"))
    if not grids:
        raise ValueError("没有可用的网格：请先建立辖区（pingan demo 或导入辖区）")
    rng = random.Random(seed)  # noqa: S311 — synthetic data
    surname = _surname_picker(rng)
    now = dt.datetime.now(dt.UTC)
    address_code = "120103"
    houses_per_grid = max(1, count // len(grids) // PEOPLE_PER_HOUSE)
    postgres = is_postgresql()
    # ID uniqueness: the existing people's numbers are not read back (they are encrypted); a different
    # ``seed`` draws other birth dates and sequences, and the unique index refuses a collision
    used: set[int] = set()
    start = dt.date(1935, 1, 1).toordinal()
    span = 365 * 90

    with transaction.atomic():
        # houses: per grid, compounds of 6-storey buildings with 2 units and 2 rooms per floor
        house_rows: list[dict[str, Any]] = []
        for grid_pk, grid_code in grids:
            compound = f"{rng.choice(COMPOUNDS)}{rng.choice(COMPOUND_KINDS)}"
            for n in range(houses_per_grid):
                building, rest = divmod(n, 24)
                unit, rest = divmod(rest, 12)
                floor, room = divmod(rest, 2)
                house = House(
                    compound=compound,
                    building=str(building + 1),
                    unit=str(unit + 1),
                    room=f"{floor + 1}0{room + 1}",
                )
                house_rows.append(
                    {
                        "area_id": grid_pk,
                        "code": f"S{seed}-{grid_code}-{n:05d}",
                        "compound": house.compound,
                        "building": house.building,
                        "unit": house.unit,
                        "room": house.room,
                        "address": house.compose_address(),
                        "rented": rng.random() < 0.2,
                    }
                )
        house_ids = _write_plain(House, house_rows, now, postgres)
        del house_rows
        if progress:
            progress(f"houses: {len(house_ids)}")

        # ids first: the generator below runs while COPY holds the connection
        ids: list[int | None] = (
            list(reserve_ids(Person._meta.db_table, count)) if postgres else [None] * count
        )

        def people() -> Iterator[tuple[int | None, dict[str, Any]]]:
            for i, pk in enumerate(ids):
                grid_index = i % len(grids)
                while True:
                    day = rng.randrange(span)
                    seq = rng.randrange(1000)
                    key = day * 1000 + seq
                    if key not in used:
                        used.add(key)
                        break
                birth = dt.date.fromordinal(start + day)
                first17 = f"{address_code}{birth:%Y%m%d}{seq:03d}"
                given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
                roll = rng.random()
                house_index = grid_index * houses_per_grid + (i // len(grids)) % houses_per_grid
                yield (
                    pk,
                    {
                        "name": surname() + given,
                        "id_number": first17 + id_check_char(first17),
                        "sex": "1" if seq % 2 else "2",
                        "birth_date": birth,
                        "ethnic_group": "01" if rng.random() < 0.95 else rng.choice(("03", "04", "05", "08")),
                        "phone": f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}",
                        "registered_address": f"天津市河西区{rng.choice(COMPOUNDS)}路{rng.randrange(300)}号",
                        "area_id": grids[grid_index][0],
                        "current_house_id": house_ids[house_index],
                        "is_registered": roll < 0.85,
                        "is_floating": 0.85 <= roll < 0.97,
                        "is_overseas": 0.97 <= roll < 0.98,
                        "is_left_behind": rng.random() < 0.03,
                        "household_consistent": roll < 0.85,
                    },
                )

        if postgres:
            written = copy_lines(
                Person._meta.db_table,
                PersonEncoder(now).columns,
                _progress(encode_parallel(people(), now, size=count, lines=True), progress),
            )
        else:
            written = 0
            batch: list[Person] = []
            for _pk, values in people():
                person = Person(**values)
                person.name_pinyin, person.name_initials = name_pinyin(person.name)
                batch.append(person)
                if len(batch) >= 2000:
                    written += len(Person.objects.bulk_create(batch))
                    batch = []
            written += len(Person.objects.bulk_create(batch))
    return {"people": written, "houses": len(house_ids)}


def _progress(rows: Iterator[str], progress: Callable[[str], None] | None) -> Iterator[str]:
    for n, row in enumerate(rows, start=1):
        if progress and n % 100_000 == 0:
            progress(f"people: {n}")
        yield row


def _write_plain(model: Any, rows: list[dict[str, Any]], now: dt.datetime, postgres: bool) -> list[int]:
    """Rows of a model without encrypted fields; returns their ids in order."""
    if not postgres:
        objs = [model(**values) for values in rows]
        created = model.objects.bulk_create(objs, batch_size=2000)
        return [o.pk for o in created]
    fields = list(model._meta.concrete_fields)
    ids = reserve_ids(model._meta.db_table, len(rows))
    defaults = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
        if not f.primary_key
    }
    columns = [str(f.column) for f in fields]

    def encoded() -> Iterator[tuple[Any, ...]]:
        for pk, values in zip(ids, rows, strict=True):
            row = {**defaults, **values}
            yield tuple(pk if f.primary_key else row[f.attname] for f in fields)

    copy_rows(model._meta.db_table, columns, encoded())
    return ids
