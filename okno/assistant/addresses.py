"""Finding addresses in free appeal text and matching them to :class:`okno.customers.models.Address` rows.

People write "г. Северск, ул. Ленина, д. 10, кв. 5", "ленина 15", "на Заводской улице дом 3",
"пр-т Мира 10к2", "в Северске на улице Ленина 10-5". The stored rows keep one spelling
("ул. Ленина"). Matching goes through the street directory of :mod:`okno.outages.lookup` (stored
(settlement, street) pairs keyed by their folded words without the type words, kept current by
signals) plus an index of those keys by *lemmas* (pymorphy3 when installed, a crude suffix stemmer
otherwise), so "на Заводской улице" finds "ул. Заводская" and "в Северске" finds "Северск".

Only the house query touches the database (one indexed query per address found); the directory and
the lemma index live in the process.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from okno.customers.models import Address
from okno.outages.lookup import address_directory, settlement_key, street_key

MAX_CANDIDATES = 20
MAX_ADDRESSES = 10  # a text naming more is a list, not an appeal: the rest are not looked at

_MORPH: Any = None  # the pymorphy3 analyser once loaded; False when it cannot be (the stemmer is used)


def _morph() -> Any:
    """pymorphy3's analyser, loaded on first use (about 0.1 s and 15 MB), or None without it."""
    global _MORPH
    if _MORPH is None:
        try:
            import pymorphy3

            _MORPH = pymorphy3.MorphAnalyzer()
        except Exception:  # noqa: BLE001 - ImportError, or its dictionaries missing: stem instead
            _MORPH = False
    return _MORPH or None


_ENDINGS = sorted(
    [
        "ами",
        "ями",
        "ого",
        "его",
        "ому",
        "ему",
        "ыми",
        "ими",
        "ая",
        "яя",
        "ой",
        "ей",
        "ую",
        "юю",
        "ий",
        "ый",
        "ое",
        "ее",
        "ые",
        "ие",
        "ых",
        "их",
        "ом",
        "ем",
        "ам",
        "ям",
        "ах",
        "ях",
        "ов",
        "ев",
        "а",
        "я",
        "у",
        "ю",
        "е",
        "ы",
        "и",
        "о",
        "ь",
    ],
    key=len,
    reverse=True,
)


def stem(word: str) -> str:
    """A crude Russian stem: the word without its longest inflection ending (at least 3 letters kept)."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case word (ё as е), or its stem without pymorphy3.

    Both sides of every comparison go through this function, so the two modes never mix."""
    if not word.isalpha():
        return word
    morph = _morph()
    if morph is not None:
        return stem(str(morph.parse(word)[0].normal_form).replace("ё", "е"))
    return stem(word)


def lemma_key(words: Iterable[str]) -> str:
    return " ".join(lemma(w) for w in words)


# --- words that name kinds of places ---------------------------------------------------------------

STREET_ABBREVIATIONS = frozenset(
    [
        "ул",
        "пр",
        "просп",
        "пр-т",
        "пр-кт",
        "пер",
        "б-р",
        "бул",
        "ш",
        "наб",
        "пл",
        "пр-д",
        "туп",
        "мкр",
        "мкрн",
    ]
)
STREET_WORDS = (
    "улица",
    "проспект",
    "переулок",
    "бульвар",
    "шоссе",
    "набережная",
    "площадь",
    "проезд",
    "тупик",
    "микрорайон",
    "аллея",
    "тракт",
)
SETTLEMENT_ABBREVIATIONS = frozenset(["г", "гор", "пос", "п", "с", "дер", "д", "пгт", "рп", "ст", "х", "снт"])
SETTLEMENT_WORDS = ("город", "поселок", "село", "деревня", "станица", "хутор")
# One-letter abbreviations are also prepositions ("с утра", "в г. …"): they count only with a dot.
SHORT_NEEDS_DOT = frozenset(["г", "п", "с", "д", "х", "ш", "ст", "пр", "пл"])


@functools.cache
def _street_word_lemmas() -> frozenset[str]:
    return frozenset(lemma(w) for w in STREET_WORDS)


