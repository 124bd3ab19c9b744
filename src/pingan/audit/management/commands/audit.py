"""``pingan audit verify [--from SEQ] [--head SEQ:HASH] [--json]`` and
``pingan audit purge --older-than DAYS [--dry-run] [--json]``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.audit import chain, services
from pingan.core.actors import SYSTEM


def _head(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError("--head 的格式为 序号:64位摘要，例如 1200:ab12…")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = "Audit trail: verify the hash chain, or purge rows older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="walk the chain and name the first changed, removed or inserted row"
        )
        verify.add_argument(
            "--from", dest="from_seq", type=int, help="start at this seq (earlier rows trusted)"
        )
        verify.add_argument(
            "--head", help="SEQ:HASH recorded by an earlier run: also detects a truncated tail"
        )
        verify.add_argument("--chunk-size", type=int, default=20000)
        verify.add_argument(
            "--workers", type=int, default=0, help="processes (PostgreSQL; 0 = one per CPU, at most 8)"
        )
        verify.add_argument("--json", action="store_true")
        purge = sub.add_parser("purge", help="delete rows older than DAYS (never younger than the retention)")
        purge.add_argument(
            "--older-than", dest="days", type=int, required=True, help="days (at least the retention)"
        )
        purge.add_argument(
            "--dry-run", action="store_true", help="report what would be purged, delete nothing"
        )
        purge.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options)
        else:
            self._purge(options)

    def _verify(self, options: dict[str, Any]) -> None:
        head = _head(options["head"]) if options.get("head") else None
        workers = options["workers"] or min(os.cpu_count() or 1, 8)
        result = chain.verify(
            from_seq=options.get("from_seq"),
            chunk_size=options["chunk_size"],
            expect_head=head,
            workers=workers,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        elif result.ok:
            for note in result.notes:
                self.stdout.write(note)
            if result.last_seq is None:
                self.stdout.write("审计链为空。")
            else:
                rate = f"，{result.checked / result.seconds:,.0f} 条/秒" if result.seconds else ""
                self.stdout.write(
                    f"审计链完整：第 {result.first_seq}–{result.last_seq} 条，校验 {result.checked:,} 条，"
                    f"用时 {result.seconds:.2f} 秒{rate}"
                    + (f"（{result.workers} 个进程）" if result.workers > 1 else "")
                    + "。\n"
                    f"链头（请另行记录，下次用 --head 核对）：{result.last_seq}:{result.last_hash}"
                )
        else:
            assert result.problem is not None
            labels = {"changed": "被修改", "removed": "被删除", "inserted": "被插入"}
            self.stderr.write(
                f"审计链校验失败（{labels.get(result.problem.kind, result.problem.kind)}）："
                f"{result.problem.message}" + (f"（行 id {result.problem.id}）" if result.problem.id else "")
            )
        if not result.ok:
            sys.exit(1)

    def _purge(self, options: dict[str, Any]) -> None:
        try:
            summary = services.audit_purge(
                actor=SYSTEM, older_than_days=options["days"], dry_run=options["dry_run"]
            )
        except (ValidationError, ImproperlyConfigured) as exc:
            message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(summary | {"dry_run": options["dry_run"]}, ensure_ascii=False, indent=2)
            )
            return
        if not summary["purged_count"]:
            self.stdout.write(f"没有早于 {options['days']} 天、可以清除的审计记录。")
            return
        verb = "将清除" if options["dry_run"] else "已清除"
        self.stdout.write(
            f"{verb} {summary['purged_count']:,} 条"
            f"（第 {summary['purged_from_seq']}–{summary['purged_through_seq']} 条，"
            f"早于 {summary['cutoff']}）"
            + ("" if options["dry_run"] else f"；清除记录为第 {summary['record_seq']} 条")
        )
