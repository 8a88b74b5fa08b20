"""Pure parts of the public page: house ranges, the SVG map's projection and markup (no database)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zoneinfo

from okno.outages.public import mapsvg
from okno.outages.public.queries import compact_houses, group_addresses, utc_offset

SVG = "{http://www.w3.org/2000/svg}"


def test_compact_houses_makes_ranges_of_three_or_more_plain_numbers():
    houses = [str(n) for n in range(1, 16)] + ["17"]
    assert compact_houses(houses) == "1–15, 17"
    assert compact_houses(["2", "1"]) == "1, 2"  # two in a row stay a list
    assert compact_houses(["10", "9", "8", "12", "3А", "10/2", "3", "Б/Н"]) == "3, 8–10, 12, 3А, 10/2, Б/Н"
    assert compact_houses(["5", "5", " 5 ", ""]) == "5"
    assert compact_houses([]) == ""


def test_addresses_group_by_settlement_street_house_with_buildings():
    rows = [
        ("Северск", "ул. Ленина", "10", ""),
        ("Северск", "ул. Ленина", "2", ""),
        ("Северск", "ул. Ленина", "10", ""),  # another flat of the same house
        ("Северск", "ул. Ленина", "12", "2"),
        ("Берёзовка", "", "7", ""),
    ]
    places = group_addresses(rows)
    assert [p.settlement for p in places] == ["Берёзовка", "Северск"]
    assert places[0].streets[0].text == "7"
    assert places[1].streets[0].houses == ("2", "10", "12 к2")
    assert places[1].streets[0].text == "ул. Ленина, 2, 10, 12 к2"


def test_utc_offsets_are_named_at_the_moment():
    at = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert utc_offset(zoneinfo.ZoneInfo("Europe/Moscow"), at) == "UTC+3"
    assert utc_offset(zoneinfo.ZoneInfo("Asia/Yekaterinburg"), at) == "UTC+5"
    assert utc_offset(zoneinfo.ZoneInfo("Asia/Kolkata"), at) == "UTC+5:30"
    assert utc_offset(zoneinfo.ZoneInfo("America/New_York"), at) == "UTC−5"


def test_projection_worked_example():
    # Box 55.0–55.1 N, 37.0–37.2 E, 760 px wide, 32 px padding.
    # kx = cos(55.05°) = 0.572861; width in "equal" degrees 0.2 × kx = 0.114572, height 0.1.
    # Height 760 × 0.1 / 0.114572 = 663.3 → 663 px; scale = min(696 / 0.114572, 599 / 0.1) = 5990 px/°.
    # Horizontal margin (760 − 0.114572 × 5990) / 2 = 36.86; vertical (663 − 599) / 2 = 32.
    base = mapsvg.Base(south=55.0, north=55.1, west=37.0, east=37.2)
    proj = mapsvg.Projection(base, [], 760)
    assert proj.height == 663
    assert round(proj.scale, 6) == 5990.0
    assert proj.xy(mapsvg.Point(55.1, 37.0)) == (36.9, 32.0)  # north-west corner
    assert proj.xy(mapsvg.Point(55.0, 37.2)) == (723.1, 631.0)  # south-east corner
    assert proj.xy(mapsvg.Point(55.05, 37.1)) == (380.0, 331.5)  # the centre is the middle of the picture


def test_a_single_point_gets_a_neighbourhood_not_a_division_by_zero():
    base = mapsvg.Base(south=55.0, north=55.0, west=37.0, east=37.0)
    proj = mapsvg.Projection(base, [], 760)
    x, y = proj.xy(mapsvg.Point(55.0, 37.0))
    assert abs(x - 380) < 1 and abs(y - proj.height / 2) < 1


def test_graticule_steps_are_round():
    assert mapsvg.graticule_step(0.1) == 0.02
    assert mapsvg.graticule_step(0.6) == 0.1
    assert mapsvg.graticule_step(3.0) == 0.5


def test_svg_is_well_formed_with_a_linked_marker_per_outage_and_escaped_text():
    base = mapsvg.Base(
        south=55.0,
        north=55.1,
        west=37.0,
        east=37.2,
        settlements=(mapsvg.Label("Северск <&>", mapsvg.Point(55.02, 37.03)),),
        centres=(mapsvg.Label("ПС-1", mapsvg.Point(55.0, 37.0)),),
        feeders=(mapsvg.Line("Ф-1", mapsvg.Point(55.0, 37.0), mapsvg.Point(55.02, 37.03)),),
    )
    markers = [
        mapsvg.Marker(mapsvg.Point(55.02, 37.03), "unplanned", "ОТК-1 · Северск", "#outage-ОТК-1"),
        mapsvg.Marker(mapsvg.Point(55.02, 37.03), "planned", 'ОТК-2 "<b>"', "#outage-ОТК-2"),
    ]
    svg = str(mapsvg.render(base, markers, title="Map", description="Two outages"))
    root = ET.fromstring(svg)  # noqa: S314 (our own markup; parsing proves it well-formed)
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}title") == "Map" and root.findtext(f"{SVG}desc") == "Two outages"
    links = root.findall(f".//{SVG}a")
    assert [a.get("href") for a in links] == ["#outage-ОТК-1", "#outage-ОТК-2"]
    assert [a.findtext(f"{SVG}title") for a in links] == ["ОТК-1 · Северск", 'ОТК-2 "<b>"']
    assert links[0].find(f"{SVG}circle") is not None  # unplanned: a red circle
    assert links[1].find(f"{SVG}path") is not None  # planned: an amber diamond
    assert "<b>" not in svg and "Северск &lt;&amp;&gt;" in svg
    # Two markers on one spot are pulled apart so both stay clickable.
    c = links[0].find(f"{SVG}circle")
    d = links[1].find(f"{SVG}path").get("d")
    assert d.split()[0] != f"M{c.get('cx')}"
