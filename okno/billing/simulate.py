"""``okno billing simulate``: bill a scenario month by month with the real run, then roll it all back.

The scenario (JSON, documented in ``docs/billing.md``) describes one household account: its tariffs,
meter, readings, residents and norm, payments and key rates. The simulator creates them in a
transaction on the configured database, runs :func:`okno.billing.engine.execute_run` for every
period (payments are registered on their dates between the runs, penalties are posted by the run),
reads the results back and rolls the transaction back, so nothing stays behind.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from okno.billing import rules
from okno.billing.periods import add_months, month_end, parse_period, period_label, reading_period


class ScenarioError(ValueError):
    """The scenario file is wrong; the message says where."""


class _Rollback(Exception):
    pass


def _money(text: Any, where: str) -> int:
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise ScenarioError(f"{where}: {text!r} is not an amount") from exc
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _wh(text: Any, where: str) -> int:
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise ScenarioError(f"{where}: {text!r} is not a number of kWh") from exc
    if value < 0:
        raise ScenarioError(f"{where}: {text!r} is negative")
    return int((value * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _date(text: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from exc


def _period(text: Any, where: str) -> dt.date:
    try:
        return parse_period(str(text))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {text!r} is not a period (YYYY-MM)") from exc


def _kwh(wh: int) -> str:
    return str((Decimal(wh) / 1000).quantize(Decimal("0.001")))


def _rub(kop: int) -> str:
    return str((Decimal(kop) / 100).quantize(Decimal("0.01")))


def simulate(scenario: dict[str, Any]) -> dict[str, Any]:
    """Run ``scenario`` and return every period's volume, method, amount, penalty and balance."""
    if not isinstance(scenario, dict):
        raise ScenarioError("the scenario must be a JSON object")
    periods = scenario.get("periods") or {}
    first = _period(periods.get("from"), "periods.from")
    last = _period(periods.get("to"), "periods.to")
    if last < first:
        raise ScenarioError("periods.to is before periods.from")
    if (last.year - first.year) * 12 + last.month - first.month > 120:
        raise ScenarioError("periods: at most 120 months")
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            result = _run(scenario, first, last)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        rules.clear_cache()
    return result


