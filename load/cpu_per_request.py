"""The app's own CPU time per request, in-process: `GET /api/user` and a whole transfer (create,
the demo phone, confirm) through Flask's test client on the running stack's database (`make up`).
No proxies, no other processes, no wrk: what one commit's code costs against another's, measured by
running this at each (`git stash`, `git checkout`) on a quiet machine. The test client adds its own
work (~0.3 ms per request, the minimal Flask app's floor in this harness), the same for every commit.

    .venv/bin/python -m load.cpu_per_request [--rounds 5] [--requests 2000] [--transfers 200]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  (after gevent's patching, as in the app servers)
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from app import create_app  # noqa: E402
from load import customers  # noqa: E402
from stack.settings import Stack  # noqa: E402

# Customers of their own, far from those the benchmark's and the drills' journeys use.
SENDER, RECIPIENT = 90, 91


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000, help="GET /api/user per round")
    parser.add_argument("--transfers", type=int, default=200, help="transfers per round")
    args = parser.parse_args()
    stack = Stack.from_env()
    client = create_app(customers.app_config(stack)).test_client()
    made = customers.ensure(stack, RECIPIENT)
    sender, recipient = made[SENDER - 1], made[RECIPIENT - 1]
    signed_in = client.post("/auth", json={"username": sender.email, "password": sender.password})
    auth = {"Authorization": f"JWT {signed_in.get_json()['access_token']}"}

    def read() -> None:
        assert client.get("/api/user", headers=auth).status_code == 200

    def transfer() -> None:
        created = client.post("/api/transfers", headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
                              json={"recipientIban": recipient.iban, "recipientName": recipient.name, "amount": "0.01"})
        assert created.status_code == 201, created.get_json()
        sms = client.get("/api/demo/sms", headers=auth).get_json()["messages"][0]["body"]
        confirmed = client.post(f"/api/transfers/{created.get_json()['id']}/confirm", headers=auth,
                                json={"tan": sms.split("mTAN ")[1][:6]})
        assert confirmed.get_json().get("status") == "booked", confirmed.get_json()

    work = {"GET /api/user": (read, args.requests), "transfer": (transfer, args.transfers)}
    for step, count in work.values():  # warm: pools, caches, the tag list
        for _ in range(max(count // 10, 20)):
            step()
    per_call: dict[str, list[float]] = {name: [] for name in work}
    for round_ in range(args.rounds):
        for name, (step, count) in work.items():
            started = time.process_time()
            for _ in range(count):
                step()
            per_call[name].append((time.process_time() - started) / count * 1e6)
        latest = ", ".join(f"{name} {values[-1]:,.0f} us" for name, values in per_call.items())
        print(f"  round {round_ + 1}: {latest}", flush=True)
    print(f"app CPU (median of {args.rounds} rounds, min-max): " + "; ".join(
        f"{name} {statistics.median(v):,.0f} us ({min(v):,.0f}-{max(v):,.0f})" for name, v in per_call.items()))


if __name__ == "__main__":
    main()
