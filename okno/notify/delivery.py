"""The delivery loop: due notices → transports, with attempts, backoff, receipts and contact history.

**At most once.** Each notice goes through *claim → send → record*:

1. *claim* — in a short transaction, due notices are taken with ``SELECT … FOR UPDATE SKIP LOCKED``
   (PostgreSQL; SQLite serialises writers anyway) and switched to ``sending`` with the attempt counted
   and ``due_at`` set to the claim time; the claim commits before anything is sent, so two workers
   never hold the same notice;
2. *send* — outside any transaction, through the channel's transport;
3. *record* — in one transaction, the :class:`~okno.notify.models.NoticeAttempt` row, the notice's new
   status (``sent``; ``queued`` again with backoff 1, 2, 4, 8… minutes; or ``failed``) and the contact
   history line are written together, conditionally on the notice still being ``sending`` (a few
   notices' records share one transaction: see :func:`deliver_due`).

A crash between 2 and 3 leaves the notice ``sending``; :func:`recover_stale` later marks such notices
``failed`` ("outcome unknown") instead of sending them again: the issue asks that nobody gets the same
notice twice, so a rare lost notice is preferred to a duplicate. Only failures that the transport
reports as not sent (a :class:`~okno.notify.transports.base.TransportError`, or a ``SendResult`` with
``retryable=True``) are retried; any other exception is treated as "may have been sent" and not
retried. Messages carry the notice id (``X-Okno-Notice`` header, ``extra["dedup_id"]``) so a provider
that deduplicates by id can drop a repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from okno.customers.choices import ContactEventKind
from okno.customers.models import ContactEvent
from okno.notify.choices import DUE_STATUSES, AttemptResult, Channel, NoticeStatus, SkipReason
from okno.notify.models import Notice, NoticeAttempt, NoticeReceipt, NotifySettings
from okno.notify.quiet import send_time, zone
from okno.notify.texts import TemplateCache, public_url, render
from okno.notify.transports.base import Message, SendResult, Transport, TransportError
from okno.org.models import Branch

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=15)
RECORD_EVERY = 25  # outcomes recorded per transaction
RECORD_WITHIN = 1.0  # seconds an outcome may wait for its group
BACKOFF_CAP_MIN = 24 * 60

# SMPP delivery receipt states (``stat:`` of deliver_sm) and plain words → the notice's final status.
RECEIPT_STATES = {
    "delivered": NoticeStatus.DELIVERED,
    "DELIVRD": NoticeStatus.DELIVERED,
    "undeliverable": NoticeStatus.UNDELIVERABLE,
    "UNDELIV": NoticeStatus.UNDELIVERABLE,
    "EXPIRED": NoticeStatus.UNDELIVERABLE,
    "REJECTD": NoticeStatus.UNDELIVERABLE,
    "DELETED": NoticeStatus.UNDELIVERABLE,
}

TransportSource = Mapping[str, Transport] | Callable[[str], Transport]
# Receipts that arrive while this thread runs the delivery loop (an SMSC answers on the same session):
# collected in memory and applied with the next group of outcomes, instead of a commit each.
_receipts: ContextVar[list[tuple[str, str, str, dt.datetime]] | None] = ContextVar(
    "notify_receipts", default=None
)


# A delivery receipt arrives within hours; SMSCs keep trying an absent phone for up to a few days.
RECEIPT_WINDOW = dt.timedelta(days=7)


def backoff(attempt: int) -> dt.timedelta:
    """Wait after the ``attempt``-th failed try: 1, 2, 4, 8 … minutes (capped at a day)."""
    return dt.timedelta(minutes=min(2 ** max(attempt - 1, 0), BACKOFF_CAP_MIN))


def unsubscribe_url(token: str) -> str:
    return public_url(reverse("notify:unsubscribe", args=[token]))


def _registry(channel: str) -> Transport:
    from okno.notify.transports import registry

    return registry.get_transport(channel)


class _Transports:
    """Transports opened lazily, one per channel for the batch, closed at the end."""

    def __init__(self, source: TransportSource | None) -> None:
        self.source = source
        self.opened: dict[str, Transport] = {}

    def get(self, channel: str) -> Transport:
        if channel not in self.opened:
            if isinstance(self.source, Mapping):
                self.opened[channel] = self.source[channel]
            elif callable(self.source):
                self.opened[channel] = self.source(channel)
            else:
                self.opened[channel] = _registry(channel)
        return self.opened[channel]

    def close(self) -> None:
        if isinstance(self.source, Mapping):
            return  # the caller's, the caller closes them
        for transport in self.opened.values():
            try:
                poll = getattr(transport, "poll", None)
                if poll is not None:  # receipts the provider already has for us (SMPP deliver_sm)
                    poll(0.0)
                transport.close()
            except Exception:  # closing must not lose the batch's records
                log.exception("closing the %s transport failed", transport.channel)


def claim(limit: int, now: dt.datetime) -> list[int]:
    """Take up to ``limit`` due notices for this worker (committed before anything is sent)."""
    with transaction.atomic():
        qs = Notice.objects.filter(status__in=DUE_STATUSES, due_at__lte=now).order_by("due_at", "id")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if ids:
            Notice.objects.filter(pk__in=ids, status__in=DUE_STATUSES).update(
                status=NoticeStatus.SENDING, attempts=F("attempts") + 1, due_at=now
            )
    return ids


def recover_stale(now: dt.datetime | None = None) -> int:
    """Notices left ``sending`` by a crashed worker: failed, outcome unknown, never re-sent."""
    now = now or timezone.now()
    stale = Notice.objects.filter(status=NoticeStatus.SENDING, due_at__lt=now - STALE_AFTER)
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return 0
    error = "interrupted while sending: the outcome is unknown, not retried to avoid a duplicate"
    with transaction.atomic():
        done = Notice.objects.filter(pk__in=ids, status=NoticeStatus.SENDING).update(
            status=NoticeStatus.FAILED, last_error=error
        )
        NoticeAttempt.objects.bulk_create(
            [NoticeAttempt(notice_id=i, at=now, result=AttemptResult.FAILED, error=error) for i in ids]
        )
    return done


def build_message(notice: Notice, tz_name: str, cache: TemplateCache) -> Message:
    event = notice.event
    sub = notice.subscription
    link = unsubscribe_url(sub.token) if sub is not None else ""
    texts = render(
        event.template,
        event.context,
        language=notice.language,
        tz=zone(tz_name),
        unsubscribe_url=link,
        cache=cache,
    )
    headers = {"X-Okno-Notice": str(notice.pk)}
    if notice.channel == Channel.EMAIL:
        if link:
            headers["List-Unsubscribe"] = f"<{link}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return Message(
            notice_id=notice.pk,
            channel=notice.channel,
            recipient=notice.recipient,
            subject=texts.subject,
            body=texts.text,
            html=texts.html,
            headers=headers,
            extra={"dedup_id": f"okno-notice-{notice.pk}", "language": notice.language},
        )
    return Message(
        notice_id=notice.pk,
        channel=notice.channel,
        recipient=notice.recipient,
        subject=texts.subject,
        body=texts.short_text,
        headers=headers,
        extra={"dedup_id": f"okno-notice-{notice.pk}", "language": notice.language, "url": link},
    )


Outcome = tuple[Notice, Message | None, SendResult]


def _retry_at(notice: Notice, now: dt.datetime) -> dt.datetime:
    """The next try after the backoff, moved past the quiet hours for a non-emergency SMS."""
    due = now + backoff(notice.attempts)
    policy = NotifySettings.current()
    branch = (
        Branch.objects.filter(pk=notice.branch_id).values_list("timezone", flat=True).first()
        if notice.branch_id
        else None
    )
    later = send_time(
        due,
        zone(branch or settings.TIME_ZONE),
        channel=notice.channel,
        emergency=notice.event.emergency,
        start=policy.quiet_start,
        end=policy.quiet_end,
    )
    return later or due


def _consent_withdrawn(notice: Notice) -> bool:
    """A subscriber's consent for the channel withdrawn since planning (planning checked it then)."""
    if notice.subscription_id is None or notice.customer_id is None:
        return False
    from okno.notify.planning import consents_of

    return notice.channel not in consents_of([notice.customer_id]).get(notice.customer_id, set())


