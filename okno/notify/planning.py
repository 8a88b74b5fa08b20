"""Fan-out planning: from the service points an event affects to one notice per person.

:func:`plan` is what the outage code calls. It works on sets, not people. On PostgreSQL the whole
fan-out is one ``INSERT … SELECT`` (:mod:`okno.notify.planning_sql`): 200,000 subscribers in a few
seconds (``bench/bench_outage_fanout.py``). Elsewhere (SQLite in development and tests) the same rules
run as two queries for the subscriptions (by account; by building, a semi-join), one per 500 customers
for their consents, a Python pass over plain tuples and ``bulk_create``. The planning tests run on both.

Rules:

* **One message per person per event.** The recipient key is ``c:<customer id>`` for a customer, else
  the normalised contact (``email:…``, ``sms:+7…``); the unique constraint on (event, key) and a lock
  on the event row make a re-plan add nothing for people already planned. A contact already used by
  another recipient of the same event is not written to twice either.
* **One channel.** The subscriber's preferred channel, else the first of
  :attr:`NotifySettings.channel_order` (push, messenger, SMS, e-mail) that has a contact *and* consent.
* **Consent.** A customer's active :class:`~okno.customers.models.Consent` for service notices on the
  channel (SMS also accepts a "phone" consent) or on "any"; an anonymous subscription's own consent
  (given when subscribing, confirmed by double opt-in). No consent on any channel: a ``skipped`` notice
  with the reason, counted in ``skipped_consent``.
* **Quiet hours** (:mod:`okno.notify.quiet`): a non-emergency SMS planned at night in the subscriber's
  branch's time zone is ``scheduled`` for the morning, counted in ``deferred_quiet`` (and in ``planned``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from okno.core.jobs import enqueue
from okno.customers.choices import ConsentPurpose
from okno.customers.models import Address, Consent
from okno.customers.numbers import normalize_phone
from okno.notify.choices import Channel, NoticeStatus, SkipReason
from okno.notify.models import Notice, NoticeEvent, NotifySettings, Subscription, _push_recipient
from okno.notify.quiet import send_time, zone
from okno.notify.texts import serialise_context
from okno.org.models import Branch

# Which customers.Consent channels allow a notice on each notify channel ("any" allows all).
CONSENT_CHANNELS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: ("email",),
    Channel.SMS: ("sms", "phone"),
    Channel.PUSH: ("push",),
    Channel.MESSENGER: ("messenger",),
}
CHUNK = 10_000

_COLUMNS = (
    "event_id",
    "dedup_key",
    "channel",
    "recipient",
    "language",
    "customer_id",
    "subscription_id",
    "branch_id",
    "status",
    "skip_reason",
    "due_at",
    "attempts",
    "subject",
    "body",
    "provider_id",
    "last_error",
    "created_at",
)
_SUB_FIELDS = (
    "id",
    "customer_id",
    "language",
    "preferred_channel",
    "email",
    "phone",
    "push",
    "messenger",
    "branch_id",
    "consent_given_at",
    "consent_withdrawn_at",
)


def empty_counts() -> dict[str, int]:
    return {"planned": 0, "skipped_consent": 0, "deferred_quiet": 0, "duplicates": 0}


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _point_sets(service_point_ids: QuerySet | Iterable[int]) -> Iterator[QuerySet | Sequence[int]]:
    """A queryset stays one subquery; a list goes in chunks (bind-parameter limits of the drivers)."""
    if isinstance(service_point_ids, QuerySet):
        yield service_point_ids
        return
    ids = sorted(set(service_point_ids))
    size = CHUNK if connection.vendor == "postgresql" else 500
    yield from _chunks(ids, size)


def matching_subscriptions(service_point_ids: QuerySet | Iterable[int]) -> dict[int, tuple]:
    """Usable subscriptions whose account's service point, or whose building, is among the points."""
    usable = Subscription.objects.filter(active=True, confirmed_at__isnull=False).order_by()
    rows: dict[int, tuple] = {}
    for points in _point_sets(service_point_ids):
        by_account = usable.filter(account__isnull=False, account__service_point_id__in=points)
        in_building = Address.objects.filter(
            settlement=OuterRef("settlement"),
            street=OuterRef("street"),
            house=OuterRef("house"),
            service_points__id__in=points,
        )
        by_building = usable.filter(Q(account__isnull=True), Exists(in_building))
        for qs in (by_account, by_building):
            for row in qs.values_list(*_SUB_FIELDS).iterator(chunk_size=20_000):
                rows[row[0]] = row
    return rows


