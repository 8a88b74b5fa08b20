"""The public list of power centres: free capacity, closed centres, reconstruction schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.outages.conftest import node

pytestmark = pytest.mark.django_db


def test_free_capacity_closed_centres_and_reconstruction(client, grid, org):
    closed = node(
        "ПС-2",
        "power_centre",
        None,
        org.b,
        "35",
        settlement="Восточный",
        installed_mva=Decimal("10"),
        load_mva=Decimal("9.2"),
        reserved_mva=Decimal("1.5"),
        closed_for_connection=True,
        closed_reason="Нет резерва мощности",
        reconstruction_from=dt.date(2027, 3, 1),
        reconstruction_until=dt.date(2027, 10, 31),
        reconstruction_note="Замена трансформаторов 2×6,3 на 2×16 МВА",
    )
    html = client.get("/outages/power-centres/").content.decode()
    # ПС-1: 50 − 31.5 − 6 = 12.5 MVA free; ПС-2: 10 − 9.2 − 1.5 < 0 → 0.
    assert "<strong>12.50</strong>" in html
    assert "<strong>0</strong>" in html
    assert "Нет резерва мощности" in html
    assert "31.10.2027" in html and "Замена трансформаторов" in html
    only_closed = client.get("/outages/power-centres/?closed=1").content.decode()
    assert closed.name in only_closed and "ПС-1" not in only_closed
    by_branch = client.get(f"/outages/power-centres/?branch={org.a.code}").content.decode()
    assert "ПС-1" in by_branch and closed.name not in by_branch
