"""Payments: registration, idempotency, allocation, the unidentified queue and bank registries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okno.billing import ledger
from okno.billing.models import LedgerEntry, Payment, PaymentAllocation, PaymentRegistry
from okno.billing.payments import import_registry, match_payment, parse_amount, register_payment
from okno.customers.models import ContactEvent
from tests.billing.test_ledger import charge

D = dt.date


@pytest.fixture
def acc(customers):
    return customers.acc_ivanov


def test_amounts_in_roubles_become_kopecks():
    assert parse_amount("1234.56") == 123_456
    assert parse_amount("1234,5") == 123_450
    assert parse_amount("1 234,56") == 123_456
    assert parse_amount("7") == 700
    for bad in ("0", "0.00", "-5", "1.234", "abc", "", "1e3"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_identified_payment_posts_the_ledger_allocates_and_is_recorded(
    acc, org, django_capture_on_commit_callbacks, monkeypatch
):
    from okno.core import events

    monkeypatch.setitem(events._handlers, "payment.received", [])  # only this test's handler
    received = []
    events.subscribe("payment.received", lambda **kw: received.append(kw))
    charge(acc, D(2025, 1, 1), 100_000)
    with django_capture_on_commit_callbacks(execute=True):
        payment = register_payment(
            amount_kop=150_000,
            paid_on=D(2025, 2, 3),
            source=Payment.Source.ACQUIRING,
            account_text=acc.number,
            provider="acquiring",
            external_id="op-1",
        )
    assert (payment.account, payment.status) == (acc, Payment.Status.ALLOCATED)
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.PAYMENT)
    assert (entry.amount_kop, entry.entry_date, entry.payment) == (-150_000, D(2025, 2, 3), payment)
    assert sorted((a.period or D(9999, 1, 1), a.amount_kop) for a in payment.allocations.all()) == [
        (D(2025, 1, 1), 100_000),
        (D(9999, 1, 1), 50_000),  # the surplus is an advance
    ]
    assert ledger.balance_kop(acc.pk) == -50_000
    event = ContactEvent.objects.get(customer=acc.customer, ref_type="billing.payment")
    assert event.summary == "Payment of 1500.00 ₽ received (Online card payment, paid on 03.02.2025)"
    assert received == [
        {"payment_id": payment.pk, "account_id": acc.pk, "amount_kop": 150_000, "paid_on": "2025-02-03"}
    ]


def test_a_replay_returns_the_same_payment(acc):
    first = register_payment(
        amount_kop=10_000,
        paid_on=D(2025, 2, 3),
        source="acquiring",
        account=acc,
        provider="x",
        external_id="1",
    )
    again = register_payment(
        amount_kop=10_000,
        paid_on=D(2025, 2, 3),
        source="acquiring",
        account=acc,
        provider="x",
        external_id="1",
    )
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    # The same id from another provider is another payment.
    register_payment(
        amount_kop=10_000,
        paid_on=D(2025, 2, 3),
        source="acquiring",
        account=acc,
        provider="y",
        external_id="1",
    )
    assert Payment.objects.count() == 2


def test_bad_input_saves_nothing(acc):
    with pytest.raises(ValidationError) as err:
        register_payment(amount_kop=0, paid_on=D(2099, 1, 1), source="system", account=acc)
    assert err.value.message_dict == {
        "amount": ["The amount must be positive."],
        "paid_on": ["The payment date is in the future."],
    }
    assert not Payment.objects.exists()


def test_unknown_or_closed_account_is_unidentified_until_matched(acc, customers, org):
    unknown = register_payment(
        amount_kop=30_000, paid_on=D(2025, 2, 3), source="registry", account_text="999"
    )
    closed = customers.acc_romashka
    closed.closed_on = D(2025, 1, 31)
    closed.save()
    late = register_payment(amount_kop=20_000, paid_on=D(2025, 2, 3), source="registry", account=closed)
    for p in (unknown, late):
        assert (p.status, p.account) == (Payment.Status.UNIDENTIFIED, None)
    assert late.account_text == closed.number
    assert not LedgerEntry.objects.exists()

    charge(acc, D(2025, 1, 1), 100_000)
    with pytest.raises(PermissionDenied):
        match_payment(unknown, account=acc, actor=org.operator_a)  # operators may not match
    with pytest.raises(ValidationError):
        match_payment(late, account=closed, actor=org.admin)  # closed before the payment
    with pytest.raises(PermissionDenied):
        match_payment(unknown, account=acc, actor=org.specialist_b)  # no payment.match, another branch
    matched = match_payment(unknown, account=acc, actor=org.head_a)
    assert (matched.status, matched.account, matched.matched_by) == (
        Payment.Status.ALLOCATED,
        acc,
        org.head_a,
    )
    assert [(a.period, a.amount_kop) for a in matched.allocations.all()] == [(D(2025, 1, 1), 30_000)]
    assert ledger.balance_kop(acc.pk) == 70_000
    with pytest.raises(ValidationError) as err:
        match_payment(matched, account=acc, actor=org.head_a)
    assert err.value.message_dict == {"payment": ["This payment is not waiting to be matched."]}


def test_the_cash_desk_needs_permission(acc, org):
    with pytest.raises(PermissionDenied):
        register_payment(
            amount_kop=100, paid_on=D(2025, 2, 3), source="cashier", account=acc, actor=org.quality
        )
    payment = register_payment(
        amount_kop=100, paid_on=D(2025, 2, 3), source="cashier", account=acc, actor=org.operator_a
    )
    assert payment.cashier == org.operator_a


# --- registries --------------------------------------------------------------------------------


def registry_text(acc, romashka) -> str:
    return (
        "date;account;amount;period;payment_id\n"
        f"2025-02-03;{acc.number};1000.00;2025-01;B-1\n"
        f"05.02.2025;{acc.number};250,50;;B-2\n"
        "05.02.2025;000000000;99.99;;B-3\n"  # unknown account → unidentified
        f"2025-02-31;{acc.number};10;;B-4\n"  # bad date
        f"2025-02-06;{acc.number};-5;;B-5\n"  # bad amount
        f"2025-02-06;{romashka.number};5.00;2025-13;B-6\n"  # bad period
        f"2025-02-06;{romashka.number};5.00;;\n"  # no payment id
        "\n"
        f"2025-02-07;{romashka.number};12.34;;B-2\n"  # the same id twice in the file → duplicate
        f"2025-02-07;{romashka.number};7;;B-7\n"
    )


def test_registry_keeps_valid_lines_and_reports_bad_ones_by_number(acc, customers, org):
    charge(acc, D(2025, 1, 1), 150_000)
    data = registry_text(acc, customers.acc_romashka).encode()
    registry = import_registry(data=data, name="sber-0207.csv", actor=org.head_a, bank="Сбербанк")
    assert registry.repeated is False
    assert (
        registry.lines,
        registry.accepted,
        registry.unidentified,
        registry.duplicates,
        registry.rejected,
    ) == (
        9,
        3,
        1,
        1,
        4,
    )
    assert registry.total_kop == 100_000 + 25_050 + 9_999 + 700
    assert registry.errors == [
        {"line": 5, "error": "Bad date '2025-02-31'."},
        {"line": 6, "error": "Bad amount '-5'."},
        {"line": 7, "error": "Bad period '2025-13' (YYYY-MM expected)."},
        {"line": 8, "error": "No payment id."},
    ]
    p1 = Payment.objects.get(external_id="B-1")
    assert (p1.account, p1.amount_kop, p1.period, p1.registry_line, p1.provider) == (
        acc,
        100_000,
        D(2025, 1, 1),
        2,
        "Сбербанк",
    )
    assert Payment.objects.get(external_id="B-3").status == Payment.Status.UNIDENTIFIED
    # 1 000 ₽ naming January and then 250.50 ₽: January (1 500 ₽) is paid 1 250.50 ₽.
    [jan] = ledger.period_debts(acc.pk, D(2025, 2, 28))
    assert (jan.paid_kop, jan.open_kop) == (125_050, 24_950)
    assert PaymentAllocation.objects.filter(account=acc).count() == 2
    assert ContactEvent.objects.filter(ref_type="billing.payment").count() == 3


def test_registry_imported_twice_adds_nothing(acc, customers, org):
    data = registry_text(acc, customers.acc_romashka).encode()
    first = import_registry(data=data, name="a.csv", actor=org.head_a)
    counts = (Payment.objects.count(), LedgerEntry.objects.count(), PaymentAllocation.objects.count())
    again = import_registry(data=data, name="a-again.csv", actor=org.head_a)
    assert again.pk == first.pk
    assert again.repeated is True
    assert (Payment.objects.count(), LedgerEntry.objects.count(), PaymentAllocation.objects.count()) == counts
    assert PaymentRegistry.objects.count() == 1

    # Another file repeating a payment id: that line is a duplicate, the new one is accepted.
    other = f"2025-02-03;{acc.number};1000.00;2025-01;B-1\n2025-02-08;{acc.number};1.00;;B-8\n".encode()
    third = import_registry(data=other, name="b.csv", actor=org.head_a)
    assert (third.accepted, third.duplicates, third.rejected) == (1, 1, 0)
    assert Payment.objects.filter(external_id="B-1").count() == 1


def test_registry_in_windows_1251(acc, org):
    text = f"Дата;Лицевой счёт;Сумма;Период;Номер платежа\n03.02.2025;{acc.number};1 500,00;2025-01;№ 77\n"
    registry = import_registry(data=text.encode("cp1251"), name="vtb.csv", actor=org.head_a)
    assert (registry.lines, registry.accepted, registry.rejected) == (1, 1, 0)
    assert Payment.objects.get().external_id == "№ 77"


def test_registry_needs_permission(acc, org):
    with pytest.raises(PermissionDenied):
        import_registry(data=b"", name="x.csv", actor=org.operator_a)
    assert not PaymentRegistry.objects.exists()


def test_amounts_over_the_cap_are_refused():
    from okno.billing.payments import MAX_PAYMENT_KOP, AmountTooLarge

    # The cap is 10,000,000.00 ₽ = 1,000,000,000 kopecks per payment; a kopeck more is refused.
    assert parse_amount("10000000.00") == MAX_PAYMENT_KOP == 1_000_000_000
    for text in ("10000000.01", "99999999999999999999", "9" * 200):
        with pytest.raises(AmountTooLarge):
            parse_amount(text)


def test_a_huge_registry_amount_is_a_line_error_and_the_rest_is_kept(acc, org):
    data = (
        f"2025-03-01;{acc.number};100.00;;ok-1\n"
        f"2025-03-01;{acc.number};99999999999999999999;;big-1\n"
        f"2025-03-01;{acc.number};10000000.01;;big-2\n"
    ).encode()
    registry = import_registry(data=data, name="r.csv", actor=org.admin)
    assert registry.accepted == 1
    limit = "The amount exceeds the limit of 10000000.00 ₽ per payment."
    assert registry.errors == [
        {"line": 2, "error": f"Bad amount '99999999999999999999'. {limit}"},
        {"line": 3, "error": f"Bad amount '10000000.01'. {limit}"},
    ]
    assert list(Payment.objects.values_list("amount_kop", flat=True)) == [10_000]


def test_register_payment_refuses_an_amount_over_the_cap(acc, org):
    with pytest.raises(ValidationError) as error:
        register_payment(
            amount_kop=1_000_000_001,
            paid_on=dt.date(2025, 3, 1),
            source="cashier",
            account=acc,
            actor=org.admin,
        )
    assert error.value.message_dict == {
        "amount": ["The amount exceeds the limit of 10000000.00 ₽ per payment."]
    }
    assert not Payment.objects.exists()
