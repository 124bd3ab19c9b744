"""The one spreadsheet reader and writer."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from pingan.core.excel import Column, ColumnMatch, TableError, cell_text, defuse, read_table, write_xlsx

EXPECTED = {"code": ("区划代码", "代码"), "name": ("名称",), "population": ("人口数", "人口")}


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def sheet_rows(data: bytes) -> list[list[object]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


# --- reading -------------------------------------------------------------------------------------


def test_header_found_below_a_title_and_blank_rows():
    text = "河西区辖区表,,\n导出时间 2024-05-01,,\n,,\n名称,区划代码,人口数\n滦水里社区,120103004001,5200\n"
    table = read_table(csv_bytes(text), "a.csv", EXPECTED)
    assert table.header == ["名称", "区划代码", "人口数"]
    assert table.header_row_number == 4
    assert table.rows == [["滦水里社区", "120103004001", "5200"]]
    assert list(table.numbered_rows()) == [(5, ["滦水里社区", "120103004001", "5200"])]


def test_header_titles_are_normalised():
    # Full-width letters, a required-field star and spaces still match the expected names.
    text = "＊名称 , 区划 代码*\n甲,120103\n"
    table = read_table(csv_bytes(text), "a.csv", EXPECTED)
    match = ColumnMatch.match(table.header, EXPECTED)
    assert match.columns == {"name": 0, "code": 1}


def test_a_title_row_naming_one_column_is_not_taken_for_the_header():
    text = "名称\n名称,代码\n甲,1\n"
    assert read_table(csv_bytes(text), "a.csv", EXPECTED).header_row_number == 2


def test_without_expected_columns_the_first_row_with_two_cells_is_the_header():
    table = read_table(csv_bytes("标题\na,b\n1,2\n"), "x.csv")
    assert (table.header, table.header_row_number) == (["a", "b"], 2)


def test_no_header_raises():
    with pytest.raises(TableError):
        read_table(csv_bytes("甲,乙\n1,2\n"), "a.csv", EXPECTED)
    rows = "\n".join(["x"] * 20) + "\n名称,代码\n"
    with pytest.raises(TableError):
        read_table(csv_bytes(rows), "a.csv", EXPECTED)  # beyond the first 15 rows


def test_trailing_blank_rows_are_dropped():
    table = read_table(csv_bytes("名称,代码\n甲,1\n,\n,\n"), "a.csv", EXPECTED)
    assert table.rows == [["甲", "1"]]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_encodings(encoding):
    text = "名称,区划代码\n滦水里社区,120103004001\n粤江里社区,120103012001\n"
    table = read_table(csv_bytes(text, encoding), "a.csv", EXPECTED)
    assert table.header == ["名称", "区划代码"]
    assert table.rows[1] == ["粤江里社区", "120103012001"]


def test_undecodable_csv():
    with pytest.raises(TableError):
        read_table(b"\xff\xfe\x00\x81\x30\xff\xff", "a.csv", EXPECTED)


def test_column_match_in_any_order_with_unknown_columns():
    match = ColumnMatch.match(["备注", "人口", "名称", "", "代码", "代码"], EXPECTED)
    assert match.columns == {"population": 1, "name": 2, "code": 4}  # the first of two 代码 columns
    assert match.unknown == ["备注"]
    assert match.extract(["x", "10", "甲"]) == {"population": "10", "name": "甲", "code": None}


def test_read_xlsx_from_path_and_file_object(tmp_path):
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_string(0, 0, "标题")
    sheet.write_row(2, 0, ["区划代码", "名称", "人口数"])
    sheet.write_row(3, 0, ["120103004001", "滦水里社区", 5200])
    sheet.write_number(4, 0, 120103004002)
    sheet.write_string(4, 1, "庆建南里社区")
    workbook.close()
    path = tmp_path / "areas.xlsx"
    path.write_bytes(buffer.getvalue())

    for source in (path, str(path)):
        table = read_table(source, expected=EXPECTED)
        assert table.header_row_number == 3
        assert table.rows[0][:3] == ["120103004001", "滦水里社区", 5200.0]
    with path.open("rb") as fh:
        table = read_table(fh, "areas.xlsx", EXPECTED)
    assert cell_text(table.rows[1][0]) == "120103004002"


def test_unsupported_and_broken_files():
    with pytest.raises(TableError):
        read_table(b"hello", "a.txt", EXPECTED)
    with pytest.raises(TableError):
        read_table(b"not a zip", "a.xlsx", EXPECTED)
    with pytest.raises(TableError):
        read_table(b"a,b\n", None, EXPECTED)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (120103004001.0, "120103004001"),
        (1.5, "1.5"),
        (7, "7"),
        (None, ""),
        ("  甲  乙 ", "甲 乙"),
        ("ＡＢ", "AB"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


# --- writing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+2", "+86 138", "-5", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_defuse_quotes_formula_starts(value):
    assert defuse(value) == "'" + value


@pytest.mark.parametrize("value", ["滦水里", "1=1", "a-b", "", 5, None, -5])
def test_defuse_leaves_everything_else(value):
    assert defuse(value) == value


def test_write_xlsx_keeps_id_columns_as_text():
    data = write_xlsx(
        columns=[
            Column("身份证号", text=True),
            Column("电话", text=True),
            Column("姓名"),
            Column("人口数"),
            Column("日期"),
            Column("是否"),
        ],
        rows=[
            ["110101199003077777", "13800138000", "=cmd|' /C calc'!A0", 5200, dt.date(2024, 5, 1), True],
            [110101199003070000, "02212345678", "张三", 3.5, dt.datetime(2024, 5, 1, 8, 30), False],
            ["", None, "", None, None, None],
        ],
        title="人员名单",
        note="导出人 system 2024-05-01",
    )
    rows = sheet_rows(data)
    assert rows[0][0] == "人员名单"
    assert rows[1][0] == "导出人 system 2024-05-01"
    assert rows[2] == ["身份证号", "电话", "姓名", "人口数", "日期", "是否"]
    first, second = rows[3], rows[4]
    assert first[0] == "110101199003077777"
    assert first[1] == "13800138000"
    assert first[2] == "'=cmd|' /C calc'!A0"  # no formula
    assert first[3] == 5200
    assert first[4] == dt.date(2024, 5, 1)
    assert first[5] == "是"
    # A number given for a text column is written as its digits, not as a float.
    assert second[0] == "110101199003070000"
    assert second[1] == "02212345678"
    assert second[3] == 3.5
    assert second[4] == dt.datetime(2024, 5, 1, 8, 30)
    assert second[5] == "否"


def test_write_xlsx_without_title_starts_with_header():
    data = write_xlsx(columns=[Column("代码", text=True)], rows=[["01"]], sheet_name="x" * 40)
    assert sheet_rows(data) == [["代码"], ["01"]]
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert workbook.sheet_names == ["x" * 31]


def test_round_trip_through_read_table():
    data = write_xlsx(
        columns=[Column("区划代码", text=True), Column("名称")],
        rows=[["120103004001", "滦水里社区"]],
        title="辖区",
    )
    table = read_table(data, "export.xlsx", EXPECTED)
    assert table.header_row_number == 2
    assert table.rows == [["120103004001", "滦水里社区"]]


def test_error_report_one_line_per_row_with_every_reason_and_the_original_row():
    """A row with several problems comes back once, with every column and reason, so the importer corrects it
    at once and imports the corrected lines without them repeating each other."""
    from pingan.core.excel import ImportResult, import_error_report, read_table

    table = read_table("姓名,电话,网格\n张三,123,\n李四,13800000000,A1\n".encode(), "f.csv")
    result = ImportResult(
        errors=[
            {"row": 2, "column": "电话", "reason": "电话号码格式不正确"},
            {"row": 2, "column": "网格", "reason": "网格不能为空"},
            {"row": 3, "column": "姓名", "reason": "重复"},
        ]
    )
    result.attach_rows(table)
    report = read_table(import_error_report(result), "r.xlsx", expected={"r": ("行号",), "c": ("原因",)})
    assert report.header == ["行号", "列", "原因", "姓名", "电话", "网格"]
    assert [r[:4] for r in report.rows] == [
        [2, "电话、网格", "电话号码格式不正确；网格不能为空", "张三"],
        [3, "姓名", "重复", "李四"],
    ]
    assert report.rows[0][4] == "123"  # as the file had it, as text
