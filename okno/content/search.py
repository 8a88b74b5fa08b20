"""Search of the FAQ: case-insensitive, ё = е, with light Russian (and English) stemming.

When ``pymorphy3`` is installed the words are first reduced to their dictionary form; then (or without
it, alone) a small suffix stripper does the job well enough for a few hundred questions ("счётчики", "счётчика" and
"счётчик" all match). Every word of the query must occur in the question or the answer (in either
language), so adding a word narrows the result. The FAQ is small (hundreds of rows), so the search runs
in Python over the published entries; it needs no database extension and behaves the same on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.utils.html import escape

WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return text.split()


STOP_WORDS = frozenset(
    _words(
        "и в во на не по за из к ко у о об от до для с со а но или ли же что как где когда какой какие "
        "мне меня мой моя мое моё я вы ваш это то the a an and or of to in on for is are do does how what "
        "my i can"
    )
)
# Longest first: the first ending that leaves a stem of three letters or more is removed.
_RU_ENDINGS = sorted(
    _words(
        """
    иями ями ами ией иях ях ах ов ев ей ий ый ой ая яя ое ее ые ие ых их ым им ом ем ую юю ого его ому ему
    ыми ими ия ье ья ью ию ии ам ям ь а я о е ы и у ю
    ться тся ешь ете ите ишь ет ит ут ют ат ят ил ыл ла ли ло ать ять еть ить уть ешься ение ения ений ением
    ость ости остью ностей ание ания аний анием
    """
    ),
    key=len,
    reverse=True,
)
_EN_ENDINGS = ["ings", "ing", "ies", "ied", "es", "ed", "s"]


def fold(word: str) -> str:
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=1)
def _morph() -> Any:
    try:
        import pymorphy3  # type: ignore[import-not-found]
    except ImportError:
        return None
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """The comparable form of one word."""
    word = fold(word)
    if word.isdigit() or len(word) <= 3:
        return word
    cyrillic = bool(re.search("[а-я]", word))
    if cyrillic:
        morph = _morph()
        if morph is not None:  # the dictionary form first, then the same ending rules: a verb and its
            word = fold(morph.parse(word)[0].normal_form)  # noun meet ("оплатить", "оплата" → "оплат")
        endings = _RU_ENDINGS
    else:
        endings = _EN_ENDINGS
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def terms(query: str) -> list[str]:
    """The stems the query asks for (stop words and one-letter words dropped), in order, unique."""
    out: list[str] = []
    for raw in WORD.findall(query or ""):
        word = fold(raw)
        if word in STOP_WORDS or len(word) < 2:
            continue
        s = stem(word)
        if s not in out:
            out.append(s)
    return out


def _matches(word_stem: str, wanted: str) -> bool:
    # A stem found as the start of a longer stem counts too ("оплат" finds "оплатить" → "оплат").
    return word_stem == wanted or (len(wanted) >= 4 and word_stem.startswith(wanted))


def text_matches(texts: Iterable[str], wanted: list[str]) -> bool:
    """Whether every wanted stem occurs among the words of ``texts``."""
    stems = {stem(w) for text in texts for w in WORD.findall(text or "")}
    return all(any(_matches(s, w) for s in stems) for w in wanted)


def highlighter(wanted: list[str]):  # noqa: ANN201 - returns the markup module's Marker
    """A function that escapes a run of text and wraps the words matching ``wanted`` in ``<mark>``."""

    def mark(text: str) -> str:
        if not wanted:
            return escape(text)
        out: list[str] = []
        pos = 0
        for m in WORD.finditer(text):
            if any(_matches(stem(m.group(0)), w) for w in wanted):
                out.append(escape(text[pos : m.start()]))
                out.append(f"<mark>{escape(m.group(0))}</mark>")
                pos = m.end()
        out.append(escape(text[pos:]))
        return "".join(out)

    return mark
