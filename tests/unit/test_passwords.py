"""Password hashing: bcrypt, with its 72-byte limit handled instead of raising."""

import pytest

from app.bank.passwords import check_password, hash_password


def test_a_password_checks_against_its_own_hash_only():
    stored = hash_password("maxmustermann", rounds=4)
    assert stored.startswith("$2b$04$")
    assert check_password("maxmustermann", stored)
    assert not check_password("maxmustermanN", stored)
    assert not check_password("maxmustermann", None)


def test_an_over_long_password_is_refused_not_a_crash():
    stored = hash_password("x" * 72, rounds=4)
    assert check_password("x" * 72, stored)
    assert not check_password("x" * 73, stored)  # would match if it were silently cut at 72 bytes
    assert not check_password("密" * 40, stored)  # 120 bytes of UTF-8
    with pytest.raises(ValueError):
        hash_password("密" * 25, rounds=4)
