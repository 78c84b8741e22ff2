"""Pure parts of the banking rules: request fingerprints, cursors, statistics periods, seed data."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest

from app.bank import accounts, idempotency, stats
from app.bank.errors import InvalidRequest
from app.bank.transfers import NewTransfer
from app.schema import _statements, seed


def test_the_fingerprint_ignores_key_order_and_tag_order():
    a = NewTransfer("AT691000100000000002", "Gabi", Decimal("10.00"), "x", ("Leisure", "Shopping"))
    b = NewTransfer("AT691000100000000002", "Gabi", Decimal("10"), "x", ("Shopping", "Leisure"))
    c = NewTransfer("AT691000100000000002", "Gabi", Decimal("10.01"), "x", ("Shopping", "Leisure"))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert idempotency.fingerprint({"a": 1, "b": 2}) == idempotency.fingerprint({"b": 2, "a": 1})


def test_cursors_round_trip_and_garbage_is_refused():
    moment = datetime(2017, 3, 22, 23, 5, 0, 123456)
    assert accounts._encode_cursor(moment, 17) == "1490223900123456-17"
    assert accounts._decode_cursor(accounts._encode_cursor(moment, 17)) == (moment, 17)
    # every string of the documented format is a position, the largest included
    assert accounts._decode_cursor("9" * 17 + "-" + "9" * 18)[1] == 10**18 - 1
    for garbage in ("garbage", "", "bm90IGEgY3Vyc29y", "-1-2", "1-", "1.5-2"):
        with pytest.raises(InvalidRequest):
            accounts._decode_cursor(garbage)


def test_statistics_periods():
    assert stats.PERIOD_FORMATS == {"daily": "%Y-%m-%d", "monthly": "%Y-%m", "yearly": "%Y"}


def test_the_seed_history_adds_up_to_the_originals_monthly_statistics():
    """original-app.md: 'Expected monthly stats' are the monthly sums of the seeded transfers."""
    names = {u[-1]: u[0] for u in seed.USERS}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for booked_at, sender, *_rest in seed.TRANSFERS:
        amount = Decimal(_rest[1])
        sums[names[sender]][booked_at[:7]] += amount
    assert {k: str(v) for k, v in sums["Max"].items()} == {
        "2017-03": "2564.81", "2017-04": "23.30", "2017-01": "1062.49", "2017-02": "904.40",
        "2016-12": "628.20", "2016-10": "94.40", "2016-11": "194.80", "2016-09": "861.80"}
    assert {k: str(v) for k, v in sums["Gabi"].items()} == {"2017-03": "9106.49", "2017-02": "166.26"}
    assert {k: str(v) for k, v in sums["Erika"].items()} == {"2017-03": "6147.05", "2017-04": "107.34"}
    assert len(seed.TRANSFERS) == 34 and len(seed.TAGS) == 6


def test_migration_files_split_into_statements():
    sql = "-- a comment; with a semicolon\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (y INT);\n"
    assert _statements(sql) == ["CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"]
