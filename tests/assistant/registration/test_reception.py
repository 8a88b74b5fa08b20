"""The internet reception's free-text forms with the assistant — and the demo of issue 6: a free text
typed on the site arrives in the operator's queue typed, topiced, with the account and the address."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from okno.appeals.models import Appeal

pytestmark = pytest.mark.django_db

CONTACTS = {
    "contact_name": "Пётр",
    "contact_email": "petr@example.ru",
    "contact_phone": "",
    "consent": "on",
}


def test_demo_a_free_text_on_the_site_reaches_the_queue_typed_topiced_with_account_and_address(
    customers, org, client
):
    text = (
        f"Здравствуйте, лицевой счёт {customers.acc_ivanov.number}, на улице Ленина дом 10 третий день "
        "нет света"
    )

    response = client.post(
        reverse("reception:question"), {"topic_choice": "other", "text": text, "address": "", **CONTACTS}
    )

    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.kind, appeal.topic) == ("web", "report", "outage")
    assert appeal.classified_by == "assistant"
    address = customers.acc_ivanov.service_point.address
    assert appeal.address == address
    assert appeal.suggested_account == customers.acc_ivanov
    assert appeal.account is None and appeal.customer is None  # a public form never links an account
    assert (appeal.branch, appeal.department) == (org.a, org.dept_a)  # routed by the address found

    client.force_login(org.cc_operator)
    queue = client.get(reverse("appeals:department_queue")).content.decode()
    row = queue[queue.index(appeal.number) :]
    row = row[: row.index("</tr>")]
    assert "Report" in row and "Power outage" in row and ">auto<" in row
    assert customers.acc_ivanov.number in row and address.short() in row

    card = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "Determined by the assistant:" in card
    assert "type «Report», topic «Power outage»" in card
    assert re.search(r"confidence \d+ %, by the words: [^<]*свет", card)
    assert "applied automatically" in card
    assert customers.acc_ivanov.number in card and "named in the text, not linked" in card
    assert address.short() in card


def test_a_topic_chosen_by_the_person_is_kept_and_the_suggestion_recorded(customers, client):
    client.post(
        reverse("reception:question"),
        {
            "topic_choice": "billing",
            "text": "Третий день нет света на улице Ленина",
            "address": "",
            **CONTACTS,
        },
    )

    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "billing", "customer")
    assert appeal.suggested_topic == "outage"


def test_below_the_threshold_the_form_defaults_wait_for_an_operator(classifier, settings, customers, client):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.9
    classifier("application", "metering", 0.85, 0.6)

    client.post(
        reverse("reception:question"),
        {"topic_choice": "other", "text": "Что-то со счётчиком", "address": "", **CONTACTS},
    )

    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "other", "default")
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("application", "metering")


def test_the_appeal_form_keeps_the_type_chosen_and_takes_the_topic(classifier, customers, client):
    classifier("report", "metering", 0.95, 0.95)

    client.post(
        reverse("reception:appeal"),
        {
            "kind_choice": "suggestion",
            "topic_choice": "other",
            "text": "Поставьте умные счётчики",
            "address": "",
            **CONTACTS,
        },
    )

    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("suggestion", "metering", "assistant")


def test_a_complaint_about_supply_without_its_fields_is_left_to_an_operator(classifier, customers, client):
    classifier("report", "outage", 0.95, 0.95)

    response = client.post(
        reverse("reception:appeal"),
        {
            "kind_choice": "complaint",
            "topic_choice": "other",
            "text": "Опять нет света!",
            "address": "",
            **CONTACTS,
        },
    )

    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("complaint", "other", "default")
    assert appeal.suggested_topic == "outage"
