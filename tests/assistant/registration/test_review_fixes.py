"""Regressions found in review of the classifier at registration: the SMS gateway's scope, the holder's
address of an account named in the text, reclassification (deadline warnings, the supply complaint's
contact), the operator's choice kept across re-rendered pages, and the queue's query count."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from okno.appeals import actions
from okno.appeals.models import Appeal
from okno.assistant.intake import common
from okno.org.models import system_actor
from tests.assistant.registration.conftest import register_form

pytestmark = pytest.mark.django_db

IVANOV_PHONE = "+7 (912) 345-67-89"


def _gateway(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- the SMS gateway's scope ---------------------------------------------------------------------


def test_another_branchs_gateway_account_does_not_link_the_customer_of_the_phone(
    classifier, settings, customers, org
):
    settings.ASSISTANT_INTAKE_BRANCH = "east"
    classifier("info_request", "outage", 0.95, 0.95)

    # Иванов's phone, through a token of branch B: Иванов (branch A) is not identified by it
    body = (
        _gateway(org.operator_b)
        .post("/api/v1/readings/sms/", {"phone": IVANOV_PHONE, "text": "Когда дадут свет на нашей улице?"})
        .json()
    )

    appeal = Appeal.objects.get()
    assert (body["outcome"], body["appeal_number"]) == ("appeal", appeal.number)
    assert appeal.customer is None and appeal.account is None
    assert appeal.contact_name == "SMS sender +79123456789"
    assert appeal.branch == org.b


def test_a_company_wide_gateway_account_still_identifies_the_customer(classifier, customers, org):
    classifier("info_request", "outage", 0.95, 0.95)

    _gateway(org.cc_operator).post(
        "/api/v1/readings/sms/", {"phone": IVANOV_PHONE, "text": "Когда дадут свет на нашей улице?"}
    )

    appeal = Appeal.objects.get()
    assert (appeal.customer, appeal.account) == (customers.ivanov, customers.acc_ivanov)


# --- the account named in the text, seen from another branch --------------------------------------


def _stranger_appeal_in_branch_a(settings, customers) -> Appeal:
    settings.ASSISTANT_INTAKE_BRANCH = "north"
    return common.register(
        actor=system_actor("sms"),
        text=f"Прошу сверить начисления по лицевому счёту {customers.acc_romashka.number}",
        customer=None,
        channel="sms",
        contact_name="SMS",
        contact_phone="+79120001122",
    )


def test_the_holders_address_is_shown_only_to_staff_who_may_see_the_account(
    classifier, settings, customers, org, client
):
    classifier("info_request", "billing", 0.95, 0.95)
    appeal = _stranger_appeal_in_branch_a(settings, customers)
    assert appeal.branch == org.a and appeal.suggested_account == customers.acc_romashka
    holder_address = customers.acc_romashka.service_point.address.short()

    client.force_login(org.operator_a)  # branch A: sees the appeal, not Ромашка's account (branch B)
    card = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert customers.acc_romashka.number in card and "named in the text, not linked" in card
    assert holder_address not in card
    assert 'name="link_account"' not in card

    client.force_login(org.cc_operator)  # the whole company
    card = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert holder_address in card
    assert 'name="link_account"' in card


def test_an_operator_cannot_link_an_account_outside_their_scope(classifier, settings, customers, org, client):
    classifier("info_request", "billing", 0.95, 0.95)
    appeal = _stranger_appeal_in_branch_a(settings, customers)
    client.force_login(org.operator_a)

    response = client.post(
        reverse("appeals:action", args=[appeal.pk, "classify"]),
        {"version": appeal.version, "kind": "info_request", "topic": "billing", "link_account": "on"},
    )

    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.account is None and appeal.customer is None
    assert appeal.suggested_account == customers.acc_romashka


# --- reclassification ------------------------------------------------------------------------------


def test_a_moved_deadline_is_warned_about_again_and_recorded(register, org):
    appeal = register(kind="info_request", topic="other")
    past = timezone.now() - dt.timedelta(hours=1)
    Appeal.objects.filter(pk=appeal.pk).update(warned_at=past, overdue_escalated_at=past)
    appeal.refresh_from_db()
    old_deadline = appeal.deadline_at

    done = actions.reclassify(appeal, actor=org.cc_operator, kind="report", topic="outage")

    done.refresh_from_db()
    assert done.deadline_at != old_deadline
    assert done.deadline_at > timezone.now()
    assert done.warned_at is None and done.overdue_escalated_at is None
    event = done.events.get(type="reclassified")
    assert [dt.datetime.fromisoformat(d) for d in event.payload["deadline"]] == [
        old_deadline,
        done.deadline_at,
    ]
    assert event.payload["kind"] == ["info_request", "report"]


def test_confirming_the_same_type_and_topic_keeps_the_warning(register, org):
    appeal = register(kind="report", topic="outage")
    past = timezone.now() - dt.timedelta(hours=1)
    Appeal.objects.filter(pk=appeal.pk).update(warned_at=past)
    appeal.refresh_from_db()

    done = actions.reclassify(appeal, actor=org.cc_operator, kind="report", topic="outage")

    done.refresh_from_db()
    assert done.warned_at == past and done.classified_by == "operator"


def _report_with_complaint_fields(org, **contact):
    return actions.register_appeal(
        channel="mail",
        kind="report",
        topic="outage",
        text="Нет света, требую перерасчёт",
        actor=org.cc_operator,
        contact_name="Сидоров",
        preferred_answer_channel="mail",
        branch=org.a,
        contract_number="Д-77",
        violation_place="Северск, ул. Ленина, 10",
        violation_at=timezone.now() - dt.timedelta(days=1),
        demand="Перерасчёт",
        **contact,
    )


def test_a_supply_complaint_needs_a_contact_on_the_card_as_at_registration(org):
    silent = _report_with_complaint_fields(org)
    reachable = _report_with_complaint_fields(org, contact_phone="+79120001122")

    with pytest.raises(ValidationError) as refused:
        actions.reclassify(silent, actor=org.cc_operator, kind="complaint", topic="outage")
    done = actions.reclassify(reachable, actor=org.cc_operator, kind="complaint", topic="outage")

    assert "a phone or an e-mail" in refused.value.message_dict["kind"][0]
    silent.refresh_from_db()
    assert silent.kind == "report"
    assert done.kind == "complaint"


# --- the register screen keeps the operator's choice ------------------------------------------------


_form = register_form


def test_the_button_updates_its_own_values_but_keeps_the_operators(classifier, customers, org, client):
    client.force_login(org.cc_operator)
    classifier("report", "outage", 0.95, 0.95)
    first = client.post(
        "/appeals/new/", _form(text="Нет света третий день", action="suggest")
    ).content.decode()
    assert re.search(r'name="prefilled_kind" value="report"', first)
    assert re.search(r'name="prefilled_topic" value="outage"', first)

    classifier("application", "metering", 0.95, 0.95)
    # the type is still what the assistant filled in; the topic was changed by the operator
    again = client.post(
        "/appeals/new/",
        _form(
            text="Прошу заменить счётчик",
            kind="report",
            topic="billing",
            prefilled_kind="report",
            prefilled_topic="outage",
            action="suggest",
        ),
    ).content.decode()

    assert re.search(r'<option value="application" selected>', again)
    assert re.search(r'<option value="billing" selected>', again)
    assert Appeal.objects.count() == 0


def test_a_page_returned_with_errors_keeps_what_the_assistant_filled_in(customers, org, client):
    client.force_login(org.cc_operator)

    response = client.post(
        "/appeals/new/",
        _form(
            text="Нет света", kind="report", topic="outage", prefilled_kind="report", prefilled_topic="outage"
        ),
    )

    html = response.content.decode()
    assert response.status_code == 400  # nobody picked and no contact name
    assert 'name="prefilled_kind" value="report"' in html
    assert 'name="prefilled_topic" value="outage"' in html


# --- the queue -------------------------------------------------------------------------------------


def test_the_queue_costs_the_same_queries_however_many_suggested_accounts(
    classifier, settings, customers, org, client
):
    classifier("info_request", "billing", 0.5, 0.5)
    settings.ASSISTANT_INTAKE_BRANCH = "north"
    client.force_login(org.cc_operator)

    def add(n):
        for _ in range(n):
            common.register(
                actor=system_actor("sms"),
                text=f"л/с {customers.acc_ivanov.number}, Северск, ул. Ленина, д. 10: вопрос по счёту",
                customer=None,
                channel="sms",
                contact_name="SMS",
                contact_phone="+79120001122",
            )

    def count():
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(reverse("appeals:department_queue")).content.decode()
        return len(ctx.captured_queries), html

    add(1)
    count()  # the first request of a session warms its caches
    one, _html = count()
    add(4)
    five, html = count()

    assert html.count("(from the text)") == 5 and html.count("to confirm") >= 5
    assert five == one


# --- in the browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("OKNO_BROWSER_TESTS") != "1",
    reason="browser tests run under CI=true or OKNO_BROWSER_TESTS=1",
)
@pytest.mark.django_db(transaction=True)
def test_the_script_keeps_the_type_chosen_before_a_page_with_errors(
    live_server, okno_static, page, org, customers
):
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "cc_operator")
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))

    page.goto(f"{base}/appeals/new/")
    page.select_option("#id_kind", "application")  # the operator's choice
    page.fill("#id_text", "Нет света")
    # no customer and no contact name: the page comes back with errors, the choice in it
    page.click("#register-form button[type=submit]:not([name=action]):not(.visually-hidden)")
    page.wait_for_selector(".errorlist, .error")
    assert page.input_value("#id_kind") == "application"

    page.fill(
        "#id_text",
        f"Здравствуйте, лицевой счёт {customers.acc_ivanov.number}, на улице Ленина дом 10 третий день нет света",
    )
    page.wait_for_selector("#suggestion-panel[data-topic=outage]", timeout=20_000)

    assert page.input_value("#id_kind") == "application"  # kept
    assert page.input_value("#id_topic") == "outage"  # still the default: filled in
