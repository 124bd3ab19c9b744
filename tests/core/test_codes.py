"""Code tables: seeded after migrate from data/codes, resolved from code or label."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pingan.core.codes import CODES_DIR, UnknownCode, code_choices, code_label, code_resolve, sync_code_tables
from pingan.core.models import CodeItem, CodeTable
from pingan.core.selectors import code_item_list, code_table_list

pytestmark = pytest.mark.django_db


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


TABLES = read_csv(CODES_DIR / "tables.csv")


def test_tables_file_lists_tables():
    assert len(TABLES) >= 10
    assert {"ethnic_group", "sex", "id_type", "area_level", "department_type"} <= {t["key"] for t in TABLES}


@pytest.mark.parametrize("key", [t["key"] for t in TABLES])
def test_every_table_is_loaded_with_all_its_items(key):
    table = CodeTable.objects.get(key=key)
    assert table.name
    rows = read_csv(CODES_DIR / f"{key}.csv")
    assert rows, f"{key}.csv is empty"
    codes = [r["code"].strip() for r in rows]
    assert len(codes) == len(set(codes)), f"duplicate codes in {key}.csv"
    assert list(code_item_list(table_key=key).values_list("code", flat=True)) == codes
    for row in rows:
        assert row["label"].strip(), f"{key} {row['code']} has no label"
        if row.get("parent"):
            assert row["parent"] in codes, f"{key} {row['code']}: unknown parent {row['parent']}"


def test_no_stray_tables():
    assert set(code_table_list().values_list("key", flat=True)) == {t["key"] for t in TABLES}


def test_ethnic_group():
    items = list(code_item_list(table_key="ethnic_group"))
    assert len(items) == 58
    assert (items[0].code, items[0].label) == ("01", "汉族")
    assert code_label("ethnic_group", "01") == "汉族"
    assert code_label("ethnic_group", "") == ""
    assert code_label("ethnic_group", "xx") == "xx"
    assert ("01", "汉族") in code_choices("ethnic_group")


@pytest.mark.parametrize("value", ["01", "汉族", "Han", "han", " HAN ", "1", 1, "汉族 ", "０１"])
def test_code_resolve_accepts_codes_and_labels(value):
    assert code_resolve("ethnic_group", value) == "01"


def test_code_resolve_other_tables():
    assert code_resolve("sex", "男") == "1"
    assert code_resolve("sex", "female") == "2"
    assert code_resolve("area_level", "社区") == "community"
    assert code_resolve("department_type", "Judicial office / bureau") == "judicial"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_code_resolve_empty_is_empty(value):
    assert code_resolve("ethnic_group", value) == ""


@pytest.mark.parametrize("value", ["火星族", "999", "0", "1.5", "汉"])
def test_code_resolve_rejects_unknown(value):
    with pytest.raises(UnknownCode) as exc_info:
        code_resolve("ethnic_group", value)
    assert exc_info.value.table == "ethnic_group"
    assert isinstance(exc_info.value, ValueError)


def test_code_resolve_unknown_table():
    with pytest.raises(UnknownCode):
        code_resolve("no_such_table", "01")


def test_sync_is_idempotent():
    before = list(
        CodeItem.objects.order_by("pk").values_list("pk", "table_id", "code", "label", "sort", "active")
    )
    counts = sync_code_tables()
    assert counts == {t["key"]: len(read_csv(CODES_DIR / f"{t['key']}.csv")) for t in TABLES}
    after = list(
        CodeItem.objects.order_by("pk").values_list("pk", "table_id", "code", "label", "sort", "active")
    )
    assert after == before


def write_table(directory: Path, rows: list[tuple[str, str, str]]) -> None:
    (directory / "tables.csv").write_text(
        "key,name,name_en,standard\ntest_colour,颜色,Colour,\n", encoding="utf-8"
    )
    lines = ["code,label,label_en,parent"] + [",".join(r) + "," for r in rows]
    (directory / "test_colour.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_removed_item_is_deactivated_not_deleted(tmp_path):
    write_table(tmp_path, [("1", "红", "Red"), ("2", "绿", "Green"), ("3", "蓝", "Blue")])
    assert sync_code_tables(tmp_path) == {"test_colour": 3}
    assert code_resolve("test_colour", "green") == "2"

    write_table(tmp_path, [("1", "赤", "Red"), ("3", "蓝", "Blue")])
    sync_code_tables(tmp_path)
    item = CodeItem.objects.get(table__key="test_colour", code="2")
    assert item.active is False
    assert item.label == "绿"
    assert [c for c, _ in code_choices("test_colour")] == ["1", "3"]
    assert code_label("test_colour", "1") == "赤"  # labels update in place
    with pytest.raises(UnknownCode):
        code_resolve("test_colour", "2")
    assert set(
        code_item_list(table_key="test_colour", include_inactive=True).values_list("code", flat=True)
    ) == {"1", "2", "3"}

    # Coming back re-activates it.
    write_table(tmp_path, [("1", "赤", "Red"), ("2", "绿", "Green"), ("3", "蓝", "Blue")])
    sync_code_tables(tmp_path)
    assert CodeItem.objects.get(table__key="test_colour", code="2").active is True
    assert CodeItem.objects.filter(table__key="test_colour").count() == 3


def test_sync_without_tables_file_does_nothing(tmp_path):
    assert sync_code_tables(tmp_path) == {}


def test_code_tables_are_seeded_by_migrate_only_once():
    # post_migrate ran for the test database: every item exists exactly once.
    assert CodeItem.objects.filter(table__key="ethnic_group", code="01").count() == 1


def test_labels_follow_the_page_language(db):
    from django.utils import translation

    from pingan.core.codes import code_choices, code_label

    assert code_label("event_category", "0104") == "乱停乱放"
    with translation.override("en"):
        assert code_label("event_category", "0104") == "Illegal parking"
        assert ("0104", "Illegal parking") in code_choices("event_category")