def consents_of(customer_ids: Iterable[int]) -> dict[int, set[str]]:
    """Customer id → the notify channels with an active service-notices consent."""
    by_consent: dict[str, list[str]] = {}
    for channel, kinds in CONSENT_CHANNELS.items():
        for kind in kinds:
            by_consent.setdefault(kind, []).append(channel)
    by_consent["any"] = list(Channel.values)
    out: dict[int, set[str]] = {}
    ids = sorted(set(customer_ids))
    size = CHUNK if connection.vendor == "postgresql" else 500
    for part in _chunks(ids, size):
        for customer_id, kind in Consent.objects.filter(
            customer_id__in=part, purpose=ConsentPurpose.SERVICE_NOTICES, withdrawn_at__isnull=True
        ).values_list("customer_id", "channel"):
            out.setdefault(customer_id, set()).update(by_consent.get(kind, ()))
    return out


def _contact(row: tuple, channel: str) -> str:
    _id, _cust, _lang, _pref, email, phone, push, messenger = row[:8]
    if channel == Channel.EMAIL:
        return (email or "").strip().lower()
    if channel == Channel.SMS:
        return normalize_phone(phone) if phone else ""
    if channel == Channel.PUSH:
        return _push_recipient(push)
    if channel == Channel.MESSENGER:
        return messenger or ""
    return ""


def _lock_event(event_key: str, template: str, context: dict[str, Any], emergency: bool) -> NoticeEvent:
    branch_id = context.get("branch_id")
    event, _created = NoticeEvent.objects.get_or_create(
        key=event_key,
        defaults={
            "template": template,
            "context": serialise_context(context),
            "emergency": emergency,
            "branch_id": branch_id if branch_id and Branch.objects.filter(pk=branch_id).exists() else None,
        },
    )
    # Serialises concurrent plans of one event, so the "already planned" set read next stays true.
    return NoticeEvent.objects.select_for_update().get(pk=event.pk)


