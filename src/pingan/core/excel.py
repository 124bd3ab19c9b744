"""Reading the spreadsheets real users send (xlsx, xls, csv in UTF-8 or GBK) and writing safe
xlsx exports. One reader and one writer for every module's import and export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

import xlsxwriter
from django.utils.translation import gettext_lazy

from pingan.core.text import normalize_text

MAX_HEADER_SCAN_ROWS = 15


class TableError(ValueError):
    """The file cannot be read as a table (wrong type, no header row…)."""


def cell_text(value: Any) -> str:
    """A cell as normalised text. Codes typed into Excel without a quote come back as numbers
    (120103004001.0): whole numbers lose the ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_text(str(value if value is not None else ""))


def _header_key(value: Any) -> str:
    return normalize_text(str(value or "")).replace(" ", "").replace("*", "").replace("＊", "").lower()


@dataclass
class Table:
    header: list[str]
    rows: list[list[Any]]
    header_row_number: int  # 1-based row number of the header in the file

    def numbered_rows(self) -> Iterator[tuple[int, list[Any]]]:
        for offset, row in enumerate(self.rows, start=1):
            yield self.header_row_number + offset, row


@dataclass
class ColumnMatch:
    """Which file column holds which field; columns matched by name in any order."""

    columns: dict[str, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @classmethod
    def match(cls, header: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> ColumnMatch:
        lookup = {_header_key(alias): key for key, names in aliases.items() for alias in names}
        result = cls()
        for index, title in enumerate(header):
            key = lookup.get(_header_key(title))
            if key is None:
                if str(title or "").strip():
                    result.unknown.append(str(title).strip())
            elif key not in result.columns:
                result.columns[key] = index
        return result

    def extract(self, row: Sequence[Any]) -> dict[str, Any]:
        return {key: (row[index] if index < len(row) else None) for key, index in self.columns.items()}


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("CSV 文件编码无法识别（请使用 UTF-8 或 GBK）")


def _read_rows(data: bytes, filename: str) -> list[list[Any]]:
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        text = _decode_csv(data)
        return [list(row) for row in csv.reader(io.StringIO(text))]
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = workbook.get_sheet_by_index(0)
            return [list(row) for row in sheet.to_python(skip_empty_area=False)]
        except Exception:  # calamine raises its own error types, in English: the user gets what to do
            raise TableError(
                "无法读取表格文件：文件已损坏，或不是有效的 Excel 文件"
                "（请用 Excel 或 WPS 另存为 .xlsx 后重试）"
            ) from None
    raise TableError("只支持 .xlsx、.xls 和 .csv 文件")


def read_table(
    source: bytes | IO[bytes] | Path | str,
    filename: str | None = None,
    expected: Mapping[str, Sequence[str]] | None = None,
) -> Table:
    """Read the first sheet and find the header row: the first of the first rows that names at
    least two expected columns (or, without ``expected``, the first row with two non-empty cells)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        data, filename = path.read_bytes(), filename or path.name
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read()
    if not filename:
        raise TableError("缺少文件名，无法判断文件类型")
    rows = _read_rows(data, filename)
    known = {_header_key(a) for names in (expected or {}).values() for a in names}
    for index, row in enumerate(rows[:MAX_HEADER_SCAN_ROWS]):
        keys = [_header_key(cell) for cell in row]
        hits = sum(1 for k in keys if k in known) if known else sum(1 for k in keys if k)
        if hits >= 2:
            header = [normalize_text(str(cell or "")) for cell in row]
            body = [r for r in rows[index + 1 :]]
            while body and all(str(c or "").strip() == "" for c in body[-1]):
                body.pop()
            return Table(header=header, rows=body, header_row_number=index + 1)
    raise TableError("没有找到表头行（前 15 行中没有可识别的列名）")


# --- writing ------------------------------------------------------------------------------------

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: text starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class Column:
    title: str
    width: int = 14
    text: bool = False  # IDs and phones: stored as text, never as numbers


def write_xlsx(
    *,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    title: str = "",
    note: str = "",
    sheet_name: str = "Sheet1",
) -> bytes:
    """An xlsx with an optional title line and note line (who exported when) above the header."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(sheet_name[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    text_format = workbook.add_format({"num_format": "@"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    row_index = 0
    if title:
        sheet.write_string(row_index, 0, title, workbook.add_format({"bold": True, "font_size": 14}))
        row_index += 1
    if note:
        sheet.write_string(row_index, 0, note)
        row_index += 1
    for col_index, column in enumerate(columns):
        sheet.write_string(row_index, col_index, column.title, bold)
        sheet.set_column(col_index, col_index, column.width, text_format if column.text else None)
    for row in rows:
        row_index += 1
        for col_index, value in enumerate(row):
            column = columns[col_index]
            if value is None or value == "":
                continue
            if column.text or isinstance(value, str):
                sheet.write_string(
                    row_index, col_index, str(defuse(value)), text_format if column.text else None
                )
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row_index, col_index, value.replace(tzinfo=None), datetime_format)
            elif isinstance(value, dt.date):
                sheet.write_datetime(row_index, col_index, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, bool):
                sheet.write_string(row_index, col_index, "是" if value else "否")
            elif isinstance(value, (int, float)):
                sheet.write_number(row_index, col_index, value)
            else:
                sheet.write_string(row_index, col_index, str(defuse(str(value))))
    workbook.close()
    return buffer.getvalue()


@dataclass
class ImportResult:
    """What a spreadsheet import did, row by row. A module's importer subclasses it to name its columns
    (``labels``: field key → column title, used in the error list) and may add counters."""

    labels: ClassVar[Mapping[str, str]] = {}
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # the file's header, when errors carry their rows

    def attach_rows(self, table: Table) -> None:
        """Give each error the original row it was found in (``cells``, as read), for the error report: the
        importer gets back the rows to correct, in the file's own columns."""
        wanted = {e["row"] for e in self.errors}
        if not wanted:
            return
        self.header = [str(h or "") for h in table.header]
        found = {number: row for number, row in table.numbered_rows() if number in wanted}
        for e in self.errors:
            if e["row"] in found:
                e["cells"] = [_as_read(v) for v in found[e["row"]]]

    @property
    def rejected(self) -> int:
        return len({e["row"] for e in self.errors})

    def error(self, row: int, key: str, reason: str) -> None:
        self.errors.append({"row": row, "column": self.labels.get(key, key), "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "unknown_columns": self.unknown_columns,
            "header": self.header,
        }


def _as_read(value: Any) -> str:
    """A cell as the file held it, as text (a whole number without ".0", a date as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def import_error_report(result: ImportResult, *, title: str = "导入错误报告", filename: str = "") -> bytes:
    """The rejected rows of an import as xlsx, one line per row in the file's order: row number, the columns
    and the reasons (all of the row's problems, so it can be corrected at once), then the original row in
    the file's columns (as text, defused) when the importer attached it (``ImportResult.attach_rows``)."""
    originals = [Column(h or "—", 16, text=True) for h in result.header]
    by_row: dict[Any, list[dict[str, Any]]] = {}
    for e in result.errors:
        by_row.setdefault(e["row"], []).append(e)
    rows = []
    for number, errors in by_row.items():
        columns = list(dict.fromkeys(str(e["column"]) for e in errors if e["column"]))
        cells: list[Any] = next((e["cells"] for e in errors if e.get("cells")), [])
        reasons = "；".join(dict.fromkeys(str(e["reason"]) for e in errors))
        rows.append([number, "、".join(columns), reasons, *cells[: len(originals)]])
    return write_xlsx(
        columns=[Column("行号", 8), Column("列", 16), Column("原因", 50), *originals],
        rows=rows,
        title=f"{title}：{filename}" if filename else title,
    )


# The example row of the import templates (people, correction clients, pre-release notices): a valid ID
# number, so that it shows the format, which every import refuses (imported, it would overwrite the real
# holder of that number, or create a client who does not exist)
EXAMPLE_NAME, EXAMPLE_ID = "示例张三", "120103199001011231"
EXAMPLE_REFUSED = gettext_lazy("这是导入模板中的示例行，未导入；导入前请删除")


def is_template_example(name: Any, id_number: Any) -> bool:
    return cell_text(name) == EXAMPLE_NAME and cell_text(id_number).upper() == EXAMPLE_ID
