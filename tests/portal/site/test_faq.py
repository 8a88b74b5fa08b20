"""FAQ by topic with search: case-insensitive, ё = е, word forms, every word required, highlighted safely."""

from __future__ import annotations

import pytest
from django.urls import reverse

from okno.content import search


def _faq(client, **params):
    return client.get(reverse("site:faq"), params).content.decode()


def test_all_published_questions_by_topic(ru, content):
    from okno.content.models import FaqEntry

    FaqEntry.objects.create(topic="other", question="Скрытый вопрос", answer="…", published=False)
    html = _faq(ru)
    assert "Кто должен менять счётчик, если истёк срок поверки?" in html
    assert 'id="topic-metering"' in html and 'id="topic-outages"' in html
    assert "Скрытый вопрос" not in html


def test_search_finds_other_word_forms_and_highlights(ru, content):
    html = _faq(ru, q="счетчики")
    assert "Кто должен менять <mark>счётчик</mark>, если истёк срок поверки?" in html
    assert "«счетчики»" in html or "“счетчики”" in html
    assert "Как оплатить электроэнергию без комиссии?" not in html


def test_every_word_of_the_query_must_match(en, content):
    html = _faq(en, q="счётчик поверки")
    assert "Who replaces the meter when its verification expires?" in html
    assert "When should I hand in meter readings?" not in html
    assert "1 answer found" in html


def test_english_page_shows_english_texts_found_by_a_russian_query(en, content):
    html = _faq(en, q="счетчики")
    assert "Who replaces the meter when its verification expires?" in html
    assert "3 answers found for “счетчики”." in html


def test_search_is_case_insensitive_and_searches_answers_too(ru, content):
    html = _faq(ru, q="РЕГИСТРАТОР")
    assert "Низкое напряжение в сети: что делать?" in html
    assert "<mark>регистратор</mark>" in html


def test_search_in_english_finds_english_texts(en, content):
    html = _faq(en, q="meter readings")
    assert "When should I hand in <mark>meter</mark> <mark>readings</mark>?" in html
    assert "How can I pay" not in html


def test_search_that_finds_nothing_says_so(en, content):
    html = _faq(en, q="космодром")
    assert "Nothing found for “космодром”." in html
    assert "<details" not in html


def test_topic_filter(ru, content):
    html = _faq(ru, topic="outages")
    assert "Где узнать о плановых отключениях электроэнергии?" in html
    assert "Кто должен менять счётчик" not in html
    html = _faq(ru, topic="outages", q="счётчик")
    assert "<details" not in html


def test_unknown_topic_is_ignored(ru, content):
    assert "Кто должен менять счётчик" in _faq(ru, topic="<b>")


def test_query_is_escaped_in_the_page_and_highlight(ru, content):
    from okno.content.models import FaqEntry

    FaqEntry.objects.create(topic="other", question="Вопрос про <b>теги</b>", answer="Ответ <i>курсивом</i>")
    html = _faq(ru, q="<script>alert(1)</script> теги")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    html = _faq(ru, q="теги")
    assert "Вопрос про &lt;b&gt;<mark>теги</mark>&lt;/b&gt;" in html
    assert "<i>" not in html


def test_links_to_ask_a_question_when_the_form_exists(en, content):
    from django.urls import NoReverseMatch

    html = _faq(en)
    try:
        url = reverse("reception:question")
    except NoReverseMatch:
        assert "/reception/question" not in html
    else:
        assert f'href="{url}"' in html


@pytest.mark.parametrize(
    ("word", "other"),
    [("счётчик", "счетчиками"), ("подключение", "подключить"), ("оплата", "оплатить"), ("meters", "meter")],
)
def test_stems_match_word_forms(word, other):
    assert search.text_matches([other], search.terms(word))


def test_stop_words_alone_find_nothing(en, content):
    assert search.terms("как и что") == []
    assert "Nothing found" in _faq(en, q="как и что")
