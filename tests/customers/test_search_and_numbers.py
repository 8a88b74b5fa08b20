import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from okno.customers import actions
from okno.customers.numbers import (
    is_valid_account_number,
    is_valid_inn,
    luhn_check_digit,
    make_account_number,
    make_inn,
    normalize_phone,
)
from okno.customers.queries import search_customers


def test_account_number_check_digit_worked_example():
    # Luhn over 000001001: doubled from the right 1→2, 0, 0→0, 1, 0, 0, 0, 0, 0: sum 3 → check digit 7.
    assert luhn_check_digit("000001001") == 7
    assert make_account_number(1001) == "0000010017"
    assert is_valid_account_number("0000010017")
    assert not is_valid_account_number("0000010018")
    assert not is_valid_account_number("000001001")


@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_generated_account_number_validates_and_a_changed_digit_does_not(serial):
    number = make_account_number(serial)
    assert is_valid_account_number(number)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not is_valid_account_number(wrong)


def test_inn_check_digits():
    assert is_valid_inn("7707083893")  # a well-known organisation INN
    assert not is_valid_inn("7707083894")
    assert is_valid_inn(make_inn("5001234567"))
    assert len(make_inn("500123456")) == 10


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("9123456789", "+79123456789"),
    ],
)
def test_phones_are_normalised_to_e164(raw, norm):
    assert normalize_phone(raw) == norm


def test_search_by_account_phone_inn_name_and_address(org, customers):
    user = org.cc_operator
    assert search_customers(user, customers.acc_ivanov.number) == [customers.ivanov]
    assert search_customers(user, "8 912 345-67-89") == [customers.ivanov]
    assert search_customers(user, "7707083893") == [customers.romashka]
    assert search_customers(user, "иванов пётр") == [customers.ivanov]
    assert search_customers(user, "ИВАНОВ ПЕТР") == [customers.ivanov]  # ё and case do not matter
    assert search_customers(user, "ленина 10") == [customers.ivanov]
    assert search_customers(user, "ромашка") == [customers.romashka]
    assert search_customers(user, "") == []


def test_search_never_shows_another_branch(org, customers):
    assert search_customers(org.operator_b, "иванов") == []
    assert search_customers(org.operator_b, customers.acc_ivanov.number) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm similarity is PostgreSQL's")
def test_a_misspelt_name_is_found_by_trigram_similarity(org, customers):
    assert search_customers(org.cc_operator, "Иваноф Петр") == [customers.ivanov]


def test_a_person_without_a_last_name_is_refused_and_nothing_saved(org):
    from okno.customers.models import Customer

    before = Customer.objects.count()
    with pytest.raises(ValidationError) as err:
        actions.create_customer(actor=org.admin, kind="individual", first_name="Пётр", phones=["123"])
    assert "last_name" in err.value.message_dict
    assert Customer.objects.count() == before


def test_a_legal_entity_with_a_wrong_inn_is_refused(org):
    with pytest.raises(ValidationError) as err:
        actions.create_customer(
            actor=org.admin, kind="legal_entity", organisation="ООО «Тест»", inn="7707083894"
        )
    assert "inn" in err.value.message_dict


def test_a_customer_created_by_branch_staff_belongs_to_their_branch(org):
    customer = actions.create_customer(actor=org.operator_b, kind="individual", last_name="Сергеев")
    assert customer.branch == org.b
    assert search_customers(org.operator_a, "сергеев") == []
