"""After a run: are the books right? Checks the ledger's invariants (app.bank.audit), that no
idempotency key was booked twice, and that every transfer a client saw confirmed is booked.

`journal` is what the clients saw (load.locustfile.JOURNAL): idempotency key -> {"email", "ids"
(every transfer id answered for that key), "confirmed" (id answered "booked"), "amount"}.
"""

from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam, text

from stack.settings import Stack


def check(stack: Stack, journal: dict, since: datetime | None = None) -> dict:
    """A report; report["ok"] is True only if every check passed."""
    from app.bank import audit
    from load.customers import engine

    problems: list[str] = []
    db = engine(stack)
    try:
        with db.connect() as conn:
            violations = audit.violations(conn)
            problems += [f"ledger invariant: {v}" for v in violations]
            totals = audit.totals(conn)

            # 1. A key stands for one transfer: the clients never saw two ids for one key ...
            for key, seen in journal.items():
                if len(seen["ids"]) > 1:
                    problems.append(f"key {key} was answered with several transfers: {sorted(seen['ids'])}")
            # ... no transfer is referenced by two keys, and no transfer exists without its key
            # (a doubled request whose key insert failed would leave one behind). Both sides are
            # read once (the keys by their creation time's index, the transfers in one scan) and
            # compared here: a join on idempotency_keys.transfer_id, which has no index (the app
            # never looks a key up by it), took minutes on a development database of ~40,000 keys.
            window = " AND {t}.created_at >= :since" if since else ""
            keys = conn.execute(text(
                "SELECT k.idem_key, k.transfer_id, u.email FROM idempotency_keys k JOIN users u ON u.id = k.user_id"
                " WHERE 1 = 1" + window.format(t="k")), {"since": since}).all()
            transfers = conn.execute(text("SELECT t.id FROM transfers t WHERE t.historical = 0" + window.format(t="t")),
                                     {"since": since}).scalars().all()
            references = Counter(k.transfer_id for k in keys if k.transfer_id is not None)
            doubled = sorted(t for t, n in references.items() if n > 1)
            problems += [f"transfer {t} is stored under {references[t]} idempotency keys" for t in doubled]
            orphans = sorted(set(transfers) - set(references))
            problems += [f"transfer {t} has no idempotency key (a doubled create?)" for t in orphans]

            # 2. The key each client used is stored once, for the transfer the client was told.
            stored: dict[str, list] = {}
            for k in keys:
                stored.setdefault(k.idem_key, []).append((k.transfer_id, k.email))
            for key, seen in journal.items():
                if not seen["ids"]:
                    continue
                rows = stored.get(key, [])
                if len(rows) != 1:
                    problems.append(f"key {key}: {len(rows)} rows in idempotency_keys (expected 1)")
                elif rows[0][0] not in seen["ids"] or rows[0][1] != seen["email"]:
                    problems.append(f"key {key}: stored for transfer {rows[0][0]} of {rows[0][1]}, "
                                    f"the client saw {sorted(seen['ids'])} as {seen['email']}")

            # 3. Every transfer a client saw booked is booked, with its amount, debit and credit.
            confirmed = {s["confirmed"]: s for s in journal.values() if s.get("confirmed")}
            booked = {}
            ids = sorted(confirmed)
            for start in range(0, len(ids), 500):
                rows = conn.execute(text(
                    "SELECT t.id, t.status, t.amount, COUNT(l.id) AS entries FROM transfers t"
                    " LEFT JOIN ledger_entries l ON l.transfer_id = t.id WHERE t.id IN :ids GROUP BY t.id")
                    .bindparams(bindparam("ids", expanding=True)), {"ids": ids[start:start + 500]})
                booked.update({r.id: r for r in rows})
            for transfer_id, seen in confirmed.items():
                row = booked.get(transfer_id)
                if row is None or row.status != "booked" or row.entries != 2:
                    problems.append(f"transfer {transfer_id} was confirmed to a client but is "
                                    f"{'missing' if row is None else f'{row.status} with {row.entries} ledger rows'}")
                elif f"{row.amount:.2f}" != seen["amount"]:
                    problems.append(f"transfer {transfer_id}: booked {row.amount}, the client sent {seen['amount']}")
    finally:
        db.dispose()
    return {
        "ok": not problems,
        "invariant_violations": len(violations),
        "keys_used": len(journal),
        "transfers_created_seen": sum(1 for s in journal.values() if s["ids"]),
        "transfers_confirmed_seen": len(confirmed),
        "doubled_keys": len(doubled),
        "orphan_transfers": len(orphans),
        "booked_total": totals["bookedTransfers"],
        "problems": problems[:50],
        "problem_count": len(problems),
    }
