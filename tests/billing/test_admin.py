"""Django admin of billing reference data: prices in roubles and volumes in kWh converted exactly to
the models' integer units; Tariff.clean errors shown on the form; read-only records of work done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse


@pytest.fixture
def root(org, client):
    from okno.org.models import User

    user = User.objects.create_superuser(username="root", password="okno-test-pass", email="root@okno.test")
    client.force_login(user)
    return client


def _tariff_post(category, *, zones=1, rates=(("1", "1", "6.43"),), **overrides):
    data = {
        "region": "Новая область",
        "category": str(category.pk),
        "zones": str(zones),
        "valid_from": "2026-07-01",
        "valid_to": "",
        "tier1_limit_kwh": "",
        "tier2_limit_kwh": "",
        "decision": "Постановление № 1",
        "rates-TOTAL_FORMS": str(len(rates)),
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "1",
        "rates-MAX_NUM_FORMS": "1000",
    }
    for i, (zone, tier, price_rub) in enumerate(rates):
        data.update({f"rates-{i}-zone": zone, f"rates-{i}-tier": tier, f"rates-{i}-price_rub": price_rub})
    data.update(overrides)
    return data


def test_tariff_form_converts_roubles_and_kwh_to_integer_units(root, tariffs):
    from okno.billing.models import Tariff

    response = root.post(
        reverse("admin:billing_tariff_add"),
        _tariff_post(
            tariffs.urban,
            rates=(("1", "1", "6.43"), ("1", "2", "8.1234")),
            tier1_limit_kwh="3900",
            tier2_limit_kwh="6000",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    tariff = Tariff.objects.get(region="Новая область")
    # 6.43 ₽ = 64 300 ten-thousandths; 8.1234 ₽ = 81 234; 3 900 kWh = 3 900 000 Wh.
    assert [(r.zone, r.tier, r.price_e4) for r in tariff.rates.order_by("tier")] == [
        (1, 1, 64300),
        (1, 2, 81234),
    ]
    assert (tariff.tier1_limit_wh, tariff.tier2_limit_wh) == (3_900_000, 6_000_000)


def test_tariff_change_form_shows_prices_in_roubles(root, tariffs):
    html = root.get(reverse("admin:billing_tariff_change", args=[tariffs.two.pk])).content.decode()
    assert 'value="7.01"' in html and 'value="3.2"' in html
    listing = root.get(reverse("admin:billing_tariff_changelist")).content.decode()
    assert "T1 7.0100 / T2 3.2000" in listing


def test_tariff_clean_errors_show_in_the_admin(root, tariffs):
    from okno.billing.models import Tariff

    url = reverse("admin:billing_tariff_add")
    response = root.post(url, _tariff_post(tariffs.urban, valid_to="2026-06-30"))
    assert response.status_code == 200
    assert "The end is before the start." in response.content.decode()

    response = root.post(url, _tariff_post(tariffs.urban, tier1_limit_kwh="6000", tier2_limit_kwh="3900"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["tier2_limit_kwh"] == [
        "The second tier must end above the first."
    ]
    assert not Tariff.objects.filter(region="Новая область").exists()


def test_tariff_needs_a_first_tier_price_of_every_zone(root, tariffs):
    from okno.billing.models import Tariff

    response = root.post(reverse("admin:billing_tariff_add"), _tariff_post(tariffs.urban, zones=2))
    assert response.status_code == 200
    assert "Give the first-tier price of every zone; missing: T2." in response.content.decode()
    response = root.post(
        reverse("admin:billing_tariff_add"),
        _tariff_post(tariffs.urban, rates=(("1", "1", "6.43"), ("2", "1", "3"))),
    )
    assert response.status_code == 200
    assert "A tariff of 1 zones has no zone T2." in response.content.decode()
    assert not Tariff.objects.filter(region="Новая область").exists()


def test_negative_price_is_refused(root, tariffs):
    response = root.post(
        reverse("admin:billing_tariff_add"), _tariff_post(tariffs.urban, rates=(("1", "1", "-1"),))
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()


def test_norm_is_edited_in_kwh(root, tariffs):
    from okno.billing.models import ConsumptionNorm

    response = root.post(
        reverse("admin:billing_consumptionnorm_add"),
        {
            "region": "Новая область",
            "category": tariffs.urban.pk,
            "valid_from": "2026-01-01",
            "kwh_per_resident": "87.5",
        },
    )
    assert response.status_code == 302
    assert ConsumptionNorm.objects.get(region="Новая область").wh_per_resident == 87_500


def test_tariff_change_is_in_the_change_log(root, tariffs):
    from okno.core.models import ChangeLog

    root.post(reverse("admin:billing_tariff_add"), _tariff_post(tariffs.urban))
    assert ChangeLog.objects.filter(
        object_type="billing.tariffrate", action="create", actor_name="root"
    ).exists()


def test_runs_and_imported_files_are_read_only(root, org):
    from okno.billing.models import BillingRun

    run = BillingRun.objects.create(period=dt.date(2026, 10, 1), status=BillingRun.Status.DONE)
    for name in ("billingrun", "readingimport", "paymentregistry"):
        assert root.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
        assert root.get(reverse(f"admin:billing_{name}_add")).status_code == 403
    response = root.post(reverse("admin:billing_billingrun_change", args=[run.pk]), {"status": "failed"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE


def test_every_reference_admin_lists(root, tariffs):
    from okno.billing.models import BillingSettings

    BillingSettings.current()
    names = [
        "consumercategory",
        "tariff",
        "zonehours",
        "consumptionnorm",
        "discount",
        "keyrate",
        "penaltyrule",
        "duedayrule",
        "payeedetails",
        "billingsettings",
    ]
    for name in names:
        assert root.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200, name
        assert root.get(reverse(f"admin:billing_{name}_add")).status_code in (200, 403), name
    # One row of settings: no second one, no deleting it.
    assert root.get(reverse("admin:billing_billingsettings_add")).status_code == 403