@functools.cache
def _settlement_word_lemmas() -> frozenset[str]:
    return frozenset(lemma(w) for w in SETTLEMENT_WORDS)


def is_street_word(word: str, dotted: bool) -> bool:
    if word in STREET_ABBREVIATIONS:
        return dotted or word not in SHORT_NEEDS_DOT
    return len(word) > 4 and lemma(word) in _street_word_lemmas()


def is_settlement_word(word: str, dotted: bool) -> bool:
    if word in SETTLEMENT_ABBREVIATIONS:
        return dotted or word not in SHORT_NEEDS_DOT
    return len(word) > 4 and lemma(word) in _settlement_word_lemmas()


def street_kind(word: str) -> str:
    """'улице' → 'ул', 'пр-т' → 'пр'… the abbreviation a stored street name starts with."""
    canon = {"просп": "пр", "пр-т": "пр", "пр-кт": "пр", "б-р": "бульвар", "бул": "бульвар", "мкрн": "мкр"}
    if word in STREET_ABBREVIATIONS:
        return canon.get(word, word)
    by_lemma = {
        lemma("улица"): "ул",
        lemma("проспект"): "пр",
        lemma("переулок"): "пер",
        lemma("бульвар"): "бульвар",
        lemma("шоссе"): "ш",
        lemma("набережная"): "наб",
        lemma("площадь"): "пл",
        lemma("проезд"): "пр-д",
        lemma("тупик"): "туп",
        lemma("микрорайон"): "мкр",
    }
    return by_lemma.get(lemma(word), word)


# --- the directory, by lemmas ----------------------------------------------------------------------


@dataclass
class _Index:
    streets: dict[str, tuple[str, ...]]  # lemma key → directory street keys
    settlements: dict[str, tuple[str, ...]]  # lemma key → directory settlement keys
    longest_street: int
    longest_settlement: int


_index: tuple[tuple[int, int, int], _Index] | None = None


def _build_index(keys: Iterable[str]) -> tuple[dict[str, tuple[str, ...]], int]:
    out: dict[str, set[str]] = {}
    longest = 1
    for key in keys:
        if not key:
            continue
        words = key.split()
        longest = max(longest, len(words))
        out.setdefault(lemma_key(words), set()).add(key)
    return {k: tuple(sorted(v)) for k, v in out.items()}, min(longest, 4)


def directory() -> tuple[Any, _Index]:
    """The outage lookup's street directory and its lemma index (rebuilt when the directory grows)."""
    global _index
    d = address_directory()
    stamp = (id(d), len(d.streets), len(d.settlements))
    if _index is None or _index[0] != stamp:
        streets, longest_street = _build_index(d.streets)
        settlements, longest_settlement = _build_index(d.settlements)
        _index = (stamp, _Index(streets, settlements, longest_street, longest_settlement))
    return d, _index[1]


# --- resolving -------------------------------------------------------------------------------------


@dataclass
class AddressMention:
    """An address found in the text; ``address_id`` when exactly one stored row matches it."""

    text: str  # the span as written
    settlement: str
    street: str
    house: str = ""
    building: str = ""
    flat: str = ""
    address_id: int | None = None
    candidates: list[int] = field(default_factory=list)  # several rows match: their ids (at most 20)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "settlement": self.settlement,
            "street": self.street,
            "house": self.house,
            "building": self.building,
            "flat": self.flat,
            "address_id": self.address_id,
            "candidates": list(self.candidates),
        }


def _variants(value: str) -> list[str]:
    return sorted({value, value.upper(), value.lower()})