def _classify(notice: Notice, result: SendResult, max_attempts: int) -> str:
    if result.ok:
        return AttemptResult.SENT
    if result.retryable and notice.attempts < max_attempts:
        return AttemptResult.RETRY
    return AttemptResult.FAILED


def record_outcomes(outcomes: list[Outcome], max_attempts: int, now: dt.datetime | None = None) -> list[str]:
    """Write what the transports said for a few sent notices, in one transaction.

    For each notice: its status (conditional on still being ``sending``), the attempt row and, when sent
    to a customer, the contact history line — together, so a notice is never ``sent`` without its attempt.
    One transaction per group rather than per message: a commit costs milliseconds, a group of
    :data:`RECORD_EVERY` keeps the loop near the transports' own speed.
    """
    now = now or timezone.now()
    results: list[str] = []
    attempts: list[NoticeAttempt] = []
    history: list[ContactEvent] = []
    changed: list[Notice] = []
    with transaction.atomic():
        # Still ours? (recover_stale may have failed a notice whose send hung past STALE_AFTER.)
        ours = set(
            Notice.objects.select_for_update()
            .filter(pk__in=[n.pk for n, _m, _r in outcomes], status=NoticeStatus.SENDING)
            .values_list("pk", flat=True)
        )
        for notice, message, result in outcomes:
            if notice.pk not in ours:
                results.append("lost")  # its stale record stands
                continue
            outcome = _classify(notice, result, max_attempts)
            notice.last_error = result.error[:500]
            if message is not None:
                notice.subject, notice.body = message.subject[:300], message.body
            if outcome == AttemptResult.SENT:
                notice.status, notice.sent_at = NoticeStatus.SENT, now
                notice.provider_id = result.provider_id[:100]
            elif outcome == AttemptResult.RETRY:
                notice.status, notice.due_at = NoticeStatus.QUEUED, _retry_at(notice, now)
            else:
                notice.status = NoticeStatus.FAILED
            changed.append(notice)
            results.append(str(outcome))
            attempts.append(
                NoticeAttempt(
                    notice_id=notice.pk,
                    at=now,
                    result=outcome,
                    error=result.error[:500],
                    provider_id=result.provider_id[:100],
                )
            )
            if outcome == AttemptResult.SENT and notice.customer_id is not None:
                history.append(
                    ContactEvent(
                        customer_id=notice.customer_id,
                        kind=ContactEventKind.NOTIFICATION,
                        occurred_at=now,
                        channel=notice.channel,
                        summary=f"{Channel(notice.channel).label}: {message.subject if message else ''}"[
                            :300
                        ],
                        ref_type="notify.notice",
                        ref_id=notice.pk,
                        ref_label=notice.event.key[:50],
                    )
                )
        if changed:
            # One prepared statement for the group (psycopg pipelines executemany); Django's bulk_update
            # builds a CASE per column and row, which costs more CPU than the sends themselves.
            table = connection.ops.quote_name(Notice._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET status = %s, last_error = %s, subject = %s, body = %s, sent_at = %s,"  # noqa: S608
                    " provider_id = %s, due_at = %s WHERE id = %s",
                    [
                        (
                            n.status,
                            n.last_error,
                            n.subject,
                            n.body,
                            connection.ops.adapt_datetimefield_value(n.sent_at),
                            n.provider_id,
                            connection.ops.adapt_datetimefield_value(n.due_at),
                            n.pk,
                        )
                        for n in changed
                    ],
                )
        NoticeAttempt.objects.bulk_create(attempts)
        ContactEvent.objects.bulk_create(history)
        sent_ids = [n.provider_id for n in changed if n.status == NoticeStatus.SENT and n.provider_id]
        if sent_ids:
            apply_pending_receipts(sent_ids)
    return results


