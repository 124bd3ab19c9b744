"""Demo schools (order 45, after the people): in each demo community a kindergarten and a primary or junior
school, and a senior school in every fourth, in the community's first grid, at the grid's centre. Names carry
"示例" (示例滦水里小学); the "4 个 100%" measures follow a fixed pattern, so the figures show gaps to work on.
Idempotent: a school is found by its grid and name and left alone if it exists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pingan.areas.models import Area
from pingan.core.demo import DemoContext
from pingan.schools.models import School


def _centre(area: Area) -> tuple[Decimal, Decimal] | tuple[None, None]:
    try:
        ring = (area.boundary or {})["coordinates"][0]
        lngs = [p[0] for p in ring]
        lats = [p[1] for p in ring]
    except (KeyError, IndexError, TypeError):
        return None, None
    q = Decimal("0.000001")
    return (
        Decimal(str((min(lats) + max(lats)) / 2)).quantize(q),
        Decimal(str((min(lngs) + max(lngs)) / 2)).quantize(q),
    )


def _plan(index: int, community: str) -> list[dict[str, Any]]:
    stem = community.removesuffix("社区")
    kinds = [(School.Kind.KINDERGARTEN, f"示例{stem}幼儿园", 180)]
    if index % 2 == 0:
        kinds.append((School.Kind.PRIMARY, f"示例{stem}小学", 960))
    else:
        kinds.append((School.Kind.JUNIOR, f"示例{stem}中学", 1200))
    if index % 4 == 3:
        kinds.append((School.Kind.SENIOR, f"示例{stem}高级中学", 1500))
    return [
        {
            "kind": kind,
            "name": name,
            "students": students + 10 * index,
            "staff": students // 12,
            "ownership": School.Ownership.PRIVATE
            if kind == School.Kind.KINDERGARTEN and index % 3 == 0
            else School.Ownership.PUBLIC,
        }
        for kind, name, students in kinds
    ]


def load_schools(ctx: DemoContext) -> None:
    communities = list(Area.objects.filter(level="community", code__startswith="120103").order_by("code"))
    created = serial = 0
    for index, community in enumerate(communities):
        grid = Area.objects.filter(parent=community, level="grid", active=True).order_by("code").first()
        if grid is None:
            continue
        lat, lng = _centre(grid)
        for number, plan in enumerate(_plan(index, community.name)):
            serial += 1
            if School.objects.filter(area=grid, name=plan["name"]).exists():
                continue
            School.objects.create(
                area=grid,
                address=f"示例路 {index * 10 + number + 1} 号",
                latitude=lat,
                longitude=lng,
                principal=f"李示例{serial}",
                safety_lead=f"王示例{serial}",
                phone=f"022-2300{serial:04d}",
                guards=0 if serial % 5 == 0 else 2 + serial % 3,
                closed_campus=serial % 4 != 3,
                alarm_linked=serial % 6 != 5,
                guard_post=serial % 3 != 2,
                **plan,
            )
            created += 1
    ctx.counts["schools"] = School.objects.filter(area__code__startswith="120103").count()
    ctx.counts["schools_created"] = created
    ctx.log(f"学校：新增 {created} 所")
