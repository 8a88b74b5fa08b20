"""What the cabinet's money pages read: account cards for the dashboard, and one account's page.

Every figure comes from billing's own selectors (:mod:`okno.billing.ledger` for balances and overdue
debt, :func:`okno.billing.queries.consumption_of` for the chart, :class:`MeterInfo` for meters);
this module only bounds and batches them for the cabinet:

* :func:`account_cards` — balance, overdue debt, due date and last invoice of any number of accounts
  in three queries (balance and overdue debt per account in one aggregate, the latest invoice and the
  latest charge found through the ``(account, period)`` and ``(account, entry_date)`` indexes);
* :func:`account_page` — one account: its card, the ledger of the last 12 months (a page of it with
  the count in the same query), meters with their last accepted reading and consumption by month
  (from one read of the meters and the readings) — six indexed queries whatever the length of the
  history. The dashboard of a customer with one account is this page.

Dates are in the account's branch's time zone (:func:`okno.billing.queries.local_today`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from okno.billing import ledger
from okno.billing.models import Invoice, LedgerEntry, Meter, Reading, rub
from okno.billing.periods import add_months, month_start
from okno.billing.queries import (
    VERIFICATION_SOON_DAYS,
    ConsumptionPeriod,
    MeterInfo,
    consumption_of,
    local_today,
    meters_and_readings,
    register_kwh,
    zone_label,
)
from okno.core import rawsql
from okno.customers.models import Account

_INVOICE = rawsql.Part(Invoice, "i")
_ENTRY = rawsql.Part(LedgerEntry, "e")

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
    """Cards of ``accounts`` (with ``service_point__branch`` loaded), in their order. Three queries
    for one account or many (accounts of branches in different zones may need one more each)."""
    cards = [AccountCard(account=a, as_of=local_today(a)) for a in accounts]
    if not cards:
        return cards
    by_id = {c.account.pk: c for c in cards}
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for card in cards:
        by_day[card.as_of].append(card.account.pk)
    for day, ids in by_day.items():
        for account_id, (balance, overdue) in ledger.money_by_account(day, ids).items():
            by_id[account_id].balance_kop = balance
            by_id[account_id].overdue_kop = overdue
    ids = list(by_id)
    marks = ", ".join(["%s"] * len(ids))
    t = rawsql.table
    # The latest invoice of each account, and its latest charge (both through their indexes).
    invoices = rawsql.fetch(
        f"SELECT {_INVOICE.columns()} FROM {t(Invoice)} i WHERE i.account_id IN ({marks})"  # noqa: S608
        f" AND i.period = (SELECT MAX(i2.period) FROM {t(Invoice)} i2 WHERE i2.account_id = i.account_id)",
        ids,
        (_INVOICE,),
    )
    for (invoice,) in invoices:
        card = by_id[invoice.account_id]
        if invoice.period <= month_start(card.as_of):
            card.last_invoice = invoice
            card.due_date = invoice.due_date
    charge = str(LedgerEntry.Kind.CHARGE)
    charges = rawsql.fetch(
        f"SELECT {_ENTRY.columns()} FROM {t(LedgerEntry)} e WHERE e.account_id IN ({marks})"  # noqa: S608
        f" AND e.kind = %s AND e.id = (SELECT e2.id FROM {t(LedgerEntry)} e2 WHERE e2.account_id = e.account_id"
        " AND e2.kind = %s ORDER BY e2.entry_date DESC, e2.id DESC LIMIT 1)",
        [*ids, charge, charge],
        (_ENTRY,),
    )
    for (entry,) in charges:
        card = by_id[entry.account_id]
        due, period = entry.due_date, entry.period
        # A bill computed after the last invoice was printed still sets the date to pay by.
        if due is not None and (card.last_invoice is None or (period and period > card.last_invoice.period)):
            card.due_date = due
    return cards


def _number(value: Decimal | None, empty: str) -> str:
    """A number as the template would show it (localised), for the lists made here."""
    return formats.number_format(value, use_l10n=True) if value is not None else empty


@dataclass
class ConsumptionRow:
    """One month of the data table under the chart: kWh by zone (None: no reading that month), and the
    texts the page shows (a dash for a month without a reading)."""

    period: dt.date
    values: list[Decimal | None]
    total: Decimal | None
    cells: list[str] = field(default_factory=list)
    total_text: str = "—"

    @property
    def month(self) -> str:
        return f"{self.period:%m.%Y}"


@dataclass
class LedgerLine:
    """A row of the charges and payments list: what the entry added to the debt or paid off, with its
    texts made here (the list is the longest part of the page; the template only places them)."""

    entry: LedgerEntry

    @property
    def debit(self) -> Decimal | None:
        return rub(self.entry.amount_kop) if self.entry.amount_kop > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return rub(-self.entry.amount_kop) if self.entry.amount_kop < 0 else None

    def texts(self, kinds: dict[str, str], number: Callable[[Decimal | None], str]) -> dict[str, str]:
        e = self.entry
        label = kinds.get(e.kind, e.kind)
        if e.period:
            label += " " + _("for %(period)s") % {"period": f"{e.period:%m.%Y}"}
        return {
            "kind": e.kind,
            "date": f"{e.entry_date:%d.%m.%Y}",
            "label": label,
            "note": e.note if e.note and e.kind == LedgerEntry.Kind.PAYMENT else "",
            "due": _("pay by %(due)s") % {"due": f"{e.due_date:%d.%m.%Y}"} if e.due_date else "",
            "debit": number(self.debit),
            "credit": number(self.credit),
        }


_LEDGER_ROW = (
    '<tr class="entry-{kind}"><td>{date}</td><td>{label}{note}{due}</td>'
    '<td class="num">{debit}</td><td class="num">{credit}</td></tr>\n'
)


def _escaped(line: dict[str, str]) -> dict[str, str]:
    out = {k: str(escape(v)) for k, v in line.items()}
    out["note"] = f' <span class="muted">({out["note"]})</span>' if line["note"] else ""
    out["due"] = f'<br><span class="muted small">{out["due"]}</span>' if line["due"] else ""
    return out


def number_formatter() -> Callable[[Decimal | None], str]:
    """``_number`` for many values of one page: the decimal separator looked up once (the common case,
    no thousands grouping); with grouping on, Django's own formatting each time."""
    if settings.USE_THOUSAND_SEPARATOR:
        return lambda v: _number(v, "")
    separator = formats.get_format("DECIMAL_SEPARATOR")
    return lambda v: "" if v is None else str(v).replace(".", separator)


