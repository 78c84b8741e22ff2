"""PiggyBank's user journeys for Locust: sign in, overview, activity pages, statistics, transfers
confirmed with the mTAN from the demo phone, and an open WebSocket for notifications.

    make load                      # headless, CSV + HTML in load/results/, thresholds -> exit code
    make load UI=1                 # Locust's web UI on http://127.0.0.1:8089
    .venv/bin/locust -f load/locustfile.py --headless -u 20 -r 4 -t 1m

The target is the native stack of PIGGY_RUN_DIR / PIGGY_PORT_OFFSET (default: `make up`'s), or
LOAD_HOST. Failure is defined in business terms (catch_response): a wrong body is a failure even
with 200, and a transfer refused for insufficient funds or the monthly limit is a business outcome,
not a failure. Like a real client, every request is retried on 502/503/504 or a broken connection
(and a sign-in on 429), with the same Idempotency-Key for a transfer. A retried attempt is reported
as its own row of type RETRY and is not counted as a failure; the final attempt is reported with the
time the user waited for it, retries and back-off included.

Settings (environment): LOAD_CUSTOMERS generated customers (40), LOAD_ISOLATED=1 to leave the seed
customers and Interspar alone, LOAD_WEBSOCKET (1), LOAD_WAIT_MIN/MAX seconds between tasks
(0.5/2), LOAD_MAX_FAIL_RATIO (0.01), LOAD_MAX_P95_MS (300), LOAD_MAX_P99_MS (800), LOAD_LEDGER_CHECK
(1: audit the books at the end when the database is reachable), LOAD_RESULTS (load/results),
LOAD_SEED (2017) for the random choices.
A broken threshold makes Locust exit with code 3.
"""

import itertools
import json
import logging
import os
import random
import ssl
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import gevent
import websocket  # websocket-client: blocking sockets, cooperative under Locust's gevent patching
from locust import FastHttpUser, between, events, task
from locust.runners import WorkerRunner
from locust.stats import StatsEntry

from app.schema.seed import EXTERNAL_ACCOUNTS, USERS
from stack.settings import Stack

log = logging.getLogger("piggybank.load")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


STACK = Stack.from_env()
HOST = _env("LOAD_HOST", f"https://127.0.0.1:{STACK.ports['https']}").rstrip("/")
GENERATED = int(_env("LOAD_CUSTOMERS", "40"))
ISOLATED = _env("LOAD_ISOLATED", "0") == "1"
WEBSOCKET = _env("LOAD_WEBSOCKET", "1") == "1"
WAIT_MIN, WAIT_MAX = float(_env("LOAD_WAIT_MIN", "0.5")), float(_env("LOAD_WAIT_MAX", "2.0"))
MAX_FAIL_RATIO = float(_env("LOAD_MAX_FAIL_RATIO", "0.01"))
MAX_P95_MS = float(_env("LOAD_MAX_P95_MS", "300"))
MAX_P99_MS = float(_env("LOAD_MAX_P99_MS", "800"))
# Locust picks tasks and waits with `random`; the journeys' amounts, recipients and back-off too.
# Seeded, the choices repeat run after run (their interleaving under load still varies).
SEED = int(_env("LOAD_SEED", "2017"))
random.seed(SEED)
LEDGER_CHECK = _env("LOAD_LEDGER_CHECK", "1") == "1"
RESULTS = Path(_env("LOAD_RESULTS", str(Path(__file__).resolve().parent / "results")))

RETRYABLE = {0, 502, 503, 504}       # 0: no HTTP answer at all (refused, reset, timed out)
RETRY_BUDGET_S = 20.0                # a client gives up after this long (back-off: 0.2 s doubling to 2 s)
TOKEN_MAX_AGE_S = 600                # tokens live 900 s; sign in again well before
BUSINESS_REFUSALS = {"insufficient_funds", "monthly_limit_exceeded"}
NOT_IN_LATENCY_GATE = {"POST /auth"}  # bcrypt by design (~250 ms for a seed customer)

