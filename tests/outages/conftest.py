"""A small grid in branch A (Europe/Moscow) with customers under every transformer substation.

    ПС-1 «Северная» 110/10 кВ
    ├── Ф-1 (10 кВ)
    │   ├── ТП-11: Северск, ул. Ленина 1, 2 and 10 (Иванов's house)
    │   └── ТП-12: Северск, ул. Ленина 3, 4
    └── Ф-2 (10 кВ)
        └── ТП-21: Берёзовка, ул. Мира 5, 6

Every house has two flats, each with its own customer and account: 2 × 2 + 2 × 2 + 2 × 2 = 12
service points plus Иванов's = 13 service points (customers) in all.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from okno.customers.models import Account, Address, ContactPoint, Customer, ServicePoint
from okno.customers.numbers import make_account_number
from okno.outages import topology
from okno.outages.models import Feed, GridNode

HOUSES = {
    "ТП-11": ("Северск", "ул. Ленина", ["1", "2"]),
    "ТП-12": ("Северск", "ул. Ленина", ["3", "4"]),
    "ТП-21": ("Берёзовка", "ул. Мира", ["5", "6"]),
}


def node(code, kind, parent, branch, voltage, **extra):
    return topology.save_node(
        GridNode(
            code=code,
            name=code,
            kind=kind,
            parent=parent,
            branch=branch,
            voltage_kv=Decimal(voltage),
            **extra,
        )
    )


@pytest.fixture
def grid(org, customers):
    a = org.a
    pc = node(
        "ПС-1",
        "power_centre",
        None,
        a,
        "110",
        settlement="Северск",
        installed_mva=Decimal("50"),
        load_mva=Decimal("31.5"),
        reserved_mva=Decimal("6"),
    )
    f1 = node("Ф-1", "feeder", pc, a, "10")
    f2 = node("Ф-2", "feeder", pc, a, "10")
    tps = {
        "ТП-11": node("ТП-11", "substation", f1, a, "10", settlement="Северск"),
        "ТП-12": node("ТП-12", "substation", f1, a, "10", settlement="Северск"),
        "ТП-21": node("ТП-21", "substation", f2, a, "10", settlement="Берёзовка"),
    }
    serial = 5000
    accounts: dict[str, list[Account]] = {code: [] for code in tps}
    for code, (settlement, street, houses) in HOUSES.items():
        for house in houses:
            for flat in ("1", "2"):
                serial += 1
                address = Address.objects.create(
                    region="Тестовая область",
                    district="Северный район",
                    settlement=settlement,
                    street=street,
                    house=house,
                    flat=flat,
                    grid_district=org.district_a,
                )
                sp = ServicePoint.objects.create(address=address, branch=a, grid_district=org.district_a)
                customer = Customer.objects.create(
                    last_name=f"Жилец{serial}", first_name="Тест", branch=a, search_text=f"жилец{serial}"
                )
                ContactPoint.objects.create(customer=customer, kind="email", value=f"r{serial}@example.ru")
                ContactPoint.objects.create(customer=customer, kind="phone", value=f"+7912000{serial:04d}")
                acc = Account.objects.create(
                    number=make_account_number(serial), customer=customer, service_point=sp
                )
                Feed.objects.create(service_point=sp, node=tps[code])
                accounts[code].append(acc)
    Feed.objects.create(service_point=customers.acc_ivanov.service_point, node=tps["ТП-11"])
    accounts["ТП-11"].append(customers.acc_ivanov)
    return SimpleNamespace(
        pc=pc, f1=f1, f2=f2, accounts=accounts, **{k.replace("ТП-", "tp"): v for k, v in tps.items()}
    )
