"""IEEE 1366 indices and the 2.5-beta Major Event Day method: worked examples computed by hand, and the CLI.

Worked example A (used by several tests): N_T = 1,000 customers, the year 2026 (8,760 hours).

    event  start (+03:00)      end                 minutes  customers  service points
    E1     01.03 10:00         01.03 12:00           120       200     sp1–sp200
    E2     10.05 08:15         10.05 09:00            45       100     sp151–sp250
    E3     02.06 14:00         02.06 14:03             3       300     sp1–sp300   (momentary: < 5 min)
    E4     20.11 23:45         21.11 00:15            30        50     sp1–sp50

    sustained: E1, E2, E4
    customers interrupted  CI  = 200 + 100 + 50                     = 350
    customer-minutes       CMI = 200·120 + 100·45 + 50·30 = 24,000 + 4,500 + 1,500 = 30,000
    SAIFI  = 350 / 1,000                                              = 0.35
    SAIDI  = 30,000 / 1,000                                           = 30 min
    CAIDI  = 30,000 / 350 = 85.714 285…                               → 85.71 min
    distinct customers interrupted = sp1–sp250                        = 250
    CAIFI  = 350 / 250                                                = 1.4
    CTAIDI = 30,000 / 250                                             = 120 min
    CEMI1: more than 1 sustained interruption: sp1–50 (E1, E4) and sp151–200 (E1, E2) = 100
           → 100 / 1,000                                              = 0.1
    CEMI2: nobody has more than 2                                     = 0
    MAIFI_E = 300 / 1,000                                             = 0.3
    ASAI = (1,000·8,760 − 30,000/60) / (1,000·8,760) = 1 − 500/8,760,000 = 0.999 942 922… → 0.999943
    Пsaidi = 30 min / 60 = 0.5 h; Пsaifi = 0.35
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from okno.outages import reliability as rel

MSK = dt.timezone(dt.timedelta(hours=3))


def sp(first: int, last: int) -> str:
    return " ".join(f"sp{i}" for i in range(first, last + 1))


EXAMPLE_A = "\n".join(
    [
        "event_id,start,end,customers,service_points",
        f"E1,2026-03-01T10:00:00+03:00,2026-03-01T12:00:00+03:00,200,{sp(1, 200)}",
        f"E2,2026-05-10T08:15:00+03:00,2026-05-10T09:00:00+03:00,100,{sp(151, 250)}",
        f"E3,2026-06-02T14:00:00+03:00,2026-06-02T14:03:00+03:00,300,{sp(1, 300)}",
        f"E4,2026-11-20T23:45:00+03:00,2026-11-21T00:15:00+03:00,50,{sp(1, 50)}",
    ]
)

# Worked example B (MED, sample standard deviation, IEEE's default). Twelve days of 2026; the values
# are powers of two so the logarithms are multiples of ln 2 = 0.693 147 2:
#   SAIDI  1 0 1 2 2 2 2 4 0 4 4 1024   → zero days (2nd, 9th) dropped, 10 days left
#   k = log2 SAIDI: 0 0 1 1 1 1 2 2 2 10;  Σk = 20, mean k = 2
#   deviations −2 −2 −1 −1 −1 −1 0 0 0 8;  Σ squares = 4+4+1+1+1+1+0+0+0+64 = 76
#   sample sd of k = √(76/9) = 2.905 933;   population sd = √(76/10) = 2.756 810
#   α = 2·ln 2 = 1.386 294;  β = 2.905 933·0.693 147 = 2.014 239  (population: 1.910 875)
#   T_MED = exp(α + 2.5β) = 2^(2 + 2.5·2.905 933) = 2^9.264 832 = 512·2^0.264 832 = 512·1.201 496 = 615.166
#   (population: 2^(2 + 2.5·2.756 810) = 2^8.892 024 = 256·1.855 778 = 475.079)
#   only 12 January (1024) is above T_MED either way.
EXAMPLE_B = [1, 0, 1, 2, 2, 2, 2, 4, 0, 4, 4, 1024]

# Worked example C (the std option changes the answer). Ten days: 1 1 1 2 2 2 2 2 16 0.
#   zero day dropped → 9 days, k = 0 0 0 1 1 1 1 1 4, mean k = 1, Σ squares = 1+1+1+0·5+9 = 12
#   sample sd of k = √(12/8) = 1.224 745 → T_MED = 2^(1 + 3.061 862) = 16·2^0.061 862 = 16·1.043 812 = 16.701
#   population sd = √(12/9) = 1.154 701 → T_MED = 2^(1 + 2.886 751) = 8·2^0.886 751 = 8·1.849 008 = 14.792
#   the 16-minute day is a major event day with the population deviation only.
EXAMPLE_C = [1, 1, 1, 2, 2, 2, 2, 2, 16, 0]


def daily(values: list[int], start: dt.date = dt.date(2026, 1, 1)) -> dict[dt.date, Decimal]:
    return {start + dt.timedelta(days=i): Decimal(v) for i, v in enumerate(values)}


def run(*args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("reliability", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- pure functions --------------------------------------------------------------------------------


def test_worked_example_a_gives_every_index_exactly():
    events = rel.parse_events(EXAMPLE_A, customers_served=1000)
    result = rel.compute_indices(events, customers_served=1000, hours=8760)
    assert result.customers_interrupted == 350
    assert result.customer_minutes == 30_000
    assert result.saifi == Fraction(7, 20)
    assert result.saidi_min == 30
    assert result.caidi_min == Fraction(30_000, 350)
    assert result.caifi == Fraction(7, 5)
    assert result.ctaidi_min == 120
    assert result.cemi == Fraction(1, 10)
    assert result.maifi_e == Fraction(3, 10)
    assert result.asai == 1 - Fraction(500, 8_760_000)
    assert result.p_saidi_h == Fraction(1, 2)
    out = result.as_dict()
    assert out["caidi_min"] == Decimal("85.71")
    assert out["asai"] == Decimal("0.999943")
    assert out["saifi"] == Decimal("0.3500")
    assert (out["sustained_events"], out["momentary_events"], out["distinct_customers_interrupted"]) == (
        3,
        1,
        250,
    )


def test_cemi_counts_customers_with_more_than_n_interruptions():
    events = rel.parse_events(EXAMPLE_A, customers_served=1000)
    assert rel.compute_indices(events, customers_served=1000, cemi_n=0).cemi == Fraction(250, 1000)
    assert rel.compute_indices(events, customers_served=1000, cemi_n=2).cemi == 0


def test_exactly_five_minutes_is_sustained_and_just_under_is_momentary():
    start = dt.datetime(2026, 4, 1, 10, 0, tzinfo=MSK)
    five = rel.Interruption("a", start, start + dt.timedelta(minutes=5), 10)
    under = rel.Interruption(
        "b", start, start + dt.timedelta(minutes=4, seconds=59, microseconds=999_999), 10
    )
    result = rel.compute_indices([five, under], customers_served=100)
    assert (result.sustained_events, result.momentary_events) == (1, 1)
    assert result.saifi == Fraction(1, 10)
    assert result.maifi_e == Fraction(1, 10)
    # a stricter policy (10 minutes) makes both momentary
    result = rel.compute_indices([five, under], customers_served=100, momentary_min=10)
    assert (result.sustained_events, result.customers_interrupted, result.maifi_e) == (0, 0, Fraction(1, 5))
    assert result.caidi_min is None  # 0/0 is undefined, not zero


def test_without_service_points_the_distinct_customer_indices_are_undefined():
    start = dt.datetime(2026, 4, 1, 10, 0, tzinfo=MSK)
    events = [
        rel.Interruption(
            "a", start, start + dt.timedelta(hours=1), 10, frozenset(f"p{i}" for i in range(10))
        ),
        rel.Interruption("b", start, start + dt.timedelta(hours=2), 5),
    ]
    result = rel.compute_indices(events, customers_served=100)
    assert result.saifi == Fraction(15, 100)
    assert result.saidi_min == Fraction(10 * 60 + 5 * 120, 100)
    assert (result.caifi, result.ctaidi_min, result.cemi, result.asai) == (None, None, None, None)
    assert result.notes


def test_voltage_levels_follow_the_tariff_bands():
    assert [rel.voltage_level(Decimal(v)) for v in ("220", "110", "35", "20", "10", "6", "1", "0.4")] == [
        "vn",
        "vn",
        "sn1",
        "sn2",
        "sn2",
        "sn2",
        "sn2",
        "nn",
    ]


def test_rounding_is_half_up_and_exact():
    assert rel.round_half_up(Fraction(5, 1000), 2) == Decimal("0.01")  # 0.005 → 0.01, not banker's 0.00
    assert rel.round_half_up(Fraction(1, 3), 4) == Decimal("0.3333")
    assert str(rel.round_half_up(0, 4)) == "0.0000"


def test_calendar_years_are_8760_or_8784_hours():
    assert rel.calendar_year_hours(2026, 2026) == 8760
    assert rel.calendar_year_hours(2028, 2028) == 8784
    assert rel.calendar_year_hours(2026, 2028) == 8760 * 2 + 8784


def test_worked_example_b_med_threshold_by_hand():
    result = rel.med_threshold(daily(EXAMPLE_B))
    assert result.days == 12 and result.days_used == 10
    assert result.alpha == pytest.approx(1.386294, abs=1e-6)
    assert result.beta == pytest.approx(2.014239, abs=1e-6)
    assert result.t_med == pytest.approx(615.166, abs=1e-3)
    assert result.major_event_days == [(dt.date(2026, 1, 12), Decimal(1024))]
    population = rel.med_threshold(daily(EXAMPLE_B), std="population")
    assert population.beta == pytest.approx(1.910875, abs=1e-6)
    assert population.t_med == pytest.approx(475.079, abs=1e-3)


def test_worked_example_c_population_deviation_finds_a_day_the_sample_one_does_not():
    sample = rel.med_threshold(daily(EXAMPLE_C))
    population = rel.med_threshold(daily(EXAMPLE_C), std="population")
    assert sample.t_med == pytest.approx(16.701, abs=1e-3)
    assert population.t_med == pytest.approx(14.792, abs=1e-3)
    assert sample.major_event_days == []
    assert population.major_event_days == [(dt.date(2026, 1, 9), Decimal(16))]


def test_med_needs_two_days_with_interruptions_for_a_sample_deviation():
    with pytest.raises(rel.MedError):
        rel.med_threshold(daily([0, 0, 7]))
    single = rel.med_threshold(daily([0, 0, 7]), std="population")
    assert single.beta == 0 and single.t_med == pytest.approx(7)
    assert single.major_event_days == []  # "above", not "at" the threshold


def test_daily_saidi_files_an_interruption_under_the_local_day_it_began():
    """23:30–01:30 Moscow time on 1–2 March (20:30–22:30 UTC on 1 March): 120 min × 50 / 100 on 1 March."""
    start = dt.datetime(2026, 3, 1, 23, 30, tzinfo=MSK)
    late = rel.Interruption("x", start, start + dt.timedelta(hours=2), 50)
    blink = rel.Interruption("y", start, start + dt.timedelta(minutes=1), 100)
    assert rel.daily_saidi([late, blink], customers_served=100, tz=MSK) == {dt.date(2026, 3, 1): 60}
    # in Yekaterinburg (+05:00) the same moment is already 2 March
    ekb = dt.timezone(dt.timedelta(hours=5))
    assert rel.daily_saidi([late], customers_served=100, tz=ekb) == {dt.date(2026, 3, 2): 60}


@given(st.text(max_size=200))
def test_the_events_parser_either_parses_or_names_a_line(text):
    try:
        rel.parse_events(text, customers_served=1000)
    except rel.InputError as exc:
        assert exc.line >= 1
        assert str(exc).startswith(f"line {exc.line}: ")


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=1000)),
        max_size=20,
    )
)
def test_indices_are_consistent_for_any_events(rows):
    start = dt.datetime(2026, 1, 1, tzinfo=MSK)
    events = [
        rel.Interruption(str(i), start, start + dt.timedelta(minutes=minutes), customers)
        for i, (customers, minutes) in enumerate(rows)
    ]
    result = rel.compute_indices(events, customers_served=1000, hours=8760)
    assert result.sustained_events + result.momentary_events == len(rows)
    if result.customers_interrupted:
        assert result.caidi_min == result.saidi_min / result.saifi
    assert 0 <= result.asai <= 1


# --- the command ------------------------------------------------------------------------------------


def test_indices_command_prints_example_a_as_sorted_json(tmp_path):
    from io import StringIO

    path = write(tmp_path, "events.csv", EXAMPLE_A)
    out = StringIO()
    call_command("reliability", "indices", "--events", path, "--customers", "1000", stdout=out)
    text = out.getvalue()
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert {
        k: data[k]
        for k in (
            "saifi",
            "saidi_min",
            "caidi_min",
            "caifi",
            "ctaidi_min",
            "asai",
            "cemi",
            "maifi_e",
            "customers_interrupted",
            "customer_minutes",
            "p_saidi_h",
            "p_saifi",
            "hours",
        )
    } == {
        "saifi": 0.35,
        "saidi_min": 30,
        "caidi_min": 85.71,
        "caifi": 1.4,
        "ctaidi_min": 120,
        "asai": 0.999943,
        "cemi": 0.1,
        "maifi_e": 0.3,
        "customers_interrupted": 350,
        "customer_minutes": 30000,
        "p_saidi_h": 0.5,
        "p_saifi": 0.35,
        "hours": 8760,  # the events lie in 2026: one calendar year
    }


def test_indices_command_options_change_momentary_cemi_and_hours(tmp_path):
    """--momentary-min 50 makes E2 (45 min) and E4 (30 min) momentary too: CI = 200, CMI = 24,000,
    MAIFI_E = (100 + 300 + 50) / 1,000 = 0.45; --cemi-n 0 → everyone interrupted = sp1–sp200 → 0.2;
    --hours 720 → ASAI = 1 − 400 / 720,000 = 0.999 444 4… → 0.999444."""
    path = write(tmp_path, "events.csv", EXAMPLE_A)
    data = run(
        "indices",
        "--events",
        path,
        "--customers",
        "1000",
        "--momentary-min",
        "50",
        "--cemi-n",
        "0",
        "--hours",
        "720",
    )
    assert (data["customers_interrupted"], data["customer_minutes"], data["saidi_min"]) == (200, 24000, 24)
    assert data["maifi_e"] == 0.45
    assert data["cemi"] == 0.2
    assert data["asai"] == 0.999444


def test_indices_command_takes_files_without_header_or_service_points(tmp_path):
    """Two events in 2025 and 2026 → two calendar years = 17,520 h; 10 customers × 90 min + 20 × 30 min = 1,500
    customer-minutes over 100 customers: SAIDI 15, SAIFI 0.3, ASAI = 1 − 25 / 1,752,000 = 0.999 985 7 → 0.999986."""
    text = "a,2025-12-31T23:00+05:00,2026-01-01T00:30+05:00,10\nb,2026-06-01T10:00Z,2026-06-01T10:30Z,20,\n"
    data = run("indices", "--events", write(tmp_path, "e.csv", text), "--customers", "100")
    assert (data["saidi_min"], data["saifi"], data["hours"], data["asai"]) == (15, 0.3, 17520, 0.999986)
    assert data["caifi"] is None and data["ctaidi_min"] is None and data["cemi"] is None
    assert data["notes"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("E1,2026-03-01T10:00+03:00,2026-03-01T09:00+03:00,5", "line 1: end"),
        ("event_id,start,end,customers\nE1,2026-03-01T10:00,2026-03-01T11:00,5", "line 2: start"),
        ("E1,2026-03-01T10:00+03:00,2026-03-01T11:00+03:00,-5", "line 1: customers"),
        ("E1,2026-03-01T10:00+03:00,2026-03-01T11:00+03:00,5000", "only 1000 served"),
        ("E1,yesterday,2026-03-01T11:00+03:00,5", "line 1: start 'yesterday'"),
        ("E1,2026-03-01T10:00+03:00,2026-03-01T11:00+03:00,3,p1 p2", "line 1: customers is 3 but 2"),
        ("E1,2026-03-01T10:00+03:00,2026-03-01T11:00+03:00,2,p1 p1", "listed twice"),
        (
            "E1,2026-03-01T10:00+03:00,2026-03-01T11:00+03:00,1\n\nE1,2026-03-02T10:00+03:00,2026-03-02T11:00+03:00,1",
            "line 3: event_id 'E1' repeats line 1",
        ),
        ("E1,2026-03-01T10:00+03:00", "line 1: expected 4 or 5 fields"),
    ],
)
def test_a_bad_events_row_is_an_error_with_its_line_and_exit_status_2(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(CommandError) as err:
        run("indices", "--events", path, "--customers", "1000")
    assert err.value.returncode == 2
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers"),
        (["--customers", "many"], "--customers"),
        (["--customers", "10", "--momentary-min", "x"], "--momentary-min"),
        (["--customers", "10", "--cemi-n", "-1"], "--cemi-n"),
        (["--customers", "10", "--hours", "0"], "--hours"),
    ],
)
def test_bad_options_exit_with_status_2(tmp_path, args, message):
    path = write(tmp_path, "e.csv", "a,2026-01-01T10:00Z,2026-01-01T11:00Z,1\n")
    with pytest.raises(CommandError) as err:
        run("indices", "--events", path, *args)
    assert err.value.returncode == 2
    assert message in str(err.value)


def test_a_missing_file_exits_with_status_2(tmp_path):
    with pytest.raises(CommandError) as err:
        run("indices", "--events", str(tmp_path / "none.csv"), "--customers", "10")
    assert err.value.returncode == 2


def test_med_command_prints_example_b(tmp_path):
    text = "date,saidi_min\n" + "\n".join(f"{d},{v}" for d, v in daily(EXAMPLE_B).items())
    data = run("med", "--daily", write(tmp_path, "d.csv", text))
    assert list(data) == sorted(data)
    assert (data["alpha"], data["beta"], data["t_med"]) == (1.386294, 2.014239, 615.1658)
    assert data["major_event_days"] == [{"date": "2026-01-12", "saidi_min": 1024}]
    assert (data["std"], data["days"], data["days_used"]) == ("sample", 12, 10)


def test_med_command_std_option_example_c(tmp_path):
    text = "\n".join(f"{d},{v}" for d, v in daily(EXAMPLE_C).items())  # no header
    path = write(tmp_path, "d.csv", text)
    assert run("med", "--daily", path)["major_event_days"] == []
    data = run("med", "--daily", path, "--std", "population")
    assert data["t_med"] == 14.7921
    assert data["major_event_days"] == [{"date": "2026-01-09", "saidi_min": 16}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,saidi_min\n2026-01-01,1\n2026-13-01,2", "line 3: date '2026-13-01'"),
        ("2026-01-01,1\n2026-01-02,-2", "line 2: saidi_min '-2'"),
        ("2026-01-01,1\n2026-01-02,abc", "line 2: saidi_min 'abc' is not a number"),
        ("2026-01-01,1\n2026-01-01,2", "line 2: date 2026-01-01 repeats line 1"),
        ("2026-01-01,1,3", "line 1: expected 2 fields"),
        ("2026-01-01,0\n2026-01-02,5", "at least 2"),
    ],
)
def test_a_bad_daily_row_is_an_error_with_exit_status_2(tmp_path, text, message):
    with pytest.raises(CommandError) as err:
        run("med", "--daily", write(tmp_path, "d.csv", text))
    assert err.value.returncode == 2
    assert message in str(err.value)


def test_med_threshold_matches_the_formula_for_random_history():
    values = [0, 3, 5, 8, 13, 21, 34, 0, 55, 89, 144]
    logs = [math.log(v) for v in values if v]
    expected = math.exp(
        sum(logs) / len(logs)
        + 2.5 * math.sqrt(sum((x - sum(logs) / len(logs)) ** 2 for x in logs) / (len(logs) - 1))
    )
    assert rel.med_threshold(daily(values)).t_med == pytest.approx(expected)
