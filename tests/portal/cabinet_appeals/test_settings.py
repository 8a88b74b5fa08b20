"""Notification settings in the cabinet: allowed channels, outage notices per address, consents."""

from __future__ import annotations

import zoneinfo

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

URL = "/cabinet/settings/"
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


def _history(customer):
    from okno.customers.models import ContactEvent

    return list(
        ContactEvent.objects.filter(customer=customer).order_by("id").values_list("summary", flat=True)
    )


def test_settings_page_shows_contacts_channels_and_addresses(cabinet, customers):
    page = cabinet.get(URL).content.decode()

    assert "ivanov@example.ru" in page
    assert "+79123456789" in page
    assert customers.acc_ivanov.number in page
    assert "Северск, ул. Ленина, д. 10, кв. 5" in page
    assert "not allowed" in page  # no consent for notices yet
    assert "No channel is allowed for service notices" in page


def test_withdrawing_and_giving_again_keeps_consent_history_with_dates(cabinet, customers):
    from okno.customers.models import Consent

    ivanov = customers.ivanov
    give = {"action": "consent_give", "customer": ivanov.pk, "channel": "email", "purpose": "marketing"}

    assert cabinet.post(URL, give).status_code == 302
    first = Consent.objects.get(customer=ivanov)
    assert first.withdrawn_at is None and first.source == "cabinet"

    response = cabinet.post(URL, {**give, "action": "consent_withdraw"})

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.withdrawn_at is not None

    cabinet.post(URL, give)

    rows = list(Consent.objects.filter(customer=ivanov).order_by("id"))
    assert len(rows) == 2
    assert rows[0].withdrawn_at is not None and rows[1].withdrawn_at is None
    assert _history(ivanov)[-3:] == [
        "Consent given: Information and marketing, E-mail",
        "Consent withdrawn: Information and marketing, E-mail",
        "Consent given: Information and marketing, E-mail",
    ]
    page = cabinet.get(URL).content.decode()
    given = timezone.localtime(rows[0].given_at, MOSCOW)
    withdrawn = timezone.localtime(rows[0].withdrawn_at, MOSCOW)
    assert f"{given:%d.%m.%Y %H:%M}" in page
    assert f"{withdrawn:%d.%m.%Y %H:%M}" in page
    assert "in force" in page


def test_giving_a_consent_twice_keeps_one_active_row(cabinet, customers):
    from okno.customers.models import Consent

    give = {
        "action": "consent_give",
        "customer": customers.ivanov.pk,
        "channel": "sms",
        "purpose": "service_notices",
    }
    cabinet.post(URL, give)
    response = cabinet.post(URL, give, follow=True)

    assert Consent.objects.filter(customer=customers.ivanov).count() == 1
    assert "This consent is already given" in response.content.decode()


def test_a_bad_channel_or_purpose_is_refused(cabinet, customers):
    from okno.customers.models import Consent

    response = cabinet.post(
        URL,
        {"action": "consent_give", "customer": customers.ivanov.pk, "channel": "pigeon", "purpose": "x"},
        follow=True,
    )

    assert "Choose a channel from the list." in response.content.decode()
    assert not Consent.objects.exists()


def test_allowing_and_forbidding_sms_notices(cabinet, customers):
    from okno.customers.actions import give_consent
    from okno.customers.models import Consent
    from okno.notify.planning import consents_of

    ivanov = customers.ivanov
    # An operator once recorded the consent as "phone": switching SMS off withdraws it too.
    give_consent(ivanov, channel="phone", purpose="service_notices", actor=None)

    page = cabinet.get(URL).content.decode()
    assert "Do not notify by SMS" in page

    cabinet.post(URL, {"action": "channel", "customer": ivanov.pk, "channel": "sms", "on": "0"})

    assert consents_of([ivanov.pk]).get(ivanov.pk, set()) == set()
    assert not Consent.objects.filter(customer=ivanov, withdrawn_at__isnull=True).exists()

    cabinet.post(URL, {"action": "channel", "customer": ivanov.pk, "channel": "email", "on": "1"})

    assert consents_of([ivanov.pk])[ivanov.pk] == {"email"}
    assert "Service notices by E-mail are allowed." in cabinet.get(URL).content.decode()
    assert "Consent given: Service notices (outages, appeals), E-mail" in _history(ivanov)


def test_outage_notices_are_switched_on_and_off_per_address(cabinet, customers):
    from okno.notify.models import Subscription

    account = customers.acc_ivanov
    on = {"action": "subscription", "account": account.pk, "on": "1"}

    assert cabinet.post(URL, on).status_code == 302

    sub = Subscription.objects.get()
    assert (sub.account, sub.customer, sub.source) == (account, customers.ivanov, "cabinet")
    assert sub.active and sub.confirmed_at is not None
    assert (sub.email, sub.phone) == ("ivanov@example.ru", "+79123456789")
    assert sub.branch_id == account.service_point.branch_id

    cabinet.post(URL, {**on, "on": "0"})

    sub.refresh_from_db()
    assert not sub.active and sub.unsubscribed_at is not None
    assert "Switch on for" in cabinet.get(URL).content.decode()

    cabinet.post(URL, on)

    sub.refresh_from_db()
    assert Subscription.objects.count() == 1  # the same subscription, switched on again
    assert sub.active and sub.unsubscribed_at is None
    assert _history(customers.ivanov)[-3:] == [
        f"Outage notices for account {account.number} switched on",
        f"Outage notices for account {account.number} switched off",
        f"Outage notices for account {account.number} switched on",
    ]


def test_switching_on_twice_makes_one_subscription(cabinet, customers):
    from okno.notify.models import Subscription

    on = {"action": "subscription", "account": customers.acc_ivanov.pk, "on": "1"}
    cabinet.post(URL, on)
    cabinet.post(URL, on)

    assert Subscription.objects.filter(active=True).count() == 1


def test_hostile_contact_values_are_escaped(cabinet, customers):
    from okno.customers.models import ContactPoint

    ContactPoint.objects.create(
        customer=customers.ivanov, kind="email", value="<script>x</script>@evil.example"
    )

    page = cabinet.get(URL).content.decode()

    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;@evil.example" in page
