"""Money formatting and the IBAN mod-97 check (ISO 13616)."""

from decimal import Decimal

import pytest

from app.bank import money
from app.schema.seed import EXTERNAL_ACCOUNTS, USERS


@pytest.mark.parametrize("amount, text", [("2437.23", "2437.23"), ("5", "5.00"), ("0.1", "0.10"),
                                          ("1003.445", "1003.44"), ("1003.455", "1003.46")])
def test_money_leaves_as_a_string_with_two_places(amount, text):
    assert money.fmt(Decimal(amount)) == text


def test_every_seed_iban_passes_the_checksum():
    for iban in [u[-1] for u in USERS] + [iban for _, iban in EXTERNAL_ACCOUNTS]:
        assert money.is_valid_iban(iban), iban


@pytest.mark.parametrize("iban", [
    "AT551000100000000001",   # the 2017 original's IBANs: wrong check digits
    "AT331000100000000004",
    "AT96100010000000000",    # too short
    "AT9610001000000000001X", # country format wrong length still fails the checksum
    "XX",
    "",
    "AT96 1000 1000 0000 0002",  # another account's number under Max's check digits
])
def test_invalid_ibans_fail(iban):
    assert not money.is_valid_iban(iban)


def test_spaces_and_case_are_ignored():
    assert money.is_valid_iban("at96 1000 1000 0000 0001")
    assert money.normalize_iban(" at96 1000 ") == "AT961000"


@pytest.mark.parametrize("known", ["DE89370400440532013000", "GB82WEST12345698765432", "AT611904300234573201"])
def test_published_example_ibans_pass(known):
    assert money.is_valid_iban(known)


def test_make_iban_computes_the_check_digits():
    assert money.make_iban("AT", "1000100000000001") == "AT961000100000000001"
    assert money.make_iban("AT", "1000100000000004") == "AT151000100000000004"
    assert money.is_valid_iban(money.make_iban("AT", "1000101000000042"))