# What the clients saw, for the ledger check and the reports (shared by every simulated user).
JOURNAL: dict[str, dict] = {}        # Idempotency-Key -> {"email", "ids", "confirmed", "amount"}
OUTCOMES: Counter = Counter()        # business outcomes and client-side events
RETRIES: list[tuple[float, str, int]] = []  # (time, request name, status that was retried)
CUSTOMERS: list = []                 # load.customers.Customer, filled at init
RUN_STARTED = datetime.now(UTC).replace(tzinfo=None)
_lock = threading.Lock()


class Answer:
    """The final answer to one logical request, after the client's retries."""

    def __init__(self, status: int, body, ok: bool, outcome: str | None = None):
        self.status, self.body, self.ok, self.outcome = status, body, ok, outcome


def _json(response):
    try:
        return json.loads(response.text or "null")
    except (ValueError, TypeError):
        return None


def _error_code(body) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _retry_after(response, attempt: int) -> float:
    try:
        header = float(response.headers.get("Retry-After") or 0)
    except (TypeError, ValueError, AttributeError):
        header = 0.0
    return min(max(header, 0.2 * 2 ** (attempt - 1)), 2.0) * random.uniform(0.8, 1.2)


class Customer(FastHttpUser):
    """One person using the bank; subclasses say who."""

    abstract = True
    host = HOST
    wait_time = between(WAIT_MIN, WAIT_MAX)
    network_timeout = 20.0      # above nginx's worst case (read timeout 5 s, then the other server)
    connection_timeout = 5.0
    insecure = True             # the stack's self-signed certificate

    email = password = iban = ""
    token = None
    token_at = 0.0
    socket_greenlet = None

    def credentials(self):
        raise NotImplementedError

    def recipients(self) -> list[tuple[str, str]]:
        """(IBAN, name) of the accounts this customer sends money to."""
        raise NotImplementedError

    # --- one logical request with a real client's retries ------------------------------------------

    def call(self, method: str, path: str, name: str, *, expect=(200,), check=None, refusals=(),
             headers=None, json_body=None, auth=True) -> Answer:
        """Send until there is an answer that isn't 'try again'; judge it in business terms.

        check(body) returns None when the body is right, else the reason it is wrong. A 4xx whose
        error code is in `refusals` is a business outcome (counted, and a success for Locust)."""
        started = time.perf_counter()
        all_headers = dict(headers or {})
        if auth and self.token:
            all_headers["Authorization"] = f"JWT {self.token}"
        attempt = 0
        while True:
            attempt += 1
            wait = None
            with self.client.request(method, path, name=name, headers=all_headers, json=json_body,
                                     catch_response=True) as response:
                status = response.status_code or 0
                body = _json(response)
                retryable = status in RETRYABLE or (status == 429 and path == "/auth")
                if retryable and time.perf_counter() - started < RETRY_BUDGET_S:
                    # Reported on its own row, not as a failure: the client handles it by retrying.
                    reason = f"{status} {_error_code(body) or ''}".strip() if status else "no answer"
                    response.request_meta["request_type"] = "RETRY"
                    response.request_meta["name"] = f"{name} [{reason}]"
                    response.success()
                    with _lock:
                        RETRIES.append((time.time(), name, status))
                        OUTCOMES["client retries"] += 1
                    wait = _retry_after(response, attempt)
                else:
                    response.request_meta["response_time"] = (time.perf_counter() - started) * 1000
                    code = _error_code(body)
                    if status in expect:
                        problem = check(body) if check else None
                        if problem:
                            response.failure(f"{status}: {problem}")
                            return Answer(status, body, False)
                        response.success()
                        return Answer(status, body, True)
                    if code in refusals:
                        response.success()
                        with _lock:
                            OUTCOMES[f"refused: {code}"] += 1
                        return Answer(status, body, True, outcome=code)
                    reason = f"{status} {code or ''}".strip() if status else f"no answer: {response.error}"
                    response.failure(reason)
                    return Answer(status, body, False)
            gevent.sleep(wait)

    # --- journeys ------------------------------------------------------------------------------

    def on_start(self):
        self.email, self.password, self.iban = self.credentials()
        self.sign_in()
        if WEBSOCKET:
            self.socket_greenlet = gevent.spawn(self.notifications_socket)

    def on_stop(self):
        if self.socket_greenlet is not None:
            self.socket_greenlet.kill(block=False)

    def sign_in(self) -> bool:
        self.token = None
        answer = self.call("POST", "/auth", "POST /auth", auth=False,
                           json_body={"username": self.email, "password": self.password},
                           check=lambda b: None if isinstance(b, dict) and b.get("access_token") else "no token")
        if answer.ok:
            self.token, self.token_at = answer.body["access_token"], time.monotonic()
        return answer.ok

    def signed_in(self) -> bool:
        if self.token and time.monotonic() - self.token_at < TOKEN_MAX_AGE_S:
            return True
        return self.sign_in()

    @task(10)
    def overview(self):
        if not self.signed_in():
            return
        self.call("GET", "/api/user", "GET /api/user",
                  check=lambda b: None if isinstance(b, dict) and b.get("iban") == self.iban else "not my profile")
        self.call("GET", "/api/account", "GET /api/account",
                  check=lambda b: None if isinstance(b, dict) and "balance" in b else "no balance")
        self.call("GET", "/api/notifications", "GET /api/notifications",
                  check=lambda b: None if isinstance(b, dict) and "unread" in b else "no notifications")

    @task(6)
    def activity(self):
        if not self.signed_in():
            return
        path = "/api/account/activity?limit=20"
        for _ in range(random.randint(1, 3)):
            answer = self.call("GET", path, "GET /api/account/activity",
                               check=lambda b: None if isinstance(b, dict) and "items" in b else "no items")
            cursor = answer.body.get("nextCursor") if answer.ok else None
            if not cursor:
                break
            path = f"/api/account/activity?limit=20&cursor={cursor}"

    @task(4)
    def statistics(self):
        if not self.signed_in():
            return
        interval = random.choice(["monthly", "monthly", "daily", "yearly"])
        self.call("GET", f"/api/stats?interval={interval}", "GET /api/stats",
                  check=lambda b: None if isinstance(b, dict) and b.get("interval") == interval else "wrong series")

    @task(4)
    def transfer(self):
        if not self.signed_in():
            return
        iban, name = random.choice(self.recipients())
        reference = uuid.uuid4().hex[:8]
        recipient_name = f"{name} {reference}"  # makes this transfer's SMS unmistakable
        amount = self.amount()
        key = str(uuid.uuid4())
        with _lock:
            JOURNAL[key] = {"email": self.email, "ids": set(), "confirmed": None, "amount": amount}
        created = self.call("POST", "/api/transfers", "POST /api/transfers", expect=(201,),
                            refusals=BUSINESS_REFUSALS, headers={"Idempotency-Key": key},
                            json_body={"recipientIban": iban, "recipientName": recipient_name, "amount": amount,
                                       "comment": f"load {reference}"},
                            check=lambda b: None if isinstance(b, dict) and b.get("status") == "pending"
                            and b.get("amount") == amount else "not a pending transfer of the amount")
        if isinstance(created.body, dict) and "id" in created.body:
            with _lock:
                JOURNAL[key]["ids"].add(created.body["id"])
        if not created.ok or created.outcome:
            return
        transfer_id = created.body["id"]
        tan = None

        def find_tan(body):
            nonlocal tan
            wanted = f"of {amount} EUR to {recipient_name} ("
            for message in (body or {}).get("messages", []):
                if wanted in message.get("body", ""):
                    tan = message["body"].split("mTAN ", 1)[1][:6]
                    return None
            return "the mTAN SMS is not in the outbox"

        if not self.call("GET", "/api/demo/sms", "GET /api/demo/sms", check=find_tan).ok:
            return
        confirmed = self.call("POST", f"/api/transfers/{transfer_id}/confirm", "POST /api/transfers/[id]/confirm",
                              refusals=BUSINESS_REFUSALS, json_body={"tan": tan},
                              check=lambda b: None if isinstance(b, dict) and b.get("status") == "booked"
                              and b.get("id") == transfer_id else "not booked")
        if confirmed.ok and not confirmed.outcome:
            with _lock:
                JOURNAL[key]["confirmed"] = transfer_id
                OUTCOMES["transfers booked"] += 1

    @task(1)
    def sign_in_again(self):
        self.sign_in()

    def amount(self) -> str:
        return f"{random.randint(1, 999) / 100:.2f}"

    # --- notifications over a WebSocket ------------------------------------------------------------

    def notifications_socket(self):
        """Hold a WebSocket open like the browser app; reconnect (resuming from the last id) when the
        app server behind it goes away. Each successful (re)connect is a "WS /api/ws" request."""
        url = HOST.replace("https://", "wss://", 1) + "/api/ws"
        last_id, failures_in_a_row, failing_since = 0, 0, None
        while True:
            while not self.token:
                gevent.sleep(0.5)
            started, start_time = time.perf_counter(), time.time()
            ws = None
            try:
                ws = websocket.create_connection(url, timeout=10, sslopt={"cert_reqs": ssl.CERT_NONE,
                                                                          "check_hostname": False})
                ws.send(json.dumps({"type": "auth", "token": self.token, "lastId": last_id}))
                welcome = json.loads(ws.recv())
                if welcome.get("type") != "welcome":
                    raise ValueError(f"no welcome: {welcome}")
            except (websocket.WebSocketException, OSError, ValueError) as error:
                if ws is not None:
                    ws.close()
                failures_in_a_row += 1
                failing_since = failing_since or started
                final = time.perf_counter() - failing_since >= RETRY_BUDGET_S
                self._fire_ws("WS" if final else "RETRY", "/api/ws" if final else "/api/ws [no welcome]",
                              started, start_time, error if final else None)
                if final:
                    failures_in_a_row, failing_since = 0, None
                gevent.sleep(min(0.2 * 2 ** failures_in_a_row, 2.0))
                continue
            failures_in_a_row, failing_since = 0, None
            self._fire_ws("WS", "/api/ws", started, start_time, None)
            with _lock:
                OUTCOMES["websocket connects"] += 1
            ws.settimeout(45)  # the app server pings every 20 s
            try:
                while True:
                    message = json.loads(ws.recv() or "{}")
                    if "id" in message:
                        last_id = max(last_id, int(message["id"]))
                        with _lock:
                            OUTCOMES["notifications pushed"] += 1
            except (websocket.WebSocketException, OSError, ValueError):
                with _lock:
                    OUTCOMES["websocket reconnects"] += 1
            finally:
                ws.close()
            gevent.sleep(random.uniform(0.1, 0.5))

    def _fire_ws(self, kind, name, started, start_time, error):
        self.environment.events.request.fire(
            request_type=kind, name=name, response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=error, context={}, start_time=start_time, url=name, response=None)


