"""Reliability indices of IEEE 1366-2012 and the regulator's Пsaidi/Пsaifi, as pure functions.

Nothing here touches the database: :mod:`okno.outages.reliability_data` turns recorded outages into
:class:`Interruption` values and ``okno reliability`` reads them from CSV files, and both hand them to
:func:`compute_indices` and :func:`major_event_days`. Formulas and conventions are in
``docs/outages/reliability.md``.

Arithmetic. Everything that ends up in a report is exact: durations are :class:`~fractions.Fraction`
minutes (microseconds included), the ratios are fractions, and only the final value is rounded
half-up to a fixed number of places (:data:`PLACES`) into a :class:`~decimal.Decimal`. The
Major Event Day statistics (logarithms, mean, standard deviation, ``exp``) are binary floats: they are
a statistical threshold, not a reported quantity, and IEEE 1366 itself works them in floating point.

The unit of "customer" is the service point (точка поставки), which is also what the regulator's
methodology (приказ Минэнерго России от 29.11.2016 № 1256) counts, so ``p_saifi`` equals ``saifi``
and ``p_saidi_h`` is ``saidi_min`` in hours.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any

#: Interruptions shorter than this many minutes are momentary (kept out of SAIFI/SAIDI, counted in MAIFI_E).
MOMENTARY_MIN = 5
#: CEMIn counts customers with more than this many sustained interruptions.
CEMI_N = 1
#: The multiplier of the 2.5-beta method.
MED_BETA_MULTIPLIER = 2.5
#: How many years of daily SAIDI the 2.5-beta method looks at, at most.
MED_HISTORY_YEARS = 5

#: Decimal places of each reported value (rounded half-up); counts are integers.
PLACES: dict[str, int] = {
    "saifi": 4,
    "saidi_min": 2,
    "caidi_min": 2,
    "caifi": 4,
    "ctaidi_min": 2,
    "asai": 6,
    "cemi": 4,
    "maifi_e": 4,
    "customer_minutes": 2,
    "p_saidi_h": 4,
    "p_saifi": 4,
    "hours": 2,
    "alpha": 6,
    "beta": 6,
    "t_med": 4,
    "saidi_day": 4,
}

#: Voltage levels of the Russian tariff system, by the voltage of the node where supply was lost.
VOLTAGE_LEVELS = ("vn", "sn1", "sn2", "nn")


def voltage_level(kv: Decimal | float | int) -> str:
    """ВН (``vn``) ≥ 110 kV; СН1 (``sn1``) above 20 and below 110 kV (35, 60 kV); СН2 (``sn2``) 1–20 kV; НН (``nn``) below 1 kV."""
    value = Decimal(str(kv))
    if value >= 110:
        return "vn"
    if value > 20:
        return "sn1"
    if value >= 1:
        return "sn2"
    return "nn"


def microseconds_between(start: dt.datetime, end: dt.datetime) -> int:
    delta = end - start
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def minutes_between(start: dt.datetime, end: dt.datetime) -> Fraction:
    """Exact minutes from ``start`` to ``end`` (aware datetimes; microseconds kept)."""
    return Fraction(microseconds_between(start, end), 60_000_000)


def round_half_up(value: Fraction | Decimal | int, places: int) -> Decimal:
    """``value`` rounded half-up (away from zero) to ``places`` decimals, exactly."""
    frac = Fraction(value)
    scale = 10**places
    scaled = abs(frac) * scale
    n = math.floor(scaled + Fraction(1, 2))
    result = Decimal(n).scaleb(-places)
    return -result if frac < 0 else result


@dataclass(frozen=True)
class Interruption:
    """One interruption event (or one restoration step of an outage): the same customers off, then on.

    ``service_points`` are the ids of the customers interrupted when known (``None`` when not): they
    make the "distinct customers" indices (CAIFI, CTAIDI, CEMIn) possible.
    """

    event_id: str
    start: dt.datetime
    end: dt.datetime
    customers: int
    service_points: frozenset[Any] | None = None

    @cached_property
    def microseconds(self) -> int:
        return microseconds_between(self.start, self.end)

    @property
    def minutes(self) -> Fraction:
        return Fraction(self.microseconds, 60_000_000)

    def is_momentary(self, momentary_min: Fraction | Decimal | int = MOMENTARY_MIN) -> bool:
        """Shorter than ``momentary_min`` minutes (exactly ``momentary_min`` is sustained)."""
        return self.microseconds < Fraction(momentary_min) * 60_000_000


@dataclass
class Indices:
    """The sums and the indices of a set of interruptions over ``customers_served`` customers.

    Ratios are exact fractions or ``None`` where undefined (no customers served, no interruption, or
    service points not known for every sustained interruption); :meth:`as_dict` rounds them.
    """

    customers_served: int
    hours: Fraction | None
    momentary_min: Fraction
    cemi_n: int
    events: int = 0
    sustained_events: int = 0
    momentary_events: int = 0
    customers_interrupted: int = 0
    customer_minutes: Fraction = Fraction(0)
    momentary_customer_events: int = 0
    distinct_customers: int | None = None
    customers_over_n: int | None = None
    saifi: Fraction | None = None
    saidi_min: Fraction | None = None
    caidi_min: Fraction | None = None
    caifi: Fraction | None = None
    ctaidi_min: Fraction | None = None
    asai: Fraction | None = None
    cemi: Fraction | None = None
    maifi_e: Fraction | None = None
    p_saidi_h: Fraction | None = None
    p_saifi: Fraction | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The output of ``okno reliability indices``: rounded Decimals, integers and ``None``."""
        out: dict[str, Any] = {
            "customers_served": self.customers_served,
            "hours": _rounded(self.hours, "hours"),
            "momentary_min": _rounded(self.momentary_min, "hours"),
            "cemi_n": self.cemi_n,
            "events": self.events,
            "sustained_events": self.sustained_events,
            "momentary_events": self.momentary_events,
            "customers_interrupted": self.customers_interrupted,
            "customer_minutes": _rounded(self.customer_minutes, "customer_minutes"),
            "momentary_customer_events": self.momentary_customer_events,
            "distinct_customers_interrupted": self.distinct_customers,
            "customers_over_n": self.customers_over_n,
        }
        for key in (
            "saifi",
            "saidi_min",
            "caidi_min",
            "caifi",
            "ctaidi_min",
            "asai",
            "cemi",
            "maifi_e",
            "p_saidi_h",
            "p_saifi",
        ):
            out[key] = _rounded(getattr(self, key), key)
        return out


