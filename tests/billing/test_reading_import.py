"""Bulk files of readings: formats, idempotency per file, line errors, the shared validation, few queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from okno.billing.imports import import_readings, import_readings_once, parse_lines
from okno.billing.models import Reading, ReadingImport
from okno.billing.readings import install_meter, submit_reading
from okno.customers.models import ContactEvent
from tests.conftest import aware


@pytest.fixture
def two_meters(metered, customers, org):
    """Иванов's one-zone meter 41234567 (branch A) and Ромашка's two-zone meter R-9 (branch B) from 100.0/50.0."""
    r9 = install_meter(
        account=customers.acc_romashka,
        actor=org.admin,
        model="Меркурий 230",
        serial="R-9",
        zones=2,
        integer_digits=6,
        fraction_digits=1,
        installed_on=dt.date(2025, 1, 20),
        initial_values=["100.0", "50.0"],
    )
    return metered.account.number, customers.acc_romashka.number, r9


def test_agent_file_keeps_valid_lines_and_reports_the_rest_with_numbers(two_meters, org):
    ivanov, romashka, _r9 = two_meters
    data = "\n".join(
        [
            "account;meter_serial;date;t1;t2;t3",
            f"{ivanov};41234567;2025-02-20;1100,5",
            f"{romashka};R-9;20.02.2025;150;60",
            "foo",
            f"{ivanov};41234567;2025-13-01;1200",
            "9999999999;X;2025-02-20;1",
            f"{ivanov};R-9;2025-02-21;10",
            f"{ivanov};41234567;2025-02-22;1000",
            f"{romashka};R-9;2025-02-25;160",
            f"{ivanov};41234567;2025-03-22;1150",
            "",
        ]
    ).encode()

    imp = import_readings(data=data, name="agent-2025-02.csv", kind="agent", actor=org.admin)

    assert (imp.lines, imp.accepted, imp.held, imp.rejected) == (9, 3, 0, 6)
    assert [(e["line"], e["code"]) for e in imp.errors] == [
        (4, "malformed"),
        (5, "malformed"),
        (6, "not_found"),
        (7, "not_on_account"),
        (8, "lower_than_previous"),  # checked against line 2 of the same file
        (9, "zones_mismatch"),
    ]
    assert imp.errors[0]["message"] == "Expected account;meter_serial;date;t1[;t2;t3]."
    assert imp.errors[2]["message"] == "Account 9999999999 not found."
    made = Reading.objects.filter(source_import=imp).order_by("taken_on", "id")
    assert [(r.account.number, r.taken_on, r.values_wh(), r.channel, r.period) for r in made] == [
        (ivanov, dt.date(2025, 2, 20), [1_100_500], "agent", dt.date(2025, 2, 1)),
        (romashka, dt.date(2025, 2, 20), [150_000, 60_000], "agent", dt.date(2025, 2, 1)),
        (ivanov, dt.date(2025, 3, 22), [1_150_000], "agent", dt.date(2025, 3, 1)),
    ]
    # Bulk imports write no contact history.
    assert not ContactEvent.objects.filter(ref_type="billing.reading").exists()


def test_the_same_file_twice_adds_nothing(two_meters, org):
    ivanov, _romashka, _r9 = two_meters
    data = f"{ivanov},41234567,2025-02-20,1100.5\n".encode()

    first, created = import_readings_once(data=data, name="a.csv", kind="round", actor=org.admin)
    again, created_again = import_readings_once(data=data, name="a-copy.csv", kind="round", actor=org.admin)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and ReadingImport.objects.count() == 1
    assert Reading.objects.filter(kind="regular").count() == 1
    assert Reading.objects.get(kind="regular").channel == "controller"


def test_a_reading_already_there_is_a_duplicate_line(two_meters, org):
    ivanov, _romashka, _r9 = two_meters
    import_readings(
        data=f"{ivanov};41234567;2025-02-20;1100\n".encode(), name="a", kind="agent", actor=org.admin
    )

    imp = import_readings(
        data=f"{ivanov};41234567;2025-02-20;1100\n{ivanov};41234567;2025-02-21;1101\n".encode(),
        name="b",
        kind="agent",
        actor=org.admin,
    )

    assert (imp.accepted, imp.rejected, imp.errors[0]["code"], imp.errors[0]["line"]) == (
        1,
        1,
        "duplicate",
        1,
    )


def test_smart_daily_registers_validate_in_order_and_hold_jumps(two_meters, org):
    submit_reading(
        account=two_meters[2].account,
        values=["110", "55"],
        channel="office",
        taken_on=dt.date(2025, 2, 20),
        now=aware(2025, 3, 1),
    )
    # 100/50 on 20 Jan → 110/55 on 20 Feb: 15 kWh in 31 days = 14.73 kWh a month; limit × 5 = 73.6.
    data = b"R-9;2025-02-21;110.5;55.2\nR-9;2025-02-22;111.0;55.4\nR-9;2025-02-23;200;60\n"

    imp = import_readings(data=data, name="smart.csv", kind="smart_daily", actor=org.admin)

    # 2025-02-23: 89 + 4.6 = 93.6 kWh in one day ≫ the limit → held (validation shared with submit_reading).
    assert (imp.accepted, imp.held, imp.rejected) == (2, 1, 0)
    got = list(
        Reading.objects.filter(source_import=imp)
        .order_by("taken_on")
        .values_list("t1_wh", "t2_wh", "status", "flags")
    )
    assert got == [
        (110_500, 55_200, "accepted", []),
        (111_000, 55_400, "accepted", []),
        (200_000, 60_000, "held", ["jump"]),
    ]


def test_interval_profile_is_summed_per_day_into_zones(two_meters, org):
    # R-9 is two-zone: day 7–23 (T1), night 23–7 (T2); last register 100.0 / 50.0; branch B is UTC+5.
    lines = []
    for hour in range(24):
        start = f"2025-03-10T{hour:02d}:00:00+05:00" if hour != 23 else "2025-03-10T18:00:00Z"  # 23:00 local
        lines.append(f"R-9;{start};60;0,5")
    for hour in range(12):
        lines.append(f"R-9;2025-03-11T{hour:02d}:00:00;60;0.5")  # no offset: the branch's local time
    lines.append("R-9;2025-03-11T12:00:00;90;0.5")  # malformed: more than 60 minutes
    data = "\n".join(lines).encode()

    imp = import_readings(data=data, name="profile.csv", kind="smart_interval", actor=org.admin)

    # 10 March: night 0–7 and 23–24 = 8 h × 0.5 = 4.0 kWh; day 16 h × 0.5 = 8.0 → 108.0 / 54.0.
    # 11 March: night 0–7 = 3.5 kWh; day 7–12 = 2.5 → 110.5 / 57.5.
    got = list(
        Reading.objects.filter(source_import=imp)
        .order_by("taken_on")
        .values_list("taken_on", "t1_wh", "t2_wh", "status")
    )
    # The average after 10 March: 12 kWh in 49 days = 7.45 kWh a month; 11 March: 6 kWh in one day =
    # 182.6 kWh a month > 5 × 7.45 → held, as a single submission would be.
    assert got == [
        (dt.date(2025, 3, 10), 108_000, 54_000, "accepted"),
        (dt.date(2025, 3, 11), 110_500, 57_500, "held"),
    ]
    assert (imp.lines, imp.accepted, imp.held, imp.rejected) == (37, 1, 1, 1)
    assert imp.errors == [
        {"line": 37, "code": "malformed", "message": "The interval must be 1 to 60 minutes, not “90”."}
    ]
    assert Reading.objects.filter(source_import=imp, channel="smart").count() == 2


def test_branch_staff_import_only_their_branch(two_meters, org):
    ivanov, romashka, _r9 = two_meters
    data = f"{ivanov};41234567;2025-02-20;1100\n{romashka};R-9;2025-02-20;150;60\n".encode()

    imp = import_readings(data=data, name="x.csv", kind="agent", actor=org.head_a)

    assert (imp.accepted, imp.rejected) == (1, 1)
    assert imp.errors[0] == {
        "line": 2,
        "code": "other_branch",
        "message": f"Account {romashka} is an account of another branch.",
    }
    assert imp.imported_by == org.head_a


def test_the_idempotency_key_includes_the_importers_scope(two_meters, org):
    ivanov, romashka, _r9 = two_meters
    data = f"{ivanov};41234567;2025-02-20;1100\n{romashka};R-9;2025-02-20;150;60\n".encode()

    branch, created = import_readings_once(data=data, name="x.csv", kind="agent", actor=org.head_a)
    again, created_again = import_readings_once(data=data, name="x.csv", kind="agent", actor=org.head_a)
    head, created_head = import_readings_once(data=data, name="x.csv", kind="agent", actor=org.admin)

    assert (created, created_again, created_head) == (True, False, True)
    assert again.pk == branch.pk != head.pk
    # Head office's import takes branch B's line; branch A's line is already there.
    assert (head.accepted, [e["code"] for e in head.errors]) == (1, ["duplicate"])
    assert Reading.objects.filter(kind="regular").count() == 2


def test_import_runs_a_fixed_number_of_queries_whatever_the_lines(two_meters, org):
    def day_lines(n: int, first: dt.date) -> bytes:
        days = [first + dt.timedelta(days=i) for i in range(n)]
        # 1 kWh a day since the initial 1000.0 of 15 January: no jumps.
        return "".join(f"41234567;{d};{1000 + (d - dt.date(2025, 1, 15)).days}\n" for d in days).encode()

    with CaptureQueriesContext(connection) as few:
        small = import_readings(
            data=day_lines(5, dt.date(2025, 1, 16)), name="s", kind="smart_daily", actor=org.admin
        )
    with CaptureQueriesContext(connection) as many:
        large = import_readings(
            data=day_lines(60, dt.date(2025, 1, 21)), name="l", kind="smart_daily", actor=org.admin
        )

    assert (small.accepted, large.accepted) == (5, 60)

    def reads(ctx: CaptureQueriesContext) -> int:
        return sum(q["sql"].lstrip().startswith(("SELECT", "WITH")) for q in ctx.captured_queries)

    assert reads(many) == reads(few) <= 10


def test_parse_accepts_comma_files_and_skips_header_and_comments():
    lines, intervals, errors, count = parse_lines(
        "# agent export\nmeter_serial,date,t1\nS1,2025-02-01,10.5\nS1,01.02.2025\n", "smart_daily"
    )

    assert [(ln.no, ln.serial, ln.taken_on, ln.values) for ln in lines] == [
        (3, "S1", dt.date(2025, 2, 1), ["10.5"])
    ]
    assert (intervals, count) == ([], 2)
    assert errors == [{"line": 4, "code": "malformed", "message": "Expected meter_serial;date;t1[;t2;t3]."}]


def test_cp1251_files_are_read(two_meters, org):
    ivanov = two_meters[0]
    data = f"лицевой счёт;счётчик;дата;т1\n{ivanov};41234567;2025-02-20;1100\n".encode("cp1251")

    imp = import_readings(data=data, name="cp1251.csv", kind="agent", actor=org.admin)

    assert (imp.lines, imp.accepted) == (1, 1)
