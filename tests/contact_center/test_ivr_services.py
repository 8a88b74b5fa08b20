"""The IVR's services with real data: the balance and the last payment spoken with their figures,
readings by keypad accepted or refused with the prompt the billing gives, the meter's zones, the accounts
found by the calling number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.contact_center.ivr import AccountRef
from okno.contact_center.ivr_services import OknoServices

pytestmark = pytest.mark.django_db

IVANOV_PHONE = "+79123456789"


def _ref(account):
    return AccountRef(id=account.pk, number=account.number, address=str(account.service_point.address))


def test_balance_speaks_the_debt_and_the_last_payment(metered, org):
    from okno.billing.ledger import post_adjustment
    from okno.billing.payments import register_payment

    acc = metered.account
    today = timezone.localdate(timezone=org.a.tz)
    post_adjustment(account=acc, amount_kop=250_075, note="Начисление", actor=org.head_a, entry_date=today)
    register_payment(
        amount_kop=100_050,
        paid_on=today - dt.timedelta(days=3),
        source="system",
        account=acc,
        actor=org.admin,
    )
    text = OknoServices(caller=IVANOV_PHONE).balance(_ref(acc))
    assert f"As of {today:%d.%m.%Y} you owe 1500 roubles 25 kopecks for account {acc.number}." in text
    paid_on = today - dt.timedelta(days=3)
    assert f"The last payment: 1000 roubles 50 kopecks on {paid_on:%d.%m.%Y}." in text


def test_balance_without_history(customers):
    text = OknoServices().balance(_ref(customers.acc_ivanov))
    assert "has no debt" in text and "No payments have been received yet." in text


def test_reading_by_keypad_is_accepted(metered):
    services = OknoServices(caller=IVANOV_PHONE)
    ref = _ref(metered.account)
    assert services.meter_zones(ref) == 1
    ok, text = services.submit_reading(ref, ["1100*5"])
    assert ok and text == "Your readings are accepted: 1100.5. Thank you."


def test_reading_lower_than_the_previous_is_refused(metered):
    ok, text = OknoServices(caller=IVANOV_PHONE).submit_reading(_ref(metered.account), ["999"])
    assert not ok and text == "The reading is lower than the previous one. Please check it."


def test_accounts_by_phone_and_number(customers):
    services = OknoServices()
    found = services.accounts_by_phone("8 912 345 67 89")
    assert [a.number for a in found] == [customers.acc_ivanov.number]
    assert "Северск" in found[0].address
    spaced = " ".join([customers.acc_ivanov.number[:4], customers.acc_ivanov.number[4:]])
    assert services.account_by_number(spaced).id == customers.acc_ivanov.pk
    assert services.account_by_number("0000") is None
    assert services.meter_zones(found[0]) == 0


def test_prompts_with_parameters_and_the_flows_own(customers):
    services = OknoServices(prompts={"greeting": {"en": "Hi from the flow", "ru": "Привет"}})
    assert services.prompt("greeting") == "Hi from the flow"
    assert services.prompt("position", position=3) == "You are number 3 in the queue."
    assert services.prompt("no_such_key") == ""
    assert OknoServices(language="ru", prompts={"greeting": {"ru": "Привет"}}).prompt("greeting") == "Привет"


def test_planned_works_in_the_next_week(org, grid):
    from okno.outages import actions, lookup

    lookup.invalidate_outages()
    start = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    actions.schedule_planned(
        node=grid.tp12,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=6),
        reason="замена трансформатора",
        actor=org.dispatcher_a,
    )
    lookup.invalidate_outages()
    services = OknoServices()
    text = services.planned_outages(_ref(grid.accounts["ТП-12"][0]))
    local = timezone.localtime(start, org.a.tz)
    assert f"from {local:%d.%m.%Y %H:%M} to" in text and "замена трансформатора" in text
    assert "No planned works" in services.planned_outages(_ref(grid.accounts["ТП-21"][0]))
