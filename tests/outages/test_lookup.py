"""'Is there power at my address?': address parsing, the tree rule (a node or anything upstream of it is
off), partial restoration, planned works, restored ones ignored, phone and account lookups, suggestions."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from okno.outages import lookup

pytestmark = pytest.mark.django_db


def _node(code, kind, parent, branch, voltage="10"):
    from okno.outages.models import GridNode
    from okno.outages.topology import save_node

    return save_node(
        GridNode(
            code=code, name=f"{kind} {code}", kind=kind, parent=parent, branch=branch, voltage_kv=voltage
        )
    )


def _sp(org, settlement, street, house, flat="", branch=None, district=None):
    from okno.customers.models import Address, ServicePoint

    address = Address.objects.create(
        region="Тестовая область", settlement=settlement, street=street, house=house, flat=flat
    )
    return ServicePoint.objects.create(
        address=address, branch=branch or org.a, grid_district=district or org.district_a
    )


@pytest.fixture
def grid(org, customers):
    """PC1 → F1 → TP1 → L1 feeds Иванов (Северск, ул. Ленина 10 кв 5) and a neighbour in the same house;
    PC1 → F2 → TP2 feeds Северск, ул. Ленина 12; Берёзовка, ул. Ленина 10 hangs off TP2 as well.
    ООО «Ромашка» (Восточный) is not in the topology."""
    from okno.outages.models import Feed

    lookup.invalidate_directory()
    lookup.invalidate_outages()
    pc = _node("PC1", "power_centre", None, org.a, "110")
    f1 = _node("F1", "feeder", pc, org.a)
    tp1 = _node("TP1", "substation", f1, org.a)
    l1 = _node("L1", "line", tp1, org.a, "0.4")
    f2 = _node("F2", "feeder", pc, org.a)
    tp2 = _node("TP2", "substation", f2, org.a)
    ivanov_sp = customers.acc_ivanov.service_point
    neighbour = _sp(org, "Северск", "ул. Ленина", "10", flat="6")
    next_house = _sp(org, "Северск", "ул. Ленина", "12", flat="1")
    village = _sp(org, "Берёзовка", "ул. Ленина", "10")
    Feed.objects.create(service_point=ivanov_sp, node=l1)
    Feed.objects.create(service_point=neighbour, node=l1)
    Feed.objects.create(service_point=next_house, node=tp2)
    Feed.objects.create(service_point=village, node=tp2)
    yield SimpleNamespace(
        pc=pc,
        f1=f1,
        tp1=tp1,
        l1=l1,
        f2=f2,
        tp2=tp2,
        ivanov_sp=ivanov_sp,
        next_house=next_house,
        village=village,
    )
    lookup.invalidate_directory()
    lookup.invalidate_outages()


def _outage(org, number, node, *, status="active", kind="unplanned", nodes=None, **fields):
    from okno.outages.models import Outage, OutageNode

    now = timezone.now()
    defaults = (
        {"started_at": now - dt.timedelta(hours=1)} if status in ("active", "partially_restored") else {}
    )
    defaults.update(fields)
    outage = Outage.objects.create(
        number=number, kind=kind, status=status, branch=org.a, node=node, **defaults
    )
    for n, restored_at in nodes if nodes is not None else [(node, None)]:
        OutageNode.objects.create(
            outage=outage, node=n, off_at=defaults.get("started_at"), restored_at=restored_at
        )
    return outage


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words", "house", "building", "flat"),
    [
        ("ул. Ленина 15", ("ул", "ленина"), "15", "", ""),
        ("Ленина, 15", ("ленина",), "15", "", ""),
        ("г. Тюмень, Ленина д.15 кв 3", ("г", "тюмень", "ленина"), "15", "", "3"),
        (
            "625000, Тюменская обл., г. Тюмень, ул. Ленина, д. 15, корп. 2, кв. 30",
            ("г", "тюмень", "ул", "ленина"),
            "15",
            "2",
            "30",
        ),
        ("Северск Ленина 10/2 - 5", ("северск", "ленина"), "10/2", "", "5"),
        ("пр-т Мира 7к1", ("проспект", "мира"), "7", "1", ""),
        ("улица Ленина дом 15А", ("улица", "ленина"), "15а", "", ""),
    ],
)
def test_parse_address_splits_words_house_building_and_flat(text, words, house, building, flat):
    parsed = lookup.parse_address(text)
    assert (parsed.words, parsed.house, parsed.building, parsed.flat) == (words, house, building, flat)


def test_street_key_drops_the_type_word_but_keeps_a_name_that_is_only_a_type():
    assert lookup.street_key("ул. Ленина") == lookup.street_key("улица Ленина") == "ленина"
    assert lookup.street_key("Набережная") == lookup.street_key("ул. Набережная") == "набережная"
    assert lookup.street_key("ул. Молодёжная") == "молодежная"


# --- by address ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Северск, ул. Ленина, д. 10",
        "Северск Ленина 10",
        "г. Северск, Ленина д.10 кв 5",
        "СЕВЕРСК, УЛИЦА ЛЕНИНА, 10",
    ],
)
def test_address_typed_in_several_ways_finds_the_house_with_power_on(grid, text):
    result = lookup.power_at(address=text)
    assert result.status == lookup.OK
    assert [m.text for m in result.matches] == ["Северск, ул. Ленина, д. 10"]
    assert result.power_on is True
    assert result.outages == []


def test_outage_on_an_upstream_feeder_cuts_the_house_and_reports_etr(grid, org):
    etr = timezone.now() + dt.timedelta(hours=3)
    _outage(org, "A-1", grid.f1, etr=etr, reason="Повреждение кабеля")
    result = lookup.power_at(address="Северск, Ленина 10")
    assert result.power_on is False
    [o] = result.outages
    assert (o.number, o.status, o.off_now, o.etr, o.node_code, o.reason) == (
        "A-1",
        "active",
        True,
        etr,
        "F1",
        "Повреждение кабеля",
    )
    # The other feeder's house is not affected.
    other = lookup.power_at(address="Северск, Ленина 12")
    assert other.power_on is True and other.outages == []


def test_partially_restored_outage_keeps_off_only_the_nodes_not_restored(grid, org):
    _outage(
        org,
        "A-2",
        grid.pc,
        status="partially_restored",
        nodes=[(grid.pc, None), (grid.f2, timezone.now())],
    )
    # F2 is back (its row restored, deeper than PC1's open row): Ленина 12 has power.
    assert lookup.power_at(address="Северск, Ленина 12").power_on is True
    off = lookup.power_at(address="Северск, Ленина 10")
    assert off.power_on is False
    assert off.outages[0].partially_restored is True


def test_partially_restored_outage_whose_own_node_is_restored_does_not_touch_the_house(grid, org):
    _outage(
        org, "A-3", grid.f1, status="partially_restored", nodes=[(grid.tp1, timezone.now()), (grid.f2, None)]
    )
    assert lookup.power_at(address="Северск, Ленина 10").power_on is True
    assert lookup.power_at(address="Северск, Ленина 12").power_on is False


def test_restored_and_cancelled_outages_are_not_reported(grid, org):
    _outage(org, "A-4", grid.f1, status="restored", restored_at=timezone.now())
    _outage(org, "A-5", grid.f1, status="cancelled")
    result = lookup.power_at(address="Северск, Ленина 10")
    assert result.power_on is True and result.outages == []


def test_scheduled_works_are_reported_as_planned_until_their_end(grid, org):
    now = timezone.now()
    start, end = now + dt.timedelta(days=2), now + dt.timedelta(days=2, hours=6)
    _outage(
        org,
        "P-1",
        grid.tp1,
        status="scheduled",
        kind="planned",
        planned_start=start,
        planned_end=end,
        reason="Замена трансформатора",
    )
    result = lookup.power_at(address="Северск, Ленина 10")
    assert result.power_on is True  # works are ahead: power is on now
    [o] = result.outages
    assert (o.number, o.off_now, o.planned_start, o.planned_end) == ("P-1", False, start, end)
    # After the planned end the notice is no longer given.
    later = lookup.power_at(address="Северск, Ленина 10", now=end + dt.timedelta(minutes=1))
    assert later.outages == []


def test_scheduled_works_count_any_of_their_nodes(grid, org):
    now = timezone.now()
    _outage(
        org,
        "P-2",
        grid.f2,
        status="scheduled",
        kind="planned",
        planned_start=now + dt.timedelta(days=1),
        planned_end=now + dt.timedelta(days=1, hours=2),
        nodes=[(grid.f2, None), (grid.l1, None)],
    )
    assert [o.number for o in lookup.power_at(address="Северск, Ленина 10").outages] == ["P-2"]


def test_active_outages_come_before_planned_ones(grid, org):
    now = timezone.now()
    _outage(
        org,
        "P-3",
        grid.pc,
        status="scheduled",
        kind="planned",
        planned_start=now + dt.timedelta(days=3),
        planned_end=now + dt.timedelta(days=3, hours=1),
    )
    _outage(org, "A-6", grid.l1)
    assert [o.number for o in lookup.power_at(address="Северск, Ленина 10").outages] == ["A-6", "P-3"]


def test_an_outage_saved_after_a_lookup_is_seen_by_the_next_one(grid, org):
    assert lookup.power_at(address="Северск, Ленина 10").power_on is True
    outage = _outage(org, "A-7", grid.tp1)
    assert lookup.power_at(address="Северск, Ленина 10").power_on is False
    outage.status = "restored"
    outage.save(update_fields=["status"])
    assert lookup.power_at(address="Северск, Ленина 10").power_on is True


def test_the_same_street_and_house_in_two_settlements_is_ambiguous(grid, org):
    _outage(org, "A-8", grid.tp2)
    result = lookup.power_at(address="Ленина 10")
    assert result.status == lookup.AMBIGUOUS
    assert sorted(m.text for m in result.matches) == [
        "Берёзовка, ул. Ленина, д. 10",
        "Северск, ул. Ленина, д. 10",
    ]
    assert result.power_on is None  # not said until the caller chooses
    by_text = {a.match.text: a.power_on for a in result.answers}
    assert by_text == {"Берёзовка, ул. Ленина, д. 10": False, "Северск, ул. Ленина, д. 10": True}
    # Choosing one by its id answers for it.
    chosen = next(m for m in result.matches if m.settlement == "Берёзовка")
    assert lookup.power_at(address_id=chosen.id).power_on is False


def test_unknown_house_is_not_found_with_the_nearest_houses_of_the_street(grid):
    result = lookup.power_at(address="Северск, Ленина 11")
    assert result.status == lookup.NOT_FOUND
    assert result.suggestions[:2] == ["Северск, ул. Ленина, д. 10", "Северск, ул. Ленина, д. 12"]


def test_misspelt_street_is_not_found_with_similar_streets_of_the_settlement(grid):
    result = lookup.power_at(address="Северск, Ленено 10")
    assert result.status == lookup.NOT_FOUND
    assert "Северск, ул. Ленина" in result.suggestions


def test_unknown_street_without_settlement_suggests_similar_streets(grid):
    result = lookup.power_at(address="Ленена 10")
    assert result.status == lookup.NOT_FOUND
    assert "Северск, ул. Ленина" in result.suggestions


def test_address_outside_the_topology_has_unknown_power(grid, customers):
    result = lookup.power_at(address="Восточный, Заводская 3")
    assert result.status == lookup.OK
    assert result.power_on is None


# --- by account and phone ------------------------------------------------------------------------


def test_account_lookup_answers_for_its_service_point(grid, org, customers):
    _outage(org, "A-9", grid.l1, etr=timezone.now() + dt.timedelta(hours=2))
    result = lookup.power_at(account=customers.acc_ivanov.number)
    assert result.status == lookup.OK
    [match] = result.matches
    assert match.text == "Северск, ул. Ленина, д. 10, кв. 5"
    assert (match.account, match.customer_id) == (customers.acc_ivanov.number, customers.ivanov.pk)
    assert result.power_on is False and [o.number for o in result.outages] == ["A-9"]


def test_unknown_account_is_not_found(grid):
    assert lookup.power_at(account="0000000000").status == lookup.NOT_FOUND


def test_phone_in_any_format_finds_the_customers_accounts(grid, customers):
    for phone in ("+7 (912) 345-67-89", "89123456789", "9123456789"):
        result = lookup.power_at(phone=phone)
        assert result.status == lookup.OK
        assert [m.account for m in result.matches] == [customers.acc_ivanov.number]
        assert result.power_on is True


def test_phone_with_accounts_at_two_houses_answers_per_house(grid, org, customers):
    from okno.customers.models import Account
    from okno.customers.numbers import make_account_number

    Account.objects.create(
        number=make_account_number(1002), customer=customers.ivanov, service_point=grid.next_house
    )
    _outage(org, "A-10", grid.f2)
    result = lookup.power_at(phone="+79123456789")
    assert result.status == lookup.OK
    by_text = {a.match.text: a.power_on for a in result.answers}
    assert by_text == {"Северск, ул. Ленина, д. 10, кв. 5": True, "Северск, ул. Ленина, д. 12, кв. 1": False}
    assert result.power_on is False  # some of the customer's addresses are off


def test_unknown_phone_is_not_found(grid):
    assert lookup.power_at(phone="+7 900 000-00-00").status == lookup.NOT_FOUND


def test_exactly_one_kind_of_query_is_required(grid):
    with pytest.raises(ValueError):
        lookup.power_at()
    with pytest.raises(ValueError):
        lookup.power_at(address="Ленина 10", phone="+79123456789")


def test_address_lookup_takes_two_queries_at_most_when_outages_are_cached(
    grid, org, django_assert_max_num_queries
):
    _outage(org, "A-11", grid.f1)
    lookup.power_at(address="Северск, Ленина 10")  # warms both caches
    with django_assert_max_num_queries(1):
        assert lookup.power_at(address="Северск, Ленина 10").power_on is False
    with django_assert_max_num_queries(1):
        lookup.power_at(phone="+79123456789")
    with django_assert_max_num_queries(1):
        lookup.power_at(account="0000001001")
