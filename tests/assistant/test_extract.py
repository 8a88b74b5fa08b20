"""Entity extraction from appeal texts: worked examples per entity, properties, speed."""

import datetime as dt
import json
import re
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okno.assistant.extract import extract
from okno.customers.models import Address
from okno.customers.numbers import is_valid_account_number, make_account_number

TODAY = dt.date(2026, 11, 23)
pytestmark = pytest.mark.django_db


def ex(text, **kwargs):
    return extract(text, today=TODAY, **kwargs)


@pytest.fixture
def addresses(customers):
    """The two customer addresses (Северск, ул. Ленина 10 кв. 5; Восточный, ул. Заводская 3) and more."""
    ivanov = customers.acc_ivanov.service_point.address
    romashka = customers.acc_romashka.service_point.address

    def add(settlement, street, house, building="", flat=""):
        return Address.objects.create(
            region="Тестовая область",
            settlement=settlement,
            street=street,
            house=house,
            building=building,
            flat=flat,
        )

    return {
        "ivanov": ivanov,
        "romashka": romashka,
        "berezovaya": add("Северск", "ул. Берёзовая", "7"),
        "lenina_vostochny": add("Восточный", "ул. Ленина", "10", flat="5"),
        "mira_prospekt": add("Северск", "пр-т Мира", "10", building="2"),
        "mira_street": add("Северск", "ул. Мира", "10", building="2"),
        "lenina_15": add("Северск", "ул. Ленина", "15А"),
    }


# --- account numbers -------------------------------------------------------------------------------


def test_account_numbers_named_or_bare_need_a_valid_check_digit():
    good, other = make_account_number(1001), make_account_number(2002)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    found = ex(f"Л/с {good}, лицевой счёт № {other}; старый л/с {bad}, ещё раз {good}")
    assert found.accounts == [good, other]
    assert ex(f"лс {good[:3]}-{good[3:6]}-{good[6:]}").accounts == [good]
    assert ex(f"номер {good} на квитанции").accounts == [good]
    assert ex(f"номер {bad} на квитанции").accounts == []


def test_ten_digits_with_a_valid_check_digit_are_an_account_not_a_phone():
    account = make_account_number(5, prefix="9")
    found = ex(f"{account} и телефон 9123456781")
    assert found.accounts == [account]
    assert found.phones == ["+79123456781"]


# --- phones ----------------------------------------------------------------------------------------


def test_phone_numbers_in_any_russian_format_are_normalised():
    text = "Звоните: +7 (912) 345-67-89, 8 912 345 67 80, 89123456781, (3452) 12-34-56 или +7 912 345-67-89"
    assert ex(text).phones == ["+79123456789", "+79123456780", "+79123456781", "+73452123456"]


# --- dates -----------------------------------------------------------------------------------------


def test_dates_numeric_iso_words_and_relative_to_today():
    text = (
        "Света нет с 12.11.2026, счёт от 2026-11-01, оплатил 3 марта 2025 г., "
        "звонил 20 ноября, обещали 25.11; вчера и позавчера снова отключали, сегодня тоже"
    )
    assert ex(text).dates == [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 12),
        dt.date(2025, 3, 3),
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 25),
        dt.date(2026, 11, 22),
        dt.date(2026, 11, 21),
        dt.date(2026, 11, 23),
    ]


def test_impossible_dates_are_ignored_and_yesterday_follows_today():
    assert ex("31.02.2026 и 45 ноября").dates == []
    assert extract("с вчерашнего дня", today=dt.date(2026, 3, 1)).dates == [dt.date(2026, 2, 28)]


# --- money -----------------------------------------------------------------------------------------


def test_amounts_in_roubles_are_decimals_with_kopecks():
    text = "Оплатил 1 234,56 руб., потом 500 р, ещё 300₽ и ₽ 150; пени 100 рублей 50 коп."
    assert ex(text).amounts == [
        Decimal("1234.56"),
        Decimal("500.00"),
        Decimal("300.00"),
        Decimal("150.00"),
        Decimal("100.50"),
    ]


def test_plain_numbers_are_not_amounts():
    assert ex("дом 15, квартира 3, 220 вольт").amounts == []


# --- readings --------------------------------------------------------------------------------------


def test_day_and_night_readings_of_a_two_zone_meter():
    (reading,) = ex("Передаю показания: день 1234 ночь 567").readings
    assert (reading.values, reading.zones, reading.meter_zones) == ([Decimal(1234), Decimal(567)], [1, 2], 2)


def test_tn_zones_latin_or_cyrillic_with_decimal_commas():
    (reading,) = ex("T1 1234,5 Т2 678").readings
    assert reading.values == [Decimal("1234.5"), Decimal(678)]
    assert reading.zones == [1, 2]


