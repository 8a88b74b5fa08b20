"""Every page of the operator UI for several personas: who gets 200, who 403, and 404 for another branch."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    for url in ("/queue/", "/queue/department/", "/appeals/new/", "/customers/", "/audit/access/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_in_russian_by_default(client, settings):
    settings.LANGUAGE_CODE = "ru"  # the shipped default (tests otherwise read the English source texts)
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Пароль" in html
    assert 'name="username"' in html and 'name="password"' in html


def test_login_with_password_lands_in_my_queue(client, org):
    response = client.post(
        reverse("login"), {"username": "specialist_a1", "password": "okno-test-pass"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("appeals:my_queue")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "persona",
    [
        "operator_a",
        "cc_operator",
        "specialist_a1",
        "head_a",
        "branch_head_a",
        "quality",
        "admin",
        "operator_b",
    ],
)
def test_staff_who_see_appeals_open_queues_and_customer_search(persona, org, customers, login):
    client = login(getattr(org, persona))
    for url in ("/queue/", "/queue/department/", "/customers/", "/customers/?q=Иванов"):
        assert client.get(url).status_code == 200, url


def test_header_shows_user_role_and_navigation_by_permission(org, login):
    html = login(org.head_a).get("/queue/").content.decode()
    assert "Волков" in html
    assert reverse("analytics:report") in html  # head of department has report.view
    assert reverse("core:access_log") not in html  # but not the audit pages
    assert reverse("appeals:register") in html
    html = login(org.security).get("/audit/access/").content.decode()
    assert reverse("core:access_log") in html
    assert reverse("appeals:register") not in html
    assert reverse("appeals:my_queue") not in html


def test_company_name_or_fallback_is_in_the_header(org, login, settings):
    settings.OKNO_COMPANY_NAME = "АО «Тестовая сетевая компания»"
    html = login(org.operator_a).get("/queue/").content.decode()
    assert "АО «Тестовая сетевая компания»" in html


def test_security_officer_is_redirected_from_queues_to_the_audit_page(org, login):
    response = login(org.security).get("/queue/")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:access_log")


def test_registration_page_needs_the_register_permission(org, login):
    assert login(org.operator_a).get("/appeals/new/").status_code == 200
    assert login(org.quality).get("/appeals/new/").status_code == 403
    assert login(org.security).get("/appeals/new/").status_code == 403


def test_appeal_card_is_404_for_another_branch_and_200_for_company_wide_staff(register, org, login):
    appeal = register()  # Иванов's account is in branch A
    url = reverse("appeals:detail", args=[appeal.pk])
    assert login(org.operator_a).get(url).status_code == 200
    assert login(org.cc_operator).get(url).status_code == 200
    assert login(org.quality).get(url).status_code == 200
    assert login(org.operator_b).get(url).status_code == 404
    assert login(org.specialist_b).get(url).status_code == 404
    assert login(org.security).get(url).status_code == 404  # no appeal.view at all


def test_customer_card_is_404_for_another_branch(customers, org, login):
    url = reverse("customers:detail", args=[customers.ivanov.pk])
    assert login(org.operator_a).get(url).status_code == 200
    assert login(org.operator_b).get(url).status_code == 404
    assert login(org.security).get(url).status_code == 200  # security officer may view customers


def test_new_customer_page_needs_customer_add(org, login):
    assert login(org.operator_a).get("/customers/new/").status_code == 200
    assert login(org.quality).get("/customers/new/").status_code == 403


def test_audit_pages_are_forbidden_without_the_audit_permissions(org, login):
    for persona in ("operator_a", "head_a", "quality"):
        client = login(getattr(org, persona))
        assert client.get("/audit/access/").status_code == 403
        assert client.get("/audit/changes/").status_code == 403
    client = login(org.admin)
    assert client.get("/audit/access/").status_code == 200
    assert client.get("/audit/changes/").status_code == 200


def test_language_switch_turns_the_interface_english(org, login):
    client = login(org.operator_a)
    assert (
        "Моя очередь" in client.get("/queue/").content.decode()
        or "My queue" in client.get("/queue/").content.decode()
    )
    response = client.post(reverse("set_language"), {"language": "en", "next": "/queue/"})
    assert response.status_code == 302
    html = client.get("/queue/").content.decode()
    assert '<html lang="en">' in html
    assert "My queue" in html


def test_logout_is_a_post_form(org, login):
    client = login(org.operator_a)
    html = client.get("/queue/").content.decode()
    assert f'action="{reverse("logout")}"' in html
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/queue/").status_code == 302
