"""okno.billing.proof: the account number and check value prove that a person holds an account."""

from __future__ import annotations

import datetime as dt

import pytest

from okno.billing.proof import account_by_proof, check_value_hint, normalize_amount_kop, normalize_serial


def _invoice(account, period, total_kop):
    from okno.billing.models import Invoice

    return Invoice.objects.create(
        account=account,
        period=period,
        number=f"{account.number}-{period:%Y%m}",
        amount_kop=total_kop,
        total_kop=total_kop,
        due_date=period + dt.timedelta(days=40),
    )


@pytest.mark.parametrize(
    ("typed", "kop"),
    [
        ("1234.56", 123456),
        ("1 234,56", 123456),
        ("1\u00a0234,56 ₽", 123456),
        ("1234,5", 123450),
        ("1234", 123400),
        ("1234 руб.", 123400),
        ("-15,00", -1500),
        ("12.345", None),
        ("abc", None),
        ("", None),
    ],
)
def test_amounts_are_read_as_people_type_them(typed, kop):
    assert normalize_amount_kop(typed) == kop


def test_serial_is_compared_without_spaces_dashes_and_case():
    assert normalize_serial(" № 41-23 4567ab ") == "41234567AB"


@pytest.mark.django_db
def test_last_invoice_total_proves_the_account(metered):
    acc = metered.account
    _invoice(acc, dt.date(2025, 1, 1), 99_00)
    _invoice(acc, dt.date(2025, 2, 1), 1234_56)
    assert account_by_proof(acc.number, "1 234,56") == acc
    assert account_by_proof(f" {acc.number[:3]}-{acc.number[3:]} ", "1234.56") == acc
    assert account_by_proof(acc.number, "99.00") is None  # an older invoice is not the proof
    assert account_by_proof(acc.number, metered.meter.serial) is None  # nor the serial once invoiced
    assert check_value_hint(acc) == "1234.56"


@pytest.mark.django_db
def test_meter_serial_proves_an_account_without_invoices(metered):
    acc = metered.account
    assert account_by_proof(acc.number, "4123 4567") == acc
    assert account_by_proof(acc.number, "41234568") is None
    assert account_by_proof(acc.number, "") is None
    assert check_value_hint(acc) == "41234567"


@pytest.mark.django_db
def test_account_without_invoice_or_meter_cannot_be_proved(customers):
    assert account_by_proof(customers.acc_romashka.number, "") is None
    assert account_by_proof(customers.acc_romashka.number, "0") is None


@pytest.mark.django_db
def test_unknown_malformed_or_closed_accounts_give_none(metered, django_assert_num_queries):
    from okno.customers.numbers import make_account_number

    acc = metered.account
    for number in (make_account_number(999_999), "12345", "<script>", ""):
        with django_assert_num_queries(3):
            assert account_by_proof(number, "41234567") is None
    with django_assert_num_queries(3):
        assert account_by_proof(acc.number, "41234567") == acc
    acc.closed_on = dt.date(2025, 6, 1)
    acc.save(update_fields=["closed_on"])
    assert account_by_proof(acc.number, "41234567") is None
