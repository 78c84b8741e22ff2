"""Account, activity, statistics and tags: the seed data as the original had it, paging, filters."""

import pytest
from sqlalchemy import text

from tests.api_client import SEED_IBANS

# original-app.md section 4, "Expected monthly stats" (outgoing, seed history only)
EXPECTED_MONTHLY = {
    "max": {"2016-09": "861.80", "2016-10": "94.40", "2016-11": "194.80", "2016-12": "628.20",
            "2017-01": "1062.49", "2017-02": "904.40", "2017-03": "2564.81", "2017-04": "23.30"},
    "gabi": {"2017-02": "166.26", "2017-03": "9106.49"},
    "erika": {"2017-03": "6147.05", "2017-04": "107.34"},
}


def history(series: list[dict]) -> dict[str, str]:
    """Only the seeded years: other tests book transfers today."""
    return {p["period"]: p["amount"] for p in series if p["period"] < "2018"}


@pytest.mark.parametrize("who", sorted(EXPECTED_MONTHLY))
def test_seed_statistics_come_out_exactly(api, who):
    token = api.login_seed(who)
    body = api.get("/api/stats?interval=monthly", token).json()
    assert body["interval"] == "monthly" and body["direction"] == "out"
    assert history(body["series"]) == EXPECTED_MONTHLY[who]


def test_yearly_daily_and_incoming_statistics(api):
    token = api.login_seed("max")
    yearly = history(api.get("/api/stats?interval=yearly", token).json()["series"])
    assert yearly == {"2016": "1779.20", "2017": "4555.00"}
    daily = history(api.get("/api/stats?interval=daily&from=2017-03-22&to=2017-03-22", token).json()["series"])
    assert daily == {"2017-03-22": "2002.25"}
    incoming = history(api.get("/api/stats?interval=monthly&direction=in", token).json()["series"])
    assert incoming == {"2017-03": "14346.42"}
    shopping = history(api.get("/api/stats?interval=yearly&tag=Shopping", token).json()["series"])
    assert shopping == {"2017": "49.01"}


@pytest.mark.parametrize("query", ["interval=weekly", "direction=sideways", "from=2017-13-01", "from=yesterday",
                                   "interval=monthly&extra=1"])
def test_bad_statistics_queries_are_4xx(api, query):
    response = api.get(f"/api/stats?{query}", api.login_seed("max"))
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"]


def test_user_values_for_the_seed_users(api):
    expected = {
        "max": ("Max", "Mustermann", "maxmustermann@gmail.com", SEED_IBANS["max"], "1000.00"),
        "gabi": ("Gabi", "Musterfrau", "gabimusterfrau@gmail.com", SEED_IBANS["gabi"], "3000.00"),
        "erika": ("Erika", "Test", "erikatest@gmail.com", SEED_IBANS["erika"], "2000.00"),
    }
    for who, (first, last, email, iban, limit) in expected.items():
        user = api.get("/api/user", api.login_seed(who)).json()
        assert (user["firstName"], user["lastName"], user["email"], user["iban"], user["bic"], user["limit"]) == (
            first, last, email, iban, "BANKATW1", limit)
        for money in ("balance", "limit", "remaining"):
            assert isinstance(user[money], str) and user[money].count(".") == 1 and len(user[money].split(".")[1]) == 2


