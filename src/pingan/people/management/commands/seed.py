"""``pingan seed --people N [--under AREA_CODE] [--seed S]``: synthetic residents in bulk for benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.areas.models import Area


class Command(BaseCommand):
    help = (
        "生成合成的实有人口和房屋数据（用于性能测试，PostgreSQL 上使用 COPY）。"
        " Add N synthetic residents and their houses to the active grids (benchmarks). Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, required=True, help="人数 / number of people")
        parser.add_argument("--under", default="", help="辖区编码（默认全部网格）/ area code (all grids)")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子 / random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("生产环境禁止生成合成数据。 Synthetic data is refused in production.")
        if options["people"] <= 0:
            raise CommandError("--people 应为正整数")
        under = None
        if options["under"]:
            under = Area.objects.filter(code=options["under"]).first()
            if under is None:
                raise CommandError(f"辖区编码 {options['under']} 不存在")
        from pingan.people.seed import seed_people

        started = time.perf_counter()
        try:
            counts = seed_people(
                options["people"], under=under, seed=options["seed"], progress=lambda m: self.stdout.write(m)
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"已生成 {counts['people']} 人、{counts['houses']} 套房屋，用时 {seconds:.1f} 秒"
            f"（{counts['people'] / max(seconds, 1e-9):.0f} 人/秒）"
        )
