"""The mTAN: random six digits, stored as an HMAC bound to the transfer, amount and recipient."""

from decimal import Decimal

from app.bank import mtan

SECRET = "unit-test-secret"


def test_codes_are_six_random_digits():
    codes = {mtan.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190


def test_a_code_only_matches_its_own_transfer_amount_and_recipient():
    stored = mtan.digest(SECRET, 7, Decimal("10.00"), "AT691000100000000002", "123456")
    assert mtan.matches(SECRET, 7, Decimal("10.00"), "AT691000100000000002", "123456", stored)
    assert mtan.matches(SECRET, 7, Decimal("10"), "AT691000100000000002", "123456", stored)
    assert not mtan.matches(SECRET, 7, Decimal("10.00"), "AT691000100000000002", "123457", stored)
    assert not mtan.matches(SECRET, 8, Decimal("10.00"), "AT691000100000000002", "123456", stored)
    assert not mtan.matches(SECRET, 7, Decimal("10.01"), "AT691000100000000002", "123456", stored)
    assert not mtan.matches(SECRET, 7, Decimal("10.00"), "AT421000100000000003", "123456", stored)
    assert not mtan.matches("other-secret", 7, Decimal("10.00"), "AT691000100000000002", "123456", stored)


def test_the_stored_value_does_not_contain_the_code():
    stored = mtan.digest(SECRET, 7, Decimal("10.00"), "AT691000100000000002", "123456")
    assert "123456" not in stored and len(stored) == 64


def test_the_sms_names_amount_recipient_and_validity():
    text = mtan.sms_text("654321", 42, Decimal("12.5"), "Gabi Musterfrau", "AT691000100000000002", 5)
    assert "654321" in text and "#42" in text and "12.50 EUR" in text
    assert "Gabi Musterfrau" in text and "AT691000100000000002" in text and "5 minutes" in text
