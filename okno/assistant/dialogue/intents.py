"""What a customer's message is about: the self-service intents by keywords (pymorphy3 lemmas through
:func:`okno.assistant.nlu.lemmas`), the FAQ by retrieval, and the classifier for the rest.

Order (first that fits wins):

1. an appeal's registration number (``2026-000123``) → its status;
2. a power question with an address, or a strong power phrase ("нет света", "есть ли свет",
   "дадут свет") → outage;
3. a question ("как", "когда", "где", "?", …) that the FAQ answers above its threshold → FAQ;
4. keywords: readings, balance, appeal status, registering an appeal, weaker power words;
5. the FAQ for a statement;
6. greeting, thanks, goodbye when the message holds nothing else;
7. the classifier's topic (outage → the outage question; billing/metering → the matching offers;
   anything else → "register an appeal or talk to an operator").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from okno.assistant import nlu

APPEAL_NUMBER = re.compile(r"(?<!\d)(20\d{2})\s*[-‐–—/]\s*(\d{6})(?!\d)")

CANCEL = frozenset({"отмена", "отменить", "назад", "стоп", "отбой", "cancel", "back"})
OPERATOR = frozenset({"оператор", "человек", "сотрудник", "специалист", "консультант", "operator", "human"})
OPERATOR_PHRASES = ("живой человек", "соедините", "позовите", "переключите на")
GREETING = frozenset(
    {
        "здравствуйте",
        "здравствуй",
        "здравствовать",
        "привет",
        "добрый",
        "день",
        "утро",
        "вечер",
        "доброе",
        "hello",
        "hi",
    }
)
THANKS = frozenset({"спасибо", "благодарить", "благодарю", "спс", "thanks", "thank", "you"})
BYE = frozenset({"свидание", "пока", "всего", "хороший", "до", "bye", "goodbye"})
FILLER = frozenset({"большой", "очень", "вам", "вы", "и", "ну", "а", "ок", "ладно", "понятно", "хорошо"})
QUESTION_WORDS = frozenset(
    {
        "как",
        "когда",
        "где",
        "почему",
        "зачем",
        "куда",
        "какой",
        "кто",
        "можно",
        "нужно",
        "надо",
        "ли",
        "сколько",
        "что",
        "чем",
    }
)
POWER_WORDS = frozenset({"свет", "электричество", "электроэнергия", "напряжение", "электроснабжение"})
POWER_WEAK = frozenset({"отключение", "отключить", "авария", "обесточить"})
POWER_STRONG = (
    re.compile(
        r"\b(нет|нету|пропал\w*|отключ\w*|выключ\w*|вырубил\w*|погас\w*|дадут|дали|включат|"
        r"есть\s+ли|будет\s+ли|появ\w+)\b[^.?!]{0,25}\b(свет\w*|электричеств\w*|электроэнерги\w*)"
    ),
    re.compile(
        r"\b(свет\w*|электричеств\w*|электроэнерги\w*)\b[^.?!]{0,25}\b(нет|нету|пропал\w*|отключ\w*|"
        r"выключ\w*|погас\w*|дадут|включат|есть)\b"
    ),
    re.compile(r"\bобесточ\w*"),
)
READING = frozenset({"показание", "показания"})
READING_VERBS = frozenset({"передать", "передавать", "сдать", "сдавать", "внести", "ввести", "подать"})
BALANCE = frozenset({"баланс", "долг", "задолженность", "задолжать", "переплата", "должный"})
PAY = frozenset({"оплатить", "платить", "заплатить", "оплата"})
#: A longer text that mentions money or readings is an appeal about them, not a self-service question.
SHORT = 10
STATUS = frozenset({"статус", "состояние", "рассмотреть", "рассмотрение"})
APPEAL_WORDS = frozenset({"обращение", "заявка", "жалоба", "заявление"})
REGISTER_VERBS = frozenset(
    {
        "зарегистрировать",
        "подать",
        "оставить",
        "написать",
        "пожаловаться",
        "подача",
        "оформить",
        "создать",
        "отправить",
    }
)


@dataclass
class Intent:
    name: str  # outage, reading, balance, appeal_status, faq, register, greeting, thanks, bye, unknown
    data: dict[str, Any] = field(default_factory=dict)


def words(text: str) -> list[str]:
    return nlu.lemmas(nlu.normalize(text))


def folded(text: str) -> str:
    return nlu.normalize(text)


def is_cancel(text: str) -> bool:
    lem = [w for w in words(text) if w not in FILLER]
    return bool(lem) and len(lem) <= 2 and lem[0] in CANCEL


def wants_operator(text: str) -> bool:
    low = folded(text)
    lem = set(words(text))
    if any(p in low for p in OPERATOR_PHRASES):
        return True
    # "оператор" / "с человеком" in a short message; a long text mentioning a specialist is an appeal.
    return bool(lem & OPERATOR) and len(lem) <= 6


def appeal_number(text: str) -> str:
    m = APPEAL_NUMBER.search(text or "")
    return f"{m.group(1)}-{m.group(2)}" if m else ""


def strong_power(text: str) -> bool:
    low = folded(text)
    return any(p.search(low) for p in POWER_STRONG)


def is_question(text: str, lem: list[str]) -> bool:
    return "?" in text or bool(lem and (lem[0] in QUESTION_WORDS or set(lem[:3]) & QUESTION_WORDS))


def social(lem: list[str]) -> str:
    """ "greeting", "thanks" or "bye" when the message holds only such words, else ""."""
    rest = [w for w in lem if w not in FILLER]
    if not rest:
        return ""
    if all(w in THANKS for w in rest):
        return "thanks"
    if all(w in BYE for w in rest) and (
        "свидание" in rest or "пока" in rest or "bye" in rest or "goodbye" in rest or "всего" in rest
    ):
        return "bye"
    if all(w in GREETING for w in rest) and set(rest) - {"день", "утро", "вечер"}:
        return "greeting"
    return ""


def keyword_intent(text: str, lem: list[str]) -> str:
    s = set(lem)
    short = len(lem) <= SHORT
    if s & READING and (short or "<num>" in s):
        return "reading"
    if s & STATUS and s & APPEAL_WORDS:
        return "appeal_status"
    if s & APPEAL_WORDS and s & REGISTER_VERBS:
        return "register"
    if "пожаловаться" in s:
        return "register"
    if short and (s & BALANCE or (s & PAY and s & {"сколько", "когда", "число", "срок"})):
        return "balance"
    if s & POWER_WORDS and s & (POWER_WEAK | {"нет", "есть", "когда", "дать"}):
        return "outage"
    if s & POWER_WEAK:
        return "outage_weak"
    return ""


def detect(text: str, *, has_address: bool, faq_hit: Any = None) -> Intent:
    """The intent of a free-text message (choices, cancel and operator are handled before)."""
    lem = words(text)
    number = appeal_number(text)
    if number:
        return Intent("appeal_status", {"number": number})
    kw = keyword_intent(text, lem)
    power = strong_power(text) or kw == "outage"
    if power and (has_address or strong_power(text)):
        return Intent("outage")
    if faq_hit is not None and is_question(text, lem):
        return Intent("faq", {"hit": faq_hit})
    if kw == "outage_weak" and has_address:
        return Intent("outage")
    if kw and kw != "outage_weak":
        return Intent(kw)
    if faq_hit is not None:
        return Intent("faq", {"hit": faq_hit})
    if kw == "outage_weak":
        return Intent("outage")
    kind = social(lem)
    if kind:
        return Intent(kind)
    return Intent("unknown")
