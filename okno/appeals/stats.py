"""Rebuilding the daily statistics rollup (:class:`~okno.appeals.models.AppealStat`) from the appeals.

The actions keep the rollup in step one appeal at a time (``actions._bump_stat``); this module
recomputes it wholesale, after a bulk load (``okno seed``) or to repair it (``okno rebuild_stats``).
A row counts the appeals *received* on a local day of the branch's time zone:

* ``received``: every appeal;
* ``on_time`` / ``late``: appeals whose first answer reached the customer before / after the deadline
  (``Appeal.on_time`` is true / false);
* ``cancelled``: appeals in the status ``cancelled``.

On PostgreSQL the work is one ``INSERT … SELECT`` with ``received_at AT TIME ZONE branch.timezone``;
on SQLite the appeals are read in chunks and grouped in Python.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from okno.appeals.choices import Status
from okno.appeals.models import Appeal, AppealStat
from okno.org.models import Branch

CHUNK = 50_000


def rebuild_stats(since: dt.date | None = None) -> int:
    """Recompute the rollup (from the local day ``since`` on, or entirely); returns the rows written."""
    with transaction.atomic():
        stale = AppealStat.objects.all()
        if since is not None:
            stale = stale.filter(day__gte=since)
        stale.delete()
        if connection.vendor == "postgresql":
            return _rebuild_sql(since)
        return _rebuild_python(since)


def _rebuild_sql(since: dt.date | None) -> int:
    stat, appeal, branch = AppealStat._meta.db_table, Appeal._meta.db_table, Branch._meta.db_table
    local_day = "(a.received_at AT TIME ZONE b.timezone)::date"
    where, params = "", []
    if since is not None:
        # The index on received_at narrows the scan; the local-day test is then exact.
        where = f"WHERE a.received_at >= %s AND {local_day} >= %s"
        params = [dt.datetime.combine(since - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC), since]
    sql = f"""
        INSERT INTO {stat} (day, branch_id, channel, kind, topic, received, on_time, late, cancelled)
        SELECT {local_day}, a.branch_id, a.channel, a.kind, a.topic,
               count(*),
               count(*) FILTER (WHERE a.on_time IS TRUE),
               count(*) FILTER (WHERE a.on_time IS FALSE),
               count(*) FILTER (WHERE a.status = %s)
        FROM {appeal} a JOIN {branch} b ON b.id = a.branch_id
        {where}
        GROUP BY 1, 2, 3, 4, 5
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [Status.CANCELLED, *params])
        return cursor.rowcount


def _rebuild_python(since: dt.date | None) -> int:
    zones = {pk: zoneinfo.ZoneInfo(name) for pk, name in Branch.objects.values_list("pk", "timezone")}
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    rows = Appeal.objects.order_by().values_list(
        "received_at", "branch_id", "channel", "kind", "topic", "on_time", "status"
    )
    if since is not None:
        rows = rows.filter(
            received_at__gte=dt.datetime.combine(since - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        )
    cancelled = Status.CANCELLED.value
    for received_at, branch_id, channel, kind, topic, on_time, status in rows.iterator(chunk_size=CHUNK):
        day = timezone.localtime(received_at, zones[branch_id]).date()
        if since is not None and day < since:
            continue
        c = counts[(day, branch_id, channel, kind, topic)]
        c[0] += 1
        if on_time is True:
            c[1] += 1
        elif on_time is False:
            c[2] += 1
        if status == cancelled:
            c[3] += 1
    objs = [
        AppealStat(
            day=k[0],
            branch_id=k[1],
            channel=k[2],
            kind=k[3],
            topic=k[4],
            received=c[0],
            on_time=c[1],
            late=c[2],
            cancelled=c[3],
        )
        for k, c in counts.items()
    ]
    AppealStat.objects.bulk_create(objs, batch_size=2000)
    return len(objs)
