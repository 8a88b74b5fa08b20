"""Entities in the free text of an appeal: accounts, addresses, meter readings, phones, dates, amounts.

:func:`extract` reads the text once per kind of entity, in an order that keeps them apart: account
numbers named as such ("л/с 1000000016"), then phone numbers, bare account numbers (ten digits with a
valid Luhn check digit), dates with a year, sums of money, dates without a year and relative dates,
meter readings, and last addresses. Each found span is blanked out of the working copy, so a phone
number is never also read as a reading or a house number. The rules are in docs/assistant/extraction.md.

Everything is pure text work except the address: the street directory is cached in the process and one
indexed query per address found looks up its :class:`~okno.customers.models.Address` row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from okno.assistant.addresses import AddressMention, find_addresses
from okno.customers.numbers import is_valid_account_number, normalize_account_number, normalize_phone

__all__ = ["AddressMention", "Entities", "ReadingMention", "extract"]

_DIGITS = re.compile(r"\d")


@dataclass
class ReadingMention:
    """Meter readings in zone order: ``zones`` are the billing register numbers (1..3) of ``values``.

    ``meter_zones`` is how many zones the words imply (2 for day/night, 3 for peak/half-peak/night,
    the highest Tn for T1–T3, 0 when the values were given without zones)."""

    values: list[Decimal]
    zones: list[int]
    meter_zones: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "values": [str(v) for v in self.values],
            "zones": list(self.zones),
            "meter_zones": self.meter_zones,
            "text": self.text,
        }


@dataclass
class Entities:
    accounts: list[str] = field(default_factory=list)
    addresses: list[AddressMention] = field(default_factory=list)
    readings: list[ReadingMention] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    amounts: list[Decimal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, Decimals as strings ("1234.56")."""
        return {
            "accounts": list(self.accounts),
            "addresses": [a.as_dict() for a in self.addresses],
            "readings": [r.as_dict() for r in self.readings],
            "phones": list(self.phones),
            "dates": [d.isoformat() for d in self.dates],
            "amounts": [str(a) for a in self.amounts],
        }

    def __bool__(self) -> bool:
        return any((self.accounts, self.addresses, self.readings, self.phones, self.dates, self.amounts))


# --- the working copy ------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case and ё→е, keeping every character's position (a few letters change length in lower())."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low.replace("ё", "е").replace("\u00a0", " ")


class _Work:
    def __init__(self, text: str) -> None:
        self.original = text
        self.s = _fold(text)

        self._pending: list[tuple[int, int]] = []

    def blank(self, start: int, end: int) -> None:
        """Blank a found span out (applied by :meth:`flush`, so each pass copies the text once)."""
        self._pending.append((start, end))

    def flush(self) -> None:
        if not self._pending:
            return
        parts, pos = [], 0
        for start, end in sorted(self._pending):
            start = max(start, pos)
            if end <= start:
                continue
            parts += [self.s[pos:start], " " * (end - start)]
            pos = end
        parts.append(self.s[pos:])
        self.s = "".join(parts)
        self._pending = []


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# --- account numbers and phones --------------------------------------------------------------------

_ACCOUNT_NAMED = re.compile(
    r"(?:л(?<![а-яa-z]л)(?:\s*/\s*с|с|иц(?:евой|евого|евому|евым|\.)?\s*(?:сч(?:ет|ета|ету|етом|\.|\b)))"
    r"|н(?<![а-яa-z]н)омер\s+сч(?:ет|ета)|с(?<![а-яa-z]с)ч(?:ет|ета)|а(?<![а-яa-z]а)бонент\w*\s+номер)\s*(?:№|n|no|номер)?\s*[:.]?\s*"
    r"(?P<n>\d(?:[ -]?\d){9})(?![\d])"
)
_ACCOUNT_BARE = re.compile(r"\d(?<![\d+.,/]\d)\d{9}(?![\d]|[.,/]\d)")
# Where a phone number may begin (a plus, a bracket or a digit not inside a word or number), and the
# number itself, matched from there: scanning for the start first is several times faster.
_PHONE_START = re.compile(r"[+(\d](?<![\w+][+(\d])")
_PHONE = re.compile(
    r"(?P<p>(?:\+\s*7|[78])?[\s-]*(?:\(\s*\d{3,5}\s*\)|\d{3})[\s-]*\d{1,3}[\s-]?\d{2}[\s-]?\d{2})(?![\d]|[.,]\d)"
)


def _accounts_named(w: _Work, out: Entities) -> None:
    for m in _ACCOUNT_NAMED.finditer(w.s):
        number = normalize_account_number(m.group("n"))
        if is_valid_account_number(number):
            out.accounts.append(number)
            w.blank(m.start("n"), m.end("n"))


