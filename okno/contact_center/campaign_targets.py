"""Who an outbound campaign calls, by kind: the candidates (number, customer, account, time zone and the
context its message reads) that :func:`okno.contact_center.campaigns.create_campaign` turns into targets.
See :mod:`okno.contact_center.campaigns` for the rules; these functions only read."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from okno.contact_center.choices import CallbackStatus
from okno.contact_center.models import Callback, Queue
from okno.customers.choices import ContactKind
from okno.customers.models import Account, ContactPoint
from okno.customers.numbers import is_valid_phone, normalize_phone

DEFAULT_SURVEY_DAYS = 14
PHONE_CHUNK = 5000


@dataclass
class Candidate:
    """One number to call, before it becomes a :class:`CampaignTarget`."""

    number: str
    customer_id: int | None
    account_id: int | None
    time_zone: str
    context: dict[str, Any] = field(default_factory=dict)


def tz_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _phones(customer_ids: Iterable[int]) -> dict[int, str]:
    """Each customer's phone to call: the primary one, then a verified one, then the first given."""
    best: dict[int, tuple[tuple[bool, bool, int], str]] = {}
    ids = sorted(set(customer_ids))
    for i in range(0, len(ids), PHONE_CHUNK):  # a big outage: keep each IN (…) small
        rows = ContactPoint.objects.filter(customer_id__in=ids[i : i + PHONE_CHUNK], kind=ContactKind.PHONE)
        for customer_id, value, primary, verified, pk in rows.values_list(
            "customer_id", "value", "is_primary", "verified_at", "pk"
        ):
            number = normalize_phone(value)
            if not is_valid_phone(number):
                continue
            key = (not primary, verified is None, pk)
            if customer_id not in best or key < best[customer_id][0]:
                best[customer_id] = (key, number)
    return {customer_id: number for customer_id, (_key, number) in best.items()}


def _account_rows(accounts: Iterable[Account]) -> list[Candidate]:
    """Candidates for accounts (with ``service_point__branch`` and ``service_point__address`` loaded):
    the customer's phone, the branch's zone, the account and the address in the context."""
    accounts = list(accounts)
    phones = _phones({a.customer_id for a in accounts})
    out = []
    for account in accounts:
        number = phones.get(account.customer_id)
        if not number:
            continue
        sp = account.service_point
        out.append(
            Candidate(
                number=number,
                customer_id=account.customer_id,
                account_id=account.pk,
                time_zone=sp.branch.timezone,
                context={"account": account.number, "address": sp.address.short()},
            )
        )
    return out


def _accounts() -> Any:
    return Account.objects.filter(closed_on__isnull=True).select_related(
        "service_point__branch", "service_point__address"
    )


def _local(moment: dt.datetime | None, tz_name: str) -> str:
    return timezone.localtime(moment, tz_of(tz_name)).strftime("%d.%m.%Y %H:%M") if moment else ""


# --------------------------------------------------------------------------------------------------- who to call


def planned_outage_candidates(outage: Any) -> list[Candidate]:
    """Customers under a planned outage's nodes, with its start and end in their branch's zone."""
    from okno.outages.fanout import affected_service_points

    service_points = affected_service_points(outage, open_only=False)
    rows = _account_rows(_accounts().filter(service_point__in=service_points).order_by("pk"))
    for row in rows:
        row.context.update(
            outage=outage.number,
            outage_id=outage.pk,
            start=_local(outage.planned_start, row.time_zone),
            end=_local(outage.planned_end, row.time_zone),
        )
    return rows


def debt_candidates(
    *, branch_id: int | None = None, min_debt_kop: int | None = None, as_of: dt.date | None = None
) -> list[Candidate]:
    """Accounts with an open debt case, and (with ``min_debt_kop``) those owing at least that much
    overdue; the overdue debt on ``as_of`` (today) in the context, in kopecks and in roubles."""
    from okno.billing.ledger import overdue_by_account
    from okno.billing.models import DebtCase

    as_of = as_of or timezone.localdate()
    accounts = _accounts()
    if branch_id is not None:
        accounts = accounts.filter(service_point__branch_id=branch_id)
    cases = set(
        DebtCase.objects.exclude(status__in=[DebtCase.Status.CLOSED, DebtCase.Status.PAID])
        .filter(account__in=accounts)
        .values_list("account_id", flat=True)
    )
    ids = set(accounts.values_list("pk", flat=True)) if branch_id is not None else None
    overdue = overdue_by_account(as_of, ids)
    wanted = set(cases)
    if min_debt_kop is not None:
        wanted |= {a for a, kop in overdue.items() if kop >= min_debt_kop}
    rows = _account_rows(accounts.filter(pk__in=wanted).order_by("pk"))
    for row in rows:
        kop = overdue.get(row.account_id or 0, 0)
        row.context.update(debt_kop=kop, debt=f"{kop // 100}.{kop % 100:02d}")
    return rows


def survey_candidates(
    *, days: int = DEFAULT_SURVEY_DAYS, branch_id: int | None = None, now: dt.datetime | None = None
) -> list[Candidate]:
    """Customers whose appeal was answered in the last ``days`` days (the answer delivered, not yet
    rated): the latest such appeal per customer."""
    from okno.appeals.choices import Status
    from okno.appeals.models import Appeal

    now = now or timezone.now()
    appeals = (
        Appeal.objects.filter(
            status__in=[Status.ANSWERED, Status.CLOSED],
            answered_at__gte=now - dt.timedelta(days=days),
            delivered_at__isnull=False,
            rating__isnull=True,
            customer__isnull=False,
        )
        .select_related("branch", "account__service_point__branch")
        .order_by("-answered_at", "-pk")
    )
    if branch_id is not None:
        appeals = appeals.filter(branch_id=branch_id)
    appeals_list = list(appeals)
    phones = _phones({a.customer_id for a in appeals_list if a.customer_id})
    seen: set[int] = set()
    out = []
    for appeal in appeals_list:
        customer_id = appeal.customer_id
        if customer_id is None or customer_id in seen or customer_id not in phones:
            continue
        seen.add(customer_id)
        account = appeal.account
        branch = account.service_point.branch if account is not None else appeal.branch
        out.append(
            Candidate(
                number=phones[customer_id],
                customer_id=customer_id,
                account_id=appeal.account_id,
                time_zone=branch.timezone,
                context={"appeal": appeal.number, "appeal_id": appeal.pk},
            )
        )
    return out


def callback_candidates(queue: Queue | None = None) -> list[Candidate]:
    """The callers waiting for a callback (in order of request)."""
    callbacks = Callback.objects.filter(status=CallbackStatus.PENDING).select_related(
        "call__account__service_point__branch", "call__customer__branch", "queue"
    )
    if queue is not None:
        callbacks = callbacks.filter(queue=queue)
    out = []
    for cb in callbacks.order_by("requested_at", "pk"):
        call = cb.call
        tz_name = settings.TIME_ZONE
        if call.account is not None:
            tz_name = call.account.service_point.branch.timezone
        elif call.customer is not None and call.customer.branch is not None:
            tz_name = call.customer.branch.timezone
        out.append(
            Candidate(
                number=normalize_phone(cb.number) or cb.number,
                customer_id=call.customer_id,
                account_id=call.account_id,
                time_zone=tz_name,
                context={"callback_id": cb.pk, "queue": cb.queue.code, "call": str(call.uid)},
            )
        )
    return out