def test_peak_half_peak_night_are_put_in_zone_order():
    (reading,) = ex("ночь 300, пик 100, полупик 200").readings
    assert (reading.values, reading.zones, reading.meter_zones) == (
        [Decimal(100), Decimal(200), Decimal(300)],
        [1, 2, 3],
        3,
    )


def test_readings_without_zones_after_the_word_pokazaniya():
    account = make_account_number(1001)
    found = ex(f"л/с {account}, показания 12345. Телефон 8 912 345-67-89, 12.11.2026")
    (reading,) = found.readings
    assert (reading.values, reading.zones, reading.meter_zones) == ([Decimal(12345)], [1], 0)
    assert found.accounts == [account]
    assert found.phones == ["+79123456789"]
    assert found.dates == [dt.date(2026, 11, 12)]
    (two,) = ex("показания счетчика: 4512 и 1877").readings
    assert two.values == [Decimal(4512), Decimal(1877)]
    (inflected,) = ex("ночью 345, днём 1200").readings
    assert (inflected.values, inflected.zones) == ([Decimal(1200), Decimal(345)], [1, 2])


# --- addresses -------------------------------------------------------------------------------------


def test_full_address_resolves_to_the_stored_row(addresses):
    (a,) = ex("г. Северск, ул. Ленина, д. 10, кв. 5. Нет света").addresses
    assert a.address_id == addresses["ivanov"].pk
    assert (a.settlement, a.street, a.house, a.flat) == ("Северск", "ул. Ленина", "10", "5")
    assert a.candidates == []


def test_short_lower_case_address_is_normalised(addresses):
    (a,) = ex("ленина 15а нет света").addresses
    assert (a.street, a.house, a.address_id) == ("ул. Ленина", "15А", addresses["lenina_15"].pk)


def test_inflected_street_and_settlement_names_are_matched_by_lemma(addresses):
    (a,) = ex("На Заводской улице дом 3 в пос. Восточный искрит провод").addresses
    assert a.address_id == addresses["romashka"].pk
    assert (a.settlement, a.street) == ("Восточный", "ул. Заводская")
    (b,) = ex("в Северске на улице Ленина 10-5 мигает свет").addresses
    assert b.address_id == addresses["ivanov"].pk
    assert b.flat == "5"


def test_yo_and_case_do_not_matter(addresses):
    (a,) = ex("УЛ. БЕРЕЗОВАЯ, Д.7").addresses
    assert (a.street, a.address_id) == ("ул. Берёзовая", addresses["berezovaya"].pk)


def test_the_same_street_in_two_settlements_is_ambiguous_until_the_settlement_is_named(addresses):
    (a,) = ex("ул. Ленина 10 кв 5, нет света").addresses
    assert a.address_id is None
    assert sorted(a.candidates) == sorted([addresses["ivanov"].pk, addresses["lenina_vostochny"].pk])
    (b,) = ex("пос. Восточный, ул. Ленина 10 кв 5").addresses
    assert b.address_id == addresses["lenina_vostochny"].pk


def test_kind_of_street_typed_picks_the_prospekt(addresses):
    (a,) = ex("пр-т Мира 10к2").addresses
    assert (a.street, a.house, a.building, a.address_id) == (
        "пр-т Мира",
        "10",
        "2",
        addresses["mira_prospekt"].pk,
    )


def test_flat_without_its_own_row_falls_back_to_the_house(addresses):
    (a,) = ex("Восточный, Заводская 3 кв. 9").addresses
    assert a.address_id == addresses["romashka"].pk
    assert a.flat == "9"


def test_unknown_street_is_kept_as_written_without_an_id(addresses):
    (a,) = ex("г. Северск, ул. Несуществующая, д. 5").addresses
    assert (a.settlement, a.street, a.house, a.address_id, a.candidates) == (
        "Северск",
        "ул. Несуществующая",
        "5",
        None,
        [],
    )


def test_common_words_are_not_streets(addresses):
    assert ex("Мира и добра вам, света нет третий день").addresses == []
    assert ex("с утра до вечера по всей улице нет света").addresses == []


def test_house_number_before_the_street_and_settlement_after_it(addresses):
    (a,) = ex("д. 10 кв. 5 по улице Ленина, Северск").addresses
    assert (a.house, a.flat, a.address_id) == ("10", "5", addresses["ivanov"].pk)


def test_a_house_with_rows_only_for_its_flats_needs_the_flat(addresses):
    (a,) = ex("г. Северск, ул.Ленина,10").addresses
    assert (a.house, a.flat, a.address_id, a.candidates) == ("10", "", None, [addresses["ivanov"].pk])


