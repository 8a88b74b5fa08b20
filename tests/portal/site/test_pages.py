"""Every page of the public site: anonymous, in Russian and English, with the seeded content on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

PAGES = [
    "site:home",
    "site:territory",
    "site:structure",
    "site:services",
    "site:documents",
    "site:individuals",
    "site:legal",
    "site:reissue",
    "site:quality",
    "site:theft",
    "site:contacts",
    "site:tariffs",
    "site:forms",
    "site:faq",
]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_page_renders_for_an_anonymous_visitor_in_both_languages(client, settings, content, lang):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert f'<html lang="{lang}">' in html, name
        assert "okno/portal/site.css" in html, name


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_service_passport_renders_in_both_languages(client, settings, content, lang):
    from okno.content.models import ServicePassport

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    for passport in ServicePassport.objects.all():
        assert client.get(reverse("site:service", args=[passport.slug])).status_code == 200


def test_pages_render_before_any_content_is_written(client, org):
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_unknown_service_is_404(client, content):
    assert client.get(reverse("site:service", args=["no-such-service"])).status_code == 404


def test_unpublished_service_is_404(client, content):
    from okno.content.models import ServicePassport

    ServicePassport.objects.filter(slug="reissue").update(published=False)
    assert client.get(reverse("site:service", args=["reissue"])).status_code == 404
    assert "/services/reissue/" not in client.get(reverse("site:services")).content.decode()


def test_signed_in_staff_still_go_on_to_their_queue(client, org):
    client.force_login(org.operator_a)
    response = client.get(reverse("site:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:my_queue")


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_hotline_sections_and_no_outages(ru, content):
    html = ru.get("/").content.decode()
    assert "8-800-000-00-00" in html
    assert 'href="tel:88000000000"' in html
    for name in ("site:services", "site:faq", "site:tariffs", "site:territory", "site:forms"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("outages_public:page")}"' in html
    assert f'href="{reverse("outages_public:power_centres")}"' in html
    assert f'href="{reverse("cabinet:login")}"' in html
    assert "Аварийных отключений сейчас нет." in html  # the Russian of "No unplanned outages at the moment."


def test_home_banner_counts_unplanned_outages_off_now_and_customers(en, content, org):
    from okno.outages.choices import NodeKind, OutageKind, OutageStatus
    from okno.outages.models import GridNode, Outage

    node = GridNode.objects.create(
        code="PS-1", name="ПС 1", kind=NodeKind.POWER_CENTRE, branch=org.a, voltage_kv=110
    )
    common = {"branch": org.a, "node": node}
    Outage.objects.create(
        number="A-1", kind=OutageKind.UNPLANNED, status=OutageStatus.ACTIVE, customers_affected=120, **common
    )
    Outage.objects.create(
        number="A-2",
        kind=OutageKind.UNPLANNED,
        status=OutageStatus.PARTIALLY_RESTORED,
        customers_affected=35,
        **common,
    )
    # Not counted: restored, proposed (unconfirmed), and planned works.
    Outage.objects.create(
        number="A-3",
        kind=OutageKind.UNPLANNED,
        status=OutageStatus.RESTORED,
        customers_affected=900,
        **common,
    )
    Outage.objects.create(
        number="A-4",
        kind=OutageKind.UNPLANNED,
        status=OutageStatus.PROPOSED,
        customers_affected=900,
        **common,
    )
    Outage.objects.create(
        number="A-5", kind=OutageKind.PLANNED, status=OutageStatus.ACTIVE, customers_affected=900, **common
    )
    html = en.get("/").content.decode()
    assert "2 unplanned outages" in html
    assert "155 customers without power" in html
    assert "is-off" in html


def test_home_page_weighs_less_than_300_kb_with_its_styles(client, content):
    from django.contrib.staticfiles import finders

    body = client.get("/").content
    css = sum(
        len(open(finders.find(p), "rb").read())  # noqa: SIM115
        for p in ("okno/public.css", "okno/portal/site.css")
    )
    assert len(body) + css < 300 * 1024
    assert b"<img" not in body  # no images beyond small inline SVG


def test_home_does_not_link_forms_that_do_not_exist(client, content):
    from django.urls import NoReverseMatch

    html = client.get("/").content.decode()
    try:
        reverse("reception:connection_individual")
    except NoReverseMatch:
        assert "/reception/connection" not in html
    else:
        assert reverse("reception:connection_individual") in html


# --- content pages ---------------------------------------------------------------------------------


def test_services_list_and_a_passport_with_its_stages(ru, content):
    html = ru.get(reverse("site:services")).content.decode()
    assert "Технологическое присоединение энергопринимающих устройств физических лиц до 15 кВт" in html
    html = ru.get(reverse("site:service", args=["connection-individual-15kw"])).content.decode()
    assert "Кто может подать заявку" in html  # "Who may apply"
    assert "не более 4 месяцев со дня заключения договора" in html
    assert "3 000 ₽ за 1 кВт" in html
    assert "10 рабочих дней со дня получения заявки" in html
    assert "п. 15 Правил ТП" in html
    assert html.count("<tr>") >= 6  # header + five stages


def test_services_filter_by_audience(en, content):
    html = en.get(reverse("site:services"), {"for": "legal"}).content.decode()
    assert "up to 150 kW" in html
    assert "up to 15 kW" not in html.replace("up to 150 kW", "")
    assert "Installation and replacement of an electricity meter" in html  # for everyone


def test_passport_in_english_falls_back_to_russian_where_no_translation(en, content):
    html = en.get(reverse("site:service", args=["connection-individual-15kw"])).content.decode()
    assert "Grid connection of an individual&#x27;s installations up to 15 kW" in html
    assert "расстояние от границ участка" in html  # conditions have no English text: Russian shown


def test_documents_grouped_by_category_with_number_and_date(en, content):
    html = en.get(reverse("site:documents")).content.decode()
    assert "Federal Law on the Electric Power Industry" in html
    assert "№ 35-ФЗ" in html
    assert "26.03.2003" in html
    assert 'href="https://www.consultant.ru/document/cons_doc_LAW_41502/"' in html
    html = en.get(reverse("site:documents"), {"category": "standard"}).content.decode()
    assert "GOST 32144-2013" in html
    assert "Federal Law on the Electric Power Industry" not in html


def test_info_pages_show_their_text_and_links_to_reception(ru, content):
    html = ru.get(reverse("site:theft")).content.decode()
    assert "Хищение электроэнергии" in html
    assert "не более 20 000 ₽" in html
    html = ru.get(reverse("site:quality")).content.decode()
    assert "ГОСТ 32144-2013" in html
    html = ru.get(reverse("site:reissue")).content.decode()
    assert reverse("site:service", args=["reissue"]) in html
    html = ru.get(reverse("site:individuals")).content.decode()
    assert '<a href="/outages/">карту отключений</a>' in html
    assert reverse("site:service", args=["connection-individual-15kw"]) in html


def test_contacts_show_company_and_branches(ru, content, org):
    org.a.address = "Северск, ул. Энергетиков, 5"
    org.a.phone = "8 (81234) 5-67-89"
    org.a.save()
    html = ru.get(reverse("site:contacts")).content.decode()
    assert "АО «Тестовая сетевая компания»" in html
    assert "Северный филиал" in html and "Восточный филиал" in html
    assert "Северск, ул. Энергетиков, 5" in html
    assert 'href="tel:8812345678' in html
    assert f"?branch={org.a.pk}" in html


def test_forms_page_lists_every_form_and_links_only_existing_routes(en, content):
    from django.urls import NoReverseMatch

    html = en.get(reverse("site:forms")).content.decode()
    for code in (
        "connection_individual",
        "connection_legal",
        "metering",
        "reissue",
        "question",
        "appeal",
        "no_power",
    ):
        try:
            url = reverse(f"reception:{code}")
        except NoReverseMatch:
            assert f'href="/reception/{code}' not in html
        else:
            assert f'href="{url}"' in html
    assert "Connection application of an individual" in html
    assert "Metering services application" in html


# --- tariffs ------------------------------------------------------------------------------------------


def test_tariffs_show_prices_in_roubles_by_zone(ru, content, tariffs):
    html = ru.get(reverse("site:tariffs")).content.decode()
    assert "Тестовая область" in html
    assert "<strong>6,43</strong>" in html
    assert "<strong>7,01</strong>" in html and "<strong>3,20</strong>" in html
    assert "<strong>7,71</strong>" in html
    assert "01.01.2024" in html


def test_tariffs_in_english_use_a_decimal_point(en, content, tariffs):
    html = en.get(reverse("site:tariffs")).content.decode()
    assert "<strong>6.43</strong>" in html


def test_tariffs_hide_past_ones_unless_asked_and_keep_fractions_of_a_kopeck(ru, content, tariffs):
    from okno.billing.models import Tariff, TariffRate

    old = Tariff.objects.create(
        region="Тестовая область",
        category=tariffs.urban,
        zones=1,
        valid_from=dt.date(2023, 1, 1),
        valid_to=dt.date(2023, 12, 31),
    )
    TariffRate.objects.create(tariff=old, zone=1, tier=1, price_e4=51234)
    assert "5,1234" not in ru.get(reverse("site:tariffs")).content.decode()
    html = ru.get(reverse("site:tariffs"), {"past": "1"}).content.decode()
    assert "<strong>5,1234</strong>" in html


def test_tariffs_filter_by_region(ru, content, tariffs):
    from okno.billing.models import Tariff, TariffRate

    other = Tariff.objects.create(
        region="Другая область", category=tariffs.urban, zones=1, valid_from=dt.date(2024, 1, 1)
    )
    TariffRate.objects.create(tariff=other, zone=1, tier=1, price_e4=55500)
    html = ru.get(reverse("site:tariffs"), {"region": "Другая область"}).content.decode()
    assert "5,55" in html and "6,43" not in html
    html = ru.get(reverse("site:tariffs"), {"region": "Нет такой"}).content.decode()
    assert "5,55" in html and "6,43" in html


# --- escaping ------------------------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_text_in_content_is_shown_escaped(client, content, org):
    from okno.content.models import Document, FaqEntry, InfoPage, ServicePassport

    InfoPage.objects.filter(slug="theft").update(
        title=HOSTILE, summary=HOSTILE, body=f"{HOSTILE}\n\n- {HOSTILE}\n\n[click](javascript:alert(1))"
    )
    ServicePassport.objects.filter(slug="reissue").update(title=HOSTILE, fee=HOSTILE)
    Document.objects.filter(number="35-ФЗ").update(title=HOSTILE)
    FaqEntry.objects.create(topic="other", question=HOSTILE, answer=HOSTILE)
    org.office.name = HOSTILE
    org.office.save()
    org.a.name = HOSTILE
    org.a.save()
    org.company.name = HOSTILE
    org.company.save()
    for url in (
        reverse("site:home"),
        reverse("site:theft"),
        reverse("site:services"),
        reverse("site:service", args=["reissue"]),
        reverse("site:documents"),
        reverse("site:faq"),
        reverse("site:faq") + "?q=script",
        reverse("site:territory"),
        reverse("site:structure"),
        reverse("site:contacts"),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url
        assert 'href="javascript:' not in html, url
    html = client.get(reverse("site:theft")).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_an_uploaded_document_is_served_as_a_download_only_while_published(client, settings, tmp_path):
    from django.core.files.base import ContentFile

    from okno.content.models import Document

    settings.MEDIA_ROOT = str(tmp_path)
    doc = Document(title="Приказ о тарифах", category=Document._meta.get_field("category").choices[0][0])
    doc.file.save("prikaz.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    doc.save()
    response = client.get(reverse("site:document_file", args=[doc.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert doc.href == reverse("site:document_file", args=[doc.pk])
    doc.published = False
    doc.save()
    assert client.get(reverse("site:document_file", args=[doc.pk])).status_code == 404
