"""The public outage page: unplanned outages now and planned works with their houses, in each branch's time
zone; restored, cancelled and proposed outages never shown; filters; the map; the address form; no
personal data; the page's language.

The grid (branch A, Europe/Moscow, unless said otherwise):

    ПС-1 «Северная» (55.00 N, 37.00 E)
    ├── Ф-1
    │   ├── ТП-11 (55.02, 37.02): Северск, ул. Ленина 1, 2, 10 (Иванов, кв. 5)
    │   └── ТП-12 (55.03, 37.04): Северск, ул. Ленина 3, 4; ул. Мира 7А
    └── Ф-2
        └── ТП-21 (55.10, 37.20): Берёзовка, ул. Садовая 5
    branch B (Asia/Yekaterinburg): ПС-9 → Ф-9 → ТП-91: Восточный, ул. Заводская 3 (ООО «Ромашка»)
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from okno.customers.models import Address, ServicePoint
from okno.outages.models import Feed, GridNode, Outage, OutageNode
from okno.outages.public import queries
from okno.outages.topology import save_node

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
YEKT = zoneinfo.ZoneInfo("Asia/Yekaterinburg")
URL = "/outages/"


@pytest.fixture(autouse=True)
def _fresh_caches():
    queries.clear_cache()
    try:
        from okno.outages import lookup
    except ImportError:  # pragma: no cover
        yield
        return
    lookup.invalidate_directory()
    lookup.invalidate_outages()
    yield
    lookup.invalidate_outages()


def _node(code, kind, parent, branch, voltage="10", **extra):
    return save_node(
        GridNode(
            code=code,
            name=f"{code}",
            kind=kind,
            parent=parent,
            branch=branch,
            voltage_kv=Decimal(voltage),
            **extra,
        )
    )


def _house(org, node, settlement, street, house, *, flat="", branch=None):
    address = Address.objects.create(
        region="Тестовая область", settlement=settlement, street=street, house=house, flat=flat
    )
    sp = ServicePoint.objects.create(address=address, branch=branch or org.a)
    Feed.objects.create(service_point=sp, node=node)
    return sp


@pytest.fixture
def grid(org, customers):
    a, b = org.a, org.b
    pc = _node("ПС-1", "power_centre", None, a, "110", latitude=Decimal("55.0"), longitude=Decimal("37.0"))
    f1 = _node("Ф-1", "feeder", pc, a)
    f2 = _node("Ф-2", "feeder", pc, a)
    tp11 = _node(
        "ТП-11",
        "substation",
        f1,
        a,
        settlement="Северск",
        latitude=Decimal("55.02"),
        longitude=Decimal("37.02"),
    )
    tp12 = _node(
        "ТП-12",
        "substation",
        f1,
        a,
        settlement="Северск",
        latitude=Decimal("55.03"),
        longitude=Decimal("37.04"),
    )
    tp21 = _node(
        "ТП-21",
        "substation",
        f2,
        a,
        settlement="Берёзовка",
        latitude=Decimal("55.1"),
        longitude=Decimal("37.2"),
    )
    for house in ("1", "2"):
        _house(org, tp11, "Северск", "ул. Ленина", house, flat="1")
        _house(org, tp11, "Северск", "ул. Ленина", house, flat="2")
    Feed.objects.create(service_point=customers.acc_ivanov.service_point, node=tp11)  # ул. Ленина 10 кв. 5
    _house(org, tp12, "Северск", "ул. Ленина", "3")
    _house(org, tp12, "Северск", "ул. Ленина", "4")
    _house(org, tp12, "Северск", "ул. Мира", "7А")
    _house(org, tp21, "Берёзовка", "ул. Садовая", "5")
    pc9 = _node("ПС-9", "power_centre", None, b, "110")
    f9 = _node("Ф-9", "feeder", pc9, b)
    tp91 = _node("ТП-91", "substation", f9, b, settlement="Восточный")
    Feed.objects.create(service_point=customers.acc_romashka.service_point, node=tp91)
    return SimpleNamespace(pc=pc, f1=f1, f2=f2, tp11=tp11, tp12=tp12, tp21=tp21, pc9=pc9, f9=f9, tp91=tp91)


_numbers = iter(range(1, 10_000))


def _outage(node, *, kind="unplanned", status="active", nodes=None, restored=(), **fields):
    """An outage straight through the ORM (the actions are tested elsewhere)."""
    now = timezone.now()
    defaults = (
        {"started_at": now - dt.timedelta(hours=1)} if status in ("active", "partially_restored") else {}
    )
    defaults.update(fields)
    o = Outage.objects.create(
        number=f"ОТК-2026-{next(_numbers):05d}",
        kind=kind,
        status=status,
        branch=node.branch,
        node=node,
        **defaults,
    )
    for n in nodes or [node]:
        OutageNode.objects.create(
            outage=o, node=n, off_at=defaults.get("started_at"), restored_at=now if n in restored else None
        )
    return o


def _section(html: str, heading_id: str) -> str:
    """The text of one <section> of the page, found by its heading id."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def _entry(html: str, outage: Outage) -> str:
    anchor = "outage-" + outage.number
    start = html.index(f'<article class="outage {outage.kind}" id="{anchor}"')
    return html[start : html.index("</article>", start)]


