"""Fixtures of the cabinet's money pages: Иванов's account with two months of history up to today."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.portal.conftest import _cabinet_user, sign_in  # noqa: F401  (re-exported for the tests)


def today_in_moscow() -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Moscow"))


def read(meter, taken_on: dt.date, t1_wh: int, status: str = "accepted"):
    from okno.billing.models import Reading

    return Reading.objects.create(
        meter=meter,
        account=meter.account,
        period=taken_on.replace(day=1),
        taken_on=taken_on,
        t1_wh=t1_wh,
        channel=Reading.Channel.CABINET,
        status=status,
    )


@pytest.fixture
def history(metered):
    """Иванов's meter (1000.0 kWh on 15.01.2025), then, relative to today (P1 = two months ago,
    P2 = last month): readings on the 20th of P1 (1100.0) and of P2 (1250.0) → 100 and 150 kWh;
    charges 643.00 ₽ for P1 and 964.50 ₽ for P2; 643.00 ₽ paid on the 5th day of P2 (by the
    registry); the invoice for P2 (964.50 ₽). Balance today: 964.50 ₽."""
    from okno.billing.models import Invoice
    from okno.billing.periods import add_months, month_start
    from tests.billing.test_ledger import charge, pay

    today = today_in_moscow()
    p2 = add_months(month_start(today), -1)
    p1 = add_months(p2, -1)
    acc, meter = metered.account, metered.meter
    r1 = read(meter, p1.replace(day=20), 1_100_000)
    r2 = read(meter, p2.replace(day=20), 1_250_000)
    c1 = charge(acc, p1, 64_300)
    c2 = charge(acc, p2, 96_450)
    payment = pay(acc, p2.replace(day=5), 64_300)
    invoice = Invoice.objects.create(
        account=acc,
        period=p2,
        number=f"{acc.number}-{p2:%Y%m}",
        amount_kop=96_450,
        total_kop=96_450,
        due_date=c2.due_date,
    )
    return SimpleNamespace(
        account=acc,
        meter=meter,
        today=today,
        p1=p1,
        p2=p2,
        readings=[r1, r2],
        charges=[c1, c2],
        payment=payment,
        invoice=invoice,
    )
