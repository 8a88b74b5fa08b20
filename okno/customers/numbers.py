"""Account numbers, phone numbers and INN: normalisation and check digits."""

from __future__ import annotations

import re

ACCOUNT_DIGITS = 10  # nine significant digits and a Luhn check digit


def luhn_check_digit(body: str) -> int:
    """The Luhn (mod 10) check digit for a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def make_account_number(serial: int, prefix: str = "") -> str:
    body = f"{prefix}{serial:0{ACCOUNT_DIGITS - 1 - len(prefix)}d}"
    if len(body) != ACCOUNT_DIGITS - 1:
        raise ValueError("serial does not fit the account number")
    return body + str(luhn_check_digit(body))


def normalize_account_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def is_valid_account_number(value: str) -> bool:
    value = normalize_account_number(value)
    return len(value) == ACCOUNT_DIGITS and value.isdigit() and luhn_check_digit(value[:-1]) == int(value[-1])


def normalize_phone(value: str) -> str:
    """Russian numbers to E.164 (+7XXXXXXXXXX); other numbers keep their digits with a plus."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return "+" + digits if digits else ""


def is_valid_phone(value: str) -> bool:
    norm = normalize_phone(value)
    return bool(re.fullmatch(r"\+\d{10,15}", norm))


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid_inn(value: str) -> bool:
    """INN check digits (10 digits for organisations, 12 for individuals and sole proprietors)."""
    if not value.isdigit():
        return False
    if len(value) == 10:
        return _inn_digit(value, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(value[9])
    if len(value) == 12:
        n11 = _inn_digit(value, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        n12 = _inn_digit(value, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return n11 == int(value[10]) and n12 == int(value[11])
    return False


def make_inn(body: str) -> str:
    """Complete 9 (organisation) or 10 (person) digits with INN check digits (used by demo data)."""
    if len(body) == 9:
        return body + str(_inn_digit(body, (2, 4, 10, 3, 5, 9, 4, 6, 8)))
    if len(body) == 10:
        n11 = _inn_digit(body, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        n12 = _inn_digit(body + str(n11), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return f"{body}{n11}{n12}"
    raise ValueError("INN body is 9 or 10 digits")
