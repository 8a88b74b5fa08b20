"""Text channels register with the assistant: above the threshold the type and topic are applied
("assistant"), below it the defaults wait for an operator ("default"); the suggestion is recorded
either way; e-mail and SMS; accounts of unknown senders are recorded, never linked."""

from __future__ import annotations

import pytest

from okno.appeals.models import Appeal
from okno.assistant.intake import common
from okno.assistant.intake import email as email_intake
from okno.assistant.intake.sms import handle_sms
from okno.org.models import system_actor
from tests.assistant.test_intake_email import letter

pytestmark = pytest.mark.django_db


def test_above_the_threshold_type_and_topic_are_applied(classifier, settings, customers):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.8
    classifier("application", "metering", 0.8, 0.93, ["счетчик", "замена"])

    appeal = common.register(
        actor=system_actor("chat"), text="Прошу заменить счётчик", customer=customers.ivanov, channel="chat"
    )

    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("application", "metering", "assistant")
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("application", "metering")
    assert (appeal.suggested_kind_confidence, appeal.suggested_topic_confidence) == (0.8, 0.93)
    assert appeal.suggestion_reasons == ["счетчик", "замена"]
    assert appeal.suggestion_followed is True
    assert appeal.account == customers.acc_ivanov  # the customer's only account
    registered = appeal.events.get(type="registered").payload
    assert registered["classified_by"] == "assistant"
    assert registered["suggestion"]["topic"] == "metering"


def test_below_the_threshold_the_defaults_wait_for_an_operator(classifier, settings, customers):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.8
    classifier("application", "metering", 0.6, 0.79)

    appeal = common.register(
        actor=system_actor("chat"), text="Что-то со счётчиком", customer=customers.ivanov, channel="chat"
    )

    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "other", "default")
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("application", "metering")
    assert appeal.awaits_classification and appeal.suggestion_followed is False


def test_only_the_confident_label_is_applied(classifier, settings, customers):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.8
    classifier("application", "billing", 0.5, 0.95)

    appeal = common.register(
        actor=system_actor("chat"), text="Вопрос по оплате", customer=customers.ivanov, channel="chat"
    )

    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "billing", "assistant")


def test_an_email_from_a_stranger_gets_the_address_and_only_a_suggested_account(customers, org):
    raw = letter(
        sender="Некто <stranger@example.ru>",
        subject="Нет света",
        text=f"Лицевой счёт {customers.acc_ivanov.number}, на улице Ленина дом 10 третий день нет света.",
        mid="<stranger@x>",
    )

    appeal = email_intake.process_message(raw).appeal

    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("report", "outage", "assistant")
    assert appeal.customer is None and appeal.account is None
    assert appeal.suggested_account == customers.acc_ivanov  # for the operator to confirm
    assert appeal.address == customers.acc_ivanov.service_point.address
    assert appeal.branch == org.a and appeal.department == org.dept_a  # routed by the address


def test_an_email_of_a_known_customer_links_the_account_named(customers):
    raw = letter(
        text=f"Прошу пересчитать начисления по л/с {customers.acc_ivanov.number} за январь.", mid="<k@x>"
    )

    appeal = email_intake.process_message(raw).appeal

    assert appeal.customer == customers.ivanov and appeal.account == customers.acc_ivanov
    assert appeal.suggested_account is None
    assert appeal.suggested_topic == "billing"
    assert appeal.suggested_kind_confidence is not None


def test_an_sms_question_records_the_suggestion(customers):
    outcome = handle_sms(phone="+7 (912) 345-67-89", text="Когда дадут свет на улице Ленина?")

    appeal = Appeal.objects.get(pk=outcome.appeal.pk)
    assert (outcome.kind, appeal.channel, appeal.customer) == ("appeal", "sms", customers.ivanov)
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("info_request", "outage")
    assert appeal.topic == "outage" and appeal.classified_by == "assistant"
    assert appeal.suggestion_reasons


def test_a_missing_model_still_registers_with_the_defaults(monkeypatch, tmp_path, customers):
    from okno.assistant import nlu

    monkeypatch.setattr(nlu, "_model", None)
    monkeypatch.setattr(nlu, "MODEL_PATH", tmp_path / "absent.joblib")

    outcome = handle_sms(phone="+7 (912) 345-67-89", text="Когда дадут свет на улице Ленина?")

    appeal = outcome.appeal
    assert (appeal.kind, appeal.topic, appeal.classified_by) == ("info_request", "other", "default")
    assert (appeal.suggested_kind, appeal.suggested_topic) == ("", "")
