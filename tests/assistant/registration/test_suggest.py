"""okno.assistant.suggest: type, topic, confidences, reasons, accounts, the address and phones of a
free text, with the real model; the threshold setting; no model → no suggestion, never a crash."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from okno.assistant import nlu, suggest

pytestmark = pytest.mark.django_db


def test_the_demo_text_is_a_report_about_an_outage_with_its_account_and_address(customers):
    text = (
        f"Здравствуйте, лицевой счёт {customers.acc_ivanov.number}, на улице Ленина дом 10 "
        "третий день нет света"
    )

    found = suggest.suggest(text)

    assert (found.kind, found.topic) == ("report", "outage")
    assert found.apply_kind and found.apply_topic
    # complaint and report together: a supply problem told in free text registers as a report
    assert found.kind_confidence > 0.9
    assert found.topic_confidence > 0.85
    assert "свет" in found.reasons
    assert found.account_numbers == [customers.acc_ivanov.number]
    assert found.account == customers.acc_ivanov
    # the house has a row only for flat 5 (the account's): the account says which flat is meant
    assert found.address == customers.acc_ivanov.service_point.address
    assert found.address_candidates == []


@pytest.mark.parametrize(
    ("text", "kind", "topic", "reason"),
    [
        ("Счётчик сломался, показания не видно", "report", "metering", "счетчик"),
        ("Как рассчитывается плата за ОДН?", "info_request", "billing", "плата"),
        ("Прошу продлить часы работы офиса в Северске.", "application", "service_quality", "офис"),
        ("Когда дадут свет?", "info_request", "outage", "свет"),
    ],
)
def test_hand_checked_texts(text, kind, topic, reason, customers):
    found = suggest.suggest(text)

    assert (found.kind, found.topic) == (kind, topic)
    assert reason in found.reasons
    assert 0 < found.confidence <= 1
    assert found.accounts == [] and found.address is None


def test_accounts_are_limited_to_the_known_customer_and_to_the_users_scope(customers, org):
    text = f"Счета {customers.acc_ivanov.number} и {customers.acc_romashka.number}, прошу сверить начисления"

    everyone = suggest.suggest(text)
    of_romashka = suggest.suggest(text, customer=customers.romashka)
    branch_a_operator = suggest.suggest(text, user=org.operator_a)

    assert everyone.account_numbers == [customers.acc_ivanov.number, customers.acc_romashka.number]
    assert everyone.accounts == [customers.acc_ivanov, customers.acc_romashka]
    assert everyone.account is None  # two: none is "the" account
    assert of_romashka.accounts == [customers.acc_romashka]
    assert branch_a_operator.accounts == [customers.acc_ivanov]


def test_an_unknown_account_number_and_an_address_and_a_phone(customers):
    found = suggest.suggest(
        "л/с 0000030031 в п. Восточный, ул. Заводская, д. 3 не горит фонарь, тел. 8 912 000 11 22"
    )

    assert found.account_numbers == ["0000030031"]
    assert found.accounts == []
    assert found.address == customers.acc_romashka.service_point.address
    assert found.phones == ["+79120001122"]


def test_unusable_texts_get_no_type(customers):
    assert suggest.suggest("").unusable == "empty"
    english = suggest.suggest("Hello, my power is off since the morning")
    assert (english.unusable, english.available, english.kind) == ("not_russian", False, "")


def test_without_a_model_file_there_is_no_suggestion_and_no_training(monkeypatch, tmp_path, customers):
    monkeypatch.setattr(nlu, "_model", None)
    monkeypatch.setattr(nlu, "MODEL_PATH", tmp_path / "absent.joblib")

    def no_training(*args, **kwargs):
        raise AssertionError("a model must not be trained inside a registration")

    monkeypatch.setattr(nlu, "train", no_training)

    found = suggest.suggest(f"Нет света, л/с {customers.acc_ivanov.number}")

    assert (found.available, found.kind, found.topic, found.confidence) == (False, "", "", 0.0)
    assert found.accounts == [customers.acc_ivanov]  # the entities are still read


def test_a_failing_classifier_gives_no_suggestion(monkeypatch, customers):
    def broken(text):
        raise RuntimeError("corrupt model")

    monkeypatch.setattr(suggest, "_model_ready", lambda: True)
    monkeypatch.setattr(nlu, "classify", broken)

    assert suggest.suggest("Нет света третий день").available is False


def test_threshold_setting(settings):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = "0.85"
    assert suggest.threshold() == 0.85
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = "much"
    with pytest.raises(ImproperlyConfigured):
        suggest.threshold()
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 2
    with pytest.raises(ImproperlyConfigured):
        suggest.threshold()
    del settings.OKNO_ASSISTANT_AUTO_THRESHOLD
    assert suggest.threshold() == suggest.DEFAULT_THRESHOLD == 0.70


def test_each_label_is_applied_only_at_or_above_the_threshold(classifier, settings):
    settings.OKNO_ASSISTANT_AUTO_THRESHOLD = 0.8
    classifier("application", "metering", 0.79, 0.8)

    found = suggest.suggest("Прошу заменить счётчик")

    assert (found.apply_kind, found.apply_topic) == (False, True)
    assert found.applied("info_request", "other") == ("info_request", "metering", True)
    assert found.confidence == 0.79
