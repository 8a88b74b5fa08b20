"""FAQ by retrieval: a hit answers with "Did this help?"; a miss offers an appeal or an operator; the
index follows changes of the FAQ."""

from __future__ import annotations

import pytest

from okno.assistant.dialogue import faq
from tests.assistant.dialogue.conftest import bot_text, say

pytestmark = pytest.mark.django_db


def test_hit_answers_and_asks_whether_it_helped(faq_entries, chat):
    conv = chat()
    out = say(conv, "Подскажите, когда нужно передавать показания?")
    reply = out[-1]
    assert reply.text.startswith("Когда передавать показания счётчика?\nС 15 по 25 число")
    assert reply.text.endswith("Did this help?")
    assert [c["value"] for c in reply.choices] == ["faq:yes", "faq:no"]
    out = say(conv, "faq:no")
    assert [c["value"] for c in out[-1].choices] == ["intent:register", "operator"]
    assert conv.state["unanswered"] == "Подскажите, когда нужно передавать показания?"


def test_hit_by_other_words_of_the_question(faq_entries, chat):
    conv = chat()
    out = say(conv, "как заплатить за электроэнергию без комиссии?")
    assert out[-1].text.startswith("Как оплатить электроэнергию без комиссии?")


def test_miss_offers_an_appeal_or_an_operator(faq_entries, chat):
    conv = chat()
    out = say(conv, "Почему у соседей вырубили дерево возле трансформаторной будки без предупреждения?")
    assert bot_text(out).startswith("I have no ready answer to this.")
    assert [c["value"] for c in out[-1].choices] == ["intent:register", "operator"]


def test_unpublished_entries_never_answer(faq_entries):
    assert faq.best("Как получить справку об отсутствии задолженности?") is None


def test_index_follows_changes(faq_entries):
    assert faq.best("Сколько стоит подключение дома?").entry == faq_entries.connection
    faq_entries.connection.published = False
    faq_entries.connection.save()
    assert faq.best("Сколько стоит подключение дома?") is None