# --- the whole ------------------------------------------------------------------------------------


def test_as_dict_is_json_ready(addresses):
    account = make_account_number(1001)
    found = ex(
        f"Л/с {account}, г. Северск, ул. Ленина, д. 10, кв. 5. Нет света со вчера. "
        "Тел. +7 (912) 345-67-89. Показания день 1234 ночь 567, оплатил 500 руб."
    )
    data = json.loads(json.dumps(found.as_dict()))
    assert data == {
        "accounts": [account],
        "addresses": [
            {
                "text": "ул. Ленина, д. 10, кв. 5",
                "settlement": "Северск",
                "street": "ул. Ленина",
                "house": "10",
                "building": "",
                "flat": "5",
                "address_id": addresses["ivanov"].pk,
                "candidates": [],
            }
        ],
        "readings": [
            {"values": ["1234", "567"], "zones": [1, 2], "meter_zones": 2, "text": "день 1234 ночь 567"}
        ],
        "phones": ["+79123456789"],
        "dates": ["2026-11-22"],
        "amounts": ["500.00"],
    }


def test_empty_text_has_no_entities():
    assert not ex("")
    assert not ex("   ")


FRAGMENTS = st.sampled_from(
    [
        "ул.",
        "Ленина",
        "ленина",
        "улице",
        "д.",
        "дом",
        "10",
        "10к2",
        "кв",
        "кв.",
        "5",
        "-",
        "/",
        ",",
        ".",
        "+7",
        "8",
        "(912)",
        "345-67-89",
        "руб",
        "р",
        "₽",
        "коп",
        "т1",
        "Т2",
        "день",
        "ночь",
        "пик",
        "полупик",
        "л/с",
        "0000010017",
        "показания",
        "12.11",
        "2026",
        "ноября",
        "вчера",
        "г.",
        "Северск",
        "пос.",
        "ё",
        "İ",
        "\u00a0",
        "№",
        "1 234,56",
        "999999999999999",
    ]
)


def _check(found):
    assert all(is_valid_account_number(a) for a in found.accounts)
    assert all(re.fullmatch(r"\+\d{10,15}", p) for p in found.phones)
    assert all(a == a.quantize(Decimal("0.01")) for a in found.amounts)
    for r in found.readings:
        assert r.zones == sorted(set(r.zones)) and len(r.values) == len(r.zones)
        assert set(r.zones) <= {1, 2, 3}
    json.dumps(found.as_dict())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_is_read_without_errors(customers, text):
    _check(ex(text, resolve_addresses=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(FRAGMENTS, max_size=30), st.sampled_from([" ", "", ", "]))
def test_texts_made_of_entity_fragments_are_read_without_errors(customers, parts, sep):
    _check(ex(sep.join(parts)))


# --- speed -----------------------------------------------------------------------------------------


def _best_ms(text, runs=5, batch=20, **kwargs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            ex(text, **kwargs)
        best = min(best, (time.perf_counter() - start) / batch)
    return best * 1000


def test_a_typical_text_is_read_in_milliseconds(customers):
    """A sanity bound only: the speed target is measured by bench/bench_classify.py, not in a test."""
    text = (
        "Здравствуйте! Л/с 0000010017. Передаю показания: день 1234 ночь 567. "
        "Оплатил 12.11.2026 1 234,56 руб. Тел. 8 912 345-67-89"
    )
    ex(text)  # the directory and the lemma index are built once per process
    assert _best_ms(text) < 50.0


def test_a_pathological_text_is_still_read_in_bounded_time(customers):
    text = "ул. Ленина 10 " * 2000 + "1" * 5000 + " т1 " * 3000 + " г. Северск " * 1000
    start = time.perf_counter()
    found = ex(text)
    assert time.perf_counter() - start < 5.0
    assert len(found.addresses) == 10


@pytest.fixture
def stemmer_only(monkeypatch):
    """Extraction as it runs where pymorphy3 cannot be loaded."""
    from okno.assistant import addresses as mod

    def clear():
        mod.lemma.cache_clear()
        mod._street_word_lemmas.cache_clear()
        mod._settlement_word_lemmas.cache_clear()
        mod._index = None

    clear()
    monkeypatch.setattr(mod, "_MORPH", False)
    yield
    monkeypatch.undo()
    clear()


def test_without_pymorphy_the_stemmer_still_matches_inflected_names(addresses, stemmer_only):
    (a,) = ex("На Заводской улице дом 3 в пос. Восточный искрит провод").addresses
    assert a.address_id == addresses["romashka"].pk
    (b,) = ex("в Северске на улице Ленина 10-5").addresses
    assert b.address_id == addresses["ivanov"].pk
