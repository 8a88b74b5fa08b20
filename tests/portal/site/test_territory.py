"""The territory page: a server-drawn map of offices over region outlines, office cards, filters."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse


@pytest.fixture
def offices(org):
    """Three offices: two with coordinates (branches A and B), one without."""
    from okno.org.models import Office, ServiceCentre

    sc_b = ServiceCentre.objects.create(branch=org.b, name="ЦОК Восточного филиала", category=2)
    org.office.latitude, org.office.longitude = Decimal("59.900000"), Decimal("30.300000")
    org.office.services = "Приём обращений\nПриём заявок на технологическое присоединение"
    org.office.phone = "8 (800) 100-22-31"
    org.office.save()
    east = Office.objects.create(
        service_centre=sc_b,
        name="Офис в Восточном",
        address="Восточный, ул. Мира, 2",
        hours="Пн–Пт 9:00–18:00",
        services="Приём обращений",
        latitude=Decimal("56.800000"),
        longitude=Decimal("60.600000"),
    )
    nowhere = Office.objects.create(
        service_centre=sc_b, name="Пункт без координат", address="Восточный, ул. Лесная, 1", services=""
    )
    return {"north": org.office, "east": east, "nowhere": nowhere}


def _pins(html: str) -> list[str]:
    return re.findall(r'<a href="#(office-\d+)" class="office-pin"', html)


def test_map_has_a_marker_per_office_with_coordinates_and_none_without(client, offices):
    html = client.get(reverse("site:territory")).content.decode()
    pins = _pins(html)
    assert sorted(pins) == sorted([f"office-{offices['north'].pk}", f"office-{offices['east'].pk}"])
    assert f"office-{offices['nowhere'].pk}" not in pins
    # …but every office has its card, the one without coordinates says so.
    for office in offices.values():
        assert f'id="office-{office.pk}"' in html
    assert "Not on the map: no coordinates." in html
    assert "1 office has no coordinates and is only in the list." in html


def test_marker_positions_follow_the_coordinates(client, offices):
    html = client.get(reverse("site:territory")).content.decode()
    circles = re.findall(r'class="office-pin".*?<circle cx="([\d.]+)" cy="([\d.]+)"', html)
    assert len(circles) == 2
    (x1, y1), (x2, y2) = ((float(x), float(y)) for x, y in circles)
    # North office (59.9 N, 30.3 E) is north-west of the east office (56.8 N, 60.6 E).
    order = {pin: i for i, pin in enumerate(_pins(html))}
    north, east = order[f"office-{offices['north'].pk}"], order[f"office-{offices['east'].pk}"]
    pts = [(x1, y1), (x2, y2)]
    assert pts[north][0] < pts[east][0]
    assert pts[north][1] < pts[east][1]


def test_marker_title_gives_name_and_address_and_cards_give_hours_phone_services(client, offices):
    html = client.get(reverse("site:territory")).content.decode()
    assert re.search(r"<title>\d\. Офис в Северске, Северск, ул. Ленина, 1</title>", html)
    assert "Пн–Пт 8:00–17:00" in html
    assert 'href="tel:88001002231"' in html
    assert "<li>Приём заявок на технологическое присоединение</li>" in html


def test_no_external_tiles_or_scripts_from_elsewhere(client, offices):
    html = client.get(reverse("site:territory")).content.decode()
    assert "<svg" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_filter_by_branch_draws_only_its_offices_and_outline(client, offices, org):
    from okno.content.models import RegionOutline

    for branch in (org.a, org.b):
        RegionOutline.objects.create(branch=branch, name=branch.name, points="60 30\n60 32\n58 32")
    html = client.get(reverse("site:territory"), {"branch": org.b.pk}).content.decode()
    assert _pins(html) == [f"office-{offices['east'].pk}"]
    assert f'id="office-{offices["north"].pk}"' not in html
    assert html.count("<polygon") == 1


def test_filter_by_service(client, offices):
    html = client.get(
        reverse("site:territory"), {"service": "Приём заявок на технологическое присоединение"}
    ).content.decode()
    assert _pins(html) == [f"office-{offices['north'].pk}"]
    assert f'id="office-{offices["east"].pk}"' not in html


def test_bad_branch_filter_is_a_400_with_the_page(client, offices):
    response = client.get(reverse("site:territory"), {"branch": "abc"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_region_outlines_are_drawn_from_their_vertices(client, org):
    from okno.content.models import RegionOutline

    RegionOutline.objects.create(branch=org.a, name="Тестовая область", points="60 30\n60 32\n58 32\n58 30")
    html = client.get(reverse("site:territory")).content.decode()
    polygon = re.search(r'<polygon points="([^"]+)"', html)
    assert polygon is not None
    assert len(polygon.group(1).split()) == 4
    assert "<title>Тестовая область</title>" in html


def test_outline_validation():
    from django.core.exceptions import ValidationError

    from okno.content.models import RegionOutline, parse_outline

    assert parse_outline("59.1, 30.2\n# comment\n\n60 31") == [(59.1, 30.2), (60.0, 31.0)]
    with pytest.raises(ValueError):
        parse_outline("91 30")
    with pytest.raises(ValidationError):
        RegionOutline(name="x", points="59 30\n60 31").clean()
    with pytest.raises(ValidationError):
        RegionOutline(name="x", points="abc").clean()
    assert RegionOutline(name="x", points="abc").polygon() == []


def test_demo_seed_places_demo_offices_and_outlines_every_branch(client, org):
    from okno.content.models import RegionOutline
    from okno.demo.content import seed_content
    from okno.org.models import Office

    result = seed_content()
    assert result.outlines == 2
    assert result.offices_placed == Office.objects.count()
    assert not Office.objects.filter(latitude__isnull=True).exists()
    assert RegionOutline.objects.count() == 2
    html = client.get(reverse("site:territory")).content.decode()
    assert len(_pins(html)) == Office.objects.count()


def test_unknown_service_shows_every_office(client, offices):
    html = client.get(reverse("site:territory"), {"service": "Нет такой услуги"}).content.decode()
    assert len(_pins(html)) == 2
    assert '<option value="" selected' not in html or "Any service" in html


def test_admin_pages_of_the_content_open(client, org, content):
    client.force_login(org.admin)
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    for model in ("infopage", "servicepassport", "document", "faqentry", "regionoutline"):
        assert client.get(f"/admin/content/{model}/").status_code == 200, model
        assert client.get(f"/admin/content/{model}/add/").status_code == 200, model
    from okno.content.models import ServicePassport

    passport = ServicePassport.objects.first()
    assert client.get(f"/admin/content/servicepassport/{passport.pk}/change/").status_code == 200
