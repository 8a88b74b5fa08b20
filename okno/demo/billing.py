"""The demo's metering and billing: a year of readings, monthly runs, payments, debt cases, invoices.

:func:`build_billing` runs after the people and appeals of ``okno seed`` (same transaction, same
system actor ``system:seed``). The reference data (tariffs with a July increase, norms, payee details,
discounts) and the meters, readings and billing profiles are written in bulk; every month is then
billed by the real run (:func:`okno.billing.engine.execute_run`), its payments arrive as one bank
registry file (:func:`okno.billing.payments.import_registry`) plus a few online and cash-desk
payments (:func:`okno.billing.payments.register_payment`), and at the end debt cases are opened and
moved on (:mod:`okno.billing.debt`) and the last month's invoices are built (without PDFs).

The events of these actions (``payment.received``, ``billing.run_finished``…) are muted while the
history is written: they exist for live reactions (settle a debt case, render a run's PDFs), and a
year of past payments must not queue thousands of such jobs.

Deterministic for a given seed: its own ``random.Random`` and accounts in id order.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum

from okno.billing import debt, engine, invoices, payments, readings, rules, runs
from okno.billing.models import (
    AccountDiscount,
    BillingProfile,
    BillingRun,
    Charge,
    ConsumerCategory,
    ConsumptionNorm,
    DebtCase,
    DebtOrder,
    Discount,
    Invoice,
    LedgerEntry,
    Meter,
    PayeeDetails,
    Payment,
    PaymentAllocation,
    PaymentOrder,
    PaymentRegistry,
    Reading,
    ReadingImport,
    Tariff,
    TariffRate,
)
from okno.billing.periods import add_months, month_start
from okno.core import events
from okno.customers.models import Account
from okno.demo.writer import TableWriter
from okno.org.models import Company, User

# Billing tables in the order they can be emptied (children first), before the accounts.
BILLING_MODELS = [
    PaymentOrder,
    DebtOrder,
    DebtCase,
    Invoice,
    PaymentAllocation,
    LedgerEntry,
    Payment,
    PaymentRegistry,
    Charge,
    BillingRun,
    Reading,
    ReadingImport,
    Meter,
    AccountDiscount,
    BillingProfile,
]

QUIET_EVENTS = ("payment.received", "billing.run_finished", "reading.accepted", "debt.step")

# Urban household prices from 1 July 2025, 1/10 000 ₽ per kWh: one zone; day/night; peak/half-peak/night.
URBAN_2025 = {1: [64300], 2: [70100, 32000], 3: [77100, 64300, 32000]}
INDEXATION = Decimal("1.115")  # the yearly increase on 1 July
RURAL = Decimal("0.7")
# From 2025 households pay more above 3 900 and 6 000 kWh a month.
TIER_LIMITS_WH = (3_900_000, 6_000_000)
TIER_FACTORS = (Decimal(1), Decimal("1.6"), Decimal("2.3"))
NORM_WH = {"urban": 90_000, "rural": 110_000}  # per resident a month
# Monthly consumption relative to the yearly average (winter higher: lighting, heaters).
SEASON = {
    1: 1.35,
    2: 1.25,
    3: 1.1,
    4: 0.95,
    5: 0.85,
    6: 0.78,
    7: 0.78,
    8: 0.8,
    9: 0.9,
    10: 1.05,
    11: 1.2,
    12: 1.35,
}
CHANNELS = [
    ("cabinet", 0.36),
    ("sms", 0.15),
    ("terminal", 0.12),
    ("office", 0.07),
    ("phone", 0.06),
    ("ivr", 0.06),
    ("agent", 0.06),
    ("controller", 0.12),
]
MODELS_1 = ["Меркурий 201.8", "Энергомера СЕ101", "Нева 101 1S0", "Матрица NP71E"]
MODELS_2 = ["Меркурий 200.02", "Энергомера СЕ102М", "Нева МТ 113"]
MODELS_3 = ["Меркурий 231 AT", "Энергомера СЕ301"]
MODELS_SMART = ["Матрица NP73E", "Милур 107S"]
LOCATIONS = ["Лестничная площадка", "Квартира, прихожая", "Фасад дома", "Опора ВЛ", "Щит на участке"]
BANK = "sber"
# Online and cash-desk payments go one by one through register_payment: a few a month show the sources.
ONLINE_A_MONTH, CASH_A_MONTH = 12, 4
PRE_HISTORY_MONTHS = 6  # readings before the first billed month, so that averages have a history


@dataclass
class BillingSeed:
    households: int = 0
    meters: int = 0
    readings: int = 0
    replaced: int = 0
    runs: int = 0
    charges: int = 0
    charged_kop: int = 0
    payments: int = 0
    unidentified: int = 0
    debt_cases: int = 0
    invoices: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Household:
    account_id: int
    number: str
    customer_id: int
    opened_on: dt.date
    region: str
    rural: bool
    residents: int
    metered: bool = False
    payer: str = "good"  # good, late, debtor


def _price(base_e4: int, factor: Decimal) -> int:
    return int((Decimal(base_e4) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _tariff_years(first: dt.date, today: dt.date) -> list[int]:
    """July-to-June tariff years covering the billed months (and the 2026 increase)."""
    start = first.year if first.month >= 7 else first.year - 1
    return list(range(start, max(today.year, 2026) + 1))


def build_reference(regions: list[str], first: dt.date, today: dt.date, company: Company | None) -> None:
    """Tariffs (urban and rural, 1–3 zones, from each 1 July), norms, payee details and discounts."""
    categories = {c.code: c for c in ConsumerCategory.objects.filter(code__in=["urban", "rural"])}
    Tariff.objects.filter(region__in=regions).delete()
    ConsumptionNorm.objects.filter(region__in=regions).delete()
    years = _tariff_years(first, today)
    rates: list[TariffRate] = []
    for region in regions:
        for code, category in categories.items():
            ConsumptionNorm.objects.create(
                region=region,
                category=category,
                valid_from=dt.date(2017, 1, 1),
                wh_per_resident=NORM_WH[code],
            )
            for zones, prices in URBAN_2025.items():
                for year in years:
                    factor = INDEXATION ** (year - 2025) if year >= 2025 else 1 / INDEXATION ** (2025 - year)
                    if code == "rural":
                        factor *= RURAL
                    tariff = Tariff.objects.create(
                        region=region,
                        category=category,
                        zones=zones,
                        valid_from=dt.date(year, 7, 1),
                        valid_to=None if year == years[-1] else dt.date(year + 1, 6, 30),
                        tier1_limit_wh=TIER_LIMITS_WH[0],
                        tier2_limit_wh=TIER_LIMITS_WH[1],
                        decision=f"Приказ комитета по тарифам № {100 + year % 100}-п от {20 - zones}.12.{year - 1}",
                    )
                    for zone, base in enumerate(prices, start=1):
                        for tier, tier_factor in enumerate(TIER_FACTORS, start=1):
                            rates.append(
                                TariffRate(
                                    tariff=tariff,
                                    zone=zone,
                                    tier=tier,
                                    price_e4=_price(base, factor * tier_factor),
                                )
                            )
    TariffRate.objects.bulk_create(rates)
    details = {
        "name": f"{company.name} (сбытовое подразделение)"[:160] if company else "АО «Демо-Энергосбыт»",
        "inn": company.inn if company else "7800000000",
        "kpp": "780101001",
        "bank_name": "ПАО «Демобанк»",
        "bic": "044099871",
        "correspondent_account": "30101810400000000871",
        "settlement_account": "40702810755000012345",
        "address": company.address[:300] if company else "",
        "phone": company.hotline[:30] if company else "8-800-000-00-00",
        "website": "okno.example",
    }
    if not PayeeDetails.objects.filter(branch__isnull=True).exists():  # details entered by staff stay
        PayeeDetails.objects.create(branch=None, **details)
    for code, name, percent, limit in (
        ("disabled", "Инвалиды и семьи с детьми-инвалидами", Decimal("50.00"), 150_000),
        ("large_family", "Многодетные семьи", Decimal("30.00"), None),
    ):
        Discount.objects.update_or_create(
            code=code, defaults={"name": name, "percent": percent, "limit_wh": limit}
        )


def _households(rng: random.Random) -> list[_Household]:
    rows = (
        Account.objects.filter(customer__kind="individual", closed_on__isnull=True)
        .order_by("id")
        .values_list(
            "id",
            "number",
            "customer_id",
            "opened_on",
            "service_point__branch__region",
            "service_point__address__settlement",
        )
    )
    out = []
    for account_id, number, customer_id, opened_on, region, settlement in rows:
        rural = not (settlement.startswith("г.") or settlement.startswith("пгт"))
        residents = 1 + sum(rng.random() < p for p in (0.75, 0.45, 0.22, 0.08))
        out.append(_Household(account_id, number, customer_id, opened_on, region, rural, residents))
    return out


def _split(rng: random.Random, wh: int, zones: int) -> list[int]:
    """A month's consumption per zone, in whole 100 Wh (what a meter with one decimal shows)."""
    if zones == 1:
        shares = [1.0]
    elif zones == 2:
        night = rng.uniform(0.25, 0.4)
        shares = [1 - night, night]
    else:
        peak, night = rng.uniform(0.22, 0.32), rng.uniform(0.25, 0.35)
        shares = [peak, 1 - peak - night, night]
    return [int(wh * s) // 100 * 100 for s in shares]


class _Readings:
    """Builds the readings of the demo meters and writes them in bulk."""

    def __init__(self, rng: random.Random, first: dt.date, last: dt.date) -> None:
        self.rng = rng
        self.first, self.last = first, last
        self.writer = TableWriter(
            Reading,
            [
                "meter_id",
                "account_id",
                "period",
                "taken_on",
                "t1_wh",
                "t2_wh",
                "t3_wh",
                "kind",
                "channel",
                "status",
                "flags",
                "submitted_at",
            ],
        )
        names, weights = zip(*CHANNELS, strict=True)
        self.channel_names, self.channel_cum = (
            list(names),
            [sum(weights[: i + 1]) for i in range(len(weights))],
        )

    def channel(self) -> str:
        r = self.rng.random() * self.channel_cum[-1]
        return next(n for n, c in zip(self.channel_names, self.channel_cum, strict=True) if r <= c)

    def add(
        self,
        meter: Meter,
        period: dt.date,
        taken_on: dt.date,
        values: list[int],
        *,
        kind: str = "regular",
        channel: str = "",
        status: str = "accepted",
        flags: list[str] | None = None,
    ) -> None:
        cap = meter.capacity_wh
        wh = [v % cap for v in values] + [None] * (3 - len(values))
        if flags is None:
            flags = ["verification_expired"] if meter.verification_expired(taken_on) else []
        submitted = dt.datetime.combine(taken_on, dt.time(7 + int(self.rng.random() * 12)), tzinfo=dt.UTC)
        self.writer.add(
            (
                meter.pk,
                meter.account_id,
                period,
                taken_on,
                wh[0],
                wh[1],
                wh[2],
                kind,
                channel or ("smart" if meter.is_smart else self.channel()),
                status,
                json.dumps(flags),
                submitted + dt.timedelta(minutes=int(self.rng.random() * 60)),
            )
        )


def build_meters(
    rng: random.Random, homes: list[_Household], first: dt.date, last: dt.date, today: dt.date, actor: Any
) -> tuple[int, int, int]:
    """Billing profiles, meters and their readings: returns (meters, readings, replaced)."""
    categories = dict(ConsumerCategory.objects.filter(code__in=["urban", "rural"]).values_list("code", "id"))
    BillingProfile.objects.bulk_create(
        [
            BillingProfile(
                account_id=h.account_id,
                category_id=categories["rural" if h.rural else "urban"],
                residents=h.residents,
            )
            for h in homes
        ],
        batch_size=2000,
    )
    discounts = list(Discount.objects.filter(code__in=["disabled", "large_family"]).order_by("code"))
    AccountDiscount.objects.bulk_create(
        [
            AccountDiscount(
                account_id=h.account_id, discount=rng.choice(discounts), valid_from=min(h.opened_on, first)
            )
            for h in homes
            if rng.random() < 0.02
        ]
    )
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    history_start = add_months(first, -PRE_HISTORY_MONTHS)
    plans: list[dict[str, Any]] = []
    meters: list[Meter] = []
    for h in homes:
        if rng.random() >= 0.92:
            continue
        h.metered = True
        r = rng.random()
        zones = 3 if r < 0.03 else 2 if r < 0.23 else 1
        smart = rng.random() < 0.06
        expired = not smart and rng.random() < 0.02
        if h.opened_on >= first - dt.timedelta(days=200):
            installed = h.opened_on
        else:
            earliest = max(h.opened_on, first - dt.timedelta(days=365 * 12))
            span = (first - dt.timedelta(days=200) - earliest).days
            installed = earliest + dt.timedelta(days=int(rng.random() * max(span, 1)))
        if expired:
            installed = first - dt.timedelta(days=365 * 17 + int(rng.random() * 300))
        verified = installed - dt.timedelta(days=30 + int(rng.random() * 300))
        digits = 5 if rng.random() < 0.15 else 6
        model = rng.choice(
            MODELS_SMART if smart else MODELS_1 if zones == 1 else MODELS_2 if zones == 2 else MODELS_3
        )
        meters.append(
            Meter(
                account_id=h.account_id,
                model=model,
                serial=f"{rng.randrange(10**7, 10**8)}",
                integer_digits=digits,
                fraction_digits=1,
                zones=zones,
                installed_on=installed,
                sealed_on=installed,
                verified_on=verified,
                verification_interval_years=16,
                location=rng.choice(LOCATIONS),
                is_smart=smart,
            )
        )
        yearly = (60 + 45 * h.residents) * math.exp(rng.gauss(0, 0.25)) * (1.25 if h.rural else 1.0)
        if rng.random() < 0.03:
            yearly *= 2.5  # electric heaters
        plans.append({"home": h, "kwh": yearly, "smart": smart})
    Meter.objects.bulk_create(meters, batch_size=2000)

    writer = _Readings(rng, first, last)
    # A few meters roll over their digit capacity, a few are replaced, a few submit an implausible jump.
    candidates = [i for i, p in enumerate(plans) if not p["smart"] and meters[i].installed_on < history_start]
    rng.shuffle(candidates)
    n_special = max(1, len(plans) // 300)
    rollover = set(candidates[:n_special])
    replaced = set(candidates[n_special : 2 * n_special]) if months >= 4 else set()
    after_replacement: list[tuple[int, list[tuple[dt.date, list[int]]]]] = []
    for i, plan in enumerate(plans):
        meter, h = meters[i], plan["home"]
        cap = meter.capacity_wh
        values = [int(rng.random() * 30_000) * 1000 for _ in range(meter.zones)]
        writer.add(
            meter,
            month_start(meter.installed_on),
            meter.installed_on,
            values,
            kind="initial",
            channel="system",
        )
        start = max(add_months(month_start(meter.installed_on), 1), history_start)
        # Consumption of the years before the readings below, so the registers show a realistic total.
        gap_months = max(
            0, (start.year - meter.installed_on.year) * 12 + start.month - meter.installed_on.month - 1
        )
        values = [
            v + u * gap_months
            for v, u in zip(values, _split(rng, int(plan["kwh"] * 1000), meter.zones), strict=True)
        ]
        periods = []
        p = start
        while p <= last:
            periods.append(p)
            p = add_months(p, 1)
        # Missing months: a long gap (norm after three averaged months, then a recalculation) or single ones.
        missing: set[dt.date] = set()
        if not plan["smart"] and i not in replaced and i not in rollover:
            if months >= 6 and rng.random() < 0.07:
                gap = 4 + (rng.random() < 0.3)
                latest_start = months - gap - 1
                if latest_start >= 0:
                    s = int(rng.random() * (latest_start + 1))
                    missing = {add_months(first, s + k) for k in range(gap)}
            else:
                missing = {q for q in periods if q >= first and rng.random() < 0.08}
        replace_at = add_months(first, 1 + int(rng.random() * (months - 2))) if i in replaced else None
        jump_at = None
        if not plan["smart"] and i not in replaced and rng.random() < 0.01:
            jump_at = add_months(first, int(rng.random() * months))
        later: list[tuple[dt.date, list[int]]] = []
        pending: list[tuple[dt.date, dt.date, list[int], str, list[str] | None]] = []
        new_values: list[int] | None = None
        for q in periods:
            used = _split(rng, int(plan["kwh"] * 1000 * SEASON[q.month] * rng.uniform(0.9, 1.1)), meter.zones)
            values = [v + u for v, u in zip(values, used, strict=True)]
            day = 20 + int(rng.random() * 6) if plan["smart"] else 15 + int(rng.random() * 11)
            taken = q.replace(day=day)
            if taken >= today:
                continue
            if replace_at is not None and q >= replace_at:
                if new_values is None:
                    new_values = [u * 9 // 10 // 100 * 100 for u in used]
                    final = [v - u + u // 10 // 100 * 100 for v, u in zip(values, used, strict=True)]
                    after_replacement.append((i, later))
                    plan["final"] = (final, q.replace(day=3))
                else:
                    new_values = [v + u for v, u in zip(new_values, used, strict=True)]
                if q not in missing:
                    later.append((taken, list(new_values)))
                continue
            if q in missing:
                continue
            if q == jump_at:
                jumped = [v + 10 * u for v, u in zip(values, used, strict=True)]
                pending.append((q, taken, jumped, "held", ["jump"]))
                continue
            pending.append((q, taken, values, "accepted", None))
        by_period = {q: v for q, _t, v, status, _f in pending if status == "accepted"}
        second, third = add_months(first, 1), add_months(first, 2)
        if i in rollover and second in by_period and third in by_period:
            # Shift T1 close to the top of the register so that it rolls over in the third billed month.
            low, high = by_period[second][0], by_period[third][0]
            shift = (cap - low - (high - low) // 2) // 100 * 100
            pending = [(q, t, [v[0] + shift, *v[1:]], st, f) for q, t, v, st, f in pending]
        for q, taken, values, status, flags in pending:
            writer.add(meter, q, taken, values, status=status, flags=flags)
    writer.writer.flush()

    # Replacements go through the real action: FINAL reading of the old meter, INITIAL of the new one.
    n_replaced = 0
    for i, later in after_replacement:
        old = meters[i]
        final, on = plans[i]["final"]
        new = readings.replace_meter(
            meter=old,
            actor=actor,
            on=on,
            final_values=[Decimal(v % old.capacity_wh) / 1000 for v in final],
            model=MODELS_SMART[0] if old.zones == 1 else old.model,
            serial=f"{rng.randrange(10**7, 10**8)}",
            zones=old.zones,
            integer_digits=6,
            fraction_digits=1,
            initial_values=[0] * old.zones,
            sealed_on=on,
            verified_on=on - dt.timedelta(days=60),
            location=old.location,
        )
        n_replaced += 1
        for taken, values in later:
            writer.add(new, month_start(taken), taken, values)
    writer.writer.flush()
    return len(meters), writer.writer.written + 2 * n_replaced, n_replaced


def _payer_kinds(rng: random.Random, homes: list[_Household]) -> None:
    for h in homes:
        r = rng.random()
        h.payer = "debtor" if r < 0.045 else "late" if r < 0.18 else "good"


def _plan_payments(
    rng: random.Random, homes: list[_Household], period: dt.date, latest: dt.date
) -> list[tuple[dt.date, _Household, int, dt.date | None]]:
    """Payments for ``period``'s bill: (paid on, household, kopecks, period named or None)."""
    charged = dict(
        LedgerEntry.objects.filter(kind="charge", period=period).values_list("account_id", "amount_kop")
    )
    due = rules.due_date(period)
    start = add_months(period, 1)
    out: list[tuple[dt.date, _Household, int, dt.date | None]] = []
    for h in homes:
        amount = charged.get(h.account_id, 0)
        if amount <= 0:
            continue
        r = rng.random()
        on = start + dt.timedelta(days=int(rng.random() * (due - start).days + 1))
        if h.payer == "debtor":
            if r < 0.1 and on <= latest:
                out.append((on, h, max(100, amount * int(20 + rng.random() * 40) // 100), None))
            continue
        if h.payer == "late":
            if r < 0.3:
                on = due + dt.timedelta(days=5 + int(rng.random() * 45))
            elif r < 0.45:
                amount = max(100, amount * int(60 + rng.random() * 30) // 100)
            elif r < 0.5:
                continue  # skips a month
        elif r < 0.04:
            amount = (amount + 9_999) // 10_000 * 10_000  # rounded up to 100 ₽: an advance
        named = period if rng.random() < 0.6 else None
        if on <= latest:
            out.append((on, h, amount, named))
    return out


def _pay(
    rng: random.Random,
    batch: list[tuple[dt.date, _Household, int, dt.date | None]],
    month: dt.date,
    numbers: set[str],
    actor: Any,
    cashier: Any,
    seq: dict[str, int],
) -> tuple[int, int]:
    """The payments dated in ``month``: a registry file, a few online and cash-desk ones."""
    lines = ["date;account;amount;period;payment_id"]
    online = cash = 0
    singles = []
    for on, h, amount, named in sorted(batch, key=lambda x: (x[0], x[1].account_id)):
        r = rng.random()
        if r < 0.03 and online < ONLINE_A_MONTH:
            online += 1
            singles.append(("acquiring", on, h, amount, named))
            continue
        if r < 0.04 and cash < CASH_A_MONTH and cashier is not None:
            cash += 1
            singles.append(("cashier", on, h, amount, named))
            continue
        seq["registry"] += 1
        period = f"{named:%Y-%m}" if named else ""
        lines.append(
            f"{on.isoformat()};{h.number};{amount // 100}.{amount % 100:02d};{period};SB-{seq['registry']:07d}"
        )
    # Payers who mistype the account number: the payment waits in the queue of unidentified ones.
    for _n in range(1 + len(batch) // 400):
        if not batch:
            break
        on, h, amount, _named = batch[int(rng.random() * len(batch))]
        wrong = h.number[:-1]
        while wrong in numbers:
            wrong += "0"
        seq["registry"] += 1
        lines.append(f"{on.isoformat()};{wrong};{amount // 100}.{amount % 100:02d};;SB-{seq['registry']:07d}")
    accepted = unidentified = 0
    if len(lines) > 1:
        data = ("\n".join(lines) + "\n").encode()
        registry = payments.import_registry(data=data, name=f"sber_{month:%Y%m}.csv", actor=actor, bank=BANK)
        accepted, unidentified = registry.accepted, registry.unidentified
    for source, on, h, amount, named in singles:
        seq[source] += 1
        if source == "acquiring":
            payments.register_payment(
                amount_kop=amount,
                paid_on=on,
                source=source,
                account_text=h.number,
                provider=payments.ACQUIRING_PROVIDER,
                external_id=f"pay-{seq[source]:07d}",
                period=named,
                actor=actor,
            )
        else:
            payments.register_payment(
                amount_kop=amount,
                paid_on=on,
                source=source,
                account=Account.objects.get(pk=h.account_id),
                period=named,
                actor=cashier,
            )
    return accepted + unidentified + len(singles), unidentified


def _debt(rng: random.Random, today: dt.date, actor: Any) -> int:
    """Debt cases: warnings six weeks ago, some delivered, restricted and suspended since; new warnings today."""
    opened_on = today - dt.timedelta(days=45)
    debt.open_cases(opened_on, actor=actor)
    for order in DebtOrder.objects.filter(kind=DebtOrder.Kind.WARNING, delivered_on__isnull=True).order_by(
        "id"
    ):
        if rng.random() < 0.7:
            debt.mark_delivered(order, opened_on + dt.timedelta(days=4 + int(rng.random() * 4)), actor)
    debt.advance(opened_on + dt.timedelta(days=30), actor=actor)
    for order in DebtOrder.objects.filter(kind=DebtOrder.Kind.RESTRICTION, done_on__isnull=True).order_by(
        "id"
    ):
        if rng.random() < 0.8:
            debt.mark_done(order, order.issued_on + dt.timedelta(days=1), actor)
    # Half of the restricted ones are suspended since; the others are still restricted today.
    restricted = sorted(
        DebtCase.objects.filter(status=DebtCase.Status.RESTRICTED).values_list("account_id", flat=True)
    )
    debt.advance(opened_on + dt.timedelta(days=42), actor=actor, account_ids=restricted[::2])
    debt.open_cases(today, actor=actor)
    return DebtCase.objects.count()


def build_billing(
    *,
    seed: int,
    months: int,
    today: dt.date,
    actor: Any,
    cashier: User | None = None,
    say: Callable[[str], None] | None = None,
) -> BillingSeed:
    """Reference data, meters, readings, ``months`` billed months (the last complete ones, oldest
    first) with their payments, debt cases and the last month's invoices."""
    say = say or (lambda message: None)
    started = time.monotonic()
    out = BillingSeed()
    if months < 1:
        return out
    rng = random.Random(seed * 1_000_003 + 7)
    last = add_months(month_start(today), -1)
    first = add_months(last, -(months - 1))
    with events.muted(*QUIET_EVENTS):
        homes = _households(rng)
        regions = sorted({h.region for h in homes})
        build_reference(regions, first, today, Company.objects.order_by("pk").first())
        out.households = len(homes)
        out.meters, out.readings, out.replaced = build_meters(rng, homes, first, last, today, actor)
        say(
            f"billing: {out.households} households, {out.meters} meters, {out.readings} readings "
            f"({time.monotonic() - started:.1f} s)"
        )
        _payer_kinds(rng, homes)
        numbers = set(Account.objects.values_list("number", flat=True))
        latest = today - dt.timedelta(days=1)
        buckets: dict[dt.date, list] = defaultdict(list)
        seq = {"registry": 0, "acquiring": 0, "cashier": 0}
        run = None
        for k in range(months):
            period = add_months(first, k)
            run = runs.create_run(period=period, actor=actor)
            result = engine.execute_run(run)
            out.runs += 1
            for method, n in result.methods.items():
                out.methods[method] = out.methods.get(method, 0) + n
            for item in _plan_payments(rng, homes, period, latest):
                buckets[month_start(item[0])].append(item)
            month = add_months(period, 1)
            paid, unidentified = _pay(rng, buckets.pop(month, []), month, numbers, actor, cashier, seq)
            out.payments += paid
            out.unidentified += unidentified
            say(
                f"billing {period:%Y-%m}: {result.accounts} accounts, {result.amount_kop // 100} ₽ charged, "
                f"{paid} payments ({time.monotonic() - started:.1f} s)"
            )
        out.debt_cases = _debt(rng, today, actor)
        if run is not None:
            ids = invoices.accounts_of_run(run)
            for offset in range(0, len(ids), invoices.BATCH_SIZE):
                out.invoices += len(
                    invoices.build_invoices(ids[offset : offset + invoices.BATCH_SIZE], last, run=run)
                )
    out.charges = Charge.objects.count()
    out.charged_kop = int(LedgerEntry.objects.filter(kind="charge").aggregate(s=Sum("amount_kop"))["s"] or 0)
    out.seconds = time.monotonic() - started
    say(
        f"billing done: {out.runs} runs, {out.charges} charge lines ({out.charged_kop // 100} ₽), "
        f"methods {dict(sorted(out.methods.items()))}, {out.payments} payments ({out.unidentified} unidentified), "
        f"{out.debt_cases} debt cases, {out.invoices} invoices, {out.replaced} meters replaced "
        f"in {out.seconds:.1f} s"
    )
    return out
