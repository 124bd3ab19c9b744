from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from pingan.core.api import IsoDate


class AuditEventFilterIn(Schema):
    user: str | None = Field(None, max_length=150, description="操作人用户名（精确）")
    action: str | None = Field(None, max_length=61, description="操作；以 . 或 * 结尾为前缀匹配")
    kind: Literal["write", "access", "auth", "export", "policy"] | None = None
    object_type: str | None = Field(None, max_length=60)
    object_id: str | None = Field(None, max_length=60)
    subject_id: str | None = Field(None, max_length=60, description="当事人编号（访问留痕）")
    area: str | None = Field(None, max_length=15, pattern=r"^\d+$", description="辖区代码，含下级")
    outcome: Literal["success", "failure", "denied"] | None = None
    since: IsoDate | None = Field(None, description="起始日期（含，北京时间）")
    until: IsoDate | None = Field(None, description="截止日期（含，北京时间）")


class AuditEventOut(Schema):
    id: int
    seq: int
    occurred_at: dt.datetime = Field(..., description="UTC 存储，以 +08:00 输出")
    kind: str
    actor_username: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    area_code: str
    subject_type: str
    subject_id: str
    subject_label: str
    changes: dict[str, Any] | list[Any]
    reason: str
    source_ip: str | None
    user_agent: str
    outcome: str
    prev_hash: str
    row_hash: str