def _insert(rows: list[tuple]) -> int:
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            sql = f"COPY {Notice._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"
            with raw.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return len(rows)
    Notice.objects.bulk_create(
        [Notice(**dict(zip(_COLUMNS, row, strict=True))) for row in rows],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return len(rows)


def plan(
    event_key: str,
    template: str,
    service_point_ids: QuerySet | Iterable[int],
    context: dict,
    *,
    emergency: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Plan one notice per subscribed person affected by an event; returns the counts.

    ``planned`` notices are queued or scheduled (``deferred_quiet`` of them wait for the morning);
    ``skipped_consent`` are recorded as skipped; ``duplicates`` are recipients already planned for this
    event (a re-plan) or reached through another subscription of theirs.
    """
    now = now or timezone.now()
    policy = NotifySettings.current()
    with transaction.atomic():
        event = _lock_event(event_key, template, context, emergency)
        if connection.vendor == "postgresql":
            from okno.notify.planning_sql import plan_sql

            fallback = (
                Branch.objects.filter(pk=event.branch_id).values_list("timezone", flat=True).first()
                if event.branch_id is not None
                else None
            )
            counts = plan_sql(
                event.pk,
                service_point_ids,
                emergency=emergency,
                now=now,
                policy=policy,
                fallback_tz=fallback or settings.TIME_ZONE,
            )
        else:
            counts = _plan_python(event, service_point_ids, emergency=emergency, now=now, policy=policy)
        if counts["planned"]:
            enqueue("notify.deliver")
    return counts


def _plan_python(
    event: NoticeEvent,
    service_point_ids: QuerySet | Iterable[int],
    *,
    emergency: bool,
    now: dt.datetime,
    policy: NotifySettings,
) -> dict[str, int]:
    """The portable path (SQLite, other databases): a few queries, a pass over tuples, bulk inserts."""
    order = policy.order()
    counts = empty_counts()
    subs = matching_subscriptions(service_point_ids)
    consents = consents_of(row[1] for row in subs.values() if row[1] is not None)
    taken_keys: set[str] = set()
    taken_contacts: set[str] = set()
    for key, recipient in Notice.objects.filter(event=event).values_list("dedup_key", "recipient"):
        taken_keys.add(key)
        taken_contacts.add(recipient)
    tz_names: dict[int | None, str] = dict(Branch.objects.values_list("pk", "timezone"))
    fallback_tz = tz_names.get(event.branch_id) or settings.TIME_ZONE

    # Best candidate per recipient: (rank, row, channel, contact, consented).
    best: dict[str, tuple[int, tuple, str, str, bool]] = {}
    for row in sorted(subs.values(), key=lambda r: r[0]):
        sub_id, customer_id, _lang, preferred = row[:4]
        if customer_id is not None:
            allowed = consents.get(customer_id, set())
        elif row[9] is not None and row[10] is None:
            allowed = set(Channel.values)
        else:
            allowed = set()
        ranked = ([preferred] if preferred else []) + [c for c in order if c != preferred]
        candidate = None
        first_contact = None
        for rank, channel in enumerate(ranked):
            contact = _contact(row, channel)
            if not contact:
                continue
            if first_contact is None:
                first_contact = (rank, channel, contact)
            if channel in allowed:
                candidate = (rank, row, channel, contact, True)
                break
        if candidate is None:
            if first_contact is None:
                continue  # a subscription with no contact at all cannot be told anything
            rank, channel, contact = first_contact
            candidate = (100 + rank, row, channel, contact, False)
        key = f"c:{customer_id}" if customer_id is not None else f"{candidate[2]}:{candidate[3]}"
        if key in best:
            counts["duplicates"] += 1
            if candidate[0] < best[key][0]:
                best[key] = candidate
        else:
            best[key] = candidate

    rows: list[tuple] = []
    # A contact shared by two recipients goes to a customer before an anonymous subscriber (as in SQL).
    ordered = sorted(best.items(), key=lambda kv: (kv[1][1][1] is None, kv[1][0], kv[1][1][0]))
    for key, (_rank, row, channel, contact, consented) in ordered:
        if key in taken_keys or contact in taken_contacts:
            counts["duplicates"] += 1
            continue
        taken_contacts.add(contact)
        branch_id = row[8]
        status, reason, due = NoticeStatus.QUEUED, "", now
        if not consented:
            status, reason = NoticeStatus.SKIPPED, SkipReason.NO_CONSENT
            counts["skipped_consent"] += 1
        else:
            tz = zone(tz_names.get(branch_id) or fallback_tz)
            later = send_time(
                now,
                tz,
                channel=channel,
                emergency=emergency,
                start=policy.quiet_start,
                end=policy.quiet_end,
            )
            if later is not None:
                status, due = NoticeStatus.SCHEDULED, later
                counts["deferred_quiet"] += 1
            counts["planned"] += 1
        rows.append(
            (
                event.pk,
                key,
                channel,
                contact,
                row[2] or "ru",
                row[1],
                row[0],
                branch_id,
                status,
                reason,
                due,
                0,
                "",
                "",
                "",
                "",
                now,
            )
        )
    _insert(rows)
    return counts


def notify_direct(
    event_key: str, template: str, recipients: list[tuple[str, str, str]], context: dict
) -> dict[str, int]:
    """Notices to officials (heads of settlements, local administrations) at their work contacts.

    No subscription or consent is involved and no quiet hours apply: a mass outage is an emergency for
    the authority, whatever the hour. Re-sending the same event to the same contact adds nothing.
    """
    counts = empty_counts()
    now = timezone.now()
    with transaction.atomic():
        event = _lock_event(event_key, template, context, True)
        taken: set[str] = set()
        for key, recipient in Notice.objects.filter(event=event).values_list("dedup_key", "recipient"):
            taken.update((key, recipient))  # a subscriber already told on this contact is not told again
        rows = []
        for channel, address, language in recipients:
            if channel not in Channel.values:
                raise ValueError(f"unknown channel {channel!r}")
            contact = normalize_phone(address) if channel == Channel.SMS else address.strip()
            if channel == Channel.EMAIL:
                contact = contact.lower()
            key = f"{channel}:{contact}"
            if not contact or key in taken or contact in taken:
                counts["duplicates"] += 1 if contact else 0
                continue
            taken.update((key, contact))
            lang = language if language in ("ru", "en") else "ru"
            rows.append(
                (event.pk, key, channel, contact, lang, None, None, event.branch_id, NoticeStatus.QUEUED)
                + ("", now, 0, "", "", "", "", now)
            )
            counts["planned"] += 1
        _insert(rows)
        if counts["planned"]:
            enqueue("notify.deliver")
    return counts


def notify_customer(
    event_key: str,
    template: str,
    *,
    channel: str,
    contact: str,
    context: dict,
    customer_id: int | None = None,
    language: str = "ru",
    emergency: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """One notice about an event to one person who asked about it (a "no power" report's author).

    Answering a person's own appeal needs no subscription or marketing consent (the appeal is the
    request), but it is still one message per person per event — a subscriber who also reported hears
    once — and a non-emergency SMS still waits for the end of the quiet hours in the branch's zone.
    The notice carries the customer, so its delivery is written to their contact history.
    """
    counts = empty_counts()
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    contact = normalize_phone(contact) if channel == Channel.SMS else contact.strip()
    if channel == Channel.EMAIL:
        contact = contact.lower()
    if not contact:
        return counts
    now = now or timezone.now()
    policy = NotifySettings.current()
    with transaction.atomic():
        event = _lock_event(event_key, template, context, emergency)
        key = f"c:{customer_id}" if customer_id else f"{channel}:{contact}"
        # A skipped notice (a subscriber without consent, or switched off) told nobody anything: it
        # does not make the person "already told". Its row keeps the (event, key) slot and is reused.
        existing = list(
            Notice.objects.filter(event=event)
            .filter(Q(dedup_key=key) | Q(recipient=contact))
            .values_list("pk", "dedup_key", "status")
        )
        if any(status != NoticeStatus.SKIPPED for _pk, _key, status in existing):
            counts["duplicates"] += 1
            return counts
        reuse = next((pk for pk, k, _status in existing if k == key), None)
        tz_name = (
            Branch.objects.filter(pk=event.branch_id).values_list("timezone", flat=True).first()
            if event.branch_id
            else None
        )
        later = send_time(
            now,
            zone(tz_name or settings.TIME_ZONE),
            channel=channel,
            emergency=emergency,
            start=policy.quiet_start,
            end=policy.quiet_end,
        )
        status, due = (NoticeStatus.SCHEDULED, later) if later is not None else (NoticeStatus.QUEUED, now)
        lang = language if language in ("ru", "en") else "ru"
        if reuse is not None:
            # The person asked (their own report): no subscription, so no consent check at sending.
            updated = Notice.objects.filter(pk=reuse, status=NoticeStatus.SKIPPED).update(
                channel=channel,
                recipient=contact,
                language=lang,
                customer_id=customer_id,
                subscription_id=None,
                status=status,
                skip_reason="",
                due_at=due,
                attempts=0,
                last_error="",
                created_at=now,
            )
            if not updated:  # pragma: no cover - the event row lock serialises planners
                counts["duplicates"] += 1
                return counts
        else:
            _insert(
                [
                    (event.pk, key, channel, contact, lang, customer_id, None, event.branch_id, status)
                    + ("", due, 0, "", "", "", "", now)
                ]
            )
        counts["planned"] += 1
        if later is not None:
            counts["deferred_quiet"] += 1
        else:
            enqueue("notify.deliver")
    return counts