_generated = itertools.count()
_seeded = itertools.count()


class GeneratedCustomer(Customer):
    """A generated customer with plenty of money; sends to other generated customers (and, unless
    isolated, to the seed customers and Interspar)."""

    weight = 3

    def credentials(self):
        if not CUSTOMERS:  # no database access to create them: be a seed customer instead
            first, last, email, password, _phone, _balance, _limit, iban = USERS[next(_seeded) % len(USERS)]
            return email, password, iban
        me = CUSTOMERS[next(_generated) % len(CUSTOMERS)]
        return me.email, me.password, me.iban

    def recipients(self):
        others = [(c.iban, c.name) for c in CUSTOMERS]
        if not ISOLATED:
            others += [(u[7], f"{u[0]} {u[1]}") for u in USERS] + [(iban, name) for name, iban in EXTERNAL_ACCOUNTS]
        return [(iban, name) for iban, name in others if iban != self.iban]

    def amount(self) -> str:
        return f"{random.randint(1, 2000) / 100:.2f}"


if not ISOLATED:
    class SeedCustomer(Customer):
        """Max, Gabi and Erika of the seed data: small amounts; their limits and balances are modest,
        so some transfers are refused (a business outcome)."""

        weight = 1

        def credentials(self):
            first, last, email, password, _phone, _balance, _limit, iban = USERS[next(_seeded) % len(USERS)]
            return email, password, iban

        def recipients(self):
            return [(u[7], f"{u[0]} {u[1]}") for u in USERS if u[7] != self.iban] + \
                   [(iban, name) for name, iban in EXTERNAL_ACCOUNTS]


