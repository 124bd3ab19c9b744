from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from pingan.core.api import ERROR_RESPONSES
from pingan.core.selectors import code_item_list, code_table_list

router = Router(tags=["code tables 字典"])


class CodeTableOut(Schema):
    key: str
    name: str
    name_en: str
    standard: str


class CodeItemOut(Schema):
    code: str
    label: str
    label_en: str
    parent_code: str


@router.get("/codes", response={200: list[CodeTableOut], **ERROR_RESPONSES})
def list_code_tables(request: HttpRequest) -> list[CodeTableOut]:
    return list(code_table_list())  # type: ignore[arg-type]


@router.get("/codes/{key}", response={200: list[CodeItemOut], **ERROR_RESPONSES})
def list_code_items(request: HttpRequest, key: str) -> list[CodeItemOut]:
    items = list(code_item_list(table_key=key))
    if not items and not code_table_list().filter(key=key).exists():
        raise Http404
    return items  # type: ignore[return-value]