def _rounded(value: Fraction | None, key: str) -> Decimal | None:
    if value is None:
        return None
    if value.denominator == 1 and key == "hours":  # whole hours (and minutes) print as integers
        return Decimal(value.numerator)
    return round_half_up(value, PLACES[key])


def _ratio(num: Fraction | int, den: Fraction | int | None) -> Fraction | None:
    if not den:
        return None
    return Fraction(num) / Fraction(den)


def compute_indices(
    interruptions: Iterable[Interruption],
    *,
    customers_served: int,
    hours: Fraction | Decimal | int | None = None,
    momentary_min: Fraction | Decimal | int = MOMENTARY_MIN,
    cemi_n: int = CEMI_N,
) -> Indices:
    """SAIFI, SAIDI, CAIDI, CAIFI, CTAIDI, ASAI, CEMIn, MAIFI_E, Пsaidi and Пsaifi (IEEE 1366-2012).

    ``customers_served`` is N_T; ``hours`` the length of the period (ASAI is ``None`` without it).
    An interruption shorter than ``momentary_min`` minutes is a momentary event: it counts in
    MAIFI_E only. CAIFI, CTAIDI and CEMIn need the service points of every sustained interruption;
    when any is unknown they are ``None`` (a note says why).
    """
    n_t = int(customers_served)
    if n_t < 0:
        raise ValueError("the number of customers served cannot be negative")
    if cemi_n < 0:
        raise ValueError("CEMIn needs n ≥ 0")
    result = Indices(
        customers_served=n_t,
        hours=None if hours is None else Fraction(hours),
        momentary_min=Fraction(momentary_min),
        cemi_n=cemi_n,
    )
    per_customer: Counter[Any] = Counter()
    customer_us = 0  # customer-microseconds: integer sums, one division at the end
    points_known = True
    for event in interruptions:
        result.events += 1
        if event.is_momentary(result.momentary_min):
            result.momentary_events += 1
            result.momentary_customer_events += event.customers
            continue
        result.sustained_events += 1
        result.customers_interrupted += event.customers
        customer_us += event.customers * event.microseconds
        if event.service_points is None:
            points_known = False
        else:
            per_customer.update(event.service_points)

    result.customer_minutes = Fraction(customer_us, 60_000_000)
    result.saifi = _ratio(result.customers_interrupted, n_t)
    result.saidi_min = _ratio(result.customer_minutes, n_t)
    result.caidi_min = _ratio(result.customer_minutes, result.customers_interrupted)
    result.maifi_e = _ratio(result.momentary_customer_events, n_t)
    if result.saifi is not None and result.saidi_min is not None:
        result.p_saifi = result.saifi
        result.p_saidi_h = result.saidi_min / 60
    if points_known:
        result.distinct_customers = len(per_customer)
        result.customers_over_n = sum(1 for count in per_customer.values() if count > cemi_n)
        result.caifi = _ratio(result.customers_interrupted, result.distinct_customers)
        result.ctaidi_min = _ratio(result.customer_minutes, result.distinct_customers)
        result.cemi = _ratio(result.customers_over_n, n_t)
    else:
        result.notes.append(
            "service points are not known for every sustained interruption: no CAIFI, CTAIDI, CEMIn"
        )
    if result.hours is not None and n_t and result.hours > 0:
        available = n_t * result.hours
        result.asai = (available - result.customer_minutes / 60) / available
    elif result.hours is None:
        result.notes.append("no period length: no ASAI")
    return result