# --- set-up and the pass/fail gate ------------------------------------------------------------------

def prepare_customers() -> None:
    """Create (or refresh) the generated customers; without database access, seed customers only."""
    global CUSTOMERS
    if GENERATED <= 0 or CUSTOMERS:
        return
    from load import customers

    try:
        CUSTOMERS = customers.ensure(STACK, GENERATED)
    except Exception as error:  # noqa: BLE001 - e.g. LOAD_HOST elsewhere: run with seed customers only
        if ISOLATED:
            raise
        log.warning("no generated customers (%s); the seed customers only", error)


@events.init.add_listener
def _on_init(environment, **_kwargs):
    prepare_customers()


def user_facing(stats) -> tuple[StatsEntry, StatsEntry]:
    """(every final answer, the ones in the latency gate): RETRY rows are left out of both,
    sign-ins out of the latency figures."""
    every = StatsEntry(stats, "Total", None, use_response_times_cache=False)
    timed = StatsEntry(stats, "Timed", None, use_response_times_cache=False)
    for (name, method), entry in stats.entries.items():
        if method == "RETRY":
            continue
        every.extend(entry)
        if name not in NOT_IN_LATENCY_GATE:
            timed.extend(entry)
    return every, timed


def evaluate(stats, ledger: dict | None = None) -> dict:
    every, timed = user_facing(stats)
    p95, p99 = timed.get_response_time_percentile(0.95), timed.get_response_time_percentile(0.99)
    fail_ratio = every.num_failures / every.num_requests if every.num_requests else 1.0
    problems = []
    if every.num_requests == 0:
        problems.append("no requests were answered")
    if fail_ratio > MAX_FAIL_RATIO:
        problems.append(f"fail ratio {fail_ratio:.4f} > {MAX_FAIL_RATIO}")
    if p95 > MAX_P95_MS:
        problems.append(f"p95 {p95:.0f} ms > {MAX_P95_MS:g} ms")
    if p99 > MAX_P99_MS:
        problems.append(f"p99 {p99:.0f} ms > {MAX_P99_MS:g} ms")
    if ledger is not None and not ledger["ok"]:
        problems.append(f"ledger: {ledger['problem_count']} problems, first: {ledger['problems'][:3]}")
    return {"requests": every.num_requests, "failures": every.num_failures, "fail_ratio": round(fail_ratio, 5),
            "p50_ms": timed.get_response_time_percentile(0.5), "p95_ms": p95, "p99_ms": p99,
            "client_retries": OUTCOMES["client retries"], "outcomes": dict(OUTCOMES),
            "thresholds": {"max_fail_ratio": MAX_FAIL_RATIO, "max_p95_ms": MAX_P95_MS, "max_p99_ms": MAX_P99_MS},
            "ledger": ledger, "problems": problems, "passed": not problems}


