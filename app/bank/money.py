"""Money and IBANs: exact decimals with two places, and the ISO 13616 mod-97 check."""

import re
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
# The formats, spelled with explicit ASCII classes so that they mean the same in every regex dialect
# that reads them (pydantic's Rust engine, Python's re, the JavaScript of a client); \d and \s do not.
# Euros with up to two decimal places and no leading zeros: 0 or more, at most 12 digits before the point.
AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
# The same, but more than 0.00: a positive integer part, or 0 with a positive fraction.
POSITIVE_AMOUNT_PATTERN = r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
IBAN_PATTERN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def fmt(amount: Decimal) -> str:
    """'2437.23': money always leaves the bank as a string with two places."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN))


def normalize_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()


def _mod97(iban: str) -> int:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97


def is_valid_iban(iban: str) -> bool:
    iban = normalize_iban(iban)
    return bool(IBAN_PATTERN.match(iban)) and _mod97(iban) == 1


def make_iban(country: str, bban: str) -> str:
    """The IBAN for a country and basic bank account number, with its check digits."""
    check = 98 - _mod97(f"{country}00{bban}")
    return f"{country}{check:02d}{bban}"
