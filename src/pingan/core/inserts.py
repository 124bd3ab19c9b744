"""New rows without ``Model.save()``, for the few inserts on a hot path (a report's event, step and photos,
every audit row).

``save()`` builds and compiles an ``InsertQuery`` for every row: about 0.4 ms of Python per insert, a tenth of
what reporting an event costs. ``insert()`` writes the same row with a statement whose text is made once per
model, database and number of rows; every value still goes through the field's ``pre_save`` (the times,
encrypted fields and their blind indexes) and ``get_db_prep_save``, as ``save()`` and ``bulk_create()`` do,
and the primary keys come back by ``RETURNING``.

It falls back to ``save()`` (one row) or ``bulk_create()`` (several) wherever it would do less than they
do: a model with ``pre_save``/``post_save`` receivers, a parent model (multi-table inheritance), a field with
its own SQL placeholder, or a value that is an expression. Like ``bulk_create()`` it runs no model ``save()``
override: callers use it for models whose ``save()`` adds nothing on insert, or that check what the override
checks.
``tests/core/test_inserts.py`` holds its rows equal to those ``save()`` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from django.db import connections, models
from django.db.models import signals

from pingan.core.prepared import prepared_cursor

M = TypeVar("M", bound=models.Model)

_STATEMENTS: dict[tuple[type[models.Model], str, int], tuple[str, list[Any], list[Any]]] = {}


def _statement(model: type[models.Model], alias: str, rows: int) -> tuple[str, list[Any], list[Any]] | None:
    """(sql, fields, returning fields) of a ``rows``-row INSERT, or None when the model needs ``save()``."""
    key = (model, alias, rows)
    made = _STATEMENTS.get(key)
    if made is not None:
        return made
    meta = model._meta
    connection = connections[alias]
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    if meta.parents or any(hasattr(f, "get_placeholder") for f in fields):
        return None
    ops: Any = connection.ops
    found = ops.return_insert_columns(returning) if returning else ("", ())
    if found is None or found[1] or (returning and not connection.features.can_return_rows_from_bulk_insert):
        return None  # a database that cannot return the new keys
    suffix = found[0]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (  # names from the model's metadata, values as parameters
        f"INSERT INTO {quote(str(meta.db_table))} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} {suffix}"
    ).strip()
    _STATEMENTS[key] = made = (sql, fields, returning)
    return made


def insert(objs: Sequence[M], using: str = "default") -> list[M]:
    """Insert the unsaved instances ``objs`` (one model) in one statement; set their primary keys and mark
    them saved. Returns them."""
    if not objs:
        return []
    model = type(objs[0])
    if any(type(obj) is not model or not obj._state.adding or obj.pk is not None for obj in objs):
        raise ValueError("insert() takes new instances of one model, without primary keys")
    made = None
    if not (signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)):
        made = _statement(model, using, len(objs))
    if made is None:
        return _fallback(objs, using)
    sql, fields, returning = made
    connection = connections[using]
    params: list[Any] = []
    for obj in objs:
        cast(Any, obj)._prepare_related_fields_for_save(operation_name="insert")  # as save() does
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                return _fallback(objs, using)
            params.append(field.get_db_prep_save(value, connection))
    with prepared_cursor(using) as cursor:  # fixed text, no plan to choose: prepared on PostgreSQL
        cursor.execute(sql, params)
        if returning:
            for obj, row in zip(objs, cursor.fetchall(), strict=True):
                for field, value in zip(returning, row, strict=True):
                    setattr(obj, field.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return list(objs)


def _fallback(objs: Sequence[M], using: str) -> list[M]:
    if len(objs) == 1:
        objs[0].save(using=using, force_insert=True)
        return list(objs)
    return type(objs[0])._default_manager.using(using).bulk_create(objs)