# --- unplanned now -------------------------------------------------------------------------------------


def test_page_is_public_and_lists_an_unplanned_outage_with_houses_in_ranges(client, grid):
    started = dt.datetime(2026, 11, 23, 9, 15, tzinfo=dt.UTC)  # 12:15 in Moscow
    etr = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # 17:00 in Moscow
    o = _outage(grid.f1, started_at=started, etr=etr, reason="Повреждение кабеля 10 кВ")
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    entry = _entry(_section(html, "unplanned-h"), o)
    # Under Ф-1: ул. Ленина 1, 2, 10 (ТП-11) and 3, 4 (ТП-12), ул. Мира 7А.
    assert "ул. Ленина, 1–4, 10" in entry
    assert "ул. Мира, 7А" in entry
    assert "Берёзовка" not in entry
    assert "23.11.2026 12:15" in entry
    assert "23.11.2026 17:00" in entry
    assert "UTC+3, Europe/Moscow" in entry
    assert "Повреждение кабеля 10 кВ" in entry


def test_times_are_shown_in_the_outages_branch_time_zone(client, grid):
    started = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)  # 11:00 in Yekaterinburg (UTC+5)
    o = _outage(grid.f9, started_at=started, etr=started + dt.timedelta(hours=3))
    entry = _entry(client.get(URL).content.decode(), o)
    assert "Восточный" in entry and "ул. Заводская, 3" in entry
    assert "23.11.2026 11:00" in entry and "23.11.2026 14:00" in entry
    assert "UTC+5, Asia/Yekaterinburg" in entry


def test_partial_restoration_drops_the_restored_substation(client, grid):
    # Switched off substation by substation; ТП-11 is back.
    o = _outage(grid.f1, status="partially_restored", nodes=[grid.tp11, grid.tp12], restored=[grid.tp11])
    entry = _entry(client.get(URL).content.decode(), o)
    assert "ул. Ленина, 3, 4" in entry
    assert "1–4" not in entry and "10" not in entry.split("ул. Ленина", 1)[1].split("</li>")[0]


def test_a_restored_node_under_an_open_one_is_subtracted(grid):
    o = _outage(grid.f1, status="partially_restored", nodes=[grid.f1, grid.tp11], restored=[grid.tp11])
    public = queries.to_public(Outage.objects.get(pk=o.pk))
    assert [(p.settlement, [s.text for s in p.streets]) for p in public.places] == [
        ("Северск", ["ул. Ленина, 3, 4", "ул. Мира, 7А"])
    ]


