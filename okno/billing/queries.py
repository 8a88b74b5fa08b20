"""Read-side selectors of billing: everything the account card and the cabinet API show.

:func:`account_summary` reads an account's billing history in a fixed number of queries (one per
table, whatever the length of the history) and derives consumption, charge totals and the running
balance in Python. The balance comes from the ledger entries it has read; the overdue debt and the debt by period from
:mod:`okno.billing.ledger`, so the card and the debt workflow agree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from okno.billing import ledger
from okno.billing.ledger import PeriodDebt
from okno.billing.models import (
    ZONE_NAMES,
    BillingProfile,
    Charge,
    DebtCase,
    DebtOrder,
    Invoice,
    LedgerEntry,
    Meter,
    Payment,
    PaymentAllocation,
    Reading,
    kwh,
    rub,
)
from okno.billing.periods import month_start
from okno.core import rawsql
from okno.customers.models import Account

#: Verification due within this many days is flagged as "due soon" on the card.
VERIFICATION_SOON_DAYS = 90


def register_kwh(wh: int | None, fraction_digits: int = 3) -> Decimal | None:
    """A register value in kWh with as many decimals as the meter shows (at most three: Wh)."""
    value = kwh(wh)
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-min(max(fraction_digits, 0), 3)))


def zone_label(zones: int, zone: int) -> str:
    """The word for register ``zone`` of a ``zones``-zone meter or tariff ("day", "night", "peak"…)."""
    names = ZONE_NAMES.get(zones, {})
    return str(names[zone]) if zone in names else f"T{zone}"


@dataclass
class MeterInfo:
    meter: Meter
    last_reading: Reading | None
    verification_due: dt.date | None
    verification_expired: bool
    verification_soon: bool
    zone_names: list[str]

    @property
    def last_values(self) -> list[Decimal | None]:
        """The last reading's registers in kWh, with the meter's fractional digits."""
        if self.last_reading is None:
            return []
        return [register_kwh(v, self.meter.fraction_digits) for v in self.last_reading.values_wh()]


@dataclass
class ReadingRow:
    """A current (not superseded) reading with the consumption since the meter's previous one."""

    reading: Reading
    zone_names: list[str]
    values_wh: list[int]
    consumption_wh: list[int] | None  # None: the first reading of a meter, or not accepted
    rollover: bool = False
    fraction_digits: int = 3

    @property
    def values_kwh(self) -> list[Decimal | None]:
        return [kwh(v) for v in self.values_wh]

    @property
    def consumption_kwh(self) -> list[Decimal | None] | None:
        return None if self.consumption_wh is None else [kwh(v) for v in self.consumption_wh]

    @property
    def cells(self) -> list[tuple[str, Decimal | None, Decimal | None]]:
        """(zone name, reading, consumption) per register, for templates, in kWh with the meter's
        fractional digits."""
        digits = self.fraction_digits
        used = self.consumption_wh
        return [
            (name, register_kwh(value, digits), register_kwh(used[i], digits) if used is not None else None)
            for i, (name, value) in enumerate(zip(self.zone_names, self.values_wh, strict=False))
        ]


@dataclass
class ChargeLine:
    charge: Charge
    zone_name: str


@dataclass
class ChargePeriod:
    """The lines of one period's bill and their totals."""

    period: dt.date
    lines: list[ChargeLine]
    total_kop: int
    volume_wh: int
    methods: list[str]  # distinct codes of Method, in the order of the lines

    @property
    def total(self) -> Decimal | None:
        return rub(self.total_kop)

    @property
    def volume_kwh(self) -> Decimal | None:
        return kwh(self.volume_wh)


@dataclass
class LedgerRow:
    entry: LedgerEntry
    balance_kop: int  # after this entry: positive — the customer owes, negative — an advance

    @property
    def balance(self) -> Decimal | None:
        return rub(self.balance_kop)

    @property
    def debit(self) -> Decimal | None:
        return rub(self.entry.amount_kop) if self.entry.amount_kop > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return rub(-self.entry.amount_kop) if self.entry.amount_kop < 0 else None


