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
``insert_linked()`` writes new rows of several models that refer to each other (a report's event, its step
and the step's photos) in one statement on PostgreSQL instead of one per model.

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


def _check_new(objs: Sequence[M], name: str) -> type[M]:
    model = type(objs[0])
    if any(type(obj) is not model or not obj._state.adding or obj.pk is not None for obj in objs):
        raise ValueError(f"{name}() takes new instances of one model, without primary keys")
    return model


def _plain(model: type[models.Model], using: str, rows: int) -> tuple[str, list[Any], list[Any]] | None:
    """``_statement()`` for a model without save receivers, else None (the rows go through ``save()``)."""
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        return None
    return _statement(model, using, rows)


def insert(objs: Sequence[M], using: str = "default") -> list[M]:
    """Insert the unsaved instances ``objs`` (one model) in one statement; set their primary keys and mark
    them saved. Returns them."""
    if not objs:
        return []
    model = _check_new(objs, "insert")
    made = _plain(model, using, len(objs))
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


def insert_linked(*levels: Sequence[models.Model], using: str = "default") -> None:
    """Insert the unsaved instances of ``levels`` (each a sequence of one model's new instances), where an
    instance may refer by a foreign key to the one instance of an earlier level (a step to its new event, a
    photo to both): on PostgreSQL in one statement, elsewhere level by level with ``insert()``. Sets every
    primary key and the referring columns, and marks the rows saved.

    The statement makes each level a data-modifying ``WITH`` query, ``INSERT … RETURNING`` its keys; a
    reference to an earlier row reads that row's key from its query, so no row waits for the round trip of
    another (a report saves two of its thirteen). The values go through ``pre_save`` and
    ``get_db_prep_save`` as in ``insert()``. The database's foreign keys are checked at commit (Django makes
    them deferred), as with separate statements. A level the one statement cannot write (save receivers, an
    expression as value, a reference to a level of several rows) makes the whole call go level by level."""
    levels = tuple(level for level in levels if level)
    for level in levels:
        _check_new(level, "insert_linked")
    if len({id(obj) for level in levels for obj in level}) != sum(len(level) for level in levels):
        raise ValueError("insert_linked() takes each instance once")
    connection = connections[using]
    made = _linked(levels, using) if connection.vendor == "postgresql" and len(levels) > 1 else None
    if made is None:
        for level in levels:
            insert(level, using)
        return
    sql, params, links = made
    with prepared_cursor(using) as cursor:  # fixed text for a given shape: prepared, as insert() is
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    found = iter(keys)
    for level in levels:
        for obj in level:
            obj.pk = next(found)[0]
            obj._state.adding = False
            obj._state.db = using
    for obj, field, target in links:
        setattr(obj, field.name, target)  # its key now, the instance still cached, as save() leaves it


_LINKED: dict[tuple[Any, ...], str] = {}


def _linked(levels: Sequence[Sequence[models.Model]], using: str) -> tuple[str, list[Any], list[Any]] | None:
    """(sql, params, links) of ``insert_linked()``'s one statement, or None when it cannot be one."""
    connection = connections[using]
    single = {id(level[0]): n for n, level in enumerate(levels) if len(level) == 1}
    params: list[Any] = []
    links: list[Any] = []  # (instance, field, the earlier instance it refers to)
    shape: list[Any] = []  # what the text depends on: per level its model, and per row the referring fields
    for n, level in enumerate(levels):
        model = type(level[0])
        made = _plain(model, using, len(level))
        if made is None or [f.attname for f in made[2]] != [model._meta.pk.attname]:
            return None  # receivers, or more to return than the key
        fields = made[1]
        rows = []
        for obj in level:
            linked: dict[str, int] = {}  # column → the level whose key it takes
            for field in fields:
                target = cast(Any, field).get_cached_value(obj, None) if field.is_relation else None
                if target is not None and target._state.adding and target.pk is None:
                    earlier = single.get(id(target))
                    if earlier is None or earlier >= n:
                        return None  # an unsaved row outside this call: insert() refuses it
                    linked[field.column] = earlier
                    links.append((obj, field, target))
            cast(Any, obj)._prepare_related_fields_for_save(  # the others, as insert() checks them
                operation_name="insert",
                fields={f for f in fields if f.column not in linked} if linked else None,
            )
            for field in fields:
                if field.column not in linked:
                    value = field.pre_save(obj, True)
                    if hasattr(value, "resolve_expression"):
                        return None
                    params.append(field.get_db_prep_save(value, connection))
            rows.append(tuple(sorted(linked.items())))
        shape.append((model, tuple(rows)))
    key = (using, tuple(shape))
    sql = _LINKED.get(key)
    if sql is None:
        _LINKED[key] = sql = _linked_sql(shape, using)
    return sql, params, links


def _key_of(key: str, n: int) -> str:
    return f"(SELECT {key} FROM l{n})"  # noqa: S608 — a quoted column name and a query's number


def _linked_sql(shape: Sequence[tuple[type[models.Model], tuple[Any, ...]]], using: str) -> str:
    """``WITH l0 AS (INSERT … RETURNING id), l1 AS (INSERT … VALUES ((SELECT id FROM l0), %s, …) RETURNING
    id) … (SELECT id FROM l0) UNION ALL (SELECT id FROM l1) …``: names from the models' metadata, values as
    parameters."""
    quote = connections[using].ops.quote_name
    keys = [quote(str(model._meta.pk.column)) for model, _rows in shape]
    queries = []
    for n, (model, rows) in enumerate(shape):
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        values = []
        for linked in rows:
            earlier = dict(linked)
            cells = (
                _key_of(keys[earlier[f.column]], earlier[f.column]) if f.column in earlier else "%s"
                for f in fields
            )
            values.append(f"({', '.join(cells)})")
        columns = ", ".join(quote(str(f.column)) for f in fields)
        table = quote(str(meta.db_table))
        insert_sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join(values)}"  # noqa: S608
        queries.append(f"l{n} AS ({insert_sql} RETURNING {keys[n]})")
    selects = " UNION ALL ".join(_key_of(key, n) for n, key in enumerate(keys))
    return f"WITH {', '.join(queries)} {selects}"  # each level's keys in the order of its rows


def _fallback(objs: Sequence[M], using: str) -> list[M]:
    if len(objs) == 1:
        objs[0].save(using=using, force_insert=True)
        return list(objs)
    return type(objs[0])._default_manager.using(using).bulk_create(objs)
