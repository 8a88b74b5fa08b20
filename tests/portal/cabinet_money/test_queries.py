"""The dashboard and the account page read a fixed number of queries, whatever the number of accounts
and the length of their history (no N+1): the cabinet is benchmarked with a million accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.portal.cabinet_money.conftest import read
from tests.portal.conftest import _cabinet_user, sign_in

pytestmark = pytest.mark.django_db

#: One bound for the dashboard with one account (the account page) or five (cards), long histories or
#: none: session and user, the accounts, then a fixed set per page.
MAX_QUERIES = 16


def _long_history(account, months: int = 36):
    """A meter and ``months`` months of readings, charges, payments and invoices up to last month."""
    from okno.billing.models import Invoice, Meter
    from okno.billing.periods import add_months, month_start
    from tests.billing.test_ledger import charge, pay
    from tests.portal.cabinet_money.conftest import today_in_moscow

    last = add_months(month_start(today_in_moscow()), -1)
    first = add_months(last, -(months - 1))
    meter = Meter.objects.create(
        account=account, model="Нева 101", serial=f"S{account.pk}", zones=1, installed_on=first
    )
    for i in range(months):
        period = add_months(first, i)
        read(meter, period.replace(day=20), 1_000_000 + 100_000 * i)
        entry = charge(account, period, 50_000 + i)
        pay(account, period.replace(day=25), 40_000, pid=f"{account.pk}-{i}")
        Invoice.objects.create(
            account=account,
            period=period,
            number=f"{account.number}-{period:%Y%m}",
            amount_kop=entry.amount_kop,
            total_kop=entry.amount_kop,
            due_date=entry.due_date,
        )


def _older_history(account, entries: int) -> None:
    """``entries`` ledger entries and readings more, in the twelve months shown and before them."""
    from okno.billing.models import LedgerEntry, Meter, Reading

    meter = Meter.objects.get(account=account)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            account=account,
            kind="adjustment",
            entry_date=dt.date(2026, 1, 1) - dt.timedelta(days=i),
            amount_kop=1,
        )
        for i in range(entries)
    )
    Reading.objects.bulk_create(
        Reading(
            meter=meter,
            account=account,
            period=(dt.date(2025, 12, 31) - dt.timedelta(days=i)).replace(day=1),
            taken_on=dt.date(2025, 12, 31) - dt.timedelta(days=i),
            t1_wh=900_000 - i * 1000,
            channel="cabinet",
        )
        for i in range(entries)
    )


def _accounts(customers, org, n: int):
    from okno.customers import actions
    from okno.customers.models import Address
    from okno.customers.numbers import make_account_number

    made = [customers.acc_ivanov, customers.acc_romashka]
    for i in range(n - 2):
        made.append(
            actions.open_account(
                customer=customers.ivanov,
                number=make_account_number(5000 + i),
                actor=org.admin,
                address=Address(
                    region="Тестовая область",
                    settlement="Северск",
                    street="ул. Мира",
                    house=str(i + 1),
                    grid_district=org.district_a,
                ),
            )
        )
    return made[:n]


def _count(client, url, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("n", [1, 5])
def test_dashboard_queries_are_bounded(client, customers, org, tariffs, django_assert_max_num_queries, n):
    accounts = _accounts(customers, org, n)
    user = _cabinet_user("many@example.ru", *accounts)
    sign_in(client, user)
    url = reverse("cabinet:dashboard")
    _count(client, url, django_assert_max_num_queries)  # no history at all: within the bound too
    for account in accounts:
        _long_history(account, months=3)
    client.get(url)  # the per-process caches (the company) are filled by the first page
    short = _count(client, url, django_assert_max_num_queries)
    for account in accounts:
        _older_history(account, entries=200)
    # The same number of queries with hundreds of entries and readings more.
    assert _count(client, url, django_assert_max_num_queries) == short
    html = client.get(url).content.decode()
    for account in accounts:
        assert account.number in html


def test_account_page_queries_do_not_grow_with_history(
    client, customers, org, tariffs, django_assert_max_num_queries
):
    account = customers.acc_ivanov
    sign_in(client, _cabinet_user("one@example.ru", account))
    url = reverse("cabinet:account", args=[account.pk])
    _long_history(account, months=3)
    client.get(url)  # the per-process caches (the company) are filled by the first page
    short = _count(client, url, django_assert_max_num_queries)
    _older_history(account, entries=300)
    assert _count(client, url, django_assert_max_num_queries) == short
