"""The PostgreSQL form of :func:`okno.notify.planning.plan`: one ``INSERT … SELECT`` does the whole fan-out.

Nothing about the 200,000 recipients travels to Python: the affected service points (the topology walk's
queryset, or an array), the matching subscriptions (by account; by building as a semi-join), their
consents (one grouped pass over ``customers_consent``), the channel (a ``CASE`` built from the channel
order), the recipient key (``DISTINCT ON``), the contacts already told (hash anti-joins), the quiet hours
(per row, in the branch's time zone) and the insert with ``ON CONFLICT DO NOTHING`` are one statement;
Python gets back a few counts. The rules are those of the portable path in :mod:`okno.notify.planning`,
and the planning tests run against both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from okno.notify.choices import Channel, NoticeStatus, SkipReason
from okno.notify.models import NotifySettings

# SQL for the contact of each channel on a subscription row ``s`` (NULL when the channel is not used).
CONTACT_SQL: dict[str, str] = {
    Channel.EMAIL: "NULLIF(lower(btrim(s.email)), '')",
    Channel.SMS: "NULLIF(s.phone, '')",
    Channel.PUSH: (
        "CASE WHEN jsonb_typeof(s.push) = 'object' AND coalesce(s.push->>'endpoint', '') <> ''"
        " AND coalesce(s.push->'keys'->>'p256dh', '') <> '' AND coalesce(s.push->'keys'->>'auth', '') <> ''"
        " THEN jsonb_build_object('endpoint', s.push->'endpoint', 'keys', jsonb_build_object("
        "'p256dh', s.push->'keys'->'p256dh', 'auth', s.push->'keys'->'auth'))::text END"
    ),
    Channel.MESSENGER: "NULLIF(s.messenger, '')",
}
# customers.Consent channels allowing each notify channel ("any" allows all).
CONSENT_SQL: dict[str, str] = {
    Channel.EMAIL: "('email', 'any')",
    Channel.SMS: "('sms', 'phone', 'any')",
    Channel.PUSH: "('push', 'any')",
    Channel.MESSENGER: "('messenger', 'any')",
}


def _points(service_point_ids: QuerySet | Iterable[int]) -> tuple[str, list[Any]]:
    if isinstance(service_point_ids, QuerySet):
        sql, params = service_point_ids.query.sql_with_params()
        return f"SELECT p.x AS id FROM ({sql}) AS p(x)", list(params)  # noqa: S608 (Django-compiled)
    return "SELECT unnest(%s::bigint[]) AS id", [sorted({int(i) for i in service_point_ids})]


def _quiet_sql(policy: NotifySettings) -> str:
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return "false"
    if start < end:
        return "(c.local_time >= %(qs)s AND c.local_time < %(qe)s)"
    return "(c.local_time >= %(qs)s OR c.local_time < %(qe)s)"


def plan_sql(
    event_id: int,
    service_point_ids: QuerySet | Iterable[int],
    *,
    emergency: bool,
    now: dt.datetime,
    policy: NotifySettings,
    fallback_tz: str,
) -> dict[str, int]:
    from okno.notify.models import Notice

    already_planned = Notice.objects.filter(event_id=event_id).exists()
    order = policy.order()
    channels = list(Channel.values)
    ok = {c: f"c.{c}_ok AND c.{c}_c IS NOT NULL" for c in channels}
    has = {c: f"c.{c}_c IS NOT NULL" for c in channels}
    # The preferred channel first, then the configured order: the first with a contact and consent…
    chan_ok = " ".join(f"WHEN c.preferred = '{c}' AND {ok[c]} THEN '{c}'" for c in channels)
    chan_ok += " " + " ".join(f"WHEN {ok[c]} THEN '{c}'" for c in order)
    # …or, failing consent, the first with a contact (recorded as skipped).
    chan_any = " ".join(f"WHEN c.preferred = '{c}' AND {has[c]} THEN '{c}'" for c in channels)
    chan_any += " " + " ".join(f"WHEN {has[c]} THEN '{c}'" for c in order)
    position = " ".join(f"WHEN '{c}' THEN {i + 1}" for i, c in enumerate(order))
    contact_of = " ".join(f"WHEN '{c}' THEN c.{c}_c" for c in channels)
    consent_flags = ",\n".join(f"bool_or(channel IN {CONSENT_SQL[c]}) AS {c}_ok" for c in channels)
    own = "(s.consent_given_at IS NOT NULL AND s.consent_withdrawn_at IS NULL)"
    sub_flags = ",\n".join(
        f"CASE WHEN s.customer_id IS NULL THEN {own} ELSE coalesce(k.{c}_ok, false) END AS {c}_ok"
        for c in channels
    )
    contacts = ",\n".join(f"{CONTACT_SQL[c]} AS {c}_c" for c in channels)
    quiet = _quiet_sql(policy)
    # A subscription matches by account or by building, never both: the two halves never overlap.
    columns = ", ".join(
        f"s.{c}"
        for c in (
            "id",
            "customer_id",
            "branch_id",
            "language",
            "preferred_channel",
            "email",
            "phone",
            "push",
            "messenger",
            "consent_given_at",
            "consent_withdrawn_at",
        )
    )
    points_sql, points_params = _points(service_point_ids)
    # One parameter style for the driver: the points subquery's positional %s become named ones.
    for i in range(len(points_params)):
        points_sql = points_sql.replace("%s", f"%(p{i})s", 1)

    # Named placeholders for our own values; the points subquery's positional ones are merged below.
    # Re-plan: leave out those already told. The event's notices are read once into a CTE, before the
    # insert below adds to the table (an anti-join straight on notify_notice may be planned as a loop
    # that rescans the heap this very statement is filling: quadratic). A first plan skips it.
    existing = ""
    not_told = ""
    if already_planned:
        existing = "existing AS MATERIALIZED (SELECT dedup_key, recipient FROM notify_notice WHERE event_id = %(event)s),"
        not_told = (
            "WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.dedup_key = c.dedup_key)"
            " AND NOT EXISTS (SELECT 1 FROM existing e WHERE e.recipient = c.contact)"
        )
    # Every interpolated fragment is built above from constants; all values are parameters.
    sql = f"""
