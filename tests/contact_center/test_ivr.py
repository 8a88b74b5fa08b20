"""The IVR engine over a flow as data, with a fake of the rest of Okno."""

from __future__ import annotations

import copy

import pytest

from okno.contact_center.ivr import AccountRef, FlowError, Session, validate_flow

FLOW = {
    "start": "greeting",
    "operator": "operator",
    "steps": {
        "greeting": {"type": "say", "prompt": "greeting", "next": "emergency"},
        "emergency": {"type": "emergency", "next": "menu"},
        "menu": {
            "type": "menu",
            "prompt": "main_menu",
            "options": {
                "1": "outage",
                "2": "reading",
                "3": "balance",
                "4": "planned",
                "5": "connection",
                "9": "bye",
            },
        },
        "outage": {"type": "outage_status", "next": "menu"},
        "reading": {"type": "reading", "next": "menu"},
        "balance": {"type": "balance", "next": "menu"},
        "planned": {"type": "planned_outages", "next": "menu"},
        "connection": {"type": "queue", "queue": "connection"},
        "operator": {"type": "queue", "queue": "general"},
        "bye": {"type": "hangup"},
    },
}
IVANOV = AccountRef(1, "100010", "Северск, ул. Ленина, 10")
ROMASHKA = AccountRef(2, "200020", "Северск, ул. Мира, 1")


class Fake:
    def __init__(self, phones=None, emergency=""):
        self.phones = phones or {}
        self.emergency = emergency
        self.readings = []

    def prompt(self, key, **params):
        return f"<{key}{params or ''}>"

    def accounts_by_phone(self, phone):
        return self.phones.get(phone, [])

    def account_by_number(self, digits):
        return {"100010": IVANOV, "200020": ROMASHKA}.get(digits)

    def emergency_announcement(self):
        return self.emergency

    def outage_status(self, account):
        return f"outage at {account.address}: back by 18:00"

    def planned_outages(self, account):
        return "no planned works"

    def balance(self, account):
        return f"balance of {account.number}: 1 234,56"

    def meter_zones(self, account):
        return 2

    def meter_serial_matches(self, account, last_digits):
        return last_digits == "4567"

    def submit_reading(self, account, digits):
        if digits[-1] == "1":  # the night zone "1" is lower than before
            return False, "lower than the previous one"
        self.readings.append((account.number, digits))
        return True, "accepted"


def test_known_caller_hears_the_etr_for_their_address_without_typing_an_account():
    session = Session(FLOW, Fake(phones={"+79123456789": [IVANOV]}), caller="+79123456789")
    first = session.start()
    assert [p.key for p in first.prompts] == ["greeting", "main_menu"]
    assert first.expect.max_digits == 1
    turn = session.digits("1")
    assert "outage at Северск, ул. Ленина, 10: back by 18:00" in turn.text
    assert turn.prompts[-1].key == "main_menu"  # back to the menu


def test_emergency_announcement_plays_before_the_menu_during_a_mass_outage():
    session = Session(FLOW, Fake(emergency="Крупная авария в Северске, восстановим к 20:00"))
    assert session.start().prompts[1].text.startswith("Крупная авария")


def test_balance_is_told_only_after_identification():
    session = Session(FLOW, Fake(), caller="+70000000000")  # unknown number
    session.start()
    turn = session.digits("3")
    assert turn.prompts[-1].key == "enter_account" and turn.expect.terminator == "#"
    assert "balance" not in turn.text
    turn = session.digits("100010#")
    assert "balance" not in turn.text and turn.prompts[-1].key == "enter_meter_serial"
    turn = session.digits("4567#")
    assert "balance of 100010" in turn.text


def test_an_unknown_number_hears_the_outage_status_without_a_second_factor():
    session = Session(FLOW, Fake(), caller="+70000000000")
    session.start()
    session.digits("1")
    turn = session.digits("100010#")
    assert "outage at Северск, ул. Ленина, 10" in turn.text
    assert "enter_meter_serial" not in [p.key for p in turn.prompts]