def _phones(w: _Work, out: Entities, *, bare: bool = False) -> None:
    end = 0
    for start in _PHONE_START.finditer(w.s):
        if start.start() < end:
            continue
        m = _PHONE.match(w.s, start.start())
        if m is None:
            continue
        raw = m.group("p").strip()
        digits = re.sub(r"\D", "", raw)
        formatted = raw != digits
        if bare:
            ok = len(digits) == 10 and digits[0] == "9" and not formatted
        else:
            ok = (len(digits) == 11 and digits[0] in "78") or (
                len(digits) == 10 and formatted and digits[0] in "3489"
            )
        if not ok:
            continue
        # ten digits are a Russian number without its country code ("(3452) 12-34-56", "912 345-67-89")
        out.phones.append(normalize_phone("7" + digits if len(digits) == 10 else raw))
        end = m.end()
        w.blank(m.start("p"), m.end("p"))


def _bare_phones(w: _Work, out: Entities) -> None:
    _phones(w, out, bare=True)


def _accounts_bare(w: _Work, out: Entities) -> None:
    for m in _ACCOUNT_BARE.finditer(w.s):
        if is_valid_account_number(m.group()):
            out.accounts.append(m.group())
            w.blank(m.start(), m.end())


# --- dates -----------------------------------------------------------------------------------------

_MONTHS = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "мая": 5,
    "май": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}
_ISO_DATE = re.compile(r"(\d(?<![\d.]\d)\d{3})-(\d{2})-(\d{2})(?![\d])")
_DOTTED_DATE = re.compile(
    r"(\d(?<![\d.,]\d)\d?)[./](\d{1,2})[./](\d{4}|\d{2})(?![\d]|[.,]\d)(?:\s*г(?:ода|\.|(?![а-я])))?"
)
_SHORT_DATE = re.compile(r"(\d(?<![\d.,]\d)\d?)\.(\d{2})(?![\d]|[.,]\d)")
_WORD_DATE = re.compile(
    r"(\d(?<!\d\d)\d?)\s*(январ[яь]|янв|феврал[яь]|фев|марта?|мар|апрел[яь]|апр|мая|май|июн[яь]|июн"
    r"|июл[яь]|июл|августа?|авг|сентябр[яь]|сен|сент|октябр[яь]|окт|ноябр[яь]|ноя|нояб|декабр[яь]|дек)"
    r"(?![а-я])\.?(?:\s*(\d{4})(?![\d])(?:\s*г(?:ода|\.|(?![а-я])))?)?"
)
_RELATIVE = {
    "позавчера": -2,
    "вчера": -1,
    "вчерашн": -1,
    "сегодня": 0,
    "сегодняшн": 0,
    "завтра": 1,
    "завтрашн": 1,
    "послезавтра": 2,
}
_RELATIVE_RE = re.compile(
    r"(?<![а-я])(позавчера|послезавтра|вчерашн|вчера|сегодняшн|сегодня|завтрашн|завтра)[а-я]*"
)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if y < 100 else y


def _dates_with_year(w: _Work, out: Entities) -> None:
    for m in _ISO_DATE.finditer(w.s):
        if d := _date(int(m[1]), int(m[2]), int(m[3])):
            out.dates.append(d)
            w.blank(m.start(), m.end())
    w.flush()
    for m in _DOTTED_DATE.finditer(w.s):
        if d := _date(_year(m[3]), int(m[2]), int(m[1])):
            out.dates.append(d)
            w.blank(m.start(), m.end())


def _dates_other(w: _Work, out: Entities, today: dt.date, *, digits: bool) -> None:
    for m in _WORD_DATE.finditer(w.s) if digits else ():
        month = _MONTHS[m[2][:3]]
        if d := _date(int(m[3]) if m[3] else today.year, month, int(m[1])):
            out.dates.append(d)
            w.blank(m.start(), m.end())
    w.flush()
    for m in _SHORT_DATE.finditer(w.s) if digits else ():
        if d := _date(today.year, int(m[2]), int(m[1])):
            out.dates.append(d)
            w.blank(m.start(), m.end())
    w.flush()
    for m in _RELATIVE_RE.finditer(w.s):
        out.dates.append(today + dt.timedelta(days=_RELATIVE[m[1]]))
        w.blank(m.start(), m.end())


# --- money -----------------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[ \u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_NUMBER_REST = r"\d{0,2}(?:[ \u202f]\d{3})+(?:[.,]\d{1,2})?|\d*(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?P<n>\d(?<![\d.,]\d)(?:{_NUMBER_REST}))(?![\d])\s*(?:(?P<unit>руб(?:л[а-я]*)?\.?|р\.|р(?![а-я])|₽)"
    r"(?:\s*(?P<kop>\d{1,2})\s*коп(?:[а-я]*)?\.?)?)"
    rf"|(?:₽|руб\.?)\s*(?P<n2>{_NUMBER})(?![\d])"
)


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(re.sub(r"[ \u202f]", "", text).replace(",", "."))
    except InvalidOperation:
        return None