def _run(scenario: dict[str, Any], first: dt.date, last: dt.date) -> dict[str, Any]:
    from okno.billing import ledger
    from okno.billing.engine import execute_run
    from okno.billing.models import (
        AccountDiscount,
        BillingProfile,
        BillingRun,
        BillingSettings,
        Charge,
        ConsumerCategory,
        ConsumptionNorm,
        Discount,
        KeyRate,
        LedgerEntry,
        Meter,
        Reading,
        Tariff,
        TariffRate,
    )
    from okno.customers.models import Account, Address, Customer, ServicePoint
    from okno.customers.numbers import make_account_number
    from okno.org.models import Branch, Company

    region = str(scenario.get("region") or "Сценарий")
    company = Company.objects.create(name="Scenario")
    branch = Branch.objects.create(
        company=company, code="scenario-sim", name="Scenario", region=region, timezone="Europe/Moscow"
    )
    category, _ = ConsumerCategory.objects.get_or_create(
        code=str(scenario.get("category") or "urban"), defaults={"name": "Scenario"}
    )
    tariffs = scenario.get("tariffs")
    if not tariffs:
        raise ScenarioError("tariffs: give at least one tariff")
    Tariff.objects.filter(region=region).delete()
    for i, spec in enumerate(tariffs):
        where = f"tariffs[{i}]"
        prices = spec.get("prices")
        zones = int(spec.get("zones") or (len(prices) if isinstance(prices, list) else 0))
        if zones not in (1, 2, 3) or not isinstance(prices, list) or len(prices) != zones:
            raise ScenarioError(f"{where}: give 'prices' as a list with one entry per zone (1 to 3 zones)")
        limits = [_wh(v, f"{where}.tier_limits_kwh") for v in spec.get("tier_limits_kwh") or []]
        tariff = Tariff.objects.create(
            region=region,
            category=category,
            zones=zones,
            valid_from=_date(spec.get("valid_from", "2000-01-01"), f"{where}.valid_from"),
            valid_to=_date(spec["valid_to"], f"{where}.valid_to") if spec.get("valid_to") else None,
            tier1_limit_wh=limits[0] if limits else None,
            tier2_limit_wh=limits[1] if len(limits) > 1 else None,
        )
        for zone, zone_prices in enumerate(prices, start=1):
            tiers = zone_prices if isinstance(zone_prices, list) else [zone_prices]
            if len(tiers) != len(limits) + 1:
                raise ScenarioError(f"{where}.prices[{zone - 1}]: {len(limits) + 1} tier price(s) expected")
            for tier, value in enumerate(tiers, start=1):
                TariffRate.objects.create(
                    tariff=tariff, zone=zone, tier=tier, price_e4=_money(value, f"{where}.prices") * 100
                )
    ConsumptionNorm.objects.create(
        region=region,
        category=category,
        valid_from=dt.date(2000, 1, 1),
        wh_per_resident=_wh(scenario.get("norm_kwh", 0), "norm_kwh"),
    )
    if scenario.get("key_rates"):
        KeyRate.objects.all().delete()
        for i, row in enumerate(scenario["key_rates"]):
            KeyRate.objects.create(
                valid_from=_date(row.get("from"), f"key_rates[{i}].from"),
                rate=Decimal(str(row.get("rate"))),
            )
    rules.clear_cache()

    customer = Customer.objects.create(last_name="Сценарий", branch=branch)
    address = Address.objects.create(region=region, settlement="Сценарий")
    point = ServicePoint.objects.create(address=address, branch=branch)
    number = make_account_number(9_900_000 + Account.objects.count())
    account = Account.objects.create(number=number, customer=customer, service_point=point, opened_on=first)
    BillingProfile.objects.create(
        account=account, category=category, residents=int(scenario.get("residents", 1))
    )
    for i, spec in enumerate(scenario.get("discounts") or []):
        discount = Discount.objects.create(
            code=f"scenario-{i}", name=f"Scenario {i}", percent=Decimal(str(spec.get("percent")))
        )
        AccountDiscount.objects.create(
            account=account,
            discount=discount,
            valid_from=_date(spec.get("from", "2000-01-01"), f"discounts[{i}].from"),
        )

    last_day = BillingSettings.current().submission_last_day
    meter_spec = scenario.get("meter")
    if meter_spec:
        zones = int(meter_spec.get("zones", 1))
        installed = _date(meter_spec.get("installed_on"), "meter.installed_on")
        meter = Meter.objects.create(
            account=account,
            model=str(meter_spec.get("model", "Scenario")),
            serial="SCENARIO",
            zones=zones,
            integer_digits=int(meter_spec.get("integer_digits", 6)),
            fraction_digits=int(meter_spec.get("fraction_digits", 1)),
            installed_on=installed,
        )
        readings = [{"date": str(installed), "values": meter_spec.get("initial"), "kind": "initial"}]
        readings += list(scenario.get("readings") or [])
        for i, row in enumerate(readings):
            where = "meter.initial" if i == 0 else f"readings[{i - 1}]"
            values = row.get("values")
            if not isinstance(values, list) or len(values) != zones:
                raise ScenarioError(f"{where}: give {zones} value(s) in the meter's zone order")
            wh: list[int | None] = [_wh(v, where) for v in values] + [None, None]
            taken = _date(row.get("date"), f"{where}.date")
            Reading.objects.create(
                meter=meter,
                account=account,
                period=taken.replace(day=1) if i == 0 else reading_period(taken, last_day),
                taken_on=taken,
                t1_wh=int(wh[0] or 0),
                t2_wh=wh[1],
                t3_wh=wh[2],
                kind=row.get("kind", "regular"),
                channel=Reading.Channel.SYSTEM,
            )
    elif scenario.get("readings"):
        raise ScenarioError("readings: the scenario has no meter")

    payments = sorted(
        (
            (_date(p.get("date"), f"payments[{i}].date"), i, p)
            for i, p in enumerate(scenario.get("payments") or [])
        ),
        key=lambda t: (t[0], t[1]),
    )

    def pay_until(day: dt.date) -> int:
        from okno.billing.payments import register_payment

        paid = 0
        while payments and payments[0][0] <= day:
            paid_on, i, spec = payments.pop(0)
            amount = _money(spec.get("amount"), f"payments[{i}].amount")
            register_payment(
                account=account,
                amount_kop=amount,
                paid_on=paid_on,
                source="system",
                provider="scenario",
                external_id=f"scenario-{i}",
                period=_period(spec["period"], f"payments[{i}].period") if spec.get("period") else None,
            )
            paid += amount
        return paid

    out: list[dict[str, Any]] = []
    period = first
    while period <= last:
        paid = pay_until(month_end(period))
        run = BillingRun.objects.create(period=period, branch=branch)
        execute_run(run)
        run.refresh_from_db()
        lines = list(
            Charge.objects.filter(account=account, period=period).order_by("meter_id", "zone", "tier", "id")
        )
        methods = [c.method for c in lines if c.method not in ("reversal", "discount")]
        method = next((m for m in ("recalculation", "actual", "average", "norm") if m in methods), "none")
        penalty = sum(
            LedgerEntry.objects.filter(account=account, kind="penalty", period=period).values_list(
                "amount_kop", flat=True
            )
        )
        amount = sum(c.amount_kop for c in lines)
        out.append(
            {
                "period": period_label(period),
                "method": method,
                "volume_kwh": _kwh(
                    sum(c.volume_wh for c in lines if c.method not in ("reversal", "discount"))
                ),
                "lines": [
                    {
                        "method": c.method,
                        "zone": c.zone,
                        "tier": c.tier,
                        "months": c.months,
                        "volume_kwh": _kwh(c.volume_wh),
                        "price": str((Decimal(c.price_e4) / 10000).quantize(Decimal("0.0001"))),
                        "amount": _rub(c.amount_kop),
                    }
                    for c in lines
                ],
                "amount": _rub(amount),
                "due_date": str(rules.due_date(period)),
                "paid": _rub(paid),
                "penalty": _rub(penalty),
                "balance": _rub(ledger.balance_kop(account.pk, month_end(period))),
                "errors": run.errors,
            }
        )
        period = add_months(period, 1)
    after = scenario.get("penalty_as_of")
    summary: dict[str, Any] = {"account": account.number, "periods": out}
    if after:
        as_of = _date(after, "penalty_as_of")
        paid = pay_until(as_of)
        posted = ledger.post_penalties(as_of=as_of, account_ids=[account.pk])
        summary["as_of"] = {
            "date": str(as_of),
            "paid": _rub(paid),
            "penalty_posted": posted,
            "balance": _rub(ledger.balance_kop(account.pk, as_of)),
        }
    return summary
