"""The appeals report and the regulator's form over the daily rollup, with exports and access rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from okno.analytics.queries import ReportFilter, appeals_report, change, regulator_form
from okno.appeals import actions
from okno.appeals.models import AppealStat
from okno.appeals.stats import rebuild_stats


def stat(branch, day, channel, kind, topic="outage", received=0, on_time=0, late=0, cancelled=0):
    return AppealStat.objects.create(
        day=day,
        branch=branch,
        channel=channel,
        kind=kind,
        topic=topic,
        received=received,
        on_time=on_time,
        late=late,
        cancelled=cancelled,
    )


@pytest.fixture
def data(org):
    a, b = org.a, org.b
    # 2025 (previous year)
    stat(a, dt.date(2025, 3, 10), "contact_center", "report", received=10, on_time=9, late=1)
    stat(a, dt.date(2025, 5, 2), "phone", "complaint", "service_quality", received=2, on_time=2)
    stat(a, dt.date(2025, 7, 1), "web", "application", "grid_connection", received=4, on_time=3, late=1)
    stat(b, dt.date(2025, 7, 1), "mail", "complaint", received=5, on_time=5)
    # 2026 (the report year)
    stat(a, dt.date(2026, 1, 15), "contact_center", "report", received=12, on_time=10, late=1, cancelled=1)
    stat(a, dt.date(2026, 1, 20), "contact_center", "report", received=3, on_time=3)
    stat(a, dt.date(2026, 2, 3), "office", "complaint", "service_quality", received=1, late=1)
    stat(a, dt.date(2026, 4, 8), "web", "application", "grid_connection", received=3, on_time=3)
    stat(a, dt.date(2026, 4, 9), "sms", "info_request", received=5, on_time=5)
    stat(b, dt.date(2026, 2, 1), "fax", "complaint", received=2, on_time=1, late=1)
    stat(b, dt.date(2026, 2, 1), "contact_center", "report", received=7, on_time=7)
    return org


def test_report_by_month_and_channel_sums_the_rollup(data):
    flt = ReportFilter(
        date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31), period="month", dimensions=("channel",)
    )
    rows = {(r.period, r.values["channel"]): r for r in appeals_report(data.admin, flt)}
    jan = rows[(dt.date(2026, 1, 1), "contact_center")]
    assert (jan.received, jan.on_time, jan.late, jan.cancelled) == (15, 13, 1, 1)
    assert jan.on_time_share == Decimal("92.9")  # 13 of 14 answered
    feb_cc = rows[(dt.date(2026, 2, 1), "contact_center")]
    assert (feb_cc.received, feb_cc.on_time_share) == (7, Decimal("100.0"))
    office = rows[(dt.date(2026, 2, 1), "office")]
    assert office.on_time_share == Decimal("0.0")
    assert len(rows) == 6  # Jan cc; Feb office, fax, cc; Apr web, sms


def test_report_by_quarter_and_branch_with_filters(data):
    flt = ReportFilter(
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 6, 30),
        period="quarter",
        dimensions=("branch",),
        kind="report",
    )
    rows = appeals_report(data.admin, flt)
    assert [(r.period, r.labels["branch"], r.received) for r in rows] == [
        (dt.date(2026, 1, 1), "Северный филиал", 15),
        (dt.date(2026, 1, 1), "Восточный филиал", 7),
    ]
    flt = ReportFilter(
        date_from=dt.date(2025, 1, 1),
        date_to=dt.date(2026, 12, 31),
        period="year",
        dimensions=(),
        channel="web",
    )
    assert [(r.period.year, r.received, r.on_time, r.late) for r in appeals_report(data.admin, flt)] == [
        (2025, 4, 3, 1),
        (2026, 3, 3, 0),
    ]


def test_regulator_form_groups_channels_and_computes_year_on_year_change(data):
    rows = {r.code: r for r in regulator_form(data.admin, 2026)}
    # phone = phone + contact centre: 2025: 10 + 2 = 12; 2026: 12 + 3 + 7 = 22 → +83.3 %
    assert (rows["phone"].cells["all"].previous, rows["phone"].cells["all"].current) == (12, 22)
    assert rows["phone"].cells["all"].change == Decimal("83.3")
    assert (rows["phone"].cells["complaints"].previous, rows["phone"].cells["complaints"].current) == (2, 0)
    assert rows["phone"].cells["complaints"].change == Decimal("-100.0")
    # in person = office: nothing in 2025, so no percentage
    assert (
        rows["in_person"].cells["complaints"].previous,
        rows["in_person"].cells["complaints"].current,
    ) == (0, 1)
    assert rows["in_person"].cells["complaints"].change is None
    # internet = web: applications are the service requests: 4 → 3 = -25 %
    assert rows["internet"].cells["service_requests"].change == Decimal("-25.0")
    # mail = mail + fax: 5 → 2 complaints
    assert (rows["mail"].cells["complaints"].previous, rows["mail"].cells["complaints"].current) == (5, 2)
    assert rows["mail"].cells["complaints"].change == Decimal("-60.0")
    # other = sms (and kiosk)
    assert (rows["other"].cells["all"].previous, rows["other"].cells["all"].current) == (0, 5)
    total = rows["total"].cells
    assert (total["all"].previous, total["all"].current, total["all"].change) == (21, 33, Decimal("57.1"))
    assert (total["complaints"].previous, total["complaints"].current) == (7, 3)
    assert change(0, 0) is None


def test_branch_scope_limits_both_tables(data):
    flt = ReportFilter(
        date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31), period="year", dimensions=()
    )
    assert [r.received for r in appeals_report(data.head_a, flt)] == [24]
    assert [r.received for r in appeals_report(data.admin, flt)] == [33]
    rows = {r.code: r for r in regulator_form(data.head_a, 2026)}
    assert rows["mail"].cells["all"].current == 0 and rows["total"].cells["all"].current == 24


def test_rollup_kept_by_actions_equals_rebuild(register, org, customers):
    first = register()
    second = register(
        kind="info_request",
        topic="metering",
        text="Как передать показания?",
        channel="web",
        contact_email="ivanov@example.ru",
    )
    register(
        kind="complaint",
        topic="outage",
        channel="mail",
        text="Жалоба на отключения.",
        account=customers.acc_romashka,
        customer=customers.romashka,
        contract_number="Д-2002",
        violation_place="ул. Заводская, 3",
        violation_at=dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC),
        demand="Восстановить электроснабжение",
    )
    actions.answer_appeal(first, actor=org.specialist_a1, text="Свет восстановлен.", channel="phone")
    actions.cancel(second, actor=org.head_a, reason="withdrawn", comment="Отозвано заявителем")
    kept = sorted(
        AppealStat.objects.values_list(
            "day", "branch_id", "channel", "kind", "topic", "received", "on_time", "late", "cancelled"
        )
    )
    assert sum(r[5] for r in kept) == 3 and sum(r[6] for r in kept) == 1 and sum(r[8] for r in kept) == 1
    rebuild_stats()
    rebuilt = sorted(
        AppealStat.objects.values_list(
            "day", "branch_id", "channel", "kind", "topic", "received", "on_time", "late", "cancelled"
        )
    )
    assert rebuilt == kept


def test_rebuild_since_keeps_earlier_days(data):
    assert rebuild_stats(since=dt.date(2026, 1, 1)) == 0  # no appeals: the days from 2026 on are emptied
    assert sorted(AppealStat.objects.values_list("day__year", flat=True).distinct()) == [2025]


# ---------------------------------------------------------------- web


def test_report_needs_report_permission(client, data):
    client.force_login(data.operator_a)
    assert client.get(reverse("analytics:report")).status_code == 403
    assert client.get(reverse("analytics:export", args=["form", "csv"])).status_code == 403


def test_report_page_shows_both_tables_for_own_branch(client, data):
    client.force_login(data.head_a)
    response = client.get(
        reverse("analytics:report"),
        {"date_from": "2026-01-01", "date_to": "2026-12-31", "year": "2026", "dims": "branch"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Северный филиал" in body and "Восточный филиал" not in body.split("<section>", 1)[1]
    phone = next(r for r in response.context["form_rows"] if r.code == "phone").cells["all"]
    assert (phone.previous, phone.current, phone.change) == (12, 15, Decimal("25.0"))  # branch A only


def test_csv_export_is_excel_friendly(client, data):
    client.force_login(data.admin)
    response = client.get(reverse("analytics:export", args=["form", "csv"]), {"year": "2026"})
    assert response.status_code == 200
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 7  # header, five groups, total
    assert rows[-1][1:4] == ["21", "33", "57,1"]
    response = client.get(
        reverse("analytics:export", args=["appeals", "csv"]),
        {"date_from": "2026-01-01", "date_to": "2026-12-31", "period": "year", "dims": "channel"},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    cc = next(r for r in rows if r[0] == "2026" and r[2] == "22")
    assert cc[3:6] == ["20", "1", "1"]


def test_xlsx_export_holds_the_numbers(client, data):
    from openpyxl import load_workbook

    client.force_login(data.quality)
    response = client.get(reverse("analytics:export", args=["form", "xlsx"]), {"year": "2026"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[-1][1:4] == (21, 33, 57.1)
    assert len(values) == 7


def test_bad_filter_shows_errors_and_no_foreign_branch(client, data):
    client.force_login(data.head_a)
    response = client.get(reverse("analytics:report"), {"branch": data.b.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["branch"]
    assert response.context["totals"]["received"] == 0
