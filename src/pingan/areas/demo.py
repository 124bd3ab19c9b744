"""The demo district: a deterministic synthetic jurisdiction tree modelled on Tianjin 河西区.

The district code is the real GB/T 2260 code (120103) and the street codes follow the official
statistical division codes; the communities, grids, boundaries, populations and departments are
synthetic (the three communities the source document names sit in the streets it names).
Boundaries tile the rectangle lon 117.20–117.30, lat 39.05–39.13: the district is cut into street
rectangles, each street into community rectangles and each community into grid rectangles, so
every child lies inside its parent and siblings share edges. Split positions are jittered with ``ctx.rng``.

Writes go straight to the ORM (the area services require a permitted actor); the values respect
the model constraints (code length per level, parent set, non-blank names). Rows are only saved
when a value differs, so a second run changes nothing.
"""

from __future__ import annotations

import math
import random
from typing import Any, TypeVar

from django.db import models

from pingan.areas.models import Area, Department, Level, subtree_q
from pingan.core.demo import DemoContext

DISTRICT_CODE = "120103"
DISTRICT_NAME = "河西区"
# Outer rectangle of the synthetic district: (west, south, east, north) in WGS 84 degrees.
DISTRICT_BOUNDS = (117.20, 39.05, 117.30, 39.13)

# Streets with the last three digits of their code and their communities (with grid counts).
# The street codes follow the official statistical division codes of 河西区 where the street
# exists (挂甲寺街 120103004, 东海街 120103012, …); 解放南路街 is named after the 解放南路
# logistics area of the source document and gets the unused code 120103015.
STREETS: list[tuple[str, str, list[tuple[str, int]]]] = [
    ("下瓦房街", "002", [("紫金山里社区", 5)]),
    ("挂甲寺街", "004", [("滦水里社区", 5), ("庆建南里社区", 5)]),
    ("马场街", "005", [("云江里社区", 5)]),
    ("越秀路街", "006", [("宾水里社区", 5), ("环湖中里社区", 5)]),
    ("友谊路街", "007", [("平江里社区", 4), ("新华南里社区", 5)]),
    ("天塔街", "008", [("气象南里社区", 6)]),
    ("东海街", "012", [("粤江里社区", 5), ("都江里社区", 4)]),
    ("解放南路街", "015", [("文华里社区", 6)]),
]

STREET_CODES: dict[str, str] = {name: f"{DISTRICT_CODE}{suffix}" for name, suffix, _c in STREETS}
COMMUNITY_CODES: dict[str, str] = {
    community: f"{STREET_CODES[street]}{j + 1:03d}"
    for street, _s, communities in STREETS
    for j, (community, _n) in enumerate(communities)
}


def grid_code(community_code: str, number: int) -> str:
    return f"{community_code}{number:03d}"


def grid_name(community_name: str, number: int) -> str:
    return f"{community_name.removesuffix('社区')}第{number}网格"


# Departments: (code, name, department_type, owning area code, served area codes).
_D, _G, _DH = DISTRICT_CODE, STREET_CODES["挂甲寺街"], STREET_CODES["东海街"]
DEPARTMENTS: list[tuple[str, str, str, str, list[str]]] = [
    ("hx-police", "河西公安分局", "police", _D, [_D]),
    ("hx-traffic", "河西交警支队", "traffic", _D, [_D]),
    ("hx-education", "河西区教育局", "education", _D, [_D]),
    ("hx-law-enforcement", "河西区综合执法局", "law_enforcement", _D, [_D]),
    ("hx-youth-league", "团区委", "youth_league", _D, [_D]),
    ("hx-civil-affairs", "河西区民政局", "civil_affairs", _D, [_D]),
    ("hx-housing", "河西区房管局", "housing", _D, [_D]),
    ("hx-judicial-guajiasi", "挂甲寺街司法所", "judicial", _G, [_G]),
    ("hx-judicial-donghai", "东海街司法所", "judicial", _DH, [_DH]),
    ("hx-police-guajiasi", "挂甲寺街派出所", "police", _G, [_G]),
]

Rect = tuple[float, float, float, float]  # west, south, east, north
M = TypeVar("M", bound=models.Model)


# --- geometry -------------------------------------------------------------------------------------


def _cuts(lo: float, hi: float, parts: int, rng: random.Random, jitter: float = 0.18) -> list[float]:
    """``parts + 1`` increasing positions from ``lo`` to ``hi``; the inner ones move up to
    ``jitter`` of a step either way so the pieces are not all the same size."""
    step = (hi - lo) / parts
    inner = [round(lo + step * (i + rng.uniform(-jitter, jitter)), 6) for i in range(1, parts)]
    return [lo, *inner, hi]


def _polygon(rect: Rect) -> dict[str, Any]:
    """A GeoJSON Polygon ([lon, lat], closed ring, counter-clockwise as RFC 7946 asks)."""
    w, s, e, n = rect
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _split(rect: Rect, parts: int, rng: random.Random) -> list[Rect]:
    """Cut a rectangle into ``parts`` strips across its longer side (west→east or north→south)."""
    w, s, e, n = rect
    if parts == 1:
        return [rect]
    if (e - w) * math.cos(math.radians((s + n) / 2)) >= (n - s):
        xs = _cuts(w, e, parts, rng)
        return [(xs[i], s, xs[i + 1], n) for i in range(parts)]
    ys = _cuts(s, n, parts, rng)[::-1]
    return [(w, ys[i + 1], e, ys[i]) for i in range(parts)]