@dataclass
class InvoiceRow:
    invoice: Invoice

    @property
    def amount(self) -> Decimal | None:
        return rub(self.invoice.amount_kop)

    @property
    def debt(self) -> Decimal | None:
        return rub(self.invoice.debt_kop)

    @property
    def penalty(self) -> Decimal | None:
        return rub(self.invoice.penalty_kop)

    @property
    def total(self) -> Decimal | None:
        return rub(self.invoice.total_kop)


@dataclass
class DebtRow:
    """One period's charge, what has paid it and what is still open (see :func:`ledger.period_debts`)."""

    debt: PeriodDebt
    overdue: bool

    @property
    def period(self) -> dt.date:
        return self.debt.period

    @property
    def due_date(self) -> dt.date | None:
        return self.debt.due_date

    @property
    def charged(self) -> Decimal | None:
        return rub(self.debt.charged_kop)

    @property
    def paid(self) -> Decimal | None:
        return rub(self.debt.paid_kop)

    @property
    def open(self) -> Decimal | None:
        return rub(self.debt.open_kop)


@dataclass
class ConsumptionPeriod:
    """Volume by zone in one period, from accepted readings (zone number → Wh)."""

    period: dt.date
    by_zone: dict[int, int]

    @property
    def total_wh(self) -> int:
        return sum(self.by_zone.values())


@dataclass
class AccountSummary:
    account: Account
    as_of: dt.date
    profile: BillingProfile | None
    meters: list[MeterInfo]
    readings: list[ReadingRow]  # newest first
    consumption: list[ConsumptionPeriod]  # oldest first
    zone_names: dict[int, str]  # zone number → name, after the newest meter
    charges: list[ChargePeriod]  # newest period first
    payments: list[Payment]  # newest first, with ``allocations`` prefetched
    ledger: list[LedgerRow]  # oldest first, with the running balance
    balance_kop: int
    overdue_kop: int
    debts: list[DebtRow]  # per period charged: charged, paid, open (newest first)
    invoices: list[InvoiceRow]  # newest first
    debt_case: DebtCase | None
    charged_kop: int = 0
    paid_kop: int = 0

    @property
    def balance(self) -> Decimal | None:
        return rub(self.balance_kop)

    @property
    def overdue(self) -> Decimal | None:
        return rub(self.overdue_kop)

    @property
    def charged(self) -> Decimal | None:
        return rub(self.charged_kop)

    @property
    def paid(self) -> Decimal | None:
        return rub(self.paid_kop)

    @property
    def debt_case_debt(self) -> Decimal | None:
        return rub(self.debt_case.debt_kop) if self.debt_case is not None else None

    @property
    def latest_invoice(self) -> Invoice | None:
        return self.invoices[0].invoice if self.invoices else None

    @property
    def active_meter(self) -> Meter | None:
        for info in self.meters:
            if info.meter.status == Meter.Status.ACTIVE:
                return info.meter
        return None