def test_a_known_number_is_not_let_into_another_customers_account():
    fake = Fake(phones={"+7912": [IVANOV, AccountRef(3, "300030", "Северск")]})
    session = Session(FLOW, fake, caller="+7912")
    session.start()
    session.digits("3")
    turn = session.digits("200020#")  # Romashka's account, not on this number
    assert turn.prompts[-1].key == "account_not_found" and session.account is None
    turn = session.digits("100010#")
    assert "balance of 100010" in turn.text  # one of its own: no second factor


def test_wrong_meter_digits_are_re_prompted_then_the_operator():
    session = Session(FLOW, Fake(), caller="+70000000000")
    session.start()
    session.digits("2")
    session.digits("100010#")
    assert session.digits("1111#").prompts[-1].key == "meter_serial_wrong"
    assert session.digits("12#").prompts[-1].key == "meter_serial_wrong"
    turn = session.digits("2222#")
    assert turn.transfer_to == "general" and not fake_readings(session)


def fake_readings(session):
    return session.services.readings


def test_several_accounts_on_one_number_ask_which_one():
    session = Session(FLOW, Fake(phones={"+7912": [IVANOV, ROMASHKA]}), caller="+7912")
    session.start()
    turn = session.digits("3")
    assert "balance" not in turn.text and turn.expect.max_digits == 20


def test_reading_by_digits_per_zone_and_a_rejection_is_explained_then_re_asked():
    fake = Fake(phones={"+7912": [IVANOV]})
    session = Session(FLOW, fake, caller="+7912")
    session.start()
    turn = session.digits("2")
    assert turn.prompts[-1].key == "enter_reading" and "'zone': 1" in turn.text
    session.digits("1234*5#")
    turn = session.digits("567#")
    assert fake.readings == [("100010", ["1234*5", "567"])]
    assert "accepted" in turn.text
    session.digits("2")
    session.digits("1000#")
    turn = session.digits("1#")
    assert "lower than the previous one" in turn.text and turn.prompts[-1].key == "enter_reading"


def test_invalid_digits_are_re_prompted_twice_then_go_to_an_operator():
    session = Session(FLOW, Fake())
    session.start()
    assert session.digits("7").prompts[0].key == "invalid_input"
    assert session.digits("").prompts[0].key == "invalid_input"
    turn = session.digits("8")
    assert turn.transfer_to == "general" and session.outcome == "queue:general"


def test_zero_reaches_the_operator_from_any_step():
    session = Session(FLOW, Fake())
    session.start()
    session.digits("3")  # asked for the account number
    turn = session.digits("0")
    assert turn.transfer_to == "general"


def test_menu_choice_to_a_queue_and_goodbye():
    session = Session(FLOW, Fake())
    session.start()
    assert session.digits("5").transfer_to == "connection"
    session = Session(FLOW, Fake(phones={"+7": [IVANOV]}), caller="+7")
    session.start()
    session.digits("1")
    turn = session.digits("9")
    assert turn.hangup and session.outcome == "self_service"
    assert session.path[:3] == ["greeting", "emergency", "menu"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.update(start="nowhere"), "'start' names a step"),
        (lambda f: f["steps"]["menu"]["options"].update({"0": "bye"}), "one key other than 0"),
        (lambda f: f["steps"]["outage"].update(next="gone"), "'next' names a step"),
        (lambda f: f["steps"]["bye"].update(type="dance"), "unknown type"),
        (lambda f: f["steps"]["greeting"].update(next="greeting"), "loop"),
        (lambda f: f["steps"]["operator"].pop("queue"), "names its queue"),
    ],
)
def test_broken_flows_are_refused_with_the_reason(mutate, message):
    flow = copy.deepcopy(FLOW)
    mutate(flow)
    with pytest.raises(FlowError, match=message):
        validate_flow(flow)
