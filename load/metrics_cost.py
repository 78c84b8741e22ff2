"""What the request metrics cost, in-process: `GET /api/user` through Flask's test client on the
running stack's database (`make up`), one app with metrics on and one with them off, in interleaved
rounds, in the app's own CPU time per request. `make bench` measures the same between separate
app servers under wrk, where this shared machine's noise (±10 % between rounds) is larger than the
cost itself; here both apps share one process, one connection pool and one warm cache.

    .venv/bin/python -m load.metrics_cost [--requests 3000] [--rounds 7]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  (after gevent's patching, as in the app servers)
import statistics  # noqa: E402
import time  # noqa: E402

from app import create_app  # noqa: E402
from load import customers  # noqa: E402
from stack.settings import Stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round and app")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    config = customers.app_config(Stack.from_env())
    clients = {on: create_app({**config, "METRICS_ENABLED": on}).test_client() for on in (True, False)}
    signed_in = clients[False].post("/auth", json={"username": "maxmustermann@gmail.com", "password": "maxmustermann"})
    headers = {"Authorization": f"JWT {signed_in.get_json()['access_token']}"}
    per_request: dict[bool, list[float]] = {True: [], False: []}
    for client in clients.values():  # warm: pools, caches
        for _ in range(300):
            assert client.get("/api/user", headers=headers).status_code == 200
    for round_ in range(args.rounds):
        for on in ((True, False) if round_ % 2 == 0 else (False, True)):  # neither always goes first
            started = time.process_time()
            for _ in range(args.requests):
                clients[on].get("/api/user", headers=headers)
            per_request[on].append((time.process_time() - started) / args.requests * 1e6)
        print(f"  round {round_ + 1}: metrics on {per_request[True][-1]:.0f} us, off {per_request[False][-1]:.0f} us",
              flush=True)
    on, off = statistics.median(per_request[True]), statistics.median(per_request[False])
    print(f"GET /api/user, app CPU per request (median of {args.rounds} rounds): metrics on {on:.0f} us, "
          f"off {off:.0f} us; the metrics cost {on - off:.0f} us = {(on - off) / on * 100:.1f} %")


if __name__ == "__main__":
    main()