def _consumption(
    meters: dict[int, Meter], readings: list[Reading]
) -> tuple[dict[int, tuple[list[int], bool]], dict[dt.date, dict[int, int]]]:
    """Consumption of each accepted reading since the previous accepted reading of its meter.

    ``readings`` must be in chronological order. A register lower than before rolled over its digit
    capacity (the validation accepts only that), so the volume is ``new + capacity − old``. An initial
    reading (a new meter) starts a chain and has no consumption of its own.
    """
    per_reading: dict[int, tuple[list[int], bool]] = {}
    per_period: dict[dt.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    previous: dict[int, Reading] = {}
    for r in readings:
        if r.status != Reading.Status.ACCEPTED:
            continue
        prev = previous.get(r.meter_id)
        previous[r.meter_id] = r
        if prev is None or r.kind == Reading.Kind.INITIAL:
            continue
        now, before = r.values_wh(), prev.values_wh()
        if len(now) != len(before):
            continue
        capacity = meters[r.meter_id].capacity_wh if r.meter_id in meters else 0
        used, rolled = [], False
        for new, old in zip(now, before, strict=True):
            if new >= old:
                used.append(new - old)
            else:
                used.append(new + capacity - old)
                rolled = True
        per_reading[r.pk] = (used, rolled)
        for zone, volume in enumerate(used, start=1):
            per_period[r.period][zone] += volume
    return per_reading, per_period


_METER = rawsql.Part(Meter, "m")
_READING = rawsql.Part(Reading, "r")


def _meters_and_readings(account: Account, as_of: dt.date) -> tuple[list[Meter], list[Reading]]:
    """The account's meters (newest first) and current readings up to ``as_of`` (oldest first)."""
    # Hand-written (okno.core.rawsql): the cabinet's dashboard reads these on every visit.
    t = rawsql.table
    meters = [
        m
        for (m,) in rawsql.fetch(
            f"SELECT {_METER.columns()} FROM {t(Meter)} m WHERE m.account_id = %s"  # noqa: S608
            " ORDER BY m.installed_on DESC, m.id DESC",
            [account.pk],
            (_METER,),
        )
    ]
    readings = [
        r
        for (r,) in rawsql.fetch(
            f"SELECT {_READING.columns()} FROM {t(Reading)} r WHERE r.account_id = %s"  # noqa: S608
            " AND r.taken_on <= %s AND r.status <> %s ORDER BY r.taken_on, r.submitted_at, r.id",
            [account.pk, as_of, str(Reading.Status.SUPERSEDED)],
            (_READING,),
        )
    ]
    return meters, readings


def _series(
    meters: list[Meter], per_period: dict[dt.date, dict[int, int]]
) -> tuple[list[ConsumptionPeriod], dict[int, str]]:
    """Months oldest first, and the chart's zones: as many as the history has, named as a meter of
    that many zones."""
    zone_count = max((max(p) for p in per_period.values() if p), default=meters[0].zones if meters else 1)
    zone_names = {z: zone_label(zone_count, z) for z in range(1, zone_count + 1)}
    return [ConsumptionPeriod(period=p, by_zone=dict(per_period[p])) for p in sorted(per_period)], zone_names


def meters_and_readings(account: Account, as_of: dt.date) -> tuple[list[Meter], list[Reading]]:
    """Every meter of the account (newest first, removed ones too) and its current readings up to
    ``as_of`` (oldest first): two queries, what :func:`consumption_of` needs."""
    return _meters_and_readings(account, as_of)


def consumption_of(
    meters: list[Meter], readings: list[Reading]
) -> tuple[list[ConsumptionPeriod], dict[int, str]]:
    """Consumption by month and zone from :func:`meters_and_readings`' result."""
    _per_reading, per_period = _consumption({m.pk: m for m in meters}, readings)
    return _series(meters, per_period)


def account_consumption(
    account: Account, as_of: dt.date | None = None
) -> tuple[list[ConsumptionPeriod], dict[int, str]]:
    """Consumption by month and zone from the account's accepted readings (two queries)."""
    return consumption_of(*_meters_and_readings(account, as_of or timezone.localdate()))


def account_summary(account: Account, as_of: dt.date | None = None) -> AccountSummary:
    """Everything the account card and the cabinet API show, as of ``as_of`` (default: today).

    Queries: profile, meters, readings, charges, payments (+ allocations), ledger, invoices, the open
    debt case (+ orders), the overdue debt and the debt by period — the same number (12) for an
    account with one month of history or twenty years.
    """
    if as_of is None:
        as_of = timezone.localdate()
    profile = BillingProfile.objects.select_related("category").filter(account=account).first()

    meters, chronological = _meters_and_readings(account, as_of)
    meters_by_id = {m.pk: m for m in meters}
    per_reading, per_period = _consumption(meters_by_id, chronological)

    last_reading: dict[int, Reading] = {}
    for r in chronological:
        if r.status == Reading.Status.ACCEPTED:
            last_reading[r.meter_id] = r

    meter_infos = []
    for m in meters:
        due = m.verification_due
        meter_infos.append(
            MeterInfo(
                meter=m,
                last_reading=last_reading.get(m.pk),
                verification_due=due,
                verification_expired=m.verification_expired(as_of),
                verification_soon=due is not None
                and as_of < due <= as_of + dt.timedelta(days=VERIFICATION_SOON_DAYS),
                zone_names=[zone_label(m.zones, z) for z in range(1, m.zones + 1)],
            )
        )

    rows = []
    for r in reversed(chronological):
        meter = meters_by_id.get(r.meter_id)
        zones = meter.zones if meter is not None else len(r.values_wh())
        used = per_reading.get(r.pk)
        rows.append(
            ReadingRow(
                reading=r,
                zone_names=[zone_label(zones, z) for z in range(1, zones + 1)],
                values_wh=r.values_wh(),
                consumption_wh=used[0] if used else None,
                rollover=used[1] if used else False,
                fraction_digits=meter.fraction_digits if meter is not None else 3,
            )
        )

    consumption, zone_names = _series(meters, per_period)

    charge_periods: dict[dt.date, ChargePeriod] = {}
    for c in Charge.objects.filter(account=account, period__lte=month_start(as_of)).order_by(
        "-period", "meter_id", "zone", "tier", "id"
    ):
        cp = charge_periods.get(c.period)
        if cp is None:
            cp = charge_periods[c.period] = ChargePeriod(
                period=c.period, lines=[], total_kop=0, volume_wh=0, methods=[]
            )
        cp.lines.append(ChargeLine(charge=c, zone_name=zone_label(c.zones, c.zone)))
        cp.total_kop += c.amount_kop
        cp.volume_wh += c.volume_wh
        if c.method not in cp.methods:
            cp.methods.append(c.method)

    payments = list(
        Payment.objects.filter(account=account, paid_on__lte=as_of)
        .prefetch_related(
            Prefetch("allocations", queryset=PaymentAllocation.objects.order_by("period", "id"))
        )
        .order_by("-paid_on", "-id")
    )

    ledger_rows = []
    running = charged = paid = 0
    for e in LedgerEntry.objects.filter(account=account, entry_date__lte=as_of).order_by("entry_date", "id"):
        running += e.amount_kop
        if e.amount_kop > 0:
            charged += e.amount_kop
        else:
            paid -= e.amount_kop
        ledger_rows.append(LedgerRow(entry=e, balance_kop=running))

    invoices = [
        InvoiceRow(invoice=i)
        for i in Invoice.objects.filter(account=account, period__lte=month_start(as_of)).order_by("-period")
    ]
    debt_case = (
        DebtCase.objects.filter(account=account)
        .exclude(status=DebtCase.Status.CLOSED)
        .prefetch_related(Prefetch("orders", queryset=DebtOrder.objects.order_by("issued_on", "id")))
        .order_by("-opened_on", "-id")
        .first()
    )

    return AccountSummary(
        account=account,
        as_of=as_of,
        profile=profile,
        meters=meter_infos,
        readings=rows,
        consumption=consumption,
        zone_names=zone_names,
        charges=list(charge_periods.values()),
        payments=payments,
        ledger=ledger_rows,
        balance_kop=running,
        overdue_kop=ledger.overdue_kop(account.pk, as_of),
        debts=[
            DebtRow(debt=d, overdue=d.open_kop > 0 and d.due_date is not None and d.due_date < as_of)
            for d in reversed(ledger.period_debts(account.pk, as_of))
        ],
        invoices=invoices,
        debt_case=debt_case,
        charged_kop=charged,
        paid_kop=paid,
    )


def local_today(account: Account) -> dt.date:
    """Today in the time zone of the account's branch (the card's default ``as_of``)."""
    return timezone.localdate(timezone=account.service_point.branch.tz)
