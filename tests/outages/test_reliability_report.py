"""Reliability indices from recorded outages (ORM only), the report page, its CSV and ``okno reliability report``.

The grid of branch A (Europe/Moscow), built here and independent of the lifecycle actions:

    ПС-R (110 kV)
    └── Ф-R (10 kV)
        ├── ТП-R1 (10 kV): 4 service points   ─┐ 8 service points under ТП-R1
        │   └── Л-R1 (0.4 kV): 4 service points ┘
        └── ТП-R2 (10 kV): 12 service points
    N_T = 4 + 4 + 12 = 20 (branch B has 5 service points of its own, not counted)

Outages of 2026 (local times, +03:00), one step each unless said:
    O1  10.02 09:00  ТП-R1 off until 10:00 (60 min, 8 customers) and ТП-R2 until 11:30 (150 min, 12)
    O2  02.07 01:30  Л-R1 until 02:30 (60 min, 4) — 1 July 22:30 UTC, but a 2 July interruption
    O3  05.08 12:00  ТП-R2 until 12:02 (2 min, 12) — momentary
    O4  cancelled (a step with times, never counted);  O5  01.09 ТП-R2 still off (open)

2026, all levels:  CI = 8 + 12 + 4 = 24; CMI = 8·60 + 12·150 + 4·60 = 480 + 1,800 + 240 = 2,520
    SAIFI = 24/20 = 1.2; SAIDI = 2,520/20 = 126 min; CAIDI = 2,520/24 = 105 min
    distinct = ТП-R1's 8 (Л-R1's 4 among them) ∪ ТП-R2's 12 = 20: CAIFI = 24/20 = 1.2; CTAIDI = 126 min
    CEMI1 = Л-R1's 4 customers were interrupted twice → 4/20 = 0.2; MAIFI_E = 12/20 = 0.6
    ASAI = 1 − (2,520/60)/(20·8,760) = 1 − 42/175,200 = 0.999 760 27… → 0.999760
    Пsaidi = 126/60 = 2.1 h; Пsaifi = 1.2
    by level: НН (Л-R1, 0.4 kV) SAIFI 4/20 = 0.2, SAIDI 240/20 = 12; СН2 (10 kV) 1.0 and 114 — they add up.

History for Major Event Days (1–9 January 2025, all on Л-R1, 4 customers, so daily SAIDI = 4·minutes/20 = minutes/5):
    nine days of 5, 5, 5, 10, 10, 10, 10, 10, 80 minutes → SAIDI 1, 1, 1, 2, 2, 2, 2, 2, 16
    (5 minutes is not momentary: "less than 5" is). This is worked example C of test_reliability.py:
    α = ln 2 = 0.693147, β (sample) = ln 2·√(12/8) = 0.848928, T_MED = 2^4.061862 = 16.701.
    2026 daily SAIDI: 10 February (480 + 1,800)/20 = 114 > 16.701 → a major event day;
    2 July 240/20 = 12 → not. Excluding 10 February: CI = 4, CMI = 240 → SAIFI 0.2, SAIDI 12,
    CAIDI 60, CAIFI 1, CTAIDI 60, CEMI1 0, MAIFI_E 0.6 (the blink was on a normal day),
    ASAI = 1 − 4/175,200 = 0.999 977 17 → 0.999977.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction
from io import StringIO
from itertools import count

import pytest
from django.core.management import CommandError, call_command
from django.urls import URLResolver, include, path, reverse

import okno.urls
import okno.web_urls
from okno.customers.models import Address, ServicePoint
from okno.outages import topology
from okno.outages.models import Feed, GridNode, Outage, OutageNode
from okno.outages.reliability_data import branch_report

MSK = dt.timezone(dt.timedelta(hours=3))

# The page's routes live in okno/outages/urls.py; mount them here if the site does not (yet).
_mounted = any(isinstance(p, URLResolver) and p.namespace == "outages" for p in okno.web_urls.urlpatterns)
urlpatterns = list(okno.urls.urlpatterns)
if not _mounted:
    urlpatterns.append(path("outages/", include("okno.outages.urls")))
pytestmark = pytest.mark.urls(__name__)

_numbers = count(1)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MSK)


def node(code: str, kind: str, parent, branch, kv: str) -> GridNode:
    return topology.save_node(
        GridNode(code=code, name=code, kind=kind, parent=parent, branch=branch, voltage_kv=Decimal(kv))
    )


def points(branch, grid_node: GridNode, n: int) -> None:
    for i in range(n):
        address = Address.objects.create(
            region="Тестовая область", settlement="Надёжное", house=f"{grid_node.code}-{i}"
        )
        Feed.objects.create(
            service_point=ServicePoint.objects.create(address=address, branch=branch), node=grid_node
        )


def outage(branch, grid_node, steps, *, status="restored", kind="unplanned") -> Outage:
    """An outage recorded directly: ``steps`` are (node, off_at, restored_at or None, customers)."""
    o = Outage.objects.create(
        number=f"R-{next(_numbers)}",
        kind=kind,
        status=status,
        branch=branch,
        node=grid_node,
        started_at=steps[0][1],
    )
    for step_node, off, on, customers in steps:
        OutageNode.objects.create(outage=o, node=step_node, off_at=off, restored_at=on, customers=customers)
    return o


@pytest.fixture
def grid(org):
    a = org.a
    pc = node("ПС-R", "power_centre", None, a, "110")
    feeder = node("Ф-R", "feeder", pc, a, "10")
    tp1 = node("ТП-R1", "substation", feeder, a, "10")
    line = node("Л-R1", "line", tp1, a, "0.4")
    tp2 = node("ТП-R2", "substation", feeder, a, "10")
    points(a, tp1, 4)
    points(a, line, 4)
    points(a, tp2, 12)
    other = node(
        "ТП-B",
        "substation",
        node("Ф-B", "feeder", node("ПС-B", "power_centre", None, org.b, "35"), org.b, "10"),
        org.b,
        "10",
    )
    points(org.b, other, 5)
    outage(other.branch, other, [(other, at(2, 10, 9), at(2, 10, 23), 5)])  # branch B: never in A's figures

    outage(a, feeder, [(tp1, at(2, 10, 9), at(2, 10, 10), 8), (tp2, at(2, 10, 9), at(2, 10, 11, 30), 12)])
    outage(a, line, [(line, at(7, 2, 1, 30), at(7, 2, 2, 30), 4)])
    outage(a, tp2, [(tp2, at(8, 5, 12), at(8, 5, 12, 2), 12)])
    outage(a, tp2, [(tp2, at(8, 20, 12), at(8, 20, 15), 12)], status="cancelled")
    outage(a, tp2, [(tp2, at(9, 1, 8), None, 12)], status="active")
    for day, minutes in enumerate([5, 5, 5, 10, 10, 10, 10, 10, 80], start=1):
        start = at(1, day, 10, year=2025)
        outage(a, line, [(line, start, start + dt.timedelta(minutes=minutes), 4)])
    return org


def test_indices_of_a_year_from_recorded_outages(grid):
    report = branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    r = report.all_days
    assert (report.customers_served, report.hours, report.open_steps) == (20, 8760, 1)
    assert (r.customers_interrupted, r.customer_minutes) == (24, 2520)
    assert (r.saifi, r.saidi_min, r.caidi_min) == (Fraction(6, 5), 126, 105)
    assert (r.distinct_customers, r.caifi, r.ctaidi_min) == (20, Fraction(6, 5), 126)
    assert (r.cemi, r.maifi_e) == (Fraction(1, 5), Fraction(3, 5))
    assert r.asai == 1 - Fraction(42, 175_200)
    assert r.as_dict()["asai"] == Decimal("0.999760")
    assert r.p_saidi_h == Fraction(21, 10)


def test_voltage_levels_split_the_branch_total(grid):
    low = branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31), level="nn").all_days
    medium = branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31), level="sn2").all_days
    high = branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31), level="vn").all_days
    assert (low.saifi, low.saidi_min, low.customers_served) == (Fraction(1, 5), 12, 20)
    assert (medium.saifi, medium.saidi_min) == (1, 114)
    assert (high.events, high.saifi) == (0, 0)


def test_planned_and_unplanned_outages_apart_and_together(grid):
    """Planned works on ТП-R2, 5 October 10:00–13:00: 12 customers × 180 min = 2,160 customer-minutes:
    planned only SAIFI = 12/20 = 0.6, SAIDI = 2,160/20 = 108; unplanned only as before (1.2, 126);
    together CI = 24 + 12 = 36 → 1.8 and CMI = 2,520 + 2,160 = 4,680 → 234."""
    tp2 = GridNode.objects.get(code="ТП-R2")
    outage(grid.a, tp2, [(tp2, at(10, 5, 10), at(10, 5, 13), 12)], kind="planned")
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    planned = branch_report(grid.a, *year, kind="planned").all_days
    unplanned = branch_report(grid.a, *year, kind="unplanned").all_days
    both = branch_report(grid.a, *year).all_days
    assert (planned.saifi, planned.saidi_min) == (Fraction(3, 5), 108)
    assert (unplanned.saifi, unplanned.saidi_min) == (Fraction(6, 5), 126)
    assert (both.saifi, both.saidi_min) == (Fraction(9, 5), 234)


def test_major_event_days_from_five_years_before_the_period(grid):
    report = branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert (report.history_from, report.history_to) == (dt.date(2021, 1, 1), dt.date(2025, 12, 31))
    assert report.med is not None
    assert report.med.days_used == 9
    assert report.med.alpha == pytest.approx(0.693147, abs=1e-6)
    assert report.med.beta == pytest.approx(0.848928, abs=1e-6)
    assert report.med.t_med == pytest.approx(16.701, abs=1e-3)
    assert report.med_days == [(dt.date(2026, 2, 10), 114)]
    ex = report.excluding_med
    assert (ex.customers_interrupted, ex.customer_minutes, ex.saifi, ex.saidi_min) == (
        4,
        240,
        Fraction(1, 5),
        12,
    )
    assert (ex.caidi_min, ex.caifi, ex.ctaidi_min, ex.cemi, ex.maifi_e) == (60, 1, 60, 0, Fraction(3, 5))
    assert ex.as_dict()["asai"] == Decimal("0.999977")


def test_a_period_without_history_has_no_threshold_and_excludes_nothing(grid):
    report = branch_report(grid.a, dt.date(2025, 1, 1), dt.date(2025, 12, 31), med_window="before")
    assert report.med is None and "history" in report.med_error
    assert report.excluding_med is report.all_days
    # looking back from the period's end instead, 2025 is its own history: 9 days, none above 16.701
    report = branch_report(grid.a, dt.date(2025, 1, 1), dt.date(2025, 12, 31), med_window="including")
    assert (report.history_from, report.history_to) == (dt.date(2021, 1, 1), dt.date(2025, 12, 31))
    assert report.med is not None and report.med_days == []


def test_auto_window_looks_back_only_over_a_full_recorded_year(grid):
    """The first step is on 1 January 2025: exactly a year before 2026, a day short of one before 31.12.2025."""
    assert branch_report(grid.a, dt.date(2026, 1, 1), dt.date(2026, 12, 31)).med_window == "before"
    assert branch_report(grid.a, dt.date(2025, 12, 31), dt.date(2026, 1, 31)).med_window == "including"


def test_an_interruption_counts_in_the_local_day_and_period_it_began(grid):
    """O2 began at 01:30 Moscow time on 2 July (22:30 UTC on 1 July): it belongs to July, not June."""
    june = branch_report(grid.a, dt.date(2026, 6, 1), dt.date(2026, 6, 30)).all_days
    july = branch_report(grid.a, dt.date(2026, 7, 1), dt.date(2026, 7, 31)).all_days
    assert (june.events, july.events) == (0, 1)
    assert july.hours == 31 * 24


def test_report_page_for_a_head_with_report_permission(client, grid):
    client.force_login(grid.head_a)
    response = client.get(reverse("outages:reliability"), {"period": "year", "year": "2026"})
    assert response.status_code == 200
    rows = {
        label.split(" — ")[0]: (all_days, excluding)
        for label, _u, all_days, excluding in response.context["rows"]
    }
    assert rows["SAIFI"] == (Decimal("1.2000"), Decimal("0.2000"))
    assert rows["SAIDI"] == (Decimal("126.00"), Decimal("12.00"))
    content = response.content.decode()
    assert "10.02.2026" in content  # the major event day is listed
    assert "16.701" in content  # T_MED


def test_report_page_forbidden_without_report_permission(client, grid):
    client.force_login(grid.operator_a)
    assert client.get(reverse("outages:reliability")).status_code == 403
    assert client.get(reverse("outages:reliability_csv")).status_code == 403


def test_another_branch_is_a_form_error_not_its_figures(client, grid):
    client.force_login(grid.head_a)
    response = client.get(reverse("outages:reliability"), {"branch": grid.b.pk, "year": "2026"})
    assert response.status_code == 400
    assert response.context["report"] is None
    assert "branch" in response.context["form"].errors


def test_quarter_month_and_custom_periods(client, grid):
    client.force_login(grid.head_a)
    url = reverse("outages:reliability")
    q1 = client.get(url, {"period": "quarter", "year": "2026", "quarter": "1"}).context["report"]
    assert (q1.date_from, q1.date_to, q1.all_days.customers_interrupted) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
        20,
    )
    feb = client.get(url, {"period": "month", "year": "2026", "month": "2"}).context["report"]
    assert (feb.date_to, feb.hours) == (dt.date(2026, 2, 28), 28 * 24)
    custom = client.get(
        url, {"period": "custom", "year": "2026", "date_from": "2026-07-02", "date_to": "2026-08-31"}
    )
    assert custom.context["report"].all_days.events == 2  # O2 and the blink of O3
    bad = client.get(
        url, {"period": "custom", "year": "2026", "date_from": "2026-08-31", "date_to": "2026-07-02"}
    )
    assert bad.status_code == 400 and "date_to" in bad.context["form"].errors


def test_csv_export_for_russian_excel(client, grid):
    client.force_login(grid.head_a)
    response = client.get(reverse("outages:reliability_csv"), {"year": "2026", "level": "nn"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="reliability-north-nn-2026-01-01-2026-12-31.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    by_label = {row[0].split(" — ")[0]: row for row in rows[1:]}
    assert by_label["SAIFI"][2:] == ["0,2000", "0,2000"]  # the MED (10 February) had no 0.4 kV interruption
    assert by_label["Customers served (N_T)"][2] == "20"
    assert ["Major event day 2026-02-10", "min", "114,0000", ""] in rows


def test_report_command_prints_the_database_figures(grid):
    out = StringIO()
    call_command("reliability", "report", "--branch", "north", "--year", "2026", stdout=out)
    data = json.loads(out.getvalue())
    assert data["all_days"]["saifi"] == 1.2 and data["excluding_med"]["saidi_min"] == 12
    assert data["med"]["major_event_days"] == [{"date": "2026-02-10", "saidi_min": 114}]
    assert data["open_steps"] == 1
    with pytest.raises(CommandError) as err:
        call_command("reliability", "report", "--branch", "nowhere", "--year", "2026", stdout=StringIO())
    assert err.value.returncode == 2