def _skip_unsubscribed(notice: Notice) -> None:
    with transaction.atomic():
        Notice.objects.filter(pk=notice.pk, status=NoticeStatus.SENDING).update(
            status=NoticeStatus.SKIPPED, skip_reason=SkipReason.UNSUBSCRIBED, attempts=F("attempts") - 1
        )


def send_notice(
    notice: Notice, transports: _Transports, cache: TemplateCache, tz_names: dict
) -> Outcome | None:
    """Render and send one claimed notice; None when it was skipped (unsubscribed since planning)."""
    sub = notice.subscription
    if sub is not None and not sub.active:
        _skip_unsubscribed(notice)
        return None
    if sub is not None and sub.customer_id is not None and _consent_withdrawn(notice):
        with transaction.atomic():
            Notice.objects.filter(pk=notice.pk, status=NoticeStatus.SENDING).update(
                status=NoticeStatus.SKIPPED, skip_reason=SkipReason.NO_CONSENT, attempts=F("attempts") - 1
            )
        return None
    tz_name = tz_names.get(notice.branch_id) or tz_names.get(notice.event.branch_id) or settings.TIME_ZONE
    message: Message | None = None
    try:
        message = build_message(notice, tz_name, cache)
        transport = transports.get(notice.channel)
        result = transport.send(message)
    except TransportError as exc:
        result = SendResult(ok=False, retryable=True, error=str(exc) or exc.__class__.__name__)
    except (KeyError, LookupError) as exc:  # no transport configured for the channel: nothing was sent
        result = SendResult(ok=False, retryable=True, error=f"no transport: {exc}")
    except Exception as exc:  # may have gone out: not retried (at most once)
        log.exception("sending notice %s failed", notice.pk)
        result = SendResult(ok=False, retryable=False, error=f"{exc.__class__.__name__}: {exc}")
    return notice, message, result