def test_restored_cancelled_and_proposed_outages_are_not_shown(client, grid):
    shown = _outage(grid.tp21)
    restored = _outage(grid.tp11, status="restored", restored_at=timezone.now())
    proposed = _outage(grid.tp12, status="proposed")
    cancelled = _outage(
        grid.tp12,
        kind="planned",
        status="cancelled",
        planned_start=timezone.now() + dt.timedelta(days=1),
        planned_end=timezone.now() + dt.timedelta(days=1, hours=4),
    )
    html = client.get(URL).content.decode()
    assert shown.number in html
    for hidden in (restored, proposed, cancelled):
        assert hidden.number not in html
    feed = client.get(reverse("outages_public:feed_json")).json()
    assert [x["number"] for x in feed["outages"]] == [shown.number]


def test_an_outage_disappears_once_restored(client, grid):
    o = _outage(grid.tp21)
    assert o.number in client.get(URL).content.decode()
    Outage.objects.filter(pk=o.pk).update(status="restored", restored_at=timezone.now())
    OutageNode.objects.filter(outage=o).update(restored_at=timezone.now())
    assert o.number not in client.get(URL).content.decode()


# --- planned works ---------------------------------------------------------------------------------------


def _planned(node, day: dt.date, start_h: int, end_h: int, tz=MSK, **extra):
    start = dt.datetime.combine(day, dt.time(start_h), tzinfo=tz)
    return _outage(
        node,
        kind="planned",
        status=extra.pop("status", "scheduled"),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=end_h - start_h),
        cause="planned_works",
        reason=extra.pop("reason", "Замена опор ВЛ-0,4 кВ"),
        **extra,
    )


def test_planned_works_show_start_end_reason_and_addresses(client, grid):
    day = timezone.localdate() + dt.timedelta(days=3)
    o = _planned(grid.tp21, day, 9, 17)
    entry = _entry(_section(client.get(URL).content.decode(), "planned-h"), o)
    assert f"{day:%d.%m.%Y} 09:00 – {day:%d.%m.%Y} 17:00" in entry
    assert "Замена опор ВЛ-0,4 кВ" in entry
    assert "Берёзовка" in entry and "ул. Садовая, 5" in entry
    assert "UTC+3, Europe/Moscow" in entry


def test_planned_works_are_filtered_by_settlement_and_dates(client, grid):
    today = timezone.localdate()
    berezovka = _planned(grid.tp21, today + dt.timedelta(days=2), 9, 12)
    seversk = _planned(grid.tp12, today + dt.timedelta(days=5), 10, 15)
    far = _planned(grid.tp11, today + dt.timedelta(days=45), 10, 15)
    html = client.get(URL).content.decode()  # default: today + 30 days
    assert berezovka.number in html and seversk.number in html and far.number not in html
    # The select offers the settlements that have something to show in these days.
    assert '<option value="Берёзовка">' in html and '<option value="Северск">' in html
    html = client.get(URL, {"settlement": "Берёзовка"}).content.decode()
    planned = _section(html, "planned-h")
    assert berezovka.number in planned and seversk.number not in planned
    html = client.get(
        URL,
        {
            "date_from": (today + dt.timedelta(days=4)).isoformat(),
            "date_to": (today + dt.timedelta(days=50)).isoformat(),
        },
    ).content.decode()
    assert berezovka.number not in html and seversk.number in html and far.number in html


def test_planned_days_are_read_in_the_branchs_own_time_zone(client, grid):
    # 01:00–03:00 on day D in Yekaterinburg is 20:00–22:00 UTC of day D−1: it belongs to day D.
    day = timezone.localdate() + dt.timedelta(days=10)
    o = _planned(grid.tp91, day, 1, 3, tz=YEKT)
    on_day = client.get(URL, {"date_from": day.isoformat(), "date_to": day.isoformat()}).content.decode()
    assert o.number in on_day
    assert f"{day:%d.%m.%Y} 01:00" in _entry(on_day, o)
    before = day - dt.timedelta(days=1)
    day_before = client.get(
        URL, {"date_from": before.isoformat(), "date_to": before.isoformat()}
    ).content.decode()
    assert o.number not in day_before


def test_planned_works_under_way_stay_listed_as_under_way(client, grid):
    now = timezone.now()
    o = _outage(
        grid.tp21,
        kind="planned",
        status="active",
        planned_start=now - dt.timedelta(hours=2),
        planned_end=now + dt.timedelta(hours=2),
        started_at=now - dt.timedelta(hours=2),
    )
    entry = _entry(_section(client.get(URL).content.decode(), "planned-h"), o)
    assert "under way" in entry


