"""The original PiggyBank's seed data (three customers, Interspar, six tags, 34 historical transfers).

IBANs keep the original bank code and account numbers with corrected mod-97 check digits.
"""

from decimal import Decimal

from sqlalchemy import text

BIC = "BANKATW1"

# (first, last, email, password, phone, opening balance, monthly limit, iban)
USERS = [
    ("Max", "Mustermann", "maxmustermann@gmail.com", "maxmustermann", "+43 660 1000001",
     "2437.23", "1000.00", "AT961000100000000001"),
    ("Gabi", "Musterfrau", "gabimusterfrau@gmail.com", "gabimusterfrau", "+43 660 1000002",
     "503.45", "3000.00", "AT691000100000000002"),
    ("Erika", "Test", "erikatest@gmail.com", "erikatest", "+43 660 1000003",
     "23.53", "2000.00", "AT421000100000000003"),
]
EXTERNAL_ACCOUNTS = [("Interspar", "AT151000100000000004")]

TAGS = [
    ("Leisure", "cyan lighten-3", "fa fa-coffee"),
    ("Insurance", "pink lighten-3", "fa fa-umbrella"),
    ("Accommodation", "green lighten-3", "fa fa-home"),
    ("Subscriptions", "gray", "fa fa-pencil"),
    ("Shopping", "amber lighten-3", "fa fa-shopping-bag"),
    ("Utility", "pink accent-3", "fa fa-wrench"),
]

_MAX, _GABI, _ERIKA, _SPAR = (
    "AT961000100000000001", "AT691000100000000002", "AT421000100000000003", "AT151000100000000004")

# (booked at, from, to, amount, reference, recipient name as typed, tags): original-app.md, section 4.
TRANSFERS = [
    ("2017-03-22 23:05:00", _MAX, _GABI, "1003.45", "Ueberweisung 1", "Gabi Musterfrau", ["Leisure", "Subscriptions"]),
    ("2017-03-22 13:05:00", _GABI, _ERIKA, "13.30", "Ueberweisung 2", "Erika", ["Insurance", "Accommodation"]),
    ("2017-03-22 15:47:00", _GABI, _MAX, "9003.20", "Ueberweisung 3", "Mustermann Max", ["Leisure"]),
    ("2017-03-22 12:12:00", _MAX, _ERIKA, "904.40", "Ueberweisung 4", "Erika Test", ["Insurance"]),
    ("2017-03-22 08:55:00", _ERIKA, _MAX, "5343.22", "Ueberweisung 5", "Max", ["Accommodation"]),
    ("2017-03-22 11:32:00", _ERIKA, _GABI, "690.30", "Ueberweisung 6", "Gabi", ["Subscriptions"]),
    ("2017-04-03 09:15:00", _MAX, _GABI, "14.10", "Ueberweisung 7", " Musterfrau", ["Leisure"]),
    ("2017-03-28 19:22:00", _MAX, _ERIKA, "105.45", "Ueberweisung 8", "E. Test", []),
    ("2017-02-28 19:22:00", _GABI, _SPAR, "105.45", "Ueberweisung 9", "Interspar Wien Mitte", ["Shopping"]),
    ("2017-01-28 19:22:00", _MAX, _SPAR, "10.45", "Ueberweisung 10", "Interspar Meilding", ["Shopping"]),
    ("2017-02-28 19:22:00", _GABI, _SPAR, "23.54", "Ueberweisung 11", "Interspar", ["Shopping"]),
    ("2017-03-11 19:22:00", _ERIKA, _SPAR, "69.33", "Ueberweisung 12", "Interspar Pronto", ["Shopping"]),
    ("2017-03-16 19:22:00", _MAX, _SPAR, "5.32", "Ueberweisung 13", "Interspar", ["Shopping"]),
    ("2017-03-03 19:22:00", _GABI, _SPAR, "89.99", "Ueberweisung 14", "Interspar Karlsplatz", ["Shopping"]),
    ("2017-03-22 19:22:00", _ERIKA, _SPAR, "44.20", "Ueberweisung 15", "Interspar Hauptbahnhof", ["Shopping"]),
    ("2017-01-05 19:22:00", _MAX, _SPAR, "33.24", "Ueberweisung 16", "Interspar Pronto", ["Shopping"]),
    ("2017-02-14 19:22:00", _GABI, _SPAR, "37.27", "Ueberweisung 17", "Interspar Pronto", ["Shopping"]),
    ("2017-04-17 19:22:00", _ERIKA, _SPAR, "107.34", "Ueberweisung 18", "Interspar Gourmet", ["Shopping"]),
    ("2017-03-17 19:22:00", _MAX, _SPAR, "22.99", "Ueberweisung 19", "Interspar Gourmet", []),
    ("2017-02-22 12:12:00", _MAX, _ERIKA, "904.40", "Ueberweisung 4", "Erika Test", []),
    ("2017-03-22 12:12:00", _MAX, _ERIKA, "94.40", "Ueberweisung 4", "Erika Test", []),
    ("2017-04-02 12:12:00", _MAX, _ERIKA, "9.20", "Ueberweisung 4", "Erika Test", []),
    ("2017-01-22 12:12:00", _MAX, _ERIKA, "1002.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-12-22 12:12:00", _MAX, _ERIKA, "504.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-10-12 12:12:00", _MAX, _ERIKA, "94.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-11-22 12:12:00", _MAX, _ERIKA, "90.40", "Ueberweisung 4", "Erika Test", []),
    ("2017-03-13 12:12:00", _MAX, _ERIKA, "24.40", "Ueberweisung 4", "Erika Test", []),
    ("2017-03-08 12:12:00", _MAX, _ERIKA, "404.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-09-22 12:12:00", _MAX, _ERIKA, "14.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-09-02 12:12:00", _MAX, _ERIKA, "847.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-11-15 12:12:00", _MAX, _ERIKA, "104.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-12-23 12:12:00", _MAX, _ERIKA, "25.40", "Ueberweisung 4", "Erika Test", []),
    ("2016-12-24 12:12:00", _MAX, _ERIKA, "98.40", "Ueberweisung 4", "Erika Test", []),
    ("2017-01-22 12:12:00", _MAX, _ERIKA, "16.40", "Ueberweisung 4", "Erika Test", []),
]