def deliver_due(
    *,
    transports: TransportSource | None = None,
    now: dt.datetime | None = None,
    batch: int = 200,
    limit: int | None = None,
) -> dict[str, int]:
    """Send every due notice (up to ``limit``); ``transports`` maps channel → transport (tests, bench).

    Outcomes are recorded every :data:`RECORD_EVERY` messages or :data:`RECORD_WITHIN` seconds, whichever
    comes first, and always before returning (also when a send raised): a worker killed in between leaves
    at most that many notices ``sending``, which :func:`recover_stale` fails without re-sending.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "lost": 0, "stale": recover_stale(now)}
    policy = NotifySettings.current()
    cache = TemplateCache()
    tz_names = dict(Branch.objects.values_list("pk", "timezone"))
    opened = _Transports(transports)
    pending: list[Outcome] = []
    since = time.monotonic()

    buffered: list[tuple[str, str, str, dt.datetime]] = []
    token = _receipts.set(buffered)

    def flush(final: bool = False) -> None:
        nonlocal pending
        if pending:
            for outcome in record_outcomes(pending, policy.max_attempts, now):
                counts[outcome] = counts.get(outcome, 0) + 1
            pending = []
        _apply_buffered(buffered, final=final)

    done = 0
    try:
        while limit is None or done < limit:
            ids = claim(batch if limit is None else min(batch, limit - done), now or timezone.now())
            if not ids:
                break
            notices = Notice.objects.filter(pk__in=ids).select_related("event", "subscription").order_by("id")
            for notice in notices:
                outcome = send_notice(notice, opened, cache, tz_names)
                if outcome is None:
                    counts["skipped"] += 1
                    continue
                if not pending:
                    since = time.monotonic()
                pending.append(outcome)
                if len(pending) >= RECORD_EVERY or time.monotonic() - since >= RECORD_WITHIN:
                    flush()
            flush()
            done += len(ids)
    finally:
        try:
            flush()
            opened.close()  # polls the transports for receipts already waiting, then closes them
        finally:
            _receipts.reset(token)
            _apply_buffered(buffered, final=True)
    return counts


def _apply_receipt(provider_id: str, status: str, error: str, at: dt.datetime) -> bool:
    return bool(
        # Providers reuse message ids over time (an SMSC restarted): only a notice sent lately takes the
        # receipt (a later receipt of the same message may still correct an earlier one).
        Notice.objects.filter(
            provider_id=provider_id,
            status__in=(NoticeStatus.SENT, NoticeStatus.DELIVERED, NoticeStatus.UNDELIVERABLE),
            sent_at__gte=at - RECEIPT_WINDOW,
        ).update(status=status, delivered_at=at, last_error=error[:500])
    )


def receipt_status(state: str) -> str | None:
    return RECEIPT_STATES.get(state) or RECEIPT_STATES.get(state.upper()) or RECEIPT_STATES.get(state.lower())


def record_receipt(provider_id: str, state: str, error: str = "") -> bool:
    """A provider's delivery receipt: the notice becomes delivered or undeliverable.

    True when a sent notice took it now. A receipt for a provider id not (yet) on a sent notice is kept
    (:class:`~okno.notify.models.NoticeReceipt`) and applied when the send is recorded; intermediate
    states (ENROUTE, ACCEPTD) are ignored.
    """
    status = receipt_status(state)
    if not provider_id or status is None:
        return False
    now = timezone.now()
    buffered = _receipts.get()
    if buffered is not None:
        buffered.append((provider_id, status, error, now))
        return True
    if _apply_receipt(provider_id, status, error, now):
        return True
    NoticeReceipt.objects.create(
        provider_id=provider_id[:100], state=state[:20], error=error[:500], received_at=now
    )
    return False


def apply_pending_receipts(provider_ids: list[str]) -> int:
    """Receipts that arrived before their notices were recorded as sent (called by the recorder)."""
    pending = list(
        NoticeReceipt.objects.filter(provider_id__in=provider_ids, applied=False).order_by("received_at")
    )
    applied = 0
    for receipt in pending:
        status = receipt_status(receipt.state)
        if status is not None and _apply_receipt(
            receipt.provider_id, status, receipt.error, receipt.received_at
        ):
            applied += 1
    if pending:
        NoticeReceipt.objects.filter(pk__in=[r.pk for r in pending]).update(applied=True)
    return applied


def _apply_buffered(buffered: list[tuple[str, str, str, dt.datetime]], *, final: bool) -> None:
    """Apply the receipts collected during the loop; those whose notices are not recorded yet wait for the
    next group, or (at the end) are kept in :class:`NoticeReceipt`."""
    if not buffered:
        return
    waiting: list[tuple[str, str, str, dt.datetime]] = []
    with transaction.atomic():
        for provider_id, status, error, at in buffered:
            if not _apply_receipt(provider_id, status, error, at):
                waiting.append((provider_id, status, error, at))
        if final and waiting:
            NoticeReceipt.objects.bulk_create(
                [
                    NoticeReceipt(provider_id=p[:100], state=st, error=e[:500], received_at=at)
                    for p, st, e, at in waiting
                ]
            )
            waiting = []
    buffered[:] = waiting
