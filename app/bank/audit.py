"""The ledger's invariants, checked on the live database (tests, the failover drill, operators).

1. Every account's balance equals its opening balance plus its ledger rows.
2. Customer balances plus everything paid out to external accounts is what was opened with.
3. Every booked, non-historical transfer has exactly one debit and one credit of its amount.
4. No customer balance is negative.
5. What each account keeps as spent this month is what its booked transfers this month add up to.
"""

from sqlalchemy import text


def violations(conn) -> list[str]:
    """Human-readable descriptions of every broken invariant; empty when the books are right."""
    found = []
    for r in conn.execute(text(
            "SELECT a.id, a.iban, a.balance, a.opening_balance + COALESCE(SUM(l.amount), 0) AS expected"
            " FROM accounts a LEFT JOIN ledger_entries l ON l.account_id = a.id"
            " GROUP BY a.id HAVING a.balance <> expected")):
        found.append(f"account {r.iban}: balance {r.balance} but opening + ledger = {r.expected}")
    totals = conn.execute(text(
        "SELECT SUM(CASE WHEN user_id IS NOT NULL THEN opening_balance ELSE 0 END) AS opened,"
        " SUM(CASE WHEN user_id IS NOT NULL THEN balance ELSE 0 END) AS customers,"
        " SUM(CASE WHEN user_id IS NULL THEN balance - opening_balance ELSE 0 END) AS paid_out"
        " FROM accounts")).one()
    if totals.customers + totals.paid_out != totals.opened:
        found.append(f"money not conserved: customers {totals.customers} + paid out {totals.paid_out}"
                     f" != opened {totals.opened}")
    for r in conn.execute(text(
            "SELECT t.id, COUNT(l.id) AS entries, COALESCE(SUM(l.amount), 0) AS net,"
            " COALESCE(SUM(CASE WHEN l.amount > 0 THEN l.amount END), 0) AS credited, t.amount"
            " FROM transfers t LEFT JOIN ledger_entries l ON l.transfer_id = t.id"
            " WHERE t.status = 'booked' AND t.historical = 0 GROUP BY t.id"
            " HAVING entries <> 2 OR net <> 0 OR credited <> t.amount")):
        found.append(f"transfer {r.id}: {r.entries} ledger rows, net {r.net}, credited {r.credited} of {r.amount}")
    for r in conn.execute(text(
            "SELECT t.id FROM transfers t JOIN ledger_entries l ON l.transfer_id = t.id"
            " WHERE t.status <> 'booked' GROUP BY t.id")):
        found.append(f"transfer {r.id} is not booked but has ledger rows")
    for r in conn.execute(text(
            "SELECT a.iban, IF(a.spent_month = m.first, a.spent_in_month, 0) AS kept,"
            " COALESCE(SUM(t.amount), 0) AS booked"
            " FROM accounts a JOIN (SELECT CAST(DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') AS DATE) AS first) m"
            " LEFT JOIN transfers t ON t.sender_account_id = a.id AND t.status = 'booked'"
            " AND t.booked_at >= m.first AND t.booked_at < m.first + INTERVAL 1 MONTH"
            " GROUP BY a.id HAVING kept <> booked")):
        found.append(f"account {r.iban}: spent this month {r.kept}, but its booked transfers this month are {r.booked}")
    for r in conn.execute(text("SELECT iban, balance FROM accounts WHERE user_id IS NOT NULL AND balance < 0")):
        found.append(f"account {r.iban} is overdrawn: {r.balance}")
    return found


def totals(conn) -> dict:
    row = conn.execute(text(
        "SELECT COUNT(*) AS booked, COALESCE(SUM(amount), 0) AS volume FROM transfers"
        " WHERE status = 'booked' AND historical = 0")).one()
    return {"bookedTransfers": row.booked, "bookedVolume": str(row.volume)}