def seed(conn, hash_password) -> None:
    """Insert the seed data into an empty schema, inside the caller's transaction."""
    for first, last, email, password, phone, balance, limit, iban in USERS:
        user_id = conn.execute(
            text("INSERT INTO users (first_name, last_name, email, password_hash, phone, monthly_limit) "
                 "VALUES (:first, :last, :email, :hash, :phone, :limit) RETURNING id"),
            {"first": first, "last": last, "email": email, "hash": hash_password(password),
             "phone": phone, "limit": Decimal(limit)},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO accounts (iban, bic, holder_name, user_id, opening_balance, balance) "
                 "VALUES (:iban, :bic, :holder, :user_id, :balance, :balance)"),
            {"iban": iban, "bic": BIC, "holder": f"{first} {last}", "user_id": user_id,
             "balance": Decimal(balance)},
        )
    for holder, iban in EXTERNAL_ACCOUNTS:
        conn.execute(
            text("INSERT INTO accounts (iban, bic, holder_name) VALUES (:iban, :bic, :holder)"),
            {"iban": iban, "bic": BIC, "holder": holder},
        )
    for title, color, icon in TAGS:
        conn.execute(text("INSERT INTO tags (title, color, icon) VALUES (:t, :c, :i)"),
                     {"t": title, "c": color, "i": icon})
    for booked_at, sender, recipient, amount, comment, name, tags in TRANSFERS:
        transfer_id = conn.execute(
            text("INSERT INTO transfers (sender_account_id, recipient_account_id, recipient_name, amount,"
                 " comment, status, historical, created_at, booked_at) "
                 "SELECT s.id, r.id, :name, :amount, :comment, 'booked', 1, :at, :at "
                 "FROM accounts s, accounts r WHERE s.iban = :sender AND r.iban = :recipient RETURNING id"),
            {"name": name, "amount": Decimal(amount), "comment": comment, "at": booked_at,
             "sender": sender, "recipient": recipient},
        ).scalar_one()
        for tag in tags:
            conn.execute(
                text("INSERT INTO transfer_tags (transfer_id, tag_id) SELECT :tid, id FROM tags WHERE title = :t"),
                {"tid": transfer_id, "t": tag},
            )
