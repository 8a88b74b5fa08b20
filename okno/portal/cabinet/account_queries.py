"""What the cabinet's money pages read: account cards for the dashboard, and one account's page.

Every figure comes from billing's own selectors (:mod:`okno.billing.ledger` for balances and overdue
debt, :func:`okno.billing.queries.account_consumption` for the chart, :class:`MeterInfo` for meters);
this module only bounds and batches them for the cabinet:

* :func:`account_cards` — balance, overdue debt, due date and last invoice of any number of accounts
  in four queries (a balance and an overdue sum per account, the latest invoice and the latest charge
  found through the ``(account, period)`` and ``(account, entry_date)`` indexes);
* :func:`account_page` — one account: its card, the ledger of the last 12 months (paginated), meters
  with their last accepted reading, and consumption by month — a fixed number of indexed queries,
  whatever the length of the history.

Dates are in the account's branch's time zone (:func:`okno.billing.queries.local_today`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Subquery

from okno.billing import ledger
from okno.billing.models import Invoice, LedgerEntry, Meter, Reading, rub
from okno.billing.periods import add_months, month_start
from okno.billing.queries import (
    VERIFICATION_SOON_DAYS,
    ConsumptionPeriod,
    MeterInfo,
    account_consumption,
    local_today,
    register_kwh,
    zone_label,
)
from okno.customers.models import Account

#: Ledger rows per page on the account page.
LEDGER_PAGE_SIZE = 20
#: How far back the charges and payments list and the consumption table go.
HISTORY_MONTHS = 12


@dataclass
class AccountCard:
    """An account's money at a glance: what it owes (or has paid ahead), by when, the last bill."""

    account: Account
    as_of: dt.date
    balance_kop: int = 0
    overdue_kop: int = 0
    due_date: dt.date | None = None
    last_invoice: Invoice | None = None

    @property
    def balance(self) -> Decimal | None:
        return rub(self.balance_kop)

    @property
    def debt(self) -> Decimal | None:
        """What is owed (0.00 when nothing is)."""
        return rub(max(self.balance_kop, 0))

    @property
    def advance(self) -> Decimal | None:
        """What has been paid ahead (0.00 when nothing)."""
        return rub(max(-self.balance_kop, 0))

    @property
    def overdue(self) -> Decimal | None:
        return rub(self.overdue_kop)

    @property
    def last_invoice_total(self) -> Decimal | None:
        return rub(self.last_invoice.total_kop) if self.last_invoice is not None else None


def account_cards(accounts: Sequence[Account]) -> list[AccountCard]:
    """Cards of ``accounts`` (with ``service_point__branch`` loaded), in their order. Four queries
    for one account or many (accounts of branches in different zones may need one more each)."""
    cards = [AccountCard(account=a, as_of=local_today(a)) for a in accounts]
    if not cards:
        return cards
    by_id = {c.account.pk: c for c in cards}
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for card in cards:
        by_day[card.as_of].append(card.account.pk)
    for day, ids in by_day.items():
        for account_id, total in ledger.balances_kop(day, ids).items():
            by_id[account_id].balance_kop = total
        for account_id, overdue in ledger.overdue_by_account(day, ids).items():
            by_id[account_id].overdue_kop = overdue
    ids = list(by_id)
    latest_period = (
        Invoice.objects.filter(account=OuterRef("account")).order_by("-period").values("period")[:1]
    )
    for invoice in Invoice.objects.filter(account_id__in=ids, period=Subquery(latest_period)):
        card = by_id[invoice.account_id]
        if invoice.period <= month_start(card.as_of):
            card.last_invoice = invoice
            card.due_date = invoice.due_date
    latest_charge = (
        LedgerEntry.objects.filter(account=OuterRef("account"), kind=LedgerEntry.Kind.CHARGE)
        .order_by("-entry_date", "-id")
        .values("pk")[:1]
    )
    for account_id, period, due in LedgerEntry.objects.filter(
        account_id__in=ids, kind=LedgerEntry.Kind.CHARGE, pk=Subquery(latest_charge)
    ).values_list("account_id", "period", "due_date"):
        card = by_id[account_id]
        # A bill computed after the last invoice was printed still sets the date to pay by.
        if due is not None and (card.last_invoice is None or (period and period > card.last_invoice.period)):
            card.due_date = due
    return cards


@dataclass
class ConsumptionRow:
    """One month of the data table under the chart: kWh by zone (None: no reading that month)."""

    period: dt.date
    values: list[Decimal | None]
    total: Decimal | None


@dataclass
class LedgerLine:
    """A row of the charges and payments list: what the entry added to the debt or paid off."""

    entry: LedgerEntry

    @property
    def debit(self) -> Decimal | None:
        return rub(self.entry.amount_kop) if self.entry.amount_kop > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return rub(-self.entry.amount_kop) if self.entry.amount_kop < 0 else None


