"""Fast row insertion for the demo loader: COPY on PostgreSQL, ``executemany`` on SQLite.

Rows are tuples of Python values in the order of the ``fields`` (attribute names) given to
:class:`TableWriter`; fields not given get their model default. Ids are assigned by the caller
(:func:`next_id` reads the current maximum), so related rows can be written without reading back;
:func:`reset_sequences` moves PostgreSQL's sequences past the ids used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Max


def next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(m=Max("pk"))["m"] or 0) + 1


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextlib.contextmanager
def bulk_load(models_: Iterable[type[models.Model]], progress: Any = None) -> Iterator[None]:
    """On PostgreSQL, load without per-row index and foreign-key upkeep, then rebuild the indexes.

    Inside the caller's transaction: the secondary (non-unique) indexes of the tables are dropped and
    created again afterwards (a sorted build is many times faster than a million inserts into each
    index); a superuser also skips the foreign-key triggers (``session_replication_role = replica``,
    the ids are generated consistently), anyone else checks them per statement. A failure rolls it all back.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [tables],
        )
        indexes = [(name, sql) for name, sql in cursor.fetchall() if " UNIQUE " not in sql]
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = bool(cursor.fetchone()[0])
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    yield
    with connection.cursor() as cursor:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for i, (_name, sql) in enumerate(indexes, start=1):
            cursor.execute(sql)
            if progress and i % 10 == 0:
                progress(f"indexes rebuilt: {i}/{len(indexes)}")
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


class TableWriter:
    """Buffers rows for one table and flushes them in chunks."""

    def __init__(self, model: type[models.Model], fields: list[str]) -> None:
        self.model = model
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(fields) - set(by_attname)
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
        self.fields = fields
        # Fields the caller leaves out take their (constant) default.
        # The primary key, when left out, comes from the database sequence.
        self.extra = [f for f in model._meta.concrete_fields if f.attname not in fields and not f.primary_key]
        self.extra_values = tuple(self._default(f) for f in self.extra)
        self.all_fields = [by_attname[a] for a in fields] + self.extra
        self.columns = [f.column for f in self.all_fields]
        self.rows: list[tuple] = []
        self.written = 0
        self.conn = connections[DEFAULT_DB_ALIAS]  # this thread's connection, also used by the flusher thread
        self.pg = self.conn.vendor == "postgresql"
        if not self.pg:
            self.adapters = [self._sqlite_adapter(f) for f in self.all_fields]

    @staticmethod
    def _default(field: models.Field) -> Any:
        if field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        elif isinstance(field, (models.CharField, models.TextField)):
            value = ""
        else:
            raise ValueError(f"{field.model.__name__}.{field.name} needs a value in the demo loader")
        if isinstance(field, models.JSONField):
            return json.dumps(value, ensure_ascii=False)
        return value

    @staticmethod
    def _sqlite_adapter(field: models.Field) -> Any:
        if isinstance(field, models.DateTimeField):
            return _sqlite_datetime
        if isinstance(field, models.DateField):
            return lambda v: v.isoformat() if v is not None else None
        if isinstance(field, models.DecimalField):
            return lambda v: str(v) if v is not None else None
        return None

    def add(self, row: tuple) -> None:
        """Buffer a row; the caller flushes the writers together, parents first, so references hold."""
        self.rows.append(row)

    def take(self) -> list[tuple]:
        rows, self.rows = self.rows, []
        self.written += len(rows)
        return rows

    def flush(self) -> None:
        self.write(self.take())

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        extra = self.extra_values
        ops = self.conn.ops
        table = ops.quote_name(self.model._meta.db_table)
        cols = ", ".join(ops.quote_name(str(c)) for c in self.columns)
        with self.conn.cursor() as cursor:
            if self.pg:
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    write = copy.write_row
                    if extra:
                        for row in rows:
                            write(row + extra)
                    else:
                        for row in rows:
                            write(row)
            else:
                adapters = [(i, a) for i, a in enumerate(self.adapters) if a is not None]
                out = []
                for row in rows:
                    values = list(row + extra)
                    for i, adapt in adapters:
                        values[i] = adapt(values[i])
                    out.append(values)
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", out)  # noqa: S608


class _Pipeline:
    """Writes batches on a second thread (same connection and transaction) while the rows are generated.

    PostgreSQL parses and stores one batch while Python builds the next; the main thread does not
    touch the database while the pipeline is open. At most two batches wait, to bound memory.
    """

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="okno-seed-writer", daemon=True)

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is not None:
                continue
            try:
                for writer, rows in batch:
                    writer.write(rows)
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def submit(self, writers: tuple[TableWriter, ...]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put([(w, w.take()) for w in writers])


_pipeline: _Pipeline | None = None


@contextlib.contextmanager
def pipeline() -> Iterator[None]:
    """Overlap generation and COPY on PostgreSQL (no-op on SQLite, whose writes are cheap)."""
    global _pipeline
    if connection.vendor != "postgresql":
        yield
        return
    conn = connections[DEFAULT_DB_ALIAS]
    conn.inc_thread_sharing()
    pipe = _pipeline = _Pipeline()
    pipe.thread.start()
    try:
        yield
    finally:
        pipe.queue.put(None)
        pipe.thread.join()
        _pipeline = None
        conn.dec_thread_sharing()
    if pipe.error is not None:
        raise pipe.error


def flush_all(*writers: TableWriter) -> None:
    """Write the buffered rows of ``writers`` in this order (parents first)."""
    if _pipeline is not None:
        _pipeline.submit(writers)
    else:
        for w in writers:
            w.flush()


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    """What Django's SQLite backend stores: naive UTC in ISO format."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ")
