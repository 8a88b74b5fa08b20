"""The conversation's life: greeting, bad input (stored, answered clearly), cancel words, hand-off and
the operator's take/reply/close, the contact-history line created once, the idle-close job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from okno.assistant.dialogue import engine, texts
from okno.assistant.models import ChatMessage, Conversation
from tests.assistant.dialogue.conftest import bot_text, say

pytestmark = pytest.mark.django_db


def test_start_greets_with_the_menu(org, chat):
    conv = chat()
    greeting = conv.messages.get()
    assert greeting.author == "bot"
    assert greeting.text.startswith("Hello! I am the virtual assistant of ТСК.")
    assert [c["value"] for c in greeting.choices][-1] == "operator"
    assert conv.status == "bot" and conv.channel == "chat"


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_message_is_stored_and_answered(org, chat, text):
    conv = chat()
    out = say(conv, text)
    assert [m.author for m in out] == ["customer", "bot"]
    assert out[0].text == text
    assert out[1].text == texts.please_describe()


def test_huge_message_is_stored_whole_and_answered(org, chat):
    conv = chat()
    text = "свет " * 1000
    out = say(conv, text)
    assert ChatMessage.objects.get(pk=out[0].pk).text == text
    assert out[1].text.startswith("Your message is too long (5000 characters).")


def test_non_russian_text_gets_please_describe_in_russian(org, chat):
    conv = chat(language="ru")
    out = say(conv, "Is there electricity at my house?")
    with translation.override("ru"):
        expected = engine._(
            "Please describe your question in Russian: for example «is there power at Lenina 15»."
        )
    assert out[1].text == expected
    assert out[0].text == "Is there electricity at my house?"


def test_cancel_leaves_the_pending_question(org, chat):
    conv = chat()
    say(conv, "баланс")
    assert conv.state["pending"]["kind"] == "ident_number"
    out = say(conv, "отмена")
    assert out[-1].text == "Cancelled. What else can I help with?"
    assert "pending" not in conv.state
    say(conv, "статус обращения")
    say(conv, "назад")
    assert "pending" not in conv.state


def test_hand_off_then_take_reply_close(org, chat):
    conv = chat()
    say(conv, "есть ли свет на Ленина 99")
    out = say(conv, "позовите оператора")
    assert conv.status == "waiting" and conv.handed_off_at is not None
    assert out[-1].author == "system" and "passing the conversation to an operator" in out[-1].text
    assert "Last message: «позовите оператора»." in conv.state["handoff"]["summary"]

    out = say(conv, "алло?")
    assert [m.author for m in out] == ["customer", "system"]
    assert [m.author for m in say(conv, "есть кто?")] == ["customer"]  # the notice once only

    msg = engine.take(conv, org.cc_operator)
    assert conv.status == "operator" and conv.operator == org.cc_operator
    assert msg.text == "Operator Тест has joined the conversation."
    with pytest.raises(engine.AlreadyTaken):
        engine.take(conv, org.operator_a)
    reply = engine.operator_reply(conv, org.cc_operator, "Здравствуйте! Уточните адрес, пожалуйста.")
    assert reply.author == "operator" and reply.operator == org.cc_operator
    assert [m.author for m in say(conv, "Северск, Ленина 99")] == ["customer"]  # the bot is silent
    with pytest.raises(engine.DialogueError):
        engine.operator_reply(conv, org.cc_operator, "  ")

    closing = engine.close(conv, by=org.cc_operator)
    assert conv.status == "closed" and conv.closed_at is not None
    assert closing.text.startswith("Operator Тест has closed the conversation.")
    with pytest.raises(engine.ConversationClosed):
        say(conv, "ещё вопрос")
    assert engine.close(conv) == closing
    # The whole transcript stays with the conversation.
    assert [m.author for m in engine.messages_after(conv, 0)][:3] == ["bot", "customer", "bot"]
    assert engine.messages_after(conv, closing.pk) == []


def test_contact_event_created_once_and_updated(metered, chat, customers):
    from okno.customers.models import ContactEvent

    conv = chat()
    say(conv, "баланс")
    assert not ContactEvent.objects.filter(ref_type="assistant.conversation").exists()
    say(conv, f"{metered.account.number} 41234567")
    say(conv, "баланс")
    say(conv, "оператор")
    events = ContactEvent.objects.filter(ref_type="assistant.conversation", ref_id=conv.pk)
    assert events.count() == 1
    event = events.get()
    assert event.customer == customers.ivanov and event.kind == "chat" and event.channel == "chat"
    assert f"account {metered.account.number} confirmed" in event.summary
    assert "passed to an operator" in event.summary


def test_cabinet_conversation_is_in_the_history_from_the_start(chat, cabinet_user, customers):
    from okno.customers.models import ContactEvent

    conv = chat("cabinet", cabinet_user=cabinet_user)
    assert conv.customer == customers.ivanov and conv.account == customers.acc_ivanov
    assert ContactEvent.objects.filter(ref_id=conv.pk, kind="chat", channel="cabinet").count() == 1


def test_idle_conversations_are_closed_by_the_job(org, chat, settings):
    from okno.core import jobs

    settings.OKNO_CHAT_IDLE_MINUTES = 30
    idle, fresh = chat(), chat()
    old = timezone.now() - dt.timedelta(minutes=31)
    Conversation.objects.filter(pk=idle.pk).update(last_activity_at=old)
    jobs.autodiscover()
    result = jobs.REGISTRY["assistant.close_idle_chats"].func()
    assert result == {"closed": 1}
    idle.refresh_from_db()
    fresh.refresh_from_db()
    assert idle.status == "closed" and fresh.status == "bot"
    assert (
        idle.messages.order_by("-id")
        .first()
        .text.startswith("The conversation is closed because there were no messages for 30 min.")
    )
    assert idle.last_activity_at == old
    assert jobs.REGISTRY["assistant.close_idle_chats"].func() == {"closed": 0}


def test_unknown_chat_channel_is_refused(db):
    with pytest.raises(engine.DialogueError):
        engine.start("fax")
    with pytest.raises(engine.DialogueError):
        engine.start("cabinet")
    assert bot_text([]) == ""


def test_idle_job_leaves_conversations_with_an_operator_or_in_the_queue(org, chat, settings):
    """30 idle minutes close a conversation with the bot, not one an operator holds or the queue has
    (an operator looking things up, a queue at night); those close after the hand-off limit."""
    settings.OKNO_CHAT_IDLE_MINUTES = 30
    settings.OKNO_CHAT_HANDOFF_IDLE_MINUTES = 240
    with_operator, waiting, with_bot = chat(), chat(), chat()
    engine.operator_reply(with_operator, org.cc_operator, "Проверяю, подождите")
    engine.hand_off(waiting)
    now = timezone.now()
    Conversation.objects.update(last_activity_at=now - dt.timedelta(minutes=45))
    assert engine.close_idle(now=now) == 1
    statuses = dict(Conversation.objects.values_list("pk", "status"))
    assert statuses == {with_operator.pk: "operator", waiting.pk: "waiting", with_bot.pk: "closed"}

    Conversation.objects.filter(pk=waiting.pk).update(last_activity_at=now - dt.timedelta(minutes=241))
    assert engine.close_idle(now=now) == 1
    waiting.refresh_from_db()
    with_operator.refresh_from_db()
    assert waiting.status == "closed" and with_operator.status == "operator"
    assert (
        waiting.messages.order_by("-id")
        .first()
        .text.startswith("The conversation is closed because there were no messages for 240 min.")
    )


def test_nul_characters_and_lone_surrogates_are_stored_not_refused(org, chat):
    """PostgreSQL refuses NUL in text and JSON, and a lone surrogate cannot be encoded: the message is
    kept (without them) and answered instead of failing the whole turn."""
    conv = chat()
    out = say(conv, "есть\x00 свет на Ленина 15?\ud800")
    assert out[0].author == "customer"
    assert out[0].text == "есть свет на Ленина 15??"
    assert ChatMessage.objects.get(pk=out[0].pk).text == "есть свет на Ленина 15??"
    assert len(out) >= 2  # answered
    reply = engine.operator_reply(conv, org.cc_operator, "Ответ\x00")
    assert ChatMessage.objects.get(pk=reply.pk).text == "Ответ"


def test_the_row_lock_is_taken_on_the_conversation_only(org, chat):
    """``select_for_update`` with the nullable customer/account joined needs ``of=("self",)`` on
    PostgreSQL ("FOR UPDATE cannot be applied to the nullable side of an outer join")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conv = chat()
    with CaptureQueriesContext(connection) as queries:
        say(conv, "привет")
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks")
    assert locks and all('FOR UPDATE OF "assistant_conversation"' in sql for sql in locks)


def test_the_customer_never_sees_an_operators_login_or_full_name(org, chat):
    """Operators without a first name join and close anonymously: ``describe`` would show the username
    (a staff login) or the full name to the public."""
    from okno.org.models import User

    nameless = User.objects.create_user(username="k.petrova.cc", password="x-Svet-2026", last_name="Петрова")
    conv = chat()
    engine.hand_off(conv)
    joined = engine.take(conv, nameless)
    assert joined.text == "An operator has joined the conversation."
    closed = engine.close(conv, by=nameless)
    assert closed.text == "The operator has closed the conversation. Thank you for contacting us!"
    customer_side = " ".join(conv.messages.values_list("text", flat=True))
    assert "k.petrova.cc" not in customer_side and "Петрова" not in customer_side
    named = User.objects.create_user(username="anna.cc", password="x-Svet-2026", first_name="Анна")
    other = chat()
    assert engine.take(other, named).text == "Operator Анна has joined the conversation."
