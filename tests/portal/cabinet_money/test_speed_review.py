"""Review of the cabinet's speed work (docs/portal/cabinet.md, "Speed"): the hand-written reads give what
the ORM gave, the ledger's window never fails on a page number, and the memoised page chrome never
serves one visitor's or one page's part to another."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.portal.cabinet_money.conftest import sign_in
from tests.portal.conftest import _cabinet_user

pytestmark = pytest.mark.django_db


def _extra_entries(account, day: dt.date, n: int) -> None:
    from okno.billing.models import LedgerEntry

    for i in range(n):
        LedgerEntry.objects.create(
            account=account, kind=LedgerEntry.Kind.ADJUSTMENT, entry_date=day, amount_kop=100 + i
        )


# --- the ledger's window ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**62), str(2**63 + 5)])
def test_a_page_number_past_any_offset_shows_the_last_page(cabinet, history, page):
    """A page number whose offset does not fit the database's integers was a 500 (OverflowError on
    SQLite, "bigint out of range" on PostgreSQL); the paginator it replaced showed the last page."""
    _extra_entries(history.account, history.p2.replace(day=10), 25)  # 28 entries: two pages
    url = reverse("cabinet:account", args=[history.account.pk])
    response = cabinet.get(url, {"page": page})
    assert response.status_code == 200
    assert "Page 2 of 2" in response.content.decode()


def test_the_window_past_the_end_is_the_last_page_with_its_total(history, django_assert_num_queries):
    from okno.portal.cabinet.account_queries import LEDGER_PAGE_SIZE, ledger_window

    _extra_entries(history.account, history.p2.replace(day=10), 25)
    with django_assert_num_queries(1):
        first = ledger_window(history.account, history.today, 1)
    assert (first.number, first.num_pages, len(first.object_list)) == (1, 2, LEDGER_PAGE_SIZE)
    with django_assert_num_queries(3):  # the empty page, the count, the last page
        last = ledger_window(history.account, history.today, 7)
    assert (last.number, last.num_pages, len(last.object_list)) == (2, 2, 28 - LEDGER_PAGE_SIZE)
    with django_assert_num_queries(2):  # an offset past any ledger: the count, then the last page
        huge = ledger_window(history.account, history.today, "9" * 30)
    assert [e.pk for e in huge.object_list] == [e.pk for e in last.object_list]
    # Rows come newest first, as the ORM's ledger_entries() gives them.
    from okno.portal.cabinet.account_queries import ledger_entries

    assert [e.pk for e in first.object_list + last.object_list] == list(
        ledger_entries(history.account, history.today).values_list("pk", flat=True)
    )


# --- held_accounts and my_accounts -------------------------------------------------------------------


def test_held_accounts_are_my_accounts(customers, org):
    """The hand-written join gives what the ORM's my_accounts() gave: closed accounts too, in the order
    they were linked (not by id), nobody else's accounts, with the related rows attached."""
    from okno.customers.models import CabinetLink
    from okno.portal.cabinet.session import held_accounts, my_accounts

    ivanov, romashka = customers.acc_ivanov, customers.acc_romashka
    romashka.closed_on = dt.date(2025, 6, 30)
    romashka.save(update_fields=["closed_on"])
    user = _cabinet_user("both@example.ru")
    now = timezone.now()
    # Ромашка's account linked first although its id is the larger one.
    CabinetLink.objects.create(user=user, account=romashka, linked_at=now - dt.timedelta(days=2))
    CabinetLink.objects.create(user=user, account=ivanov, linked_at=now - dt.timedelta(days=1))
    _cabinet_user("someone@example.ru", ivanov)  # another user's link to the same account
    orm = list(my_accounts(user))
    held = held_accounts(user)
    assert [a.pk for a in held] == [a.pk for a in orm] == [romashka.pk, ivanov.pk]
    for mine, theirs in zip(held, orm, strict=True):
        assert mine.closed_on == theirs.closed_on
        assert mine.customer.pk == theirs.customer_id
        assert mine.service_point.branch.tz == theirs.service_point.branch.tz
        assert mine.service_point.address.short() == theirs.service_point.address.short()
        assert mine._state.adding is False and mine._state.db == "default"
    assert [a.pk for a in held_accounts(user, ivanov.pk)] == [ivanov.pk]
    assert held_accounts(_cabinet_user("nobody@example.ru"), ivanov.pk) == []


# --- the memoised chrome -----------------------------------------------------------------------------


def _client_as(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _nav(html: str, cls: str) -> str:
    return html.split(f'<nav class="{cls}"')[1].split("</nav>")[0]


def test_the_site_navigation_follows_the_sign_in(client, ivanov_user, org):
    anonymous = _nav(client.get("/faq/").content.decode(), "site-nav")
    signed_in = _nav(_client_as(ivanov_user).get("/faq/").content.decode(), "site-nav")
    assert "Personal cabinet" in anonymous and "My cabinet" not in anonymous
    assert "My cabinet" in signed_in and "Personal cabinet" not in signed_in
    assert "Personal cabinet" in _nav(Client().get("/faq/").content.decode(), "site-nav")


def test_the_cabinet_menu_marks_the_page_and_keeps_each_users_own_parts(customers, history):
    ivanov = _cabinet_user("ivanov@example.ru", history.account)
    romashka = _cabinet_user("buh@romashka.example", customers.acc_romashka)
    first, second = _client_as(ivanov), _client_as(romashka)
    dashboard = first.get(reverse("cabinet:dashboard")).content.decode()
    appeals = first.get(reverse("cabinet:appeals")).content.decode()
    assert re.search(r'href="/cabinet/" aria-current="page">My accounts', _nav(dashboard, "cabinet-nav"))
    menu = _nav(appeals, "cabinet-nav")
    assert 'aria-current="page">My appeals' in menu
    assert 'aria-current="page">My accounts' not in menu
    other = second.get(reverse("cabinet:dashboard")).content.decode()
    assert "buh@romashka.example" in _nav(other, "cabinet-nav")
    assert "ivanov@example.ru" not in other
    # The logout form's CSRF token is made for each page, never kept with the menu.
    again = first.get(reverse("cabinet:dashboard")).content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.findall(_nav(dashboard, "cabinet-nav")) != token.findall(_nav(again, "cabinet-nav"))


# --- the benchmark's warm-up ---------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL")
def test_the_benchmarks_warm_up_reads_the_rows_not_only_the_index(customers):
    """``count(*)`` through an index is an index-only scan: the pages' rows stayed on disk while the
    result said they had been read into memory. The warm-up must read the table's rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    try:
        import bench_cabinet
    finally:
        sys.path.pop(0)
    with connection.cursor() as cur:
        for table, column in bench_cabinet.WARM_TABLES:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
            cur.execute("EXPLAIN " + bench_cabinet.warm_statement(table, column))
            plan = "\n".join(row[0] for row in cur.fetchall())
            assert "Index Only Scan" not in _scan_of(plan, table), plan


def _scan_of(plan: str, table: str) -> str:
    """The plan's line that reads ``table`` (its scan node)."""
    for line in plan.splitlines():
        if f" on {table} " in line + " ":
            return line
    raise AssertionError(f"{table} not read in:\n{plan}")
