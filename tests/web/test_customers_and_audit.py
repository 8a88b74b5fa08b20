"""Customer search, card and creation; the security officer's access log and change log pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from okno.core.models import AccessLog
from okno.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_customer_search_finds_by_name_and_account(customers, org, login):
    client = login(org.operator_a)
    html = client.get(reverse("customers:search"), {"q": "иванов"}).content.decode()
    assert "Иванов Пётр Сергеевич" in html
    html = client.get(reverse("customers:search"), {"q": customers.acc_ivanov.number}).content.decode()
    assert reverse("customers:detail", args=[customers.ivanov.pk]) in html


def test_customer_search_does_not_show_another_branch(customers, org, login):
    html = login(org.operator_a).get(reverse("customers:search"), {"q": "Ромашка"}).content.decode()
    assert "ООО «Ромашка»" not in html
    assert reverse("customers:detail", args=[customers.romashka.pk]) not in html


def test_customer_card_shows_accounts_appeals_history_and_is_logged(register, customers, org, login):
    appeal = register()
    response = login(org.operator_a).get(reverse("customers:detail", args=[customers.ivanov.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert customers.acc_ivanov.number in html
    assert "Тестовая область, Северск, ул. Ленина, д. 10, кв. 5" in html
    assert "ivanov@example.ru" in html and "+79123456789" in html
    assert appeal.number in html  # in the appeals list and in the contact history
    assert reverse("appeals:detail", args=[appeal.pk]) in html
    assert (
        AccessLog.objects.filter(
            customer_id=customers.ivanov.pk, context="ui:customer", actor=org.operator_a
        ).count()
        == 1
    )


def test_new_customer_with_an_account(org, login):
    client = login(org.operator_a)
    response = client.post(
        reverse("customers:new"),
        {
            "kind": "individual",
            "last_name": "Кузьмина",
            "first_name": "Анна",
            "phone": "+7 912 111-22-33",
            "email": "anna@example.ru",
            "account_number": "000000307-9",
            "grid_district": org.district_a.pk,
            "settlement": "Берёзовка",
            "street": "ул. Садовая",
            "house": "4",
        },
    )
    customer = Customer.objects.get(last_name="Кузьмина")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    account = customer.accounts.get()
    assert account.number == "0000003079"
    assert account.service_point.branch == org.a
    assert customer.contacts.count() == 2


def test_new_customer_errors_keep_values_and_save_nothing(org, login):
    client = login(org.operator_a)
    response = client.post(
        reverse("customers:new"),
        {
            "kind": "individual",
            "last_name": "",
            "first_name": "Анна",
            "phone": "12",
            "account_number": "0000003071",
            "grid_district": org.district_a.pk,
            "settlement": "Берёзовка",
            "house": "4",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "A person needs a last name." in html
    assert 'value="Анна"' in html
    assert Customer.objects.filter(first_name="Анна").count() == 0


def test_new_customer_with_a_bad_account_number_rolls_back(org, login):
    response = login(org.operator_a).post(
        reverse("customers:new"),
        {
            "kind": "individual",
            "last_name": "Кузьмина",
            "account_number": "0000003071",
            "grid_district": org.district_a.pk,
            "settlement": "Берёзовка",
            "house": "4",
        },
    )
    assert response.status_code == 400
    assert "wrong check digit" in response.content.decode()
    assert not Customer.objects.filter(last_name="Кузьмина").exists()


def test_security_officer_sees_who_saw_a_customers_data(register, customers, org, login):
    appeal = register()
    login(org.operator_a).get(reverse("appeals:detail", args=[appeal.pk]))
    client = login(org.security)
    response = client.get(reverse("core:access_log"), {"customer": customers.ivanov.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "operator_a" in html and "ui:appeal" in html
    by_account = client.get(
        reverse("core:access_log"), {"account": customers.acc_ivanov.number}
    ).content.decode()
    assert "ui:appeal" in by_account
    past = client.get(
        reverse("core:access_log"), {"customer": customers.ivanov.pk, "date_to": "2020-01-01"}
    ).content.decode()
    assert "ui:appeal" not in past


def test_access_log_form_needs_a_customer_or_an_account(org, login):
    html = login(org.security).get(reverse("core:access_log"), {"date_from": "2026-01-01"}).content.decode()
    assert "Give a customer id or an account number." in html


def test_change_log_filters_by_object(register, org, login):
    appeal = register()
    client = login(org.security)
    html = client.get(
        reverse("core:change_log"), {"object_type": "appeals.appeal", "object_id": appeal.pk}
    ).content.decode()
    assert appeal.number in html
    assert "cc_operator" in html
    html = client.get(
        reverse("core:change_log"), {"object_type": "appeals.appeal", "object_id": 999999}
    ).content.decode()
    assert appeal.number not in html.split("<table")[1]