@dataclass
class AccountPage:
    card: AccountCard
    ledger_page: Page
    meters: list[MeterInfo]
    consumption: list[ConsumptionPeriod]  # oldest first, every month that has consumption
    zone_names: dict[int, str]
    table: list[ConsumptionRow] = field(default_factory=list)  # newest first, the last 12 months

    @property
    def meter_rows(self) -> list[tuple[MeterInfo, list[tuple[str, Decimal | None]]]]:
        """Each meter with its last reading as (zone name, kWh) pairs."""
        return [(info, last_values(info)) for info in self.meters]

    @property
    def ledger_lines(self) -> list[LedgerLine]:
        return [LedgerLine(entry=e) for e in self.ledger_page.object_list]

    @property
    def active_meter(self) -> Meter | None:
        for info in self.meters:
            if info.meter.status == Meter.Status.ACTIVE:
                return info.meter
        return self.meters[0].meter if self.meters else None


def meters_with_last_reading(account: Account, as_of: dt.date) -> list[MeterInfo]:
    """The account's meters not removed, newest first, each with its last accepted reading (two
    queries: the latest reading per meter comes through the partial index of current readings)."""
    last = (
        Reading.objects.filter(meter=OuterRef("pk"), status=Reading.Status.ACCEPTED)
        .order_by("-period", "-taken_on", "-id")
        .values("pk")[:1]
    )
    meters = list(
        Meter.objects.filter(account=account)
        .exclude(status=Meter.Status.REMOVED)
        .annotate(last_reading_id=Subquery(last))
        .order_by("-installed_on", "-id")
    )
    wanted = [m.last_reading_id for m in meters if m.last_reading_id]  # type: ignore[attr-defined]
    readings = {r.pk: r for r in Reading.objects.filter(pk__in=wanted)} if wanted else {}
    infos = []
    for m in meters:
        due = m.verification_due
        infos.append(
            MeterInfo(
                meter=m,
                last_reading=readings.get(m.last_reading_id),  # type: ignore[attr-defined]
                verification_due=due,
                verification_expired=m.verification_expired(as_of),
                verification_soon=due is not None
                and as_of < due <= as_of + dt.timedelta(days=VERIFICATION_SOON_DAYS),
                zone_names=[zone_label(m.zones, z) for z in range(1, m.zones + 1)],
            )
        )
    return infos


def last_values(info: MeterInfo) -> list[tuple[str, Decimal | None]]:
    """(zone name, kWh) of the meter's last accepted reading, with the meter's fractional digits."""
    return list(zip(info.zone_names, info.last_values, strict=False))


def ledger_entries(account: Account, as_of: dt.date):
    """The account's charges, payments, penalties and adjustments of the last 12 months, newest first."""
    since = add_months(month_start(as_of), -(HISTORY_MONTHS - 1))
    return LedgerEntry.objects.filter(account=account, entry_date__gte=since, entry_date__lte=as_of).order_by(
        "-entry_date", "-id"
    )


def consumption_table(
    consumption: list[ConsumptionPeriod], zone_names: dict[int, str], as_of: dt.date, digits: int = 3
) -> list[ConsumptionRow]:
    """The last 12 months up to ``as_of``, newest first, kWh by zone with ``digits`` decimals (as the
    meter shows them), empty months included."""
    by_period = {c.period: c for c in consumption}
    zones = sorted(zone_names)
    rows = []
    start = month_start(as_of)
    for i in range(HISTORY_MONTHS):
        period = add_months(start, -i)
        found = by_period.get(period)
        if found is None:
            rows.append(ConsumptionRow(period=period, values=[None] * len(zones), total=None))
            continue
        rows.append(
            ConsumptionRow(
                period=period,
                values=[register_kwh(found.by_zone.get(z), digits) for z in zones],
                total=register_kwh(found.total_wh, digits),
            )
        )
    return rows


def account_page(account: Account, page_number: int | str | None = 1) -> AccountPage:
    """Everything the account page shows (see the module's docstring for the queries)."""
    card = account_cards([account])[0]
    paginator = Paginator(ledger_entries(account, card.as_of), LEDGER_PAGE_SIZE)
    page = paginator.get_page(page_number)
    consumption, zone_names = account_consumption(account, card.as_of)
    meters = meters_with_last_reading(account, card.as_of)
    digits = meters[0].meter.fraction_digits if meters else 3
    return AccountPage(
        card=card,
        ledger_page=page,
        meters=meters,
        consumption=consumption,
        zone_names=zone_names,
        table=consumption_table(consumption, zone_names, card.as_of, digits),
    )