@dataclass
class AccountPage:
    card: AccountCard
    ledger_page: LedgerWindow
    meters: list[MeterInfo]
    consumption: list[ConsumptionPeriod]  # oldest first, every month that has consumption
    zone_names: dict[int, str]
    table: list[ConsumptionRow] = field(default_factory=list)  # newest first, the last 12 months

    @property
    def meter_rows(self) -> list[tuple[MeterInfo, list[tuple[str, Decimal | None]]]]:
        """Each meter with its last reading as (zone name, kWh) pairs."""
        return [(info, last_values(info)) for info in self.meters]

    @cached_property
    def ledger_lines(self) -> list[dict[str, str]]:
        kinds = {str(k): str(label) for k, label in LedgerEntry.Kind.choices}
        number = number_formatter()
        return [LedgerLine(entry=e).texts(kinds, number) for e in self.ledger_page.object_list]

    @cached_property
    def ledger_rows(self) -> SafeString:
        """The rows of the charges and payments table, escaped (made here: the page's longest part)."""
        return mark_safe("".join(_LEDGER_ROW.format(**_escaped(line)) for line in self.ledger_lines))  # noqa: S308

    @cached_property
    def consumption_rows(self) -> SafeString:
        """The rows of the consumption table, escaped (the total column only with several zones)."""
        several = len(self.zone_names) > 1
        out = []
        for row in self.table:
            cells = "".join(f'<td class="num">{escape(c)}</td>' for c in row.cells)
            total = f'<td class="num">{escape(row.total_text)}</td>' if several else ""
            out.append(f'<tr><th scope="row">{escape(row.month)}</th>{cells}{total}</tr>\n')
        return mark_safe("".join(out))  # noqa: S308

    @property
    def active_meter(self) -> Meter | None:
        for info in self.meters:
            if info.meter.status == Meter.Status.ACTIVE:
                return info.meter
        return self.meters[0].meter if self.meters else None


def meter_info(meter: Meter, last_reading: Reading | None, as_of: dt.date) -> MeterInfo:
    due = meter.verification_due
    return MeterInfo(
        meter=meter,
        last_reading=last_reading,
        verification_due=due,
        verification_expired=meter.verification_expired(as_of),
        verification_soon=due is not None
        and as_of < due <= as_of + dt.timedelta(days=VERIFICATION_SOON_DAYS),
        zone_names=[zone_label(meter.zones, z) for z in range(1, meter.zones + 1)],
    )


