"""Hand-written SELECTs that build model instances, for the few pages read so often that compiling the
ORM's query costs more than running it (the personal cabinet's dashboard: docs/portal/cabinet.md,
"Speed").

:class:`Part` names a model and its alias in the statement; :func:`select_list` writes the columns of
its concrete fields, and :func:`fetch` runs the statement and turns each row into one instance per
part, with the database's values converted as the ORM converts them (SQLite's dates, decimals and
booleans). Relations between the instances are set by the caller with :func:`attach`, as
``select_related`` would set them. Only parameters are passed to the database; the statements are
built from model metadata, never from input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection, models


@dataclass(frozen=True)
class Part:
    model: type[models.Model]
    alias: str

    @cached_property
    def fields(self) -> list[Any]:
        return list(self.model._meta.concrete_fields)

    @cached_property
    def attnames(self) -> list[str]:
        return [f.attname for f in self.fields]

    def columns(self) -> str:
        qn = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    @cached_property
    def converters(self) -> list[tuple[int, Any, list[Any]]]:
        """(position, column expression, converters) of the fields whose values need converting."""
        out = []
        for i, f in enumerate(self.fields):
            col = f.get_col(self.alias)
            convs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if convs:
                out.append((i, col, convs))
        return out


def select_list(parts: Sequence[Part]) -> str:
    return ", ".join(p.columns() for p in parts)


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def fetch(sql: str, params: Sequence[Any], parts: Sequence[Part], extra: int = 0) -> list[tuple[Any, ...]]:
    """Run ``sql`` (whose SELECT list starts with :func:`select_list` of ``parts``, then ``extra`` more
    columns) and return, per row, an instance of each part followed by the extra values."""
    plans = []
    at = 0
    for part in parts:
        n = len(part.fields)
        plans.append((part, at, at + n, part.converters, part.fields))
        at += n
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        raw_rows = cur.fetchall()
    db = connection.alias
    out = []
    for row in raw_rows:
        built: list[Any] = []
        for part, start, end, converters, _fields in plans:
            values = list(row[start:end])
            for i, expr, convs in converters:
                for conv in convs:
                    values[i] = conv(values[i], expr, connection)
            built.append(part.model.from_db(db, part.attnames, values))
        built.extend(row[at : at + extra])
        out.append(tuple(built))
    return out


def attach(instance: models.Model, relation: str, related: models.Model | None) -> None:
    """Set ``instance.<relation>`` to ``related`` without a query (what ``select_related`` does)."""
    instance._meta.get_field(relation).set_cached_value(instance, related)  # type: ignore[union-attr]
