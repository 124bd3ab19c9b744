from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pingan.core.validators import id_check_char


def make_id(address: str = "120103", birth: dt.date = dt.date(1990, 1, 1), seq: int = 123) -> str:
    first17 = f"{address}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@pytest.fixture
def person_data() -> Any:
    def build(seq: int = 123, **extra: Any) -> dict[str, Any]:
        return {"name": "测试张三", "id_number": make_id(seq=seq), "phone": "13812345678", **extra}

    return build
