"""Database round trips per request, counted by MariaDB itself.

MariaDB counts every statement a client sends (`Questions`, which includes COMMIT and ROLLBACK)
and, apart from it, every ping (COM_PING counts in `Com_admin_commands`). A round trip is one of
either. The counters are global, so what the rest of the stack does meanwhile (the exporter's
scrapes, the healthchecks, each app server's notification poller and housekeeping) is measured
over idle windows just before and after and subtracted, and so is the cost of reading the counters.

Used by `make bench` (load/bench.py) and by tests/system/test_round_trips.py.
"""

import time
from collections.abc import Callable

from stack.database import root_sql
from stack.settings import Stack

COUNTERS = ("Questions", "Com_admin_commands", "Com_select", "Com_insert", "Com_update", "Com_commit",
            "Com_rollback", "Connections")


def counters(stack: Stack, names: tuple[str, ...] = COUNTERS) -> dict[str, int]:
    """MariaDB's global status counters `names`, now."""
    out = root_sql(stack, "SHOW GLOBAL STATUS WHERE Variable_name IN ("
                   + ", ".join(f"'{name}'" for name in names) + ")")
    return {name: int(value) for name, value in (line.split("\t") for line in out.strip().splitlines())}


def _delta(before: dict, after: dict) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before}


def _window(stack: Stack, work: Callable[[], None]) -> tuple[dict[str, int], float]:
    before = counters(stack)
    started = time.monotonic()
    work()
    elapsed = time.monotonic() - started
    return _delta(before, counters(stack)), elapsed


def net_counts(stack: Stack, request: Callable[[int], None], n: int, idle_seconds: float = 1.5) -> dict:
    """Run `request(i)` for i in range(n), one after another; the counters' growth meanwhile, net
    of the counters' own reading and of the background, measured in an idle window just before and
    one just after. The lower of the two rates counts: the background comes in bursts (each scrape
    of the exporter), and a burst in an idle window would otherwise be subtracted from the requests."""
    reading, _ = _window(stack, lambda: None)                     # the counters' own statements
    before, before_for = _window(stack, lambda: time.sleep(idle_seconds))
    busy, busy_for = _window(stack, lambda: [request(i) for i in range(n)])
    after, after_for = _window(stack, lambda: time.sleep(idle_seconds))
    rate = {name: max(min(before[name] - reading[name], after[name] - reading[name]), 0) / min(before_for, after_for)
            for name in busy}
    net = {name: busy[name] - reading[name] - rate[name] * busy_for for name in busy}
    net["requests"] = n
    net["background"] = rate["Questions"] + rate["Com_admin_commands"]
    return net


def summary(nets: list[dict]) -> dict:
    """Per request, over one or more `net_counts`: round trips (statements + pings) and each counter."""
    n = sum(net["requests"] for net in nets)
    total = {name: sum(net[name] for net in nets) for name in COUNTERS}
    return {"round_trips": round((total["Questions"] + total["Com_admin_commands"]) / n, 2),
            "statements": round(total["Questions"] / n, 2), "pings": round(total["Com_admin_commands"] / n, 2),
            **{name.lower(): round(value / n, 2) for name, value in total.items()
               if name not in ("Questions", "Com_admin_commands")},
            "requests": n, "background_per_s": round(sum(net["background"] for net in nets) / len(nets), 1)}


def per_request(stack: Stack, request: Callable[[int], None], n: int) -> dict:
    return summary([net_counts(stack, request, n)])


def transfer_flow(stack: Stack, base_url: str, token: str, recipient_iban: str, rounds: int = 2,
                  batch: int = 20) -> dict:
    """Round trips of each step of the transfer flow: create, read the mTAN on the demo phone,
    confirm, over `rounds` batches of `batch` transfers (the phone shows the newest 20 messages),
    sent to `base_url` (nginx, or one app server)."""
    import re
    import uuid

    import requests

    session = requests.Session()
    session.verify = False
    session.trust_env = False  # REQUESTS_CA_BUNDLE in this environment would override verify=False
    session.headers["Authorization"] = f"JWT {token}"
    nets: dict[str, list[dict]] = {"create": [], "demo phone": [], "confirm": []}
    run = uuid.uuid4().hex[:8]
    for r in range(rounds):
        created: list[int] = []
        tans: dict[int, str] = {}

        def create(i, r=r, created=created):
            answer = session.post(f"{base_url}/api/transfers", headers={"Idempotency-Key": f"rt-{run}-{r}-{i}"},
                                  timeout=15, json={"recipientIban": recipient_iban, "recipientName": "Round trips",
                                                    "amount": "0.01"})
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["id"])

        def phone(_i, tans=tans):
            answer = session.get(f"{base_url}/api/demo/sms", timeout=15)
            assert answer.status_code == 200, answer.text
            for message in answer.json()["messages"]:
                found = re.search(r"mTAN (\d{6}) for your transfer #(\d+) ", message["body"])
                if found:
                    tans.setdefault(int(found.group(2)), found.group(1))

        def confirm(i, created=created, tans=tans):
            answer = session.post(f"{base_url}/api/transfers/{created[i]}/confirm", json={"tan": tans[created[i]]},
                                  timeout=15)
            assert answer.status_code == 200 and answer.json()["status"] == "booked", answer.text

        nets["create"].append(net_counts(stack, create, batch))
        nets["demo phone"].append(net_counts(stack, phone, batch))
        nets["confirm"].append(net_counts(stack, confirm, batch))
    return {step: summary(values) for step, values in nets.items()}