def ledger_report() -> dict | None:
    if not LEDGER_CHECK or not JOURNAL:
        return None
    from load import ledger

    try:
        return ledger.check(STACK, JOURNAL, since=RUN_STARTED)
    except Exception as error:  # noqa: BLE001 - no database access from here: say so, don't fail
        log.warning("ledger check skipped: %s", error)
        return None


@events.quitting.add_listener
def _gate(environment, **_kwargs):
    """Thresholds -> Locust's exit code (3 when one is broken, else 0)."""
    if isinstance(environment.runner, WorkerRunner):
        return
    verdict = evaluate(environment.stats, ledger_report())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load-summary.json").write_text(json.dumps(verdict, indent=2, default=str))
    print(f"\nOutcomes: {json.dumps(dict(OUTCOMES), sort_keys=True)}")
    if verdict["ledger"] is not None:
        ledger = verdict["ledger"]
        print(f"Ledger: {'OK' if ledger['ok'] else 'BROKEN'} ({ledger['transfers_confirmed_seen']} confirmed "
              f"transfers checked, {ledger['invariant_violations']} invariant violations)")
    if verdict["passed"]:
        print(f"THRESHOLDS OK: fail_ratio={verdict['fail_ratio']:.4f} p95={verdict['p95_ms']:.0f}ms "
              f"p99={verdict['p99_ms']:.0f}ms requests={verdict['requests']} retries={verdict['client_retries']}")
        environment.process_exit_code = 0
    else:
        print("THRESHOLD FAILED: " + "; ".join(verdict["problems"]))
        environment.process_exit_code = 3