WITH pts AS NOT MATERIALIZED ({points_sql}),
{existing}
matched AS MATERIALIZED (
    SELECT {columns} FROM notify_subscription s JOIN customers_account a ON a.id = s.account_id
     WHERE s.active AND s.confirmed_at IS NOT NULL AND a.service_point_id IN (SELECT id FROM pts)
    UNION ALL
    SELECT {columns} FROM notify_subscription s
     WHERE s.active AND s.confirmed_at IS NOT NULL AND s.account_id IS NULL AND EXISTS (
        SELECT 1 FROM customers_servicepoint sp JOIN customers_address ad ON ad.id = sp.address_id
         WHERE sp.id IN (SELECT id FROM pts)
           AND ad.settlement = s.settlement AND ad.street = s.street AND ad.house = s.house)
),
consents AS (
    SELECT customer_id, {consent_flags}
      FROM customers_consent
     WHERE purpose = 'service_notices' AND withdrawn_at IS NULL
       AND customer_id IN (SELECT customer_id FROM matched)
     GROUP BY customer_id
),
subs AS (
    SELECT s.id AS sub_id, s.customer_id, s.branch_id, coalesce(NULLIF(s.language, ''), 'ru') AS language,
           s.preferred_channel AS preferred,
           (%(now)s::timestamptz AT TIME ZONE coalesce(b.timezone, %(tz)s)) AS local_ts,
           coalesce(b.timezone, %(tz)s) AS tz,
           {contacts},
           {sub_flags}
      FROM matched s
      LEFT JOIN consents k ON k.customer_id = s.customer_id
      LEFT JOIN org_branch b ON b.id = s.branch_id
),
picked AS (
    SELECT c.*, c.local_ts::time AS local_time,
           CASE {chan_ok} END AS chan_ok,
           CASE {chan_any} END AS chan_any
      FROM subs c
),
cand AS (
    SELECT c.sub_id, c.customer_id, c.branch_id, c.language, c.local_ts, c.local_time, c.tz,
           c.chan_ok IS NOT NULL AS consented, coalesce(c.chan_ok, c.chan_any) AS channel,
           CASE coalesce(c.chan_ok, c.chan_any) {contact_of} END AS contact,
           (CASE WHEN coalesce(c.chan_ok, c.chan_any) = c.preferred THEN 0
                 ELSE CASE coalesce(c.chan_ok, c.chan_any) {position} END END)
             + CASE WHEN c.chan_ok IS NULL THEN 100 ELSE 0 END AS rank
      FROM picked c
     WHERE c.chan_any IS NOT NULL
),
keyed AS (
    SELECT c.*, CASE WHEN c.customer_id IS NOT NULL THEN 'c:' || c.customer_id
                     ELSE c.channel || ':' || c.contact END AS dedup_key
      FROM cand c
),
per_key AS (
    SELECT DISTINCT ON (dedup_key) * FROM keyed ORDER BY dedup_key, rank, sub_id
),
per_contact AS (
    SELECT DISTINCT ON (contact) * FROM per_key ORDER BY contact, (customer_id IS NULL), rank, sub_id
),
fresh AS (
    SELECT c.*,
           (c.consented AND c.channel = 'sms' AND NOT %(emergency)s AND {quiet}) AS deferred
      FROM per_contact c
     {not_told}
),
ins AS (
    INSERT INTO notify_notice (event_id, dedup_key, channel, recipient, language, customer_id, subscription_id,
                               branch_id, status, skip_reason, due_at, attempts, subject, body, provider_id,
                               last_error, created_at)
    SELECT %(event)s, f.dedup_key, f.channel, f.contact, f.language, f.customer_id, f.sub_id, f.branch_id,
           CASE WHEN NOT f.consented THEN %(skipped)s WHEN f.deferred THEN %(scheduled)s ELSE %(queued)s END,
           CASE WHEN NOT f.consented THEN %(no_consent)s ELSE '' END,
           CASE WHEN f.deferred
                THEN ((f.local_ts::date + CASE WHEN f.local_time >= %(qe)s THEN 1 ELSE 0 END) + %(qe)s)
                     AT TIME ZONE f.tz
                ELSE %(now)s::timestamptz END,
           0, '', '', '', '', %(now)s::timestamptz
      FROM fresh f
    ON CONFLICT (event_id, dedup_key) DO NOTHING
    RETURNING status
)
SELECT (SELECT count(*) FROM cand) AS candidates,
       count(*) FILTER (WHERE status IN (%(queued)s, %(scheduled)s)) AS planned,
       count(*) FILTER (WHERE status = %(scheduled)s) AS deferred,
       count(*) FILTER (WHERE status = %(skipped)s) AS skipped
  FROM ins
"""  # noqa: S608
    named: dict[str, Any] = {
        "now": now,
        "tz": fallback_tz or settings.TIME_ZONE,
        "emergency": emergency,
        "event": event_id,
        "qs": policy.quiet_start,
        "qe": policy.quiet_end,
        "queued": NoticeStatus.QUEUED.value,
        "scheduled": NoticeStatus.SCHEDULED.value,
        "skipped": NoticeStatus.SKIPPED.value,
        "no_consent": SkipReason.NO_CONSENT.value,
    }
    named.update({f"p{i}": v for i, v in enumerate(points_params)})
    with connection.cursor() as cursor:
        # For this transaction only: hashes and sorts of 200,000 rows in memory, not in temp files, and no
        # JIT compilation (it costs more than it saves on a statement that runs once).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, named)
        candidates, planned, deferred, skipped = cursor.fetchone()
    return {
        "planned": planned,
        "skipped_consent": skipped,
        "deferred_quiet": deferred,
        "duplicates": candidates - planned - skipped,
    }
