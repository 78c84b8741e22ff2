"""Money and IBANs: exact decimals with two places, and the ISO 13616 mod-97 check."""

import re
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
AMOUNT_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"
IBAN_PATTERN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


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