def test_activity_is_newest_first_and_pages_by_cursor(api):
    token = api.login_seed("max")
    seen, cursor = [], None
    while True:
        page = api.get("/api/account/activity", token, params={"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        body = page.json()
        seen += body["items"]
        cursor = body["nextCursor"]
        if not cursor:
            break
    historical = [i for i in seen if i["createdAt"] < "2018"]
    assert len(historical) == 25  # Max sent 23 and received 2 of the 34 seeded transfers
    assert [i["createdAt"] for i in seen] == sorted((i["createdAt"] for i in seen), reverse=True)
    assert len({i["id"] for i in seen}) == len(seen)
    first = next(i for i in historical if i["comment"] == "Ueberweisung 1")
    assert first == {"id": 1, "direction": "out", "amount": "1003.45", "counterpartyName": "Gabi Musterfrau",
                     "counterpartyIban": SEED_IBANS["gabi"], "comment": "Ueberweisung 1",
                     "tags": [{"title": "Leisure", "color": "cyan lighten-3", "icon": "fa fa-coffee"},
                              {"title": "Subscriptions", "color": "gray", "icon": "fa fa-pencil"}],
                     "createdAt": "2017-03-22T23:05:00Z"}


def test_activity_filters(api):
    token = api.login_seed("erika")
    incoming = api.get("/api/account/activity?direction=in&limit=100", token).json()["items"]
    assert incoming and {i["direction"] for i in incoming} == {"in"}
    shopping = api.get("/api/account/activity?tag=Shopping&limit=100", token).json()["items"]
    assert {i["comment"] for i in shopping} == {"Ueberweisung 12", "Ueberweisung 15", "Ueberweisung 18"}
    march = api.get("/api/account/activity?from=2017-03-11&to=2017-03-11", token).json()["items"]
    assert [i["comment"] for i in march] == ["Ueberweisung 12"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "direction=both", "cursor=garbage",
                                   "from=2017-02-30"])
def test_bad_activity_queries_are_4xx(api, query):
    response = api.get(f"/api/account/activity?{query}", api.login_seed("erika"))
    assert response.status_code in (400, 422), response.text


def test_tags_are_the_original_six(api):
    tags = api.get("/api/tags", api.login_seed("gabi")).json()["tags"]
    assert [t["title"] for t in tags] == ["Leisure", "Insurance", "Accommodation", "Subscriptions", "Shopping",
                                          "Utility"]


@pytest.mark.parametrize("path", ["/api/user", "/api/account", "/api/account/activity", "/api/tags", "/api/stats",
                                  "/api/notifications", "/api/demo/sms", "/api/transfers/1"])
def test_every_protected_route_asks_for_a_token(api, path):
    response = api.get(path)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_openapi_document_describes_the_api(api):
    document = api.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in ("/auth", "/api/user", "/api/transfers", "/api/transfers/{transfer_id}/confirm", "/api/stats",
                 "/api/account/activity", "/api/notifications", "/api/healthcheck"):
        assert path in document["paths"], path
    create = document["paths"]["/api/transfers"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])


def index_reads(conn) -> int:
    """Rows this connection has read through indexes so far (MariaDB's session counters)."""
    rows = conn.execute(text("SHOW SESSION STATUS WHERE Variable_name IN"
                             " ('Handler_read_first', 'Handler_read_key', 'Handler_read_next', 'Handler_read_prev',"
                             " 'Handler_read_last')")).all()
    return sum(int(value) for _name, value in rows)


def test_a_page_of_activity_reads_a_page_of_rows_however_long_the_history(api, new_customer, db_engine):
    from app.bank.accounts import ActivityFilter, activity

    busy, other = new_customer(balance="10000.00", first="Busy"), new_customer(balance="10000.00", first="Other")
    tokens = {c["iban"]: api.login(c["email"], c["password"]) for c in (busy, other)}
    for i in range(40):  # 80 transfers, each way in turn
        for sender, recipient in ((busy, other), (other, busy)):
            api.send_money(tokens[sender["iban"]], recipient["iban"], f"{i + 1}.00", comment=f"history {i}")
    seen = []
    with db_engine.connect() as conn:
        cursor = None
        for _page in range(3):
            before = index_reads(conn)
            page = activity(conn, busy["accountId"], ActivityFilter(limit=5, cursor=cursor))
            read = index_reads(conn) - before
            # Both sides' next 6 rows, their accounts, their tags: a few dozen. Reading the history
            # (80 transfers, and every account for the join) took hundreds.
            assert read <= 60, f"a page of 5 read {read} rows"
            seen += page["items"]
            cursor = page["nextCursor"]
    assert [i["comment"] for i in seen] == [f"history {n}" for n in range(39, 31, -1) for _ in (0, 1)][:15]
    assert [i["direction"] for i in seen] == ["in", "out"] * 7 + ["in"]