def _in_service_newest_first(meters: Sequence[Meter]) -> list[Meter]:
    in_service = [m for m in meters if m.status != Meter.Status.REMOVED]
    return sorted(in_service, key=lambda m: (m.installed_on, m.pk), reverse=True)


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
    return [meter_info(m, readings.get(m.last_reading_id), as_of) for m in meters]  # type: ignore[attr-defined]


def meters_from_history(
    meters: Sequence[Meter], readings: Sequence[Reading], as_of: dt.date
) -> list[MeterInfo]:
    """The same as :func:`meters_with_last_reading`, from meters and readings already read (the
    account page reads them once for the chart): the last accepted reading by period, then date."""
    last: dict[int, Reading] = {}
    for r in readings:
        if r.status != Reading.Status.ACCEPTED:
            continue
        best = last.get(r.meter_id)
        if best is None or (r.period, r.taken_on, r.pk) > (best.period, best.taken_on, best.pk):
            last[r.meter_id] = r
    return [meter_info(m, last.get(m.pk), as_of) for m in _in_service_newest_first(meters)]


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
    number = number_formatter()
    rows = []
    start = month_start(as_of)
    for i in range(HISTORY_MONTHS):
        period = add_months(start, -i)
        found = by_period.get(period)
        if found is None:
            rows.append(
                ConsumptionRow(
                    period=period, values=[None] * len(zones), total=None, cells=["—"] * len(zones)
                )
            )
            continue
        values = [register_kwh(found.by_zone.get(z), digits) for z in zones]
        total = register_kwh(found.total_wh, digits)
        rows.append(
            ConsumptionRow(
                period=period,
                values=values,
                total=total,
                cells=[number(v) or "—" for v in values],
                total_text=number(total) or "—",
            )
        )
    return rows


@dataclass
class LedgerWindow:
    """One page of the charges and payments list (what the template reads of a paginator's page), read
    with the total in the same query."""

    object_list: list[LedgerEntry]
    number: int
    num_pages: int

    @property
    def paginator(self) -> LedgerWindow:
        return self

    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


#: An offset past this is past the end of any ledger (and would not fit the databases' integers).
_MAX_OFFSET = 2**62


def ledger_window(account: Account, as_of: dt.date, page_number: int | str | None = 1) -> LedgerWindow:
    """The page ``page_number`` of :func:`ledger_entries` (a bad number: the first page; past the end:
    the last), the count coming with the rows (one query; three when past the end: the count, then the
    last page)."""
    try:
        number = max(1, int(page_number or 1))
    except (TypeError, ValueError):
        number = 1
    since = add_months(month_start(as_of), -(HISTORY_MONTHS - 1))
    while True:
        offset = (number - 1) * LEDGER_PAGE_SIZE
        if offset > _MAX_OFFSET:  # ?page=99999999999999999999: the last page, never an offset overflow
            number = max(1, -(-ledger_entries(account, as_of).count() // LEDGER_PAGE_SIZE))
            continue
        rows = rawsql.fetch(
            f"SELECT {_ENTRY.columns()}, COUNT(*) OVER () FROM {rawsql.table(LedgerEntry)} e"  # noqa: S608
            " WHERE e.account_id = %s AND e.entry_date >= %s AND e.entry_date <= %s"
            " ORDER BY e.entry_date DESC, e.id DESC LIMIT %s OFFSET %s",
            [account.pk, since, as_of, LEDGER_PAGE_SIZE, offset],
            (_ENTRY,),
            extra=1,
        )
        if rows or number == 1:
            total = int(rows[0][1]) if rows else 0
            return LedgerWindow([e for e, _n in rows], number, max(1, -(-total // LEDGER_PAGE_SIZE)))
        number = max(1, -(-ledger_entries(account, as_of).count() // LEDGER_PAGE_SIZE))


def account_page(account: Account, page_number: int | str | None = 1) -> AccountPage:
    """Everything the account page shows (see the module's docstring for the queries)."""
    card = account_cards([account])[0]
    window = ledger_window(account, card.as_of, page_number)
    meters, readings = meters_and_readings(account, card.as_of)
    consumption, zone_names = consumption_of(meters, readings)
    infos = meters_from_history(meters, readings, card.as_of)
    digits = infos[0].meter.fraction_digits if infos else 3
    return AccountPage(
        card=card,
        ledger_page=window,
        meters=infos,
        consumption=consumption,
        zone_names=zone_names,
        table=consumption_table(consumption, zone_names, card.as_of, digits),
    )
