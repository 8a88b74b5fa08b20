"""The operator's registration screen: the suggestion pre-fills the form (no-JS button and the
fragment for the script), nothing is saved by suggesting; on save the suggestion is recorded and
whether the operator kept it; the card confirms or changes a suggestion that waits; the queue marks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from okno.appeals.models import Appeal, AppealStat
from tests.assistant.registration.conftest import register_form

pytestmark = pytest.mark.django_db

URL = "/appeals/new/"
TEXT = "Здравствуйте, лицевой счёт {n}, на улице Ленина дом 10 третий день нет света"


_form = register_form


def test_the_suggest_button_prefills_the_form_and_saves_nothing(customers, org, login):
    client = login(org.cc_operator)
    text = TEXT.format(n=customers.acc_ivanov.number)

    response = client.post(URL, _form(text=text, action="suggest"))

    html = response.content.decode()
    assert response.status_code == 200
    assert Appeal.objects.count() == 0
    assert re.search(r'<option value="report" selected>', html)
    assert re.search(r'<option value="outage" selected>', html)
    # the account found is picked (the customer shown among the candidates) and its address filled in
    assert re.search(rf'value="account:{customers.acc_ivanov.pk}"\s+checked', html)
    address = customers.acc_ivanov.service_point.address
    assert f'value="{address.short()}"' in html
    assert f'name="address_id" value="{address.pk}"' in html
    assert "The assistant suggests" in html and "свет" in html
    assert text in html  # the text typed is kept


def test_the_suggestion_never_overwrites_what_the_operator_chose(customers, org, login):
    client = login(org.cc_operator)
    text = TEXT.format(n=customers.acc_ivanov.number)

    html = client.post(
        URL,
        _form(text=text, kind="complaint", topic="power_quality", address_text="Северск", action="suggest"),
    ).content.decode()

    assert re.search(r'<option value="complaint" selected>', html)
    assert re.search(r'<option value="power_quality" selected>', html)
    assert 'value="Северск"' in html


def test_the_fragment_for_the_script_carries_the_values_to_prefill(customers, org, login):
    response = login(org.cc_operator).post(
        reverse("appeals:suggest"), {"text": TEXT.format(n=customers.acc_ivanov.number)}
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-kind="report"' in html and 'data-topic="outage"' in html
    assert f'data-pick="account:{customers.acc_ivanov.pk}"' in html
    assert re.search(
        rf'name="pick" form="register-form" value="account:{customers.acc_ivanov.pk}" checked', html
    )
    assert Appeal.objects.count() == 0


def test_accounts_outside_the_operators_branch_are_not_offered(customers, org, login):
    html = (
        login(org.operator_a)
        .post(reverse("appeals:suggest"), {"text": f"По л/с {customers.acc_romashka.number} счёт завышен"})
        .content.decode()
    )
    assert customers.acc_romashka.number not in html.split("not found")[0]
    assert 'data-pick=""' in html


def test_suggest_endpoint_needs_the_register_permission(customers, org, login):
    response = login(org.quality).post(reverse("appeals:suggest"), {"text": "нет света"})
    assert response.status_code == 403


def test_registering_keeps_the_suggestion_and_records_that_the_operator_kept_it(customers, org, login):
    client = login(org.cc_operator)
    text = TEXT.format(n=customers.acc_ivanov.number)
    address = customers.acc_ivanov.service_point.address

    response = client.post(
        URL,
        _form(
            text=text,
            kind="report",
            topic="outage",
            pick=f"account:{customers.acc_ivanov.pk}",
            address_text=address.short(),
            address_id=str(address.pk),
        ),
    )

    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.classified_by, appeal.suggested_kind, appeal.suggested_topic) == (
        "operator",
        "report",
        "outage",
    )
    assert appeal.suggestion_followed is True
    assert appeal.account == customers.acc_ivanov and appeal.suggested_account is None
    html = client.get(response["Location"]).content.decode()
    assert "Determined by the assistant:" in html and "kept by the operator" in html


def test_an_operator_override_is_recorded(customers, org, login):
    client = login(org.cc_operator)

    client.post(
        URL,
        _form(
            text=TEXT.format(n=customers.acc_ivanov.number),
            kind="info_request",
            topic="billing",
            contact_name="Иванов",
            contact_phone="+79120001122",
        ),
    )

    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic) == ("info_request", "billing")
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("report", "outage")
    assert appeal.suggestion_followed is False
    # nobody was picked: the account in the text is recorded for the card, not linked
    assert appeal.account is None and appeal.suggested_account == customers.acc_ivanov
    html = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "changed by the operator" in html
    assert "named in the text, not linked" in html


def test_a_waiting_suggestion_is_confirmed_on_the_card_with_the_account(
    classifier, settings, customers, org, login
):
    from okno.assistant.intake import common
    from okno.org.models import system_actor

    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.9
    classifier("report", "outage", 0.7, 0.8, ["свет"])
    appeal = common.register(
        actor=system_actor("sms"),
        text=f"л/с {customers.acc_ivanov.number} нет света",
        customer=None,
        channel="sms",
        contact_name="SMS",
        contact_phone="+79120001122",
    )
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "other", "default")
    client = login(org.cc_operator)
    queue = client.get(reverse("appeals:department_queue")).content.decode()
    assert "to confirm" in queue and customers.acc_ivanov.number in queue
    card = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "below the threshold" in card
    assert re.search(r'<details class="action" id="act-classify" open>', card)
    assert re.search(r'<option value="outage" selected>', card)  # pre-filled with the suggestion

    response = client.post(
        reverse("appeals:action", args=[appeal.pk, "classify"]),
        {"version": appeal.version, "kind": "report", "topic": "outage", "link_account": "on"},
    )

    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("report", "outage", "operator")
    assert appeal.account == customers.acc_ivanov and appeal.customer == customers.ivanov
    assert appeal.suggested_account is None
    assert appeal.events.filter(type="reclassified").count() == 1
    stats = {(s.kind, s.topic): s.received for s in AppealStat.objects.filter(branch=appeal.branch)}
    assert stats[("report", "outage")] == 1 and stats.get(("info_request", "other"), 0) == 0


def test_a_supply_complaint_without_its_fields_cannot_be_chosen_on_the_card(register, org, login):
    appeal = register(kind="report", topic="outage")
    response = login(org.cc_operator).post(
        reverse("appeals:action", args=[appeal.pk, "classify"]),
        {"version": appeal.version, "kind": "complaint", "topic": "outage"},
    )
    assert response.status_code == 400
    assert "A complaint about supply needs the contract" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.kind == "report"


def test_the_queue_marks_appeals_typed_by_the_assistant(classifier, settings, customers, org, login):
    from okno.assistant.intake import common
    from okno.org.models import system_actor

    classifier("application", "metering", 0.95, 0.95)
    common.register(
        actor=system_actor("sms"), text="Прошу заменить счётчик", customer=customers.ivanov, channel="sms"
    )

    html = login(org.cc_operator).get(reverse("appeals:department_queue")).content.decode()

    assert ">auto<" in html