def calendar_year_hours(first_year: int, last_year: int) -> int:
    """Hours from 1 January of ``first_year`` to 1 January of ``last_year + 1`` (8,760 or 8,784 a year)."""
    days = (dt.date(last_year + 1, 1, 1) - dt.date(first_year, 1, 1)).days
    return days * 24


def span_hours(interruptions: Iterable[Interruption]) -> int | None:
    """The period the CLI assumes when ``--hours`` is not given: whole calendar years.

    From 1 January of the year of the earliest start to 31 December of the year of the latest end,
    the years read as written in the file (the local dates of the given offsets). ``None`` if empty.
    """
    years = [y for event in interruptions for y in (event.start.year, event.end.year)]
    if not years:
        return None
    return calendar_year_hours(min(years), max(years))


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` years earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: dt.date, years: int) -> dt.date:
    return years_before(day, -years)


# --- Major Event Days (IEEE 1366-2012, the 2.5-beta method) -----------------------------------------


class MedError(ValueError):
    """The history is too short to compute a threshold."""


@dataclass(frozen=True)
class MedResult:
    """The 2.5-beta threshold of a history of daily SAIDI and the days above it.

    ``alpha`` and ``beta`` are the mean and standard deviation of ln(daily SAIDI) over the days with
    SAIDI above zero; ``t_med = exp(alpha + 2.5·beta)`` in customer-minutes per customer;
    ``major_event_days`` are (date, SAIDI) of the history's days with SAIDI strictly above ``t_med``.
    """

    alpha: float
    beta: float
    t_med: float
    std: str
    days: int
    days_used: int
    major_event_days: list[tuple[dt.date, Fraction | Decimal]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "alpha": round_half_up(Fraction(self.alpha), PLACES["alpha"]),
            "beta": round_half_up(Fraction(self.beta), PLACES["beta"]),
            "t_med": round_half_up(Fraction(self.t_med), PLACES["t_med"]),
            "std": self.std,
            "days": self.days,
            "days_used": self.days_used,
            "major_event_days": [
                {"date": day.isoformat(), "saidi_min": _saidi_out(value)}
                for day, value in self.major_event_days
            ],
        }


def _saidi_out(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return round_half_up(value, PLACES["saidi_day"])


def med_threshold(
    daily_saidi: Mapping[dt.date, Fraction | Decimal | int | float], *, std: str = "sample"
) -> MedResult:
    """T_MED by the 2.5-beta method over ``daily_saidi`` (minutes per day), and the days above it.

    Days with zero SAIDI are dropped before taking logarithms. ``std`` is ``"sample"`` (n − 1 in the
    denominator, IEEE's worked example) or ``"population"`` (n). The whole mapping is the history:
    callers choose the window (at most five years, :data:`MED_HISTORY_YEARS`).
    """
    if std not in ("sample", "population"):
        raise ValueError("std must be 'sample' or 'population'")
    logs = []
    for day, value in daily_saidi.items():
        if value < 0:
            raise ValueError(f"{day}: daily SAIDI cannot be negative")
        if value > 0:
            logs.append(math.log(value))
    needed = 2 if std == "sample" else 1
    if len(logs) < needed:
        raise MedError(
            f"{len(logs)} day(s) with interruptions in the history: the {std} standard deviation needs at least {needed}"
        )
    alpha = statistics.fmean(logs)
    beta = statistics.stdev(logs, alpha) if std == "sample" else statistics.pstdev(logs, alpha)
    result = MedResult(
        alpha=alpha,
        beta=beta,
        t_med=math.exp(alpha + MED_BETA_MULTIPLIER * beta),
        std=std,
        days=len(daily_saidi),
        days_used=len(logs),
        major_event_days=[],
    )
    result.major_event_days.extend(major_event_days(daily_saidi, result))
    return result


def major_event_days(
    daily_saidi: Mapping[dt.date, Fraction | Decimal | int | float], threshold: MedResult | float
) -> list[tuple[dt.date, Any]]:
    """The days whose SAIDI is strictly above the threshold, in date order.

    Given a :class:`MedResult` the test is ``ln(SAIDI) > α + 2.5β``, the same inequality on the side
    where it was computed: ``exp(ln 7)`` is 6.999…98 in binary floating point, and a day exactly at the
    threshold (β = 0) must not become a major event day by rounding.
    """
    if isinstance(threshold, MedResult):
        log_t = threshold.alpha + MED_BETA_MULTIPLIER * threshold.beta
        return sorted((day, v) for day, v in daily_saidi.items() if v > 0 and math.log(v) > log_t)
    return sorted((day, v) for day, v in daily_saidi.items() if v > threshold)


def daily_saidi(
    interruptions: Iterable[Interruption],
    *,
    customers_served: int,
    tz: dt.tzinfo,
    momentary_min: Fraction | Decimal | int = MOMENTARY_MIN,
) -> dict[dt.date, Fraction]:
    """Daily SAIDI (minutes) of sustained interruptions, each filed under the local day it began.

    IEEE 1366-2012 (3.14): "any interruption that spans multiple calendar days is accrued to the day
    on which the interruption began". Days without interruptions are absent (they would be dropped
    by the 2.5-beta method anyway).
    """
    if customers_served <= 0:
        return {}
    customer_us: dict[dt.date, int] = {}
    for event in interruptions:
        if event.is_momentary(momentary_min):
            continue
        day = event.start.astimezone(tz).date()
        customer_us[day] = customer_us.get(day, 0) + event.customers * event.microseconds
    return {day: Fraction(us, 60_000_000 * customers_served) for day, us in sorted(customer_us.items())}


def json_default(value: Any) -> Any:
    """``json.dumps(default=…)`` for the commands: Decimals as JSON numbers, dates as ISO strings."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --- The files of ``okno reliability`` ----------------------------------------------------------------


class InputError(ValueError):
    """A bad row of an input file; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Non-blank CSV rows with their line numbers (any newline convention; a BOM is ignored)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(reader.line_num or 1, f"not CSV ({exc})") from None
        if row and any(cell.strip() for cell in row):
            yield reader.line_num, [cell.strip() for cell in row]


def _aware(value: str, line: int, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(line, f"{name} {value!r} is not an ISO date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(line, f"{name} {value!r} has no UTC offset (write e.g. 2026-03-01T10:00+03:00)")
    return moment


def parse_events(text: str, *, customers_served: int | None = None) -> list[Interruption]:
    """Rows ``event_id,start,end,customers[,service_points]``; an optional header row (``…,start,…``).

    ``start``/``end`` are ISO datetimes with an offset, ``customers`` a whole number ≥ 0 (at most
    ``customers_served`` when given), ``service_points`` space-separated ids; when present their
    number must equal ``customers``. Event ids must be unique. Raises :class:`InputError`.
    """
    events: list[Interruption] = []
    seen: dict[str, int] = {}
    first = True
    for line, row in _rows(text):
        if first and len(row) > 1 and row[1].lower() == "start":
            first = False
            continue
        first = False
        if len(row) not in (4, 5):
            raise InputError(
                line,
                f"expected 4 or 5 fields (event_id,start,end,customers[,service_points]), got {len(row)}",
            )
        event_id, start_s, end_s, customers_s = row[:4]
        if not event_id:
            raise InputError(line, "event_id is empty")
        if event_id in seen:
            raise InputError(line, f"event_id {event_id!r} repeats line {seen[event_id]}")
        seen[event_id] = line
        start = _aware(start_s, line, "start")
        end = _aware(end_s, line, "end")
        if end <= start:
            raise InputError(line, f"end {end_s} is not after start {start_s}")
        if not customers_s.isascii() or not customers_s.isdigit():
            raise InputError(line, f"customers {customers_s!r} is not a whole number ≥ 0")
        customers = int(customers_s)
        if customers_served is not None and customers > customers_served:
            raise InputError(line, f"{customers} customers interrupted but only {customers_served} served")
        points: frozenset[str] | None = None
        if len(row) == 5 and row[4]:
            ids = row[4].split()
            points = frozenset(ids)
            if len(points) != len(ids):
                raise InputError(line, "a service point is listed twice")
            if len(points) != customers:
                raise InputError(
                    line, f"customers is {customers} but {len(points)} service points are listed"
                )
        events.append(Interruption(event_id, start, end, customers, points))
    return events


def parse_daily(text: str) -> dict[dt.date, Decimal]:
    """Rows ``date,saidi_min`` (ISO date, a number ≥ 0); an optional header row (``date,…``).

    Raises :class:`InputError` on a bad or repeated date or a bad number.
    """
    from decimal import InvalidOperation

    daily: dict[dt.date, Decimal] = {}
    lines: dict[dt.date, int] = {}
    first = True
    for line, row in _rows(text):
        if first and row[0].lower() == "date":
            first = False
            continue
        first = False
        if len(row) != 2:
            raise InputError(line, f"expected 2 fields (date,saidi_min), got {len(row)}")
        try:
            day = dt.date.fromisoformat(row[0])
        except ValueError:
            raise InputError(line, f"date {row[0]!r} is not an ISO date (YYYY-MM-DD)") from None
        try:
            value = Decimal(row[1])
        except InvalidOperation:
            raise InputError(line, f"saidi_min {row[1]!r} is not a number") from None
        if not value.is_finite() or value < 0:
            raise InputError(line, f"saidi_min {row[1]!r} must be a number ≥ 0")
        if day in daily:
            raise InputError(line, f"date {day} repeats line {lines[day]}")
        daily[day] = value
        lines[day] = line
    return daily
