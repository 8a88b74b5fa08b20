"""A cabinet user sees and changes only their own: every other id answers 404, strangers go to login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.cabinet_appeals.conftest import pdf
from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def romashka_appeal(register, customers, answered):
    """An answered appeal of ООО «Ромашка», with a file the customer sent from the cabinet."""
    from okno.appeals import actions
    from okno.org.models import system_actor

    appeal = register(account=customers.acc_romashka, text="Обращение Ромашки", topic="other")
    att = actions.add_attachment(appeal, actor=system_actor("cabinet"), upload=pdf("romashka.pdf"))
    return answered(appeal), att


def _every_request(appeal, att, customer, account):
    url = reverse("cabinet:appeal", args=[appeal.pk])
    return [
        ("get", url, {}),
        ("post", url, {"action": "rate", "score": "5"}),
        ("post", url, {"action": "escalate", "text": "Не согласен"}),
        ("get", reverse("cabinet:appeal_attachment", args=[appeal.pk, att.pk]), {}),
        ("post", "/cabinet/settings/", {"action": "subscription", "account": account.pk, "on": "1"}),
        ("post", "/cabinet/settings/", {"action": "subscription", "account": account.pk, "on": "0"}),
        (
            "post",
            "/cabinet/settings/",
            {"action": "channel", "customer": customer.pk, "channel": "email", "on": "1"},
        ),
        (
            "post",
            "/cabinet/settings/",
            {"action": "consent_give", "customer": customer.pk, "channel": "email", "purpose": "marketing"},
        ),
        (
            "post",
            "/cabinet/settings/",
            {
                "action": "consent_withdraw",
                "customer": customer.pk,
                "channel": "email",
                "purpose": "marketing",
            },
        ),
    ]


def test_ivanov_gets_404_for_everything_of_romashka(cabinet, customers, romashka_appeal):
    from okno.appeals.models import Appeal
    from okno.customers.models import Consent
    from okno.notify.models import Subscription

    appeal, att = romashka_appeal
    for method, url, data in _every_request(appeal, att, customers.romashka, customers.acc_romashka):
        response = getattr(cabinet, method)(url, data)
        assert response.status_code == 404, (method, url, data)
    appeal.refresh_from_db()
    assert appeal.rating is None
    assert not Appeal.objects.filter(escalation_of=appeal).exists()
    assert not Subscription.objects.exists()
    assert not Consent.objects.filter(customer=customers.romashka).exists()
    assert appeal.number not in cabinet.get("/cabinet/appeals/").content.decode()
    settings_page = cabinet.get("/cabinet/settings/").content.decode()
    assert customers.acc_romashka.number not in settings_page
    assert "+73432000000" not in settings_page


def test_romashka_gets_404_for_everything_of_ivanov(client, customers, romashka_user, register, answered):
    from okno.appeals import actions
    from okno.org.models import system_actor

    appeal = answered(register())
    att = actions.add_attachment(appeal, actor=system_actor("cabinet"), upload=pdf("ivanov.pdf"))
    sign_in(client, romashka_user)

    for method, url, data in _every_request(appeal, att, customers.ivanov, customers.acc_ivanov):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, data)
    assert appeal.number not in client.get("/cabinet/appeals/").content.decode()


def test_nonsense_ids_answer_404(cabinet):
    assert cabinet.get("/cabinet/appeals/999999/").status_code == 404
    assert cabinet.post("/cabinet/settings/", {"action": "channel", "customer": "x"}).status_code == 404
    assert cabinet.post("/cabinet/settings/", {"action": "subscription", "account": ""}).status_code == 404


@pytest.mark.parametrize(
    "url", ["/cabinet/appeals/", "/cabinet/appeals/new/", "/cabinet/appeals/1/", "/cabinet/settings/"]
)
def test_strangers_are_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cabinet:login"))


def test_a_user_holding_no_account_sees_empty_pages(client, customers):
    from okno.customers.models import CabinetUser

    user = CabinetUser(email="new@example.ru")
    user.set_password("x")
    user.save()
    sign_in(client, user)

    assert "There are no appeals about your accounts yet." in client.get("/cabinet/appeals/").content.decode()
    assert "Link an account to your cabinet first" in client.get("/cabinet/appeals/new/").content.decode()
    assert "Link an account to your cabinet" in client.get("/cabinet/settings/").content.decode()
