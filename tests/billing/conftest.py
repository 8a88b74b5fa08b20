"""Billing fixtures: tariffs and a norm for the test region, payee details, Иванов's meter."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

REGION = "Тестовая область"


@pytest.fixture
def tariffs(org):
    """Urban tariffs from 2024-01-01: one zone 6.43 ₽; day/night 7.01/3.20 ₽; peak/half-peak/night
    7.71/6.43/3.20 ₽ per kWh. Norm: 100 kWh per resident a month. Payee details for the company."""
    from okno.billing.models import ConsumerCategory, ConsumptionNorm, PayeeDetails, Tariff, TariffRate

    urban = ConsumerCategory.objects.get(code="urban")
    prices = {1: [64300], 2: [70100, 32000], 3: [77100, 64300, 32000]}
    made = {}
    for zones, zone_prices in prices.items():
        tariff = Tariff.objects.create(
            region=REGION, category=urban, zones=zones, valid_from=dt.date(2024, 1, 1)
        )
        for zone, price_e4 in enumerate(zone_prices, start=1):
            TariffRate.objects.create(tariff=tariff, zone=zone, tier=1, price_e4=price_e4)
        made[zones] = tariff
    norm = ConsumptionNorm.objects.create(
        region=REGION, category=urban, valid_from=dt.date(2020, 1, 1), wh_per_resident=100_000
    )
    payee = PayeeDetails.objects.create(
        name="АО «Тестовая энергосбытовая компания»",
        inn="7707083893",
        kpp="770701001",
        bank_name="ПАО Сбербанк",
        bic="044525225",
        correspondent_account="30101810400000000225",
        settlement_account="40702810900000000001",
        phone="8-800-000-00-00",
    )
    return SimpleNamespace(urban=urban, one=made[1], two=made[2], three=made[3], norm=norm, payee=payee)


@pytest.fixture
def metered(org, customers, tariffs):
    """Иванов's account: urban, 2 residents, a one-zone meter (6+1 digits) installed 2025-01-15 at 1000.0."""
    from okno.billing.models import BillingProfile, Meter, Reading

    acc = customers.acc_ivanov
    acc.opened_on = dt.date(2025, 1, 1)
    acc.save(update_fields=["opened_on"])
    BillingProfile.objects.create(account=acc, category=tariffs.urban, residents=2)
    meter = Meter.objects.create(
        account=acc,
        model="Меркурий 201.8",
        serial="41234567",
        integer_digits=6,
        fraction_digits=1,
        zones=1,
        installed_on=dt.date(2025, 1, 15),
        sealed_on=dt.date(2025, 1, 15),
        verified_on=dt.date(2024, 11, 1),
        verification_interval_years=16,
        location="Лестничная площадка",
    )
    Reading.objects.create(
        meter=meter,
        account=acc,
        period=dt.date(2025, 1, 1),
        taken_on=dt.date(2025, 1, 15),
        t1_wh=1_000_000,
        kind=Reading.Kind.INITIAL,
        channel=Reading.Channel.SYSTEM,
    )
    return SimpleNamespace(account=acc, meter=meter, tariffs=tariffs)


@pytest.fixture
def api(org):
    """``api(user)`` → an APIClient with that user's token (``api()`` is anonymous), messages in English."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _client(user=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
