"""Benchmark of person search (people.selectors.person_search_q through person_list) at scale, on PostgreSQL.

    .venv/bin/python bench/bench_people_search.py                     # 1,000,000 people (seeded once)
    .venv/bin/python bench/bench_people_search.py --people 200000 --json

Builds, on a scratch database (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/pingan_bench_people_search``, created when missing), a district of
10 streets × 10 communities × 5 grids and fills it with ``pingan seed --people N`` (skipped when the
database already holds N people: the data is kept between runs), then VACUUMs and ANALYZEs (what autovacuum
does to a live database after a load).

Every search shape of the people list (``docs/people.md``) is measured as the list page runs it
(``selectors.person_pages``: the scoped, sealed-filtered search, newest first; the ids of the first 200
matches in one query — the "count" column — then the first page of 50 rows, decrypted) for two users: a
community staff member (one community, about 1 % of the people) and the district commander (everyone).
Terms are drawn from the data (names, pinyin, initials, ID numbers and their tails, phone tails, house
addresses of random residents), ``--queries`` per shape; one untimed warm-up pass, then the timed pass.
Reports p50 / p95 / max in milliseconds, and p95 of the count (the ids) and of the page fetch separately.
One process, one thread.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pingan_bench_people_search"


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(cfg["NAME"]))))


def _tree() -> tuple[Any, Any]:
    from pingan.areas.models import Area

    district, _ = Area.objects.get_or_create(code="120103", defaults={"name": "河西区", "level": "district"})
    first_community = None
    for s in range(1, 11):
        street, _ = Area.objects.get_or_create(
            code=f"120103{s:03d}", defaults={"name": f"测试街道{s}", "level": "street", "parent": district}
        )
        for c in range(1, 11):
            community, _ = Area.objects.get_or_create(
                code=f"{street.code}{c:03d}",
                defaults={"name": f"测试社区{s}-{c}", "level": "community", "parent": street},
            )
            first_community = first_community or community
            for g in range(1, 6):
                Area.objects.get_or_create(
                    code=f"{community.code}{g:03d}",
                    defaults={"name": f"测试网格{s}-{c}-{g}", "level": "grid", "parent": community},
                )
    return district, first_community


def _user(username: str, role: str, area: Any) -> Any:
    from pingan.accounts.models import Membership, User

    user, created = User.objects.get_or_create(
        username=username, defaults={"role": role, "full_name": username}
    )
    if created:
        Membership.objects.create(user=user, area=area)
    return User.objects.get(pk=user.pk)


def _terms(rng: random.Random, samples: list[Any], per_shape: int) -> dict[str, list[str]]:
    from pingan.people.seed import SURNAMES

    picks = rng.sample(samples, min(per_shape, len(samples)))
    common = [s for s, _w in SURNAMES[:20]]
    return {
        "name_1_char": [rng.choice(common) for _ in range(per_shape)],
        "name_2_3_chars": [p.name[:3] if rng.random() < 0.5 else p.name[:2] for p in picks],
        "full_pinyin": [p.name_pinyin for p in picks],
        "initials": [p.name_initials for p in picks],
        "id_number": [p.id_number for p in picks],
        "id_last_4": [p.id_number[-4:] for p in picks],
        "id_last_6": [p.id_number[-6:] for p in picks],
        "phone_tail_4": [p.phone[-4:] for p in picks],
        "address": [
            p.current_house.address[: rng.choice((4, 6, 8))] if p.current_house else p.name for p in picks
        ],
    }


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40, help="terms per shape and user")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from pingan.accounts.roles import Role
    from pingan.people.models import Person
    from pingan.people.selectors import PersonFilter, person_list, person_pages

    district, community = _tree()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": os.getloadavg(),
    }
    existing = Person._base_manager.count()
    if existing < args.people:
        started, cpu = time.perf_counter(), time.process_time()
        call_command("seed", people=args.people - existing, seed=20261202 + existing)
        results["seed"] = {
            "people": args.people - existing,
            "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds_main_process": round(time.process_time() - cpu, 1),
        }
        with connection.cursor() as cursor:
            for table in ("people_person", "people_house", "areas_area"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    results["people"] = Person._base_manager.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('people_person'))")
        results["people_table_size"] = cursor.fetchone()[0]
        # the server settings the figures depend on (the app sets random_page_cost and jit per session)
        settings_shown = {}
        for name in ("server_version", "shared_buffers", "random_page_cost", "jit"):
            cursor.execute(f"SHOW {name}")
            settings_shown[name] = cursor.fetchone()[0]
        results["postgres"] = settings_shown
    users = {
        "community": _user("bench_community", Role.COMMUNITY_STAFF, community),
        "commander": _user("bench_commander", Role.COMMANDER, district),
    }
    rng = random.Random(7)  # noqa: S311
    timings: dict[str, dict[str, Any]] = {}
    for label, user in users.items():
        in_scope = person_list(user=user).values_list("pk", flat=True)
        ids = list(in_scope.order_by("?")[: args.queries * 2]) if label == "community" else None
        if ids is None:
            top = Person._base_manager.order_by("-pk").values_list("pk", flat=True).first() or 1
            ids = [rng.randrange(1, top + 1) for _ in range(args.queries * 2)]
        samples = list(Person._base_manager.filter(pk__in=ids).select_related("current_house"))
        terms = _terms(rng, samples, args.queries)
        timings[label] = {}
        for shape, queries in terms.items():
            totals, counts, pages, hits = [], [], [], []
            for timed in (False, True):
                for term in queries:
                    t0 = time.perf_counter()
                    paginator = person_pages(user=user, filters=PersonFilter(q=term))
                    total = paginator.count
                    t1 = time.perf_counter()
                    rows = list(paginator.get_page(1).object_list)
                    t2 = time.perf_counter()
                    if timed:
                        counts.append((t1 - t0) * 1000)
                        pages.append((t2 - t1) * 1000)
                        totals.append((t2 - t0) * 1000)
                        hits.append(total)
                    del rows
            timings[label][shape] = {
                "p50_ms": round(statistics.median(totals), 1),
                "p95_ms": round(_percentile(totals, 95), 1),
                "max_ms": round(max(totals), 1),
                "count_p95_ms": round(_percentile(counts, 95), 1),
                "page_p95_ms": round(_percentile(pages, 95), 1),
                "median_hits": statistics.median(hits),
            }
    results["search"] = timings
    results["load_average_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for key, value in results.items():
        if key != "search":
            print(f"{key}: {value}")
    for label, shapes in timings.items():
        print(f"\n{label}: shape, p50, p95, max (ms), count p95, page p95, median hits")
        for shape, t in shapes.items():
            print(
                f"  {shape:16} {t['p50_ms']:7.1f} {t['p95_ms']:7.1f} {t['max_ms']:7.1f} "
                f"{t['count_p95_ms']:7.1f} {t['page_p95_ms']:7.1f} {t['median_hits']}"
            )


if __name__ == "__main__":
    main()
