"""Appeal status by number (the answer text only to its owner) and registering an appeal from the chat
(channel chat, the transcript attached, the number and the deadline in the reply)."""

from __future__ import annotations

import pytest

from okno.assistant.dialogue.texts import local_time
from tests.assistant.dialogue.conftest import bot_text, say

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(register, org, customers):
    from okno.appeals import actions

    appeal = register(topic="billing", kind="info_request", text="Прошу пересчитать начисления.")
    actions.answer_appeal(appeal, actor=org.operator_a, text="Начисления пересчитаны.", channel="phone")
    appeal.refresh_from_db()
    return appeal


def test_status_for_a_stranger_has_no_answer_text(answered, chat):
    conv = chat()
    out = say(conv, f"какой статус обращения {answered.number}?")
    text = bot_text(out)
    assert text.startswith(f"Appeal {answered.number}: answered.")
    assert "Начисления пересчитаны" not in text
    assert "shown only to the customer who made the appeal" in text


def test_status_for_the_identified_owner_has_the_answer(answered, chat, metered):
    conv = chat()
    say(conv, "баланс")
    say(conv, f"{metered.account.number} 41234567")
    out = say(conv, f"статус {answered.number}")
    assert "The answer: Начисления пересчитаны." in bot_text(out)


def test_open_appeal_status_has_the_deadline_in_branch_time(register, chat, org):
    appeal = register()
    conv = chat()
    say(conv, "статус обращения")
    assert conv.state["pending"]["kind"] == "appeal_number"
    out = say(conv, appeal.number)
    assert f"The answer is due by {local_time(appeal.deadline_at, org.a.tz)}." in bot_text(out)


def test_unknown_number(chat, org):
    conv = chat()
    out = say(conv, "2026-999999")
    assert bot_text(out).startswith("I did not find appeal 2026-999999.")


def test_registration_for_an_unknown_person(org, customers, chat):
    from okno.appeals.models import Appeal

    conv = chat()
    say(conv, "хочу подать обращение")
    assert conv.state["pending"]["kind"] == "register_text"
    out = say(conv, "Во дворе дома на улице Ленина 10 в Северске третий день не горит фонарь у подъезда")
    assert out[-1].text.startswith("I will register an appeal with this text:")
    say(conv, "yes")
    assert conv.state["pending"]["kind"] == "register_name"
    say(conv, "Мария Петрова")
    out = say(conv, "мой телефон 8 912 111-22-33")
    appeal = Appeal.objects.get()
    assert appeal.channel == "chat"
    assert appeal.contact_name == "Мария Петрова"
    assert appeal.contact_phone == "+79121112233"
    assert appeal.text.startswith("Во дворе дома на улице Ленина 10")
    assert bot_text(out) == (
        f"Your appeal is registered under number {appeal.number}. "
        f"The answer is due by {local_time(appeal.deadline_at, appeal.branch.tz)}."
    )
    conv.refresh_from_db()
    assert conv.appeal == appeal
    attachment = appeal.attachments.get()
    content = attachment.file.read().decode()
    assert "Мария Петрова" in content and "фонарь у подъезда" in content
    assert "Customer:" in content and "Assistant:" in content


def test_registration_of_a_known_customer_skips_name_and_contact(metered, chat, customers):
    from okno.appeals.models import Appeal
    from okno.customers.models import ContactEvent

    conv = chat()
    say(conv, "баланс")
    say(conv, f"{metered.account.number} 41234567")
    out = say(
        conv, "Прошу проверить правильность начислений за прошлый месяц, сумма кажется завышенной вдвое"
    )
    # Not a self-service question: offered to register it.
    values = [c["value"] for c in out[-1].choices]
    assert "intent:register" in values
    say(conv, "intent:register")
    out = say(conv, "да")
    appeal = Appeal.objects.get()
    assert appeal.customer == customers.ivanov
    assert appeal.channel == "chat"
    assert f"registered under number {appeal.number}" in bot_text(out)
    event = ContactEvent.objects.get(ref_type="assistant.conversation", ref_id=conv.pk)
    assert f"appeal {appeal.number} registered" in event.summary


def test_messenger_registration_uses_channel_messenger(org, customers, chat):
    from okno.appeals.models import Appeal

    conv = chat("messenger", external_id="telegram:42")
    say(conv, "зарегистрировать обращение")
    say(conv, "Прошу установить дополнительную опору освещения возле дома номер 5 по улице Мира в Берёзовке")
    say(conv, "yes")
    say(conv, "Иван")
    say(conv, "ivan@example.ru")
    appeal = Appeal.objects.get()
    assert appeal.channel == "messenger"
    assert appeal.contact_email == "ivan@example.ru"
    assert appeal.preferred_answer_channel == "email"


def test_status_lookups_are_limited_per_messenger_chat_across_new_conversations(answered, chat):
    """Numbers are sequential: a Telegram user restarting the conversation (/start) keeps the same
    allowance of look-ups, so nobody walks through other people's appeals."""
    from okno.assistant.dialogue import appeals, engine

    for _i in range(appeals.STATUS_LIMIT):
        conv = chat("messenger", external_id="telegram:4242")
        assert bot_text(say(conv, f"статус {answered.number}")).startswith(f"Appeal {answered.number}:")
        engine.close(conv)
    conv = chat("messenger", external_id="telegram:4242")
    assert bot_text(say(conv, f"статус {answered.number}")).startswith("Too many requests.")
    other = chat("messenger", external_id="telegram:4243")
    assert bot_text(say(other, f"статус {answered.number}")).startswith(f"Appeal {answered.number}:")
