"""Quick registration on one screen: search, pick, register; errors keep what was typed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from okno.appeals.models import Answer, Appeal

pytestmark = pytest.mark.django_db

URL = "/appeals/new/"


def _form(**overrides):
    data = {
        "q": "Иванов",
        "pick": "",
        "channel": "phone",
        "kind": "report",
        "topic": "outage",
        "text": "Нет света во всём доме с 8 утра.",
        "preferred_answer_channel": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        "address_text": "",
        "contract_number": "",
        "violation_place": "",
        "violation_at": "",
        "demand": "",
        "answer_text": "",
    }
    data.update(overrides)
    return data


def test_search_shows_candidates_with_their_accounts(customers, org, login):
    html = login(org.cc_operator).get(URL, {"q": "Иванов"}).content.decode()
    assert "Иванов Пётр Сергеевич" in html
    assert f'value="account:{customers.acc_ivanov.pk}"' in html
    assert customers.acc_ivanov.number in html
    assert "Северск, ул. Ленина, д. 10, кв. 5" in html
    assert "Ромашка" not in html


def test_search_by_phone_finds_the_customer(customers, org, login):
    html = login(org.cc_operator).get(URL, {"q": "8 912 345 67 89"}).content.decode()
    assert f'value="customer:{customers.ivanov.pk}"' in html


def test_candidate_fragment_for_the_script_is_only_the_list(customers, org, login):
    response = login(org.cc_operator).get(reverse("appeals:candidates"), {"q": "Иванов"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'value="account:{customers.acc_ivanov.pk}"' in html


def test_channel_defaults_to_contact_centre_for_the_hotline_and_office_for_branch_staff(org, login):
    cc = login(org.cc_operator).get(URL).content.decode()
    assert re.search(r'<option value="contact_center" selected>', cc)
    office = login(org.operator_a).get(URL).content.decode()
    assert re.search(r'<option value="office" selected>', office)


def test_phone_appeal_is_registered_and_the_card_shows_number_and_deadline(customers, org, login):
    client = login(org.cc_operator)
    response = client.post(URL, _form(pick=f"account:{customers.acc_ivanov.pk}"))
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert appeal.customer == customers.ivanov
    assert appeal.account == customers.acc_ivanov
    assert appeal.channel == "phone"
    assert appeal.registered_by == org.cc_operator
    html = client.get(response["Location"]).content.decode()
    deadline = timezone.localtime(appeal.deadline_at, org.a.tz).strftime("%d.%m.%Y %H:%M")
    assert appeal.number in html
    assert f"{appeal.number} is registered; answer due by {deadline}" in html  # the success message
    assert deadline in html


def test_anonymous_contact_can_be_registered_without_a_customer(org, login):
    client = login(org.operator_a)
    response = client.post(
        URL, _form(contact_name="Сидоров Иван", contact_phone="+7 912 000-11-22", topic="other")
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.customer is None
    assert appeal.contact_name == "Сидоров Иван"
    assert appeal.contact_phone == "+79120001122"
    assert appeal.branch == org.a


def test_errors_are_shown_by_field_and_typed_values_are_kept(customers, org, login):
    client = login(org.cc_operator)
    response = client.post(
        URL, _form(text="  ", contact_phone="12", topic="metering", address_text="Северск, Лесная 7")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert Appeal.objects.count() == 0
    assert "This field is required." in html or "Обязательное поле." in html  # text
    assert 'value="Северск, Лесная 7"' in html
    assert '<option value="metering" selected>' in html
    assert 'value="12"' in html


def test_action_validation_errors_land_on_their_fields(customers, org, login):
    client = login(org.cc_operator)
    response = client.post(URL, _form(contact_phone="12"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Phone number 12 is not valid." in html
    assert "Choose a customer or give the name of the person who applies." in html
    assert Appeal.objects.count() == 0


def test_complaint_about_supply_needs_its_fields_which_are_always_on_the_form(customers, org, login):
    client = login(org.cc_operator)
    assert 'name="violation_place"' in client.get(URL).content.decode()  # present without JS
    response = client.post(URL, _form(kind="complaint", pick=f"account:{customers.acc_ivanov.pk}"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "A complaint about supply needs the address of the device where it happened." in html
    assert "A complaint about supply needs the time of the violation." in html
    assert "A complaint about supply needs the customer&#x27;s demand." in html
    # The picked account stays picked.
    assert f'value="account:{customers.acc_ivanov.pk}" checked' in html
    response = client.post(
        URL,
        _form(
            kind="complaint",
            pick=f"account:{customers.acc_ivanov.pk}",
            violation_place="Северск, ул. Ленина, 10",
            violation_at="2026-11-20T08:30",
            demand="Восстановить подачу и сделать перерасчёт",
        ),
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.kind == "complaint"
    assert appeal.contract_number == "Д-1001"
    assert timezone.localtime(appeal.violation_at).strftime("%d.%m.%Y %H:%M") == "20.11.2026 08:30"


def test_answered_during_the_call_is_registered_answered_and_closed(customers, org, login):
    client = login(org.cc_operator)
    response = client.post(
        URL,
        _form(
            pick=f"customer:{customers.ivanov.pk}",
            kind="info_request",
            topic="billing",
            answered_now="on",
            answer_text="Оплатить можно в приложении банка без комиссии.",
        ),
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.status == "closed"
    assert appeal.on_time is True
    answer = Answer.objects.get(appeal=appeal)
    assert answer.channel == "phone"
    assert answer.delivered_at is not None
    assert list(appeal.events.values_list("type", flat=True))[-3:] == ["answered", "delivered", "closed"]


def test_answered_during_the_call_without_the_answer_saves_nothing(customers, org, login):
    response = login(org.cc_operator).post(
        URL, _form(pick=f"customer:{customers.ivanov.pk}", answered_now="on")
    )
    assert response.status_code == 400
    assert "Write the answer given during the call." in response.content.decode()
    assert Appeal.objects.count() == 0


def test_another_branchs_account_cannot_be_picked(customers, org, login):
    response = login(org.operator_b).post(URL, _form(pick=f"account:{customers.acc_ivanov.pk}"))
    assert response.status_code == 400
    assert "Pick a customer from the list." in response.content.decode()
    assert Appeal.objects.count() == 0


def test_registration_is_forbidden_without_the_permission(customers, org, login):
    response = login(org.quality).post(URL, _form(pick=f"account:{customers.acc_ivanov.pk}"))
    assert response.status_code == 403
    assert Appeal.objects.count() == 0


def test_a_letter_received_earlier_is_registered_with_its_receipt_time_in_branch_time(client, org, customers):
    import datetime as dt

    from django.utils import timezone

    client.force_login(org.operator_a)  # works in branch A (Europe/Moscow)
    typed = (timezone.now().astimezone(org.a.tz) - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/appeals/new/",
        {
            "channel": "mail",
            "kind": "info_request",
            "topic": "billing",
            "text": "Прошу разъяснить начисления",
            "pick": f"account:{customers.acc_ivanov.pk}",
            "preferred_answer_channel": "mail",
            "received_at": typed,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from okno.appeals.models import Appeal

    appeal = Appeal.objects.get()
    assert appeal.received_at.astimezone(org.a.tz).strftime("%Y-%m-%dT%H:%M") == typed