def resolve(
    *,
    pairs: tuple[tuple[str, str], ...],
    house: str,
    building: str,
    flat: str,
) -> tuple[list[tuple[int, str, str, str, str, str]], bool]:
    """Rows (id, settlement, street, house, building, flat) for the house, and whether one of them may be
    taken as the address when it is the only one.

    A named flat that has no row of its own falls back to the house's row without a flat; with no flat
    named, the house's row without a flat is preferred, else every flat of the house is a candidate."""
    if not pairs or not house:
        return [], False
    q = Q()
    for settlement, street in pairs:
        q |= Q(settlement=settlement, street=street)
    qs = Address.objects.filter(q, house__in=_variants(house))
    if building:
        qs = qs.filter(building__in=_variants(building))
    cols = ("id", "settlement", "street", "house", "building", "flat")
    rows = list(qs.order_by("id").values_list(*cols)[:500])
    if not building:
        plain = [r for r in rows if not r[4]]
        rows = plain or rows
    if flat:
        same = [r for r in rows if r[5].lower() == flat.lower()]
        rows = same or [r for r in rows if not r[5]]
        return rows[: MAX_CANDIDATES + 1], True
    house_rows = [r for r in rows if not r[5]]
    # No flat named and the house has rows only for its flats: each is a candidate, none is "the" one.
    return (house_rows or rows)[: MAX_CANDIDATES + 1], bool(house_rows)


def street_pairs(keys: Iterable[str], settlements: tuple[str, ...], kind: str) -> tuple[tuple[str, str], ...]:
    """Stored (settlement, street) pairs for directory street keys, in the settlements named (if any),
    of the kind of street typed (if any: "пр. Мира" and "ул. Мира" share the key "мира")."""
    d, _ = directory()
    pairs: list[tuple[str, str]] = []
    for key in keys:
        pairs.extend(d.streets.get(key, ()))
    if settlements:
        pairs = [p for p in pairs if p[0] in settlements]
    if kind and len(pairs) > 1:
        same = [p for p in pairs if street_kind(_first_word(p[1])) == kind]
        pairs = same or pairs
    return tuple(sorted(set(pairs)))


def _first_word(street: str) -> str:
    m = re.match(r"\s*([а-яёa-z-]+)", street.lower())
    return m.group(1).replace("ё", "е") if m else ""


def settlement_names(keys: Iterable[str]) -> tuple[str, ...]:
    d, _ = directory()
    names: set[str] = set()
    for key in keys:
        names.update(d.settlements.get(key, ()))
    return tuple(sorted(names))


__all__ = [
    "AddressMention",
    "directory",
    "is_settlement_word",
    "is_street_word",
    "lemma",
    "lemma_key",
    "resolve",
    "settlement_key",
    "settlement_names",
    "stem",
    "street_key",
    "street_kind",
    "street_pairs",
]


# --- finding addresses in text ---------------------------------------------------------------------

_TOKEN = re.compile(r"[a-zа-я]+(?:-[a-zа-я]+)*|\d+")
_HOUSE_NO = r"\d{1,4}(?:[а-я](?![а-яa-z\d]))?(?:\s*/\s*\d{1,4}(?:[а-я](?![а-яa-z\d]))?)?(?!\d)"
HOUSE_AFTER = re.compile(
    rf"[\s,.]*(?:(?:д|дом|здание)(?![а-я])\.?\s*№?\s*)?(?P<house>{_HOUSE_NO})"
    r"(?:\s*,?\s*(?:к|корп|корпус|стр|строение)(?![а-я])\.?\s*(?P<building>\d{1,3}(?:[а-я](?![а-я\d]))?)(?!\d))?"
    r"(?:\s*,?\s*(?:кв|квартира|кв-ра|оф|офис|пом)(?![а-я])\.?\s*№?\s*(?P<flat>\d{1,4}(?:[а-я](?![а-я\d]))?)(?!\d)"
    r"|\s*-\s*(?P<flat2>\d{1,4})(?![\d.,]))?"
)
HOUSE_MARKED_AFTER = re.compile(rf"[\s,.]*(?:д|дом|здание)(?![а-я])\.?\s*№?\s*{_HOUSE_NO}")
HOUSE_BEFORE = re.compile(
    rf"(?:(?:д|дом)(?![а-я])\.?\s*№?\s*)(?P<house>{_HOUSE_NO})"
    r"(?:\s*,?\s*(?:кв|квартира)(?![а-я])\.?\s*№?\s*(?P<flat>\d{1,4}))?\s*,?\s*(?:по|на)?\s*$"
)
_STOP = frozenset(
    [
        "на",
        "по",
        "в",
        "во",
        "у",
        "около",
        "возле",
        "из",
        "с",
        "со",
        "от",
        "к",
        "до",
        "за",
        "рядом",
        "адрес",
        "адресу",
        "проживаю",
        "живу",
        "дом",
        "доме",
        "и",
        "а",
        "но",
        "не",
        "нет",
    ]
)


