"""The structure of customers: counts by kind and by branch, as a chart and a data table."""

from __future__ import annotations

import re

from django.urls import reverse


def test_counts_by_kind_and_branch(en, customers, org):
    from okno.customers import actions

    actions.create_customer(actor=org.admin, kind="sole_proprietor", last_name="Сидоров", first_name="Иван")
    html = en.get(reverse("site:structure")).content.decode()
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d,]+)</td>', html))
    assert rows["Individual"] == "1"
    assert rows["Legal entity"] == "1"
    assert rows["Sole proprietor"] == "1"
    assert rows["Total"] == "3"
    assert "<svg" in html and 'role="img"' in html
    assert "Customers by kind" in html and "Customers by branch" in html
    assert "33.3" in html  # each kind's share


def test_page_without_customers(client, org):
    html = client.get(reverse("site:structure")).content.decode()
    assert "<svg" in html


def test_counts_are_cached(en, customers, django_assert_max_num_queries):
    en.get(reverse("site:structure"))
    with django_assert_max_num_queries(6):
        response = en.get(reverse("site:structure"))
    assert response.status_code == 200
