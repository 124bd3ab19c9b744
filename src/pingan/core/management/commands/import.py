"""``pingan import KIND FILE``: bulk imports through the same services as the screens."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core.actors import SYSTEM
from pingan.core.excel import ImportResult, TableError, import_error_report, read_table

Importer = Callable[..., Any]


def _importers() -> dict[str, tuple[dict[str, Any], Importer]]:
    from pingan.areas.services import AREA_IMPORT_COLUMNS, area_import
    from pingan.people.importers import ROSTER_COLUMNS, people_import
    from pingan.schools.services import IMPORT_COLUMNS as SCHOOL_COLUMNS
    from pingan.schools.services import school_import
    from pingan.workdays.services import HOLIDAY_IMPORT_COLUMNS, holiday_import

    return {
        "areas": (AREA_IMPORT_COLUMNS, area_import),
        "holidays": (HOLIDAY_IMPORT_COLUMNS, holiday_import),
        "people": (ROSTER_COLUMNS, people_import),
        "schools": (SCHOOL_COLUMNS, school_import),
    }


class Command(BaseCommand):
    help = "Import a spreadsheet (xlsx, xls, csv): pingan import areas FILE [--dry-run] [--as USER] [--json]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="what to import: " + ", ".join(sorted(_importers())))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument(
            "--as", dest="as_user", help="import as this user (their permissions and scope apply)"
        )
        parser.add_argument("--report", type=Path, help="write rejected rows and reasons to this xlsx")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        importers = _importers()
        if options["kind"] not in importers:
            raise CommandError(f"未知的导入类型 {options['kind']!r}，可选：{', '.join(sorted(importers))}")
        columns, importer = importers[options["kind"]]
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在：{path}")
        actor: Any = SYSTEM
        if options["as_user"]:
            from pingan.accounts.models import User

            actor = User.objects.filter(username=options["as_user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"用户 {options['as_user']} 不存在或已停用")
        try:
            table = read_table(path, expected=columns)
        except TableError as exc:
            raise CommandError(str(exc)) from None
        from django.core.exceptions import PermissionDenied

        try:
            result = importer(actor=actor, table=table, dry_run=options["dry_run"])
        except PermissionDenied:
            raise CommandError(f"用户 {options['as_user']} 无权导入 {options['kind']}") from None
        if isinstance(result, ImportResult) and result.errors and not result.header:
            result.attach_rows(table)
        data = result.as_dict()
        if options["report"]:  # the screens' error report: row, column, reason and the original row
            report = ImportResult(errors=data["errors"], header=data.get("header", []))
            options["report"].write_bytes(import_error_report(report, filename=path.name))
        if options["json"]:
            self.stdout.write(
                json.dumps(data | {"dry_run": options["dry_run"]}, ensure_ascii=False, indent=2)
            )
            return
        prefix = "预演（未写入）" if options["dry_run"] else "已导入"
        self.stdout.write(
            f"{prefix}：读取 {data['read']}，新增 {data['created']}，更新 {data['updated']}，"
            f"未变 {data['unchanged']}，拒绝 {data['rejected']}"
        )
        if data["unknown_columns"]:
            self.stdout.write("未识别的列：" + "、".join(data["unknown_columns"]))
        for error in data["errors"][:50]:
            self.stdout.write(f"  第 {error['row']} 行 {error['column']}：{error['reason']}")
        if len(data["errors"]) > 50:
            self.stdout.write(f"  …另有 {len(data['errors']) - 50} 条，见 --report")