@dataclass(slots=True)
class _Tok:
    word: str
    start: int
    end: int
    dotted: bool  # followed by a dot ("ул.")
    capital: bool  # starts with a capital letter in the original text

    @property
    def number(self) -> bool:
        return self.word.isdigit()


def _tokens(s: str, original: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(s):
        out.append(
            _Tok(
                m.group(), m.start(), m.end(), s[m.end() : m.end() + 1] == ".", original[m.start()].isupper()
            )
        )
    return out


def _joined(s: str, a: _Tok, b: _Tok) -> bool:
    """Two tokens belong to one name: only spaces between them."""
    return not s[a.end : b.start].strip()


def _run(s: str, toks: list[_Tok], i: int, limit: int, forward: bool = True) -> list[_Tok]:
    """Up to ``limit`` words next to token i (after it, or before it), not crossing punctuation."""
    out: list[_Tok] = []
    j = i + 1 if forward else i - 1
    prev = toks[i]
    while 0 <= j < len(toks) and len(out) < limit:
        t = toks[j]
        gap = s[prev.end : t.start] if forward else s[t.end : prev.start]
        if t.number or gap.strip(" .") or t.word in _STOP:
            break
        if forward and is_street_word(t.word, t.dotted):
            break
        out.append(t)
        prev = t
        j = j + 1 if forward else j - 1
    return out if forward else out[::-1]


def _known(
    words: list[_Tok], table: dict[str, tuple[str, ...]], longest: int, anchored_start: bool
) -> tuple[int, tuple[str, ...]]:
    """The longest prefix (or suffix) of ``words`` whose lemma key is in ``table``: (its length, keys)."""
    for n in range(min(longest, len(words)), 0, -1):
        span = words[:n] if anchored_start else words[-n:]
        keys = table.get(lemma_key(t.word for t in span))
        if keys:
            return n, keys
    return 0, ()


@dataclass
class _Settlement:
    start: int
    end: int
    names: tuple[str, ...]  # stored names (empty: not in the directory)
    written: str


def _find_settlements(
    s: str, original: str, toks: list[_Tok], index: _Index, used: set[int]
) -> list[_Settlement]:
    """Settlements named in the text; ``used`` gets the indexes of their tokens."""
    found: list[_Settlement] = []
    for i, t in enumerate(toks):
        if i in used or t.number:
            continue
        if is_settlement_word(t.word, t.dotted) and i + 1 < len(toks) and not toks[i + 1].number:
            words = _run(s, toks, i, 3)
            n, keys = _known(words, index.settlements, index.longest_settlement, True)
            if n:
                span = words[:n]
            elif words and (words[0].capital or len(t.word) > 3) and not is_street_word(words[0].word, False):
                span, keys = words[:1], ()
            else:
                continue
            used.update(range(i, i + 1 + len(span)))
            found.append(
                _Settlement(
                    t.start, span[-1].end, settlement_names(keys), original[span[0].start : span[-1].end]
                )
            )
        elif t.capital and len(t.word) > 2:
            words = [t, *_run(s, toks, i, index.longest_settlement - 1)]
            n, keys = _known(words, index.settlements, index.longest_settlement, True)
            if n:
                used.update(range(i, i + n))
                found.append(
                    _Settlement(
                        t.start,
                        words[n - 1].end,
                        settlement_names(keys),
                        original[t.start : words[n - 1].end],
                    )
                )
    return found


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def find_addresses(s: str, original: str, *, resolve_rows: bool = True) -> list[AddressMention]:
    """Addresses in ``s`` (the folded text: lower case, ё as е, same length as ``original``)."""
    _, index = directory()
    toks = _tokens(s, original)
    taken: set[int] = set()
    settlements = _find_settlements(s, original, toks, index, taken)
    ends = [st.end for st in settlements]
    resolved: dict[tuple[Any, ...], tuple[list[tuple[int, str, str, str, str, str]], bool]] = {}
    mentions: list[AddressMention] = []
    skip_until = -1
    for i, t in enumerate(toks):
        if len(mentions) >= MAX_ADDRESSES:
            break
        if t.start < skip_until or t.number or i in taken:
            continue
        kind = ""
        name: list[_Tok] = []
        keys: tuple[str, ...] = ()
        start = t.start
        if is_street_word(t.word, t.dotted):
            kind = street_kind(t.word)
            after = _run(s, toks, i, 3)
            n, keys = _known(after, index.streets, index.longest_street, True)
            if n:
                name = after[:n]
            else:
                before = _run(s, toks, i, 2, forward=False)
                m, keys = _known(before, index.streets, index.longest_street, False)
                if m:
                    name = before[-m:]
                    start = name[0].start
                else:
                    name = after[:2] or before[-1:]
                    if name and name[0].start < t.start:
                        start = name[0].start
            if not name:
                continue
            end = max(t.end, name[-1].end)
        else:
            words = [t, *_run(s, toks, i, index.longest_street - 1)]
            n, keys = _known(words, index.streets, index.longest_street, True)
            if not n:
                continue
            # A known street name without its type counts only with a house number right after it.
            tail = words[n - 1].end
            nxt = toks[i + n] if i + n < len(toks) else None
            if nxt is not None and is_street_word(nxt.word, nxt.dotted) and _joined(s, words[n - 1], nxt):
                continue  # "Ленина улица": handled when the type word comes up
            m_house = HOUSE_AFTER.match(s, tail)
            if not m_house or (
                not s[tail : m_house.start("house")].strip(" ,")
                and not t.capital
                and n == 1
                and len(t.word) < 4
            ):
                continue
            name = words[:n]
            end = tail
        house = building = flat = ""
        mh = HOUSE_AFTER.match(s, end)
        if mh:
            house = re.sub(r"\s+", "", mh.group("house"))
            building = mh.group("building") or ""
            flat = mh.group("flat") or mh.group("flat2") or ""
            end = mh.end()
        else:
            mb = HOUSE_BEFORE.search(s, max(0, start - 40), start)
            if mb:
                house = re.sub(r"\s+", "", mb.group("house"))
                flat = mb.group("flat") or ""
                start = mb.start()
        if not keys and not house and not any(u.capital for u in name):
            continue  # "по всей улице": an unknown street needs a house number or a capitalised name
        skip_until = end
        # The settlement named nearest before the street (or just after the address).
        k = bisect.bisect_right(ends, start)
        place = settlements[k - 1] if k else None
        if place is None and k < len(settlements) and 0 <= settlements[k].start - end < 40:
            place = settlements[k]
        names = place.names if place else ()
        pairs = street_pairs(keys, names, kind) if keys else ()
        mention = AddressMention(
            text=original[start:end].strip(" ,."),
            settlement=place.written if place else "",
            street=original[min(t.start, name[0].start) : max(t.end, name[-1].end)].strip(" ,."),
            house=house,
            building=building,
            flat=flat,
        )
        if place and len(names) == 1:
            mention.settlement = names[0]
        if pairs:
            if len({p[1] for p in pairs}) == 1:
                mention.street = pairs[0][1]
            if len({p[0] for p in pairs}) == 1:
                mention.settlement = pairs[0][0]
        elif kind and not keys:
            mention.street = _written_street(kind, name)
        if resolve_rows and pairs and house:
            key = (pairs, house, building, flat)
            if key not in resolved:
                resolved[key] = resolve(pairs=pairs, house=house, building=building, flat=flat)
            rows, exact = resolved[key]
            if len(rows) == 1 and exact:
                row = rows[0]
                mention.address_id = row[0]
                mention.settlement, mention.street, mention.house = row[1], row[2], row[3]
                mention.building, mention.flat = row[4] or building, row[5] or flat
            elif rows:
                mention.candidates = [r[0] for r in rows[:MAX_CANDIDATES]]
        mentions.append(mention)
    return mentions


def _written_street(kind: str, name: list[_Tok]) -> str:
    words = _title(" ".join(t.word for t in name))
    prefix = {"ул": "ул.", "пр": "пр-т", "пер": "пер.", "ш": "ш.", "наб": "наб.", "пл": "пл."}.get(kind, kind)
    return f"{prefix} {words}"