def _amounts(w: _Work, out: Entities) -> None:
    for m in _AMOUNT.finditer(w.s):
        value = _decimal(m.group("n") or m.group("n2"))
        if value is None:
            continue
        if m.group("kop"):
            value += Decimal(m.group("kop")) / 100
        out.amounts.append(value.quantize(Decimal("0.01")))
        w.blank(m.start(), m.end())


# --- meter readings --------------------------------------------------------------------------------

_VALUE = r"\d{1,7}(?:[.,]\d{1,3})?(?!\d)"
_ZONED = re.compile(
    r"(?P<zone>[tт](?<![а-яa-z][tт])\s*[123](?!\d)|п(?<![а-яa-z]п)(?:олупик|ик)\w*|д(?<![а-яa-z]д)(?:ень|нем|невн\w*)"
    r"|н(?<![а-яa-z]н)оч(?:ь|н\w*|ью))"
    rf"\s*(?:[-:=–—]|\(\s*[tт]\s*[123]\s*\))?\s*(?P<v>{_VALUE})(?:\s*квт\S*)?"
)
_TRIGGER = re.compile(
    r"п(?<![а-я]п)(?:оказани[а-я]*|оказ\.|ередаю|у(?![а-я]))(?:\s+(?:счетчика|прибора|учета|электроэнергии|"
    r"электросчетчика|составляют|такие|следующие|на\s+сегодня))*\s*[:\-–—]?\s*"
    rf"(?P<vals>{_VALUE}(?:\s*(?:квт\S*)?\s*(?:[,;/]|и)?\s*{_VALUE}){{0,2}})"
)


def _zone_of(word: str, three: bool) -> tuple[int, int]:
    """(register number, zones the word implies) for a zone word."""
    w = word.replace(" ", "")
    if w[0] in "tт" and w[-1].isdigit():
        return int(w[-1]), int(w[-1])
    if w.startswith("полупик"):
        return 2, 3
    if w.startswith("пик"):
        return 1, 3
    if w.startswith("ноч"):
        return (3, 3) if three else (2, 2)
    return 1, 3 if three else 2


def _readings(w: _Work, out: Entities) -> None:
    matches = list(_ZONED.finditer(w.s))
    groups: list[list[re.Match[str]]] = []
    for m in matches:
        if groups and m.start() - groups[-1][-1].end() < 40:
            groups[-1].append(m)
        else:
            groups.append([m])
    for group in groups:
        three = any(m["zone"].startswith(("пик", "полупик")) for m in group)
        regs: dict[int, Decimal] = {}
        meter = 0
        for m in group:
            zone, implied = _zone_of(m["zone"], three)
            value = _decimal(m["v"])
            if value is None or zone in regs:
                continue
            regs[zone] = value
            meter = max(meter, implied)
            w.blank(m.start(), m.end())
        if regs:
            zones = sorted(regs)
            text = w.original[group[0].start() : group[-1].end()]
            out.readings.append(ReadingMention([regs[z] for z in zones], zones, meter, text))
    w.flush()
    for m in _TRIGGER.finditer(w.s):
        values = [v for v in (_decimal(x) for x in re.findall(_VALUE, m["vals"])) if v is not None]
        if values:
            zones = list(range(1, len(values) + 1))
            out.readings.append(ReadingMention(values, zones, 0, w.original[m.start() : m.end()]))
            w.blank(m.start(), m.end())


# --- all of it -------------------------------------------------------------------------------------


def extract(text: str, *, today: dt.date | None = None, resolve_addresses: bool = True) -> Entities:
    """The entities in an appeal text (see the module docstring); ``today`` anchors "вчера", "12 ноября".

    ``resolve_addresses=False`` skips the database query that matches addresses to stored rows."""
    out = Entities()
    text = text or ""
    if not text.strip():
        return out
    today = today or timezone.localdate()
    w = _Work(text)
    digits = len(_DIGITS.findall(w.s))
    if digits >= 10:
        for step in (_accounts_named, _phones, _accounts_bare, _bare_phones):
            step(w, out)
            w.flush()
    if digits:
        _dates_with_year(w, out)
        w.flush()
        _amounts(w, out)
        w.flush()
    _dates_other(w, out, today, digits=bool(digits))
    w.flush()
    if digits:
        _readings(w, out)
        w.flush()
    out.addresses = find_addresses(w.s, w.original, resolve_rows=resolve_addresses)
    out.accounts = _unique(out.accounts)
    out.phones = _unique(out.phones)
    out.dates = _unique(out.dates)
    return out