def _tile(rect: Rect, count: int, rng: random.Random) -> list[Rect]:
    """Cut a rectangle into ``count`` cells: columns west→east, each cut north→south."""
    w, s, e, n = rect
    columns = max(1, round(math.sqrt(count)))
    per_column = [count // columns + (1 if i < count % columns else 0) for i in range(columns)]
    xs = _cuts(w, e, columns, rng)
    cells: list[Rect] = []
    for i, rows in enumerate(per_column):
        ys = _cuts(s, n, rows, rng)[::-1]
        cells.extend((xs[i], ys[j + 1], xs[i + 1], ys[j]) for j in range(rows))
    return cells


def _shares(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` into ``parts`` positive integers that sum to it."""
    weights = [rng.uniform(0.8, 1.2) for _ in range(parts)]
    scale = sum(weights)
    shares = [int(total * w / scale) for w in weights[:-1]]
    return [*shares, total - sum(shares)]


# --- writing --------------------------------------------------------------------------------------


def _upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any], tally: dict[str, int]) -> M:
    """Create the row, or update only the fields whose value differs (no save when none does)."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model._default_manager.create(**lookup, **values)
        tally["created"] += 1
        return obj
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    if changed:
        for key in changed:
            setattr(obj, key, values[key])
        obj.save()
        tally["updated"] += 1
    return obj


def load_areas(ctx: DemoContext) -> None:
    rng = ctx.rng
    areas = {"created": 0, "updated": 0}

    # Plan the whole tree first (geometry and figures), then write it parents first.
    planned: list[dict[str, Any]] = []
    west, south, east, north = DISTRICT_BOUNDS
    columns = (len(STREETS) + 1) // 2
    xs = _cuts(west, east, columns, rng)
    street_rects: list[Rect] = []
    for i in range(columns):
        ys = _cuts(south, north, 2, rng)[::-1]
        street_rects.extend([(xs[i], ys[1], xs[i + 1], ys[0]), (xs[i], ys[2], xs[i + 1], ys[1])])

    district: dict[str, Any] = {
        "code": DISTRICT_CODE,
        "name": DISTRICT_NAME,
        "level": Level.DISTRICT,
        "parent": None,
        "rect": DISTRICT_BOUNDS,
        "population": 0,
        "households": 0,
    }
    planned.append(district)
    for s_index, (street_name, _suffix, communities) in enumerate(STREETS):
        street: dict[str, Any] = {
            "code": STREET_CODES[street_name],
            "name": street_name,
            "level": Level.STREET,
            "parent": DISTRICT_CODE,
            "rect": street_rects[s_index],
            "population": 0,
            "households": 0,
        }
        planned.append(street)
        community_rects = _split(street["rect"], len(communities), rng)
        for (community_name, grid_count), c_rect in zip(communities, community_rects, strict=True):
            code = COMMUNITY_CODES[community_name]
            population = rng.randint(6000, 15000)
            households = round(population / rng.uniform(2.45, 2.75))
            planned.append(
                {
                    "code": code,
                    "name": community_name,
                    "level": Level.COMMUNITY,
                    "parent": street["code"],
                    "rect": c_rect,
                    "population": population,
                    "households": households,
                }
            )
            grid_rects = _tile(c_rect, grid_count, rng)
            grid_people = _shares(population, grid_count, rng)
            grid_homes = _shares(households, grid_count, rng)
            for number, (g_rect, people, homes) in enumerate(
                zip(grid_rects, grid_people, grid_homes, strict=True), start=1
            ):
                planned.append(
                    {
                        "code": grid_code(code, number),
                        "name": grid_name(community_name, number),
                        "level": Level.GRID,
                        "parent": code,
                        "rect": g_rect,
                        "population": people,
                        "households": homes,
                    }
                )
            for total in (street, district):
                total["population"] += population
                total["households"] += households

    saved: dict[str, Area] = {}
    for node in planned:  # parents precede their children
        parent = saved[node["parent"]] if node["parent"] else None
        saved[node["code"]] = _upsert(
            Area,
            {"code": node["code"]},
            {
                "name": node["name"],
                "level": str(node["level"]),
                "parent_id": parent.pk if parent else None,
                "boundary": _polygon(node["rect"]),
                "population": node["population"],
                "households": node["households"],
                "active": True,
            },
            areas,
        )

    departments = {"created": 0, "updated": 0}
    for code, name, kind, area_code, serves in DEPARTMENTS:
        before = dict(departments)
        department = _upsert(
            Department,
            {"code": code},
            {"name": name, "kind": kind, "area_id": saved[area_code].pk, "active": True},
            departments,
        )
        wanted = {saved[c].pk for c in serves}
        if set(department.serves.values_list("pk", flat=True)) != wanted:
            department.serves.set(wanted)
            if departments == before:  # only the served areas changed
                departments["updated"] += 1

    in_district = Area.objects.filter(subtree_q(DISTRICT_CODE))
    ctx.counts.update(
        {
            "streets": in_district.filter(level=Level.STREET).count(),
            "communities": in_district.filter(level=Level.COMMUNITY).count(),
            "grids": in_district.filter(level=Level.GRID).count(),
            "departments": Department.objects.filter(code__in=[d[0] for d in DEPARTMENTS]).count(),
            "areas_created": areas["created"],
            "areas_updated": areas["updated"],
            "departments_created": departments["created"],
            "departments_updated": departments["updated"],
        }
    )
    ctx.notes["district"] = f"{DISTRICT_NAME} ({DISTRICT_CODE})"
    ctx.notes["population"] = district["population"]
