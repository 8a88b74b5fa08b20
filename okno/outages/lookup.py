"""'Is there power at my address?' — the one lookup behind the IVR, the assistant, the cabinet, the public
page and ``GET /api/v1/outages/at``.

:func:`power_at` turns an address typed by a person, an account number, a phone number or an address id
into the service points it means, and tells for each building which outages touch it now (power off)
or are announced for it (planned works), with the restoration estimate.

Why it is shaped like this (p99 < 5 ms with a million service points and a thousand active outages):

* The set of outages that are open now is small and changes rarely compared with how often people ask,
  so it lives in a per-process cache (:data:`_outages`, a few seconds' TTL, dropped at once in the
  process that saves an Outage or OutageNode, and on commit). Its maps are "node id → outage rows".
* The service point's chain of nodes upstream is its feed node's materialised ``path`` (``/12/340/5678/``)
  — one indexed join brings it with the address, so one query answers an address, an account or a phone.
* People write streets as "ул. Ленина", "Ленина", "улица Ленина"; the table keeps one of them. A small
  directory of the stored (settlement, street) pairs keyed by their folded words without the type words
  (:data:`_directory`, rebuilt hourly, kept current by signals) maps what was typed to what is stored,
  so the address query is an equality on the (settlement, street, house) index.

Rules (also in docs/outages/topology-and-lookup.md):

* An outage with status *active* or *partially restored* affects a service point when one of its
  OutageNode rows with ``restored_at`` empty is the point's feed node or upstream of it — unless a row of
  the same outage deeper in that chain is already restored (partial restoration of a branch of the tree).
* A *scheduled* outage whose planned end is still ahead affects it when any of its nodes (or its main
  node) is the feed node or upstream: these are reported as planned, with ``off_now`` false.
* Restored, cancelled and proposed outages are never reported.
* ``power_on`` is false when an outage affects the building now, true when the building is in the
  topology and nothing is off, and null when it is not known (no feed, or several candidate addresses).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import Min, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from okno.core.cache import ProcessCache
from okno.customers.choices import ContactKind
from okno.customers.models import Account, Address, ServicePoint, fold
from okno.customers.numbers import normalize_account_number, normalize_phone
from okno.outages.choices import OFF_STATUSES, OPEN_STATUSES, OutageStatus
from okno.outages.models import Outage, OutageNode

OK = "ok"
NOT_FOUND = "not_found"
AMBIGUOUS = "ambiguous"

MAX_MATCHES = 20
MAX_SUGGESTIONS = 8
RELOAD_ON_MISS_AFTER = 60.0  # seconds


# --- the answer -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageInfo:
    """What a caller is told about one outage (public: no personal data)."""

    number: str
    kind: str
    status: str
    cause: str
    node_code: str
    node_name: str
    started_at: dt.datetime | None
    etr: dt.datetime | None
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    reason: str
    partially_restored: bool

    @property
    def off_now(self) -> bool:
        """True while the outage keeps power off; false for announced (scheduled) works."""
        return self.status in OFF_STATUSES

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "status": self.status,
            "cause": self.cause,
            "off_now": self.off_now,
            "node_code": self.node_code,
            "node_name": self.node_name,
            "started_at": self.started_at,
            "etr": self.etr,
            "planned_start": self.planned_start,
            "planned_end": self.planned_end,
            "reason": self.reason,
            "partially_restored": self.partially_restored,
        }


@dataclass(frozen=True)
class AddressMatch:
    """A building (address or account lookups: the service point's own address) the query resolved to.

    ``customer_id``, ``account`` and ``branch_id`` are for the callers that may see them (staff API,
    access log, branch scope); the public answer shows ``id`` and ``text`` only.
    """

    id: int
    text: str
    settlement: str
    street: str
    house: str
    building: str = ""
    account: str = ""
    customer_id: int | None = None
    branch_id: int | None = None


@dataclass
class AddressAnswer:
    """The answer for one building: the outages touching it and whether power is on."""

    match: AddressMatch
    outages: list[OutageInfo]
    power_on: bool | None
    node_ids: tuple[int, ...] = ()


@dataclass
class LookupResult:
    status: str
    matches: list[AddressMatch] = field(default_factory=list)
    outages: list[OutageInfo] = field(default_factory=list)
    power_on: bool | None = None
    suggestions: list[str] = field(default_factory=list)
    answers: list[AddressAnswer] = field(default_factory=list)
    query: str = ""

    @property
    def found(self) -> bool:
        return self.status != NOT_FOUND


# --- the cache of open outages ---------------------------------------------------------------------

T = TypeVar("T")


class TtlCache(ProcessCache[T], Generic[T]):
    """A :class:`ProcessCache` with its own TTL in seconds (outages change faster than reference data)."""

    def __init__(self, loader: Callable[[], T], ttl: Callable[[], float]) -> None:
        super().__init__(loader)
        self._ttl = ttl

    def get(self) -> T:
        value = self._value
        if value is None or time.monotonic() - self._loaded_at > self._ttl():
            with self._lock:
                value = self._loader()
                self._value, self._loaded_at = value, time.monotonic()
        return value

    @property
    def age(self) -> float:
        return time.monotonic() - self._loaded_at if self._value is not None else float("inf")


@dataclass(frozen=True)
class _OutageState:
    # node id → ((outage id, still off?), …) for outages off now (active / partially restored)
    off_rows: dict[int, tuple[tuple[int, bool], ...]]
    # node id → outage ids of scheduled outages on that node
    planned: dict[int, tuple[int, ...]]
    info: dict[int, OutageInfo]


def _load_outages() -> _OutageState:
    outages = (
        Outage.objects.filter(status__in=OPEN_STATUSES)
        .select_related("node")
        .only(
            "id",
            "number",
            "kind",
            "status",
            "cause",
            "reason",
            "started_at",
            "etr",
            "planned_start",
            "planned_end",
            "node__code",
            "node__name",
        )
    )
    info: dict[int, OutageInfo] = {}
    main_node: dict[int, int] = {}
    for o in outages:
        info[o.pk] = OutageInfo(
            number=o.number,
            kind=o.kind,
            status=o.status,
            cause=o.cause,
            node_code=o.node.code,
            node_name=o.node.name,
            started_at=o.started_at,
            etr=o.etr,
            planned_start=o.planned_start,
            planned_end=o.planned_end,
            reason=o.reason,
            partially_restored=o.status == OutageStatus.PARTIALLY_RESTORED,
        )
        main_node[o.pk] = o.node_id
    off_rows: dict[int, list[tuple[int, bool]]] = {}
    planned: dict[int, set[int]] = {}
    with_rows: set[int] = set()
    rows = OutageNode.objects.filter(outage_id__in=list(info)).values_list(
        "outage_id", "node_id", "restored_at"
    )
    for outage_id, node_id, restored_at in rows.iterator(chunk_size=5000):
        with_rows.add(outage_id)
        if info[outage_id].status in OFF_STATUSES:
            off_rows.setdefault(node_id, []).append((outage_id, restored_at is None))
        else:
            planned.setdefault(node_id, set()).add(outage_id)
    for outage_id, item in info.items():
        node_id = main_node[outage_id]
        if item.status in OFF_STATUSES:
            if outage_id not in with_rows:  # registered without node rows: the main node is off
                off_rows.setdefault(node_id, []).append((outage_id, True))
        else:
            planned.setdefault(node_id, set()).add(outage_id)
    return _OutageState(
        off_rows={k: tuple(v) for k, v in off_rows.items()},
        planned={k: tuple(sorted(v)) for k, v in planned.items()},
        info=info,
    )


def _outage_ttl() -> float:
    return float(getattr(settings, "OKNO_OUTAGE_LOOKUP_TTL", 5))


_outages: TtlCache[_OutageState] = TtlCache(_load_outages, _outage_ttl)


def invalidate_outages(**kwargs: object) -> None:
    """Drop the cached open outages now and again on commit (actions that use ``.update()`` call it)."""
    _outages.invalidate()
    transaction.on_commit(_outages.invalidate)


post_save.connect(invalidate_outages, sender=Outage, dispatch_uid="okno-outage-lookup-outage-save")
post_delete.connect(invalidate_outages, sender=Outage, dispatch_uid="okno-outage-lookup-outage-del")
post_save.connect(invalidate_outages, sender=OutageNode, dispatch_uid="okno-outage-lookup-node-save")
post_delete.connect(invalidate_outages, sender=OutageNode, dispatch_uid="okno-outage-lookup-node-del")


def outages_on_path(path: str, now: dt.datetime, state: _OutageState | None = None) -> list[OutageInfo]:
    """The outages touching a node whose materialised path is ``path``: off now first, then planned."""
    if not path:
        return []
    state = state or _outages.get()
    chain = [int(p) for p in path.strip("/").split("/") if p]
    decided: dict[int, bool] = {}
    for node_id in reversed(chain):  # from the feed node up: the deepest row of an outage decides
        for outage_id, open_ in state.off_rows.get(node_id, ()):
            decided.setdefault(outage_id, open_)
    found = [state.info[i] for i, open_ in decided.items() if open_]
    seen = set(decided)
    for node_id in chain:
        for outage_id in state.planned.get(node_id, ()):
            if outage_id in seen:
                continue
            seen.add(outage_id)
            o = state.info[outage_id]
            if o.planned_end is None or o.planned_end > now:
                found.append(o)
    return _ordered(found)


def _ordered(outages: Iterable[OutageInfo]) -> list[OutageInfo]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    unique = {o.number: o for o in outages}
    return sorted(
        unique.values(),
        key=lambda o: (not o.off_now, o.started_at or o.planned_start or far, o.number),
    )


# --- the directory of streets ----------------------------------------------------------------------

_SETTLEMENT_TYPES = frozenset(
    [
        "г",
        "город",
        "гор",
        "с",
        "село",
        "п",
        "пос",
        "поселок",
        "пгт",
        "рп",
        "д",
        "дер",
        "деревня",
        "ст",
        "станица",
        "х",
        "хутор",
        "снт",
        "аул",
    ]
)
_STREET_TYPES = frozenset(
    [
        "ул",
        "улица",
        "пр",
        "просп",
        "проспект",
        "пер",
        "переулок",
        "бульвар",
        "бул",
        "ш",
        "шоссе",
        "наб",
        "набережная",
        "пл",
        "площадь",
        "проезд",
        "туп",
        "тупик",
        "мкр",
        "микрорайон",
        "мкрн",
        "квартал",
        "аллея",
        "тракт",
        "линия",
        "тер",
        "территория",
    ]
)
_TYPE_CANON = {
    "улица": "ул",
    "просп": "пр",
    "проспект": "пр",
    "переулок": "пер",
    "бул": "бульвар",
    "шоссе": "ш",
    "наб": "набережная",
    "площадь": "пл",
    "тупик": "туп",
    "микрорайон": "мкр",
    "мкрн": "мкр",
    "территория": "тер",
}
_REGION_WORDS = frozenset(
    ["обл", "область", "край", "респ", "республика", "район", "округ", "ао", "россия", "рф"]
)
_ABBREVIATIONS = (
    (re.compile(r"пр-т|пр-кт"), " проспект "),
    (re.compile(r"б-р"), " бульвар "),
    (re.compile(r"пр-д"), " проезд "),
    (re.compile(r"кв-л"), " квартал "),
    (re.compile(r"ст-ца"), " станица "),
    (re.compile(r"р-н"), " район "),
)
_WORD = re.compile(r"[0-9a-zа-я]+")


def _words(text: str) -> list[str]:
    text = (text or "").lower().replace("ё", "е")
    for pattern, repl in _ABBREVIATIONS:
        text = pattern.sub(repl, text)
    return _WORD.findall(fold(text))


def _key(words: list[str], types: frozenset[str]) -> str:
    kept = [w for w in words if w not in types]
    if not kept:  # "ул. Набережная": the name is itself a type word; drop the abbreviation, keep the name
        kept = [w for w in words if len(w) > 4] or words
    return " ".join(kept)


def street_key(street: str) -> str:
    """'ул. Ленина' → 'ленина'; 'улица Набережная' → 'набережная'; the form streets are matched by."""
    return _key(_words(street), _STREET_TYPES)


def settlement_key(settlement: str) -> str:
    return _key(_words(settlement), _SETTLEMENT_TYPES)


@dataclass(frozen=True)
class _Directory:
    settlements: dict[str, tuple[str, ...]]  # settlement key → stored settlement names
    streets: dict[str, tuple[tuple[str, str], ...]]  # street key → (stored settlement, stored street)
    by_settlement: dict[str, tuple[str, ...]]  # stored settlement → stored streets


def _load_directory() -> _Directory:
    pairs = Address.objects.values_list("settlement", "street").distinct()
    settlements: dict[str, set[str]] = {}
    streets: dict[str, set[tuple[str, str]]] = {}
    by_settlement: dict[str, set[str]] = {}
    for settlement, street in pairs.iterator(chunk_size=10000):
        settlements.setdefault(settlement_key(settlement), set()).add(settlement)
        streets.setdefault(street_key(street) if street else "", set()).add((settlement, street))
        by_settlement.setdefault(settlement, set()).add(street)
    return _Directory(
        settlements={k: tuple(sorted(v)) for k, v in settlements.items()},
        streets={k: tuple(sorted(v)) for k, v in streets.items()},
        by_settlement={k: tuple(sorted(v)) for k, v in by_settlement.items()},
    )


def _directory_ttl() -> float:
    # Reading a million addresses takes ~0.5 s: the directory is kept up to date by the Address signal
    # and by the reload on a miss instead, and rebuilt from scratch hourly.
    return float(getattr(settings, "OKNO_ADDRESS_DIRECTORY_TTL", 3600))


_directory: TtlCache[_Directory] = TtlCache(_load_directory, _directory_ttl)


def invalidate_directory(**kwargs: object) -> None:
    _directory.invalidate()


def address_directory() -> _Directory:
    """The settlements and streets as stored, for others that read typed addresses (the assistant)."""
    return _directory.get()


def _address_saved(sender: type, instance: Address, raw: bool = False, **kwargs: object) -> None:
    """A new (settlement, street) pair joins the directory at once (no reload: addresses are saved often).

    Bulk loads bypass this; an address not found then reloads the directory once it is a minute old."""
    directory = _directory._value
    if raw or directory is None or instance.street in directory.by_settlement.get(instance.settlement, ()):
        return
    with _directory._lock:
        directory.settlements.setdefault(settlement_key(instance.settlement), ())
        names = directory.settlements[settlement_key(instance.settlement)]
        if instance.settlement not in names:
            directory.settlements[settlement_key(instance.settlement)] = (*names, instance.settlement)
        key = street_key(instance.street) if instance.street else ""
        directory.streets[key] = (*directory.streets.get(key, ()), (instance.settlement, instance.street))
        directory.by_settlement[instance.settlement] = (
            *directory.by_settlement.get(instance.settlement, ()),
            instance.street,
        )


def _settings_changed(**kwargs: object) -> None:
    # Tests change settings around every test (and roll the database back): start each with empty caches.
    _directory.invalidate()
    _outages.invalidate()


post_save.connect(_address_saved, sender=Address, dispatch_uid="okno-outage-lookup-address-save")
setting_changed.connect(_settings_changed, dispatch_uid="okno-outage-lookup-settings")


# --- parsing what people type ----------------------------------------------------------------------

_HOUSE_NO = r"\d+[а-я]?(?:/\d+[а-я]?)?"
_FLAT_RE = re.compile(r"(?<![0-9a-zа-я])(?:кв|квартира|оф|офис|пом|помещение)\.?\s*№?\s*(\d+[а-я]?)")
_BUILDING_RE = re.compile(r"(?<![0-9a-zа-я])(?:корпус|корп|стр|строение|к)\.?\s*(\d+[а-я]?)(?![0-9a-zа-я])")
_HOUSE_RE = re.compile(rf"(?<![0-9a-zа-я])(?:д|дом)\.?\s*№?\s*({_HOUSE_NO})(?![0-9a-zа-я/])")
_HOUSE_K_RE = re.compile(r"(?<![0-9a-zа-я])(\d+[а-я]?)\s*к\s*(\d+)(?![0-9a-zа-я])")
_BARE_HOUSE_RE = re.compile(rf"(?<![0-9a-zа-я/])({_HOUSE_NO})(?![0-9a-zа-я/])")
_POSTCODE_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")


@dataclass(frozen=True)
class ParsedAddress:
    words: tuple[str, ...]  # settlement and street words, in order, type words kept
    house: str
    building: str
    flat: str


def parse_address(text: str) -> ParsedAddress:
    """Split 'г. Тюмень, ул. Ленина д.15 корп. 2 кв 3' into words, house '15', building '2', flat '3'."""
    s = (text or "").lower().replace("ё", "е")
    for pattern, repl in _ABBREVIATIONS:
        s = pattern.sub(repl, s)
    s = _POSTCODE_RE.sub(" ", s)
    flat = building = house = ""
    if m := _FLAT_RE.search(s):
        flat = m.group(1)
        s = s[: m.start()] + " " + s[m.end() :]
    if m := _HOUSE_K_RE.search(s):
        house, building = m.group(1), m.group(2)
        s = s[: m.start()] + " " + s[m.end() :]
    else:
        if m := _BUILDING_RE.search(s):
            building = m.group(1)
            s = s[: m.start()] + " " + s[m.end() :]
        if m := _HOUSE_RE.search(s):
            house = m.group(1)
            s = s[: m.start()] + " " + s[m.end() :]
        else:
            numbers = list(_BARE_HOUSE_RE.finditer(s))
            if numbers:
                m = numbers[-1] if not flat and len(numbers) == 1 else numbers[0]
                house = m.group(1)
                s = s[: m.start()] + " " + s[m.end() :]
                if not flat and len(numbers) > 1:
                    rest = list(_BARE_HOUSE_RE.finditer(s))
                    if rest:
                        flat = rest[-1].group(1)
                        s = s[: rest[-1].start()] + " " + s[rest[-1].end() :]
    words: tuple[str, ...] = ()
    for part in s.split(","):
        part_words = _WORD.findall(fold(part))
        if not _REGION_WORDS.intersection(part_words):  # "Тюменская обл." names no settlement or street
            words += tuple(part_words)
    return ParsedAddress(words=words, house=house, building=building, flat=flat)


def _spans(words: tuple[str, ...], longest: int = 5) -> Iterable[tuple[int, int]]:
    n = len(words)
    for size in range(min(longest, n), 0, -1):
        for start in range(0, n - size + 1):
            yield start, start + size


@dataclass(frozen=True)
class _Place:
    settlements: tuple[str, ...]  # stored settlement names the text names (empty: none named)
    streets: tuple[tuple[str, str], ...]  # (stored settlement, stored street) candidates
    street_words: tuple[str, ...]  # the words left for the street (for suggestions)


def _same_type(
    pairs: tuple[tuple[str, str], ...], words: tuple[str, ...], start: int
) -> tuple[tuple[str, str], ...]:
    """ "пр. Мира" and "ул. Мира" share the key "мира": keep the kind of street typed, when one was."""
    typed = {_TYPE_CANON.get(w, w) for w in words[max(0, start - 1) : start + 4] if w in _STREET_TYPES}
    if not typed or len(pairs) < 2:
        return pairs
    same = tuple(p for p in pairs if typed & {_TYPE_CANON.get(w, w) for w in _words(p[1])})
    return same or pairs


def _resolve_place(parsed: ParsedAddress, directory: _Directory) -> _Place:
    words = parsed.words
    settlement_spans: list[tuple[int, int, tuple[str, ...]]] = []
    for start, end in _spans(words, 4):
        names = directory.settlements.get(_key(list(words[start:end]), _SETTLEMENT_TYPES))
        if names:
            settlement_spans.append((start, end, names))
    best: tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]] | None = None
    options: list[tuple[int, int, tuple[str, ...]]] = [*settlement_spans, (0, 0, ())]
    for s_start, s_end, names in options:
        rest = words[:s_start] + words[s_end:]
        rest_core = tuple(w for w in rest if w not in _SETTLEMENT_TYPES)
        found: tuple[tuple[str, str], ...] = ()
        for start, end in _spans(rest_core):
            span = list(rest_core[start:end])
            pairs = directory.streets.get(_key(span, _STREET_TYPES), ())
            if names:
                pairs = tuple(p for p in pairs if p[0] in names)
            if pairs:
                found = _same_type(pairs, rest_core, start)
                break
        if not found and names and not [w for w in rest_core if w not in _STREET_TYPES]:
            # A village without streets: "с. Берёзовка, 12".
            found = tuple((n, "") for n in names if "" in directory.by_settlement.get(n, ()))
        if found:
            return _Place(settlements=names, streets=found, street_words=rest_core)
        if best is None or (names and not best[0]):
            best = (names, (), rest_core)
    assert best is not None
    return _Place(settlements=best[0], streets=(), street_words=best[2])


# --- resolving to buildings ------------------------------------------------------------------------

_VALUES = (
    "address_id",
    "address__settlement",
    "address__street",
    "address__house",
    "address__building",
    "feed__node_id",
    "feed__node__path",
)


def _house_text(settlement: str, street: str, house: str, building: str = "", flat: str = "") -> str:
    parts = [settlement, street, f"д. {house}" if house else ""]
    if building:
        parts.append(f"корп. {building}")
    if flat:
        parts.append(f"кв. {flat}")
    return ", ".join(p for p in parts if p)


def _house_variants(house: str) -> list[str]:
    return list(dict.fromkeys([house, house.upper(), house.lower()]))


# On PostgreSQL the three lookups are prepared statements (PREPARE once per connection, then EXECUTE):
# planning a six-table join costs more than running it, and p99 < 5 ms leaves no room for that. Other
# databases (SQLite in development and tests) run the same joins through the ORM.
_SQL_HOUSES = """
SELECT ad.settlement, ad.street, ad.house, ad.building, f.node_id, g.path, min(ad.id)
  FROM unnest($1::text[], $2::text[]) AS q(settlement, street)
  JOIN customers_address ad
    ON ad.settlement = q.settlement AND ad.street = q.street AND ad.house = ANY($3::text[])
  JOIN customers_servicepoint sp ON sp.address_id = ad.id
  LEFT JOIN outages_feed f ON f.service_point_id = sp.id
  LEFT JOIN outages_gridnode g ON g.id = f.node_id
 GROUP BY 1, 2, 3, 4, 5, 6
 LIMIT 400"""
_SQL_ACCOUNT_COLUMNS = """
SELECT a.number, a.customer_id, sp.branch_id, ad.id, ad.settlement, ad.street, ad.house, ad.building,
       ad.flat, f.node_id, g.path"""
_SQL_ACCOUNT_JOINS = """
  JOIN customers_servicepoint sp ON sp.id = a.service_point_id
  JOIN customers_address ad ON ad.id = sp.address_id
  LEFT JOIN outages_feed f ON f.service_point_id = sp.id
  LEFT JOIN outages_gridnode g ON g.id = f.node_id"""
_SQL_ACCOUNT = f"""{_SQL_ACCOUNT_COLUMNS}
  FROM customers_account a{_SQL_ACCOUNT_JOINS}
 WHERE a.number = $1
 LIMIT 1"""
_SQL_PHONE = f"""{_SQL_ACCOUNT_COLUMNS}
  FROM customers_contactpoint c
  JOIN customers_account a ON a.customer_id = c.customer_id AND a.closed_on IS NULL{_SQL_ACCOUNT_JOINS}
 WHERE c.kind = 'phone' AND c.value = $1
 ORDER BY a.number
 LIMIT {MAX_MATCHES}"""
_STATEMENTS = {
    "okno_power_at_houses": (_SQL_HOUSES, "(%s, %s, %s)"),
    "okno_power_at_account": (_SQL_ACCOUNT, "(%s)"),
    "okno_power_at_phone": (_SQL_PHONE, "(%s)"),
}


def _execute(name: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """EXECUTE a prepared statement (PREPAREd first on a connection that lacks it) with a generic plan.

    ``plan_cache_mode`` is set around the EXECUTE in the same round trip: PostgreSQL otherwise re-plans
    these statements for each call (the custom plan looks cheaper to it), which costs about 1 ms.
    """
    sql, args = _STATEMENTS[name]
    connection.ensure_connection()
    prepared = getattr(connection, "_okno_prepared", None)
    with connection.cursor() as cur:
        if prepared is None or prepared[0] is not connection.connection:
            cur.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'okno_power_at_%%'")
            prepared = (connection.connection, {row[0] for row in cur.fetchall()})
            connection._okno_prepared = prepared  # type: ignore[attr-defined]
        if name not in prepared[1]:
            cur.execute(f"PREPARE {name} AS {sql}")
            prepared[1].add(name)
        cur.execute(
            f"SET plan_cache_mode = force_generic_plan; EXECUTE {name}{args}; RESET plan_cache_mode", params
        )
        cur.nextset()
        return cur.fetchall()


def _house_rows(pairs: list[tuple[str, str]], houses: list[str]) -> list[tuple[Any, ...]]:
    """(settlement, street, house, building, node id, node path, least address id) per building and feed."""
    if connection.vendor == "postgresql":
        return _execute("okno_power_at_houses", [[p[0] for p in pairs], [p[1] for p in pairs], houses])
    q = Q()
    for settlement, street in pairs:
        q |= Q(address__settlement=settlement, address__street=street, address__house__in=houses)
    rows = (
        ServicePoint.objects.filter(q)
        .values(*_VALUES[1:])
        .annotate(first=Min("address_id"))
        .order_by()
        .values_list(
            "address__settlement",
            "address__street",
            "address__house",
            "address__building",
            "feed__node_id",
            "feed__node__path",
            "first",
        )
    )
    return list(rows[:400])


def _buildings(
    pairs: list[tuple[str, str]], houses: list[str], building: str = ""
) -> dict[tuple[str, str, str, str], tuple[int, set[tuple[int, str]]]]:
    """(settlement, street, house, building) → (smallest address id, {(node id, node path)})."""
    out: dict[tuple[str, str, str, str], tuple[int, set[tuple[int, str]]]] = {}
    for settlement, street, house, bld, node_id, path, first in _house_rows(pairs, houses):
        key = (settlement, street, house, bld)
        if key not in out:
            out[key] = (first, set())
        elif first < out[key][0]:
            out[key] = (first, out[key][1])
        if node_id is not None:
            out[key][1].add((node_id, path))
    if building:
        wanted = {building, building.upper()}
        narrowed = {k: v for k, v in out.items() if k[3] in wanted}
        if narrowed:
            return narrowed
    return out


def _account_rows(*, number: str = "", phone: str = "") -> list[tuple[Any, ...]]:
    """Accounts by number (any) or by the customer's phone (open ones), with address and feed."""
    if connection.vendor == "postgresql":
        return (
            _execute("okno_power_at_account", [number])
            if number
            else _execute("okno_power_at_phone", [phone])
        )
    if number:
        q = Q(number=number)
    else:
        q = Q(
            customer__contacts__kind=ContactKind.PHONE,
            customer__contacts__value=phone,
            closed_on__isnull=True,
        )
    rows = (
        Account.objects.filter(q)
        .order_by("number")
        .values_list(
            "number",
            "customer_id",
            "service_point__branch_id",
            "service_point__address_id",
            "service_point__address__settlement",
            "service_point__address__street",
            "service_point__address__house",
            "service_point__address__building",
            "service_point__address__flat",
            "service_point__feed__node_id",
            "service_point__feed__node__path",
        )
    )
    return list(rows[:MAX_MATCHES])


def _answer(
    match: AddressMatch, nodes: set[tuple[int, str]], now: dt.datetime, state: _OutageState
) -> AddressAnswer:
    outages: list[OutageInfo] = []
    for _node_id, path in nodes:
        outages.extend(outages_on_path(path, now, state))
    outages = _ordered(outages)
    if any(o.off_now for o in outages):
        power_on: bool | None = False
    elif nodes:
        power_on = True
    else:
        power_on = None
    return AddressAnswer(
        match=match, outages=outages, power_on=power_on, node_ids=tuple(sorted(n for n, _ in nodes))
    )


def build_result(
    status: str, answers: list[AddressAnswer], query: str, suggestions: list[str] | None = None
) -> LookupResult:
    outages = _ordered(o for a in answers for o in a.outages)
    power_on: bool | None = None
    if status == OK and answers:
        states = [a.power_on for a in answers]
        if any(s is False for s in states):
            power_on = False
        elif all(s is True for s in states):
            power_on = True
    return LookupResult(
        status=status,
        matches=[a.match for a in answers],
        outages=outages,
        power_on=power_on,
        suggestions=suggestions or [],
        answers=answers,
        query=query,
    )


def _by_address_text(text: str, now: dt.datetime, state: _OutageState) -> LookupResult:
    parsed = parse_address(text)
    directory = _directory.get()
    place = _resolve_place(parsed, directory)
    if not place.streets and _directory.age > RELOAD_ON_MISS_AFTER:
        # A street bulk-loaded since the directory was built: look again with a fresh one (at most
        # once a minute, so typing nonsense cannot make every lookup reread the addresses).
        invalidate_directory()
        directory = _directory.get()
        place = _resolve_place(parsed, directory)
    if not place.streets or not parsed.house:
        return build_result(NOT_FOUND, [], text, _suggest(parsed, place, directory))
    found = _buildings(list(place.streets[:MAX_MATCHES]), _house_variants(parsed.house), parsed.building)
    if not found:
        return build_result(NOT_FOUND, [], text, _suggest(parsed, place, directory))
    answers = [
        _answer(
            AddressMatch(
                id=first,
                text=_house_text(*key),
                settlement=key[0],
                street=key[1],
                house=key[2],
                building=key[3],
            ),
            nodes,
            now,
            state,
        )
        for key, (first, nodes) in sorted(found.items())
    ]
    return build_result(OK if len(answers) == 1 else AMBIGUOUS, answers, text)


def _natural(house: str) -> tuple[int, str]:
    m = re.match(r"\d+", house)
    return (int(m.group()) if m else 10**9, house)


def _suggest(parsed: ParsedAddress, place: _Place, directory: _Directory) -> list[str]:
    """Similar addresses: houses on the street found, streets of the settlement, or settlements."""
    if place.streets:
        # The street is known, the house is not: the houses nearest by number on those streets.
        out: list[str] = []
        target = _natural(parsed.house)[0] if parsed.house else 0
        for settlement, street in place.streets[:3]:
            houses = set(
                Address.objects.filter(settlement=settlement, street=street)
                .values_list("house", flat=True)
                .distinct()[:2000]
            )
            nearest = sorted(houses, key=lambda h: (abs(_natural(h)[0] - target), _natural(h)))
            out.extend(_house_text(settlement, street, h) for h in nearest[:MAX_SUGGESTIONS] if h)
        return out[:MAX_SUGGESTIONS]
    typed = " ".join(w for w in place.street_words if w not in _STREET_TYPES)
    if place.settlements:
        streets = [s for n in place.settlements for s in directory.by_settlement.get(n, ()) if s]
        by_key = {street_key(s): s for s in streets}
        close = difflib.get_close_matches(typed, list(by_key), n=MAX_SUGGESTIONS, cutoff=0.5) if typed else []
        if not close:
            close = sorted(by_key)[:MAX_SUGGESTIONS]
        return [f"{place.settlements[0]}, {by_key[k]}" for k in close]
    if typed:
        close = difflib.get_close_matches(typed, list(directory.streets), n=MAX_SUGGESTIONS, cutoff=0.6)
        out = [f"{s}, {st}" for k in close for s, st in directory.streets[k][:3] if st]
        close_s = difflib.get_close_matches(typed, list(directory.settlements), n=3, cutoff=0.6)
        out.extend(n for k in close_s for n in directory.settlements[k])
        return out[:MAX_SUGGESTIONS]
    return []


def _by_address_id(address_id: int, now: dt.datetime, state: _OutageState) -> LookupResult:
    row = (
        Address.objects.filter(pk=address_id).values_list("settlement", "street", "house", "building").first()
    )
    if row is None:
        return build_result(NOT_FOUND, [], str(address_id))
    settlement, street, house, building = row
    found = _buildings([(settlement, street)], [house])
    first, nodes = found.get((settlement, street, house, building), (address_id, set()))
    match = AddressMatch(
        id=first,
        text=_house_text(settlement, street, house, building),
        settlement=settlement,
        street=street,
        house=house,
        building=building,
    )
    return build_result(OK, [_answer(match, nodes, now, state)], str(address_id))


def _by_accounts(
    rows: list[tuple[Any, ...]], query: str, now: dt.datetime, state: _OutageState
) -> LookupResult:
    answers: list[AddressAnswer] = []
    seen: set[int] = set()
    for (
        number,
        customer_id,
        branch_id,
        address_id,
        settlement,
        street,
        house,
        building,
        flat,
        node_id,
        path,
    ) in rows:
        if address_id in seen:
            continue
        seen.add(address_id)
        match = AddressMatch(
            id=address_id,
            text=_house_text(settlement, street, house, building, flat),
            settlement=settlement,
            street=street,
            house=house,
            building=building,
            account=number,
            customer_id=customer_id,
            branch_id=branch_id,
        )
        answers.append(_answer(match, {(node_id, path)} if node_id is not None else set(), now, state))
    return build_result(OK if answers else NOT_FOUND, answers, query)


def power_at(
    *,
    address: str = "",
    account: str = "",
    phone: str = "",
    address_id: int | None = None,
    now: dt.datetime | None = None,
) -> LookupResult:
    """Whether there is power at an address (or at the service points of an account or a phone number).

    Give exactly one of ``address`` (free text), ``account``, ``phone`` or ``address_id``; giving none
    or several raises ``ValueError``. Addresses found in several places answer ``ambiguous`` with an
    answer per building; an account or a phone with several service points answers ``ok`` with one per
    address; nothing found answers ``not_found`` (with similar addresses for typed addresses).
    """
    given = [bool(address.strip()), bool(account.strip()), bool(phone.strip()), address_id is not None]
    if sum(given) != 1:
        raise ValueError("give exactly one of address, account, phone or address_id")
    now = now or timezone.now()
    state = _outages.get()
    if address_id is not None:
        return _by_address_id(address_id, now, state)
    if account.strip():
        number = normalize_account_number(account)
        return _by_accounts(_account_rows(number=number), number, now, state)
    if phone.strip():
        value = normalize_phone(phone)
        if not value:
            return build_result(NOT_FOUND, [], phone)
        return _by_accounts(_account_rows(phone=value), value, now, state)
    return _by_address_text(address, now, state)


__all__ = [
    "AMBIGUOUS",
    "NOT_FOUND",
    "OK",
    "AddressAnswer",
    "AddressMatch",
    "LookupResult",
    "OutageInfo",
    "ParsedAddress",
    "invalidate_directory",
    "invalidate_outages",
    "outages_on_path",
    "parse_address",
    "power_at",
    "settlement_key",
    "street_key",
]
