"""Dialogue fixtures: the outage tests' grid (Северск, ул. Ленина 1–4 and 10; Берёзовка, ул. Мира 5, 6)
plus ул. Ленина 15 in Северск (under ТП-12) and in Берёзовка (under ТП-21) — so "Ленина 15" alone is
ambiguous and "Северск, Ленина 15" is not; Иванов's metered account; a cabinet user; FAQ entries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.billing.conftest import metered, tariffs  # noqa: F401  (fixtures reused here)
from tests.outages.conftest import grid  # noqa: F401  (fixture reused here)


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    from okno.assistant.dialogue import faq
    from okno.outages import lookup

    cache.clear()
    lookup.invalidate_directory()
    lookup.invalidate_outages()
    faq.invalidate()
    yield
    lookup.invalidate_directory()
    lookup.invalidate_outages()
    faq.invalidate()


def _house(org, settlement, street, house, node, flats=("1",)):
    from okno.customers.models import Account, Address, Customer, ServicePoint
    from okno.customers.numbers import make_account_number
    from okno.outages.models import Feed

    made = []
    for flat in flats:
        address = Address.objects.create(
            region="Тестовая область",
            settlement=settlement,
            street=street,
            house=house,
            flat=flat,
            grid_district=org.district_a,
        )
        sp = ServicePoint.objects.create(address=address, branch=org.a, grid_district=org.district_a)
        customer = Customer.objects.create(last_name="Соседов", first_name="Тест", branch=org.a)
        serial = 7000 + Address.objects.count()
        Account.objects.create(number=make_account_number(serial), customer=customer, service_point=sp)
        Feed.objects.create(service_point=sp, node=node)
        made.append(address)
    return made


@pytest.fixture
def town(org, customers, grid):  # noqa: F811 (the imported fixture, requested by name)
    """Ленина 15 in Северск (ТП-12, two flats) and in Берёзовка (ТП-21)."""
    from okno.outages import lookup

    seversk = _house(org, "Северск", "ул. Ленина", "15", grid.tp12, flats=("1", "2"))
    village = _house(org, "Берёзовка", "ул. Ленина", "15", grid.tp21)
    lookup.invalidate_directory()
    return SimpleNamespace(grid=grid, seversk=seversk, village=village)


@pytest.fixture
def chat(db):
    """``chat(channel="chat", **kw)`` starts a conversation; ``say(conv, text)`` answers the bot's text."""
    from okno.assistant.dialogue import engine

    def _start(channel="chat", **kw):
        kw.setdefault("language", "en")  # the tests read the English source messages
        return engine.start(channel, **kw)

    return _start


def bot_text(messages) -> str:
    return "\n".join(m.text for m in messages if m.author != "customer")


def say(conv, text):
    from okno.assistant.dialogue import engine

    return engine.respond(conv, text)


@pytest.fixture
def cabinet_user(customers):
    from okno.customers.models import CabinetLink, CabinetUser

    user = CabinetUser(email="ivanov@example.ru", name="Пётр")
    user.set_password("Svet-2026-okno")
    user.save()
    CabinetLink.objects.create(user=user, account=customers.acc_ivanov)
    return user


@pytest.fixture
def faq_entries(db):
    from okno.content.models import FaqEntry

    return SimpleNamespace(
        readings=FaqEntry.objects.create(
            topic="metering",
            question="Когда передавать показания счётчика?",
            answer="С 15 по 25 число каждого месяца — в личном кабинете, по телефону или в офисе.",
        ),
        commission=FaqEntry.objects.create(
            topic="billing",
            question="Как оплатить электроэнергию без комиссии?",
            answer="Оплатите в личном кабинете картой или по QR-коду из квитанции в приложении банка.",
        ),
        connection=FaqEntry.objects.create(
            topic="connection",
            question="Сколько стоит подключение дома к электросетям?",
            answer="Для физических лиц до 15 кВт плата рассчитывается по льготной ставке.",
        ),
        hidden=FaqEntry.objects.create(
            topic="other",
            question="Как получить справку об отсутствии задолженности?",
            answer="Закажите справку в офисе.",
            published=False,
        ),
    )