def test_bad_dates_answer_400_with_a_message(client, grid):
    today = timezone.localdate()
    response = client.get(
        URL, {"date_from": today.isoformat(), "date_to": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    response = client.get(URL, {"date_from": "not-a-date"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_planned_list_is_paginated(client, grid):
    day = timezone.localdate() + dt.timedelta(days=1)
    made = [_planned(grid.tp21, day, 8, 9) for _ in range(27)]
    first = client.get(URL).content.decode()
    assert "Page 1 of 2" in first
    assert sum(o.number in first for o in made) == 25
    second = client.get(URL, {"page": 2}).content.decode()
    assert sum(o.number in second for o in made) == 2


# --- debt disconnections ---------------------------------------------------------------------------------


def _debt(customers, status="restricted", kind="restriction", on=None):
    from okno.billing.models import DebtCase, DebtOrder

    on = on or timezone.localdate()
    case = DebtCase.objects.create(
        account=customers.acc_ivanov,
        status=status,
        opened_on=on - dt.timedelta(days=40),
        debt_kop=500_000,
        threshold_kop=257_200,
    )
    DebtOrder.objects.create(
        case=case, kind=kind, number="ОГР-000123", issued_on=on, scheduled_on=on, debt_kop=500_000
    )
    return case


def test_debt_restrictions_are_listed_by_street_without_personal_data(client, grid, customers):
    _debt(customers)
    html = client.get(URL).content.decode()
    debt = _section(html, "debt-h")
    assert "Северск" in debt and "ул. Ленина" in debt
    assert "Restriction of supply" in debt
    for secret in ("Иванов", customers.acc_ivanov.number, "ОГР-000123", "5 000", "кв."):
        assert secret not in html


def test_no_debt_section_without_planned_restrictions(client, grid, customers):
    _debt(customers, status="paid")  # paid: the restriction no longer happens
    assert 'id="debt-h"' not in client.get(URL).content.decode()


# --- map -----------------------------------------------------------------------------------------------


def test_the_map_has_a_marker_per_outage_linking_to_its_entry(client, grid):
    a = _outage(grid.tp11)
    b = _outage(grid.f2)
    p = _planned(grid.tp12, timezone.localdate() + dt.timedelta(days=1), 9, 12)
    html = client.get(URL).content.decode()
    svg = html[html.index("<svg xmlns") : html.index("</svg>", html.index("<svg xmlns"))]
    assert svg.count('class="marker unplanned"') == 2
    assert svg.count('class="marker planned"') == 1
    for o in (a, b, p):
        assert f'href="#outage-{o.number}"' in svg
        assert f'id="outage-{o.number}"' in html  # the link lands on the list entry
    assert f"<title>{a.number}" in svg
    assert 'aria-labelledby="outage-map-title outage-map-desc"' in svg
    assert "Северск" in svg and "Берёзовка" in svg  # settlement labels
    assert svg.count("<rect") >= 2  # background + the power centre


def test_an_outage_of_another_branch_is_listed_but_not_mapped(client, grid):
    _outage(grid.tp11)
    east = _outage(grid.tp91)  # branch B has no coordinates
    html = client.get(URL).content.decode()
    assert html.count('class="marker ') == 1
    assert east.number in html
    assert "not on this map" in html


def test_the_map_can_show_another_branch(client, grid):
    GridNode.objects.filter(pk=grid.tp91.pk).update(latitude=Decimal("56.8"), longitude=Decimal("60.6"))
    _outage(grid.tp11)
    east = _outage(grid.tp91)
    html = client.get(URL).content.decode()
    assert f"?branch={grid.tp91.branch_id}#map-h" in html  # the link to the other branch's map
    html = client.get(URL, {"branch": grid.tp91.branch_id}).content.decode()
    assert "Map: Восточный филиал" in html
    svg = html[html.index("<svg xmlns") : html.index("</svg>", html.index("<svg xmlns"))]
    assert svg.count('class="marker ') == 1 and f"#outage-{east.number}" in svg


def test_the_settlement_filter_applies_to_unplanned_outages_too(client, grid):
    north = _outage(grid.tp11)
    village = _outage(grid.tp21)
    html = _section(client.get(URL, {"settlement": "Берёзовка"}).content.decode(), "unplanned-h")
    assert village.number in html and north.number not in html


def test_no_coordinates_no_map(client, org, customers):
    pc = _node("ПС-5", "power_centre", None, org.a, "35")
    _outage(pc)
    html = client.get(URL).content.decode()
    assert "<svg xmlns" not in html
    assert "the grid has no coordinates yet" in html


# --- the address form ------------------------------------------------------------------------------------


def test_the_address_form_answers_with_the_restoration_time(client, grid):
    etr = dt.datetime(2026, 11, 23, 15, 30, tzinfo=dt.UTC)
    o = _outage(grid.tp12, etr=etr)
    html = client.get(URL, {"address": "Северск, ул. Ленина, 3"}).content.decode()
    result = html[html.index('class="lookup-result"') :]
    result = result[: result.index("</section>")]
    assert "power is off" in result
    assert "23.11.2026 18:30" in result  # Moscow time
    assert o.number in result
    html = client.get(URL, {"address": "Берёзовка, ул. Садовая, 5"}).content.decode()
    assert "power should be on" in html


def test_the_address_form_suggests_when_not_found(client, grid):
    html = client.get(URL, {"address": "Северск, ул. Ленина, 99"}).content.decode()
    assert "We could not find this address." in html
    # Suggestions are links that repeat the lookup with the suggested address.
    assert "Did you mean:" in html and 'href="?address=' in html
    assert client.get(URL, {"address": "   "}).content.decode().count('class="lookup-result"') == 0


def test_the_page_never_looks_up_by_account_or_phone(client, grid, customers):
    _outage(grid.tp11)
    html = client.get(URL, {"account": customers.acc_ivanov.number, "phone": "+79123456789"}).content.decode()
    assert 'class="lookup-result"' not in html


# --- language, layout, personal data -------------------------------------------------------------------


def test_html_lang_follows_the_active_language(client, grid):
    assert '<html lang="en">' in client.get(URL).content.decode()
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in html


def test_layout_has_skip_link_company_hotline_and_language_switch(client, grid, org):
    html = client.get(URL).content.decode()
    assert 'href="#content"' in html and 'id="content"' in html
    assert "АО «Тестовая сетевая компания»" in html  # Company, first row
    assert 'href="tel:88000000000"' in html
    assert 'name="language"' in html
    assert 'href="/static/okno/public.css"' in html or "okno/public.css" in html


def test_no_personal_data_on_the_page(client, grid, customers):
    _outage(grid.f1)
    _outage(grid.f9)
    html = client.get(URL).content.decode()
    for secret in (
        "Иванов",
        "Пётр",
        "Ромашка",
        customers.acc_ivanov.number,
        customers.acc_romashka.number,
        "ivanov@example.ru",
        "345-67-89",
        "кв. 5",
    ):
        assert secret not in html
    assert not re.search(r"кв\.?\s*\d", html)


def test_the_page_works_without_outages(client, db, reference_data):
    response = client.get(URL)
    assert response.status_code == 200
    assert "No unplanned outages now." in response.content.decode()


def test_a_passed_estimate_is_marked_as_being_revised(client, grid):
    o = _outage(grid.tp21, etr=timezone.now() - dt.timedelta(minutes=10))
    assert "a new estimate is being made" in _entry(client.get(URL).content.decode(), o)


def test_the_page_costs_a_bounded_number_of_queries(client, grid):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        client.get(URL)  # warm the per-process cache of each outage's addresses
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    for node in (grid.tp11, grid.tp12, grid.tp21):
        _outage(node)
    three = count()
    for node in (grid.tp11, grid.tp12, grid.tp21):
        _outage(node)
    six = count()
    # A fixed handful, plus at most the map position of each extra outage (addresses come from the cache).
    assert three <= 16
    assert six - three <= 3
