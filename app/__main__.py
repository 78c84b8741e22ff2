"""`python -m app` serves one app server; `python -m app migrate|create-user|audit` are its tools.

The server is gevent's WSGIServer on app/server.py's socket and handler.
"""

from gevent import monkey

monkey.patch_all()  # before anything else imports socket, ssl or threading

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from decimal import Decimal  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from app import create_app, db  # noqa: E402
from app import log as app_log  # noqa: E402
from app.server import OneWriteHandler, listening_socket  # noqa: E402

log = logging.getLogger("piggybank")


def tidy_forever(app, interval: float = 60.0) -> None:
    """Housekeeping now and then (app.bank.housekeeping); a failure waits for the next round."""
    from app.api.auth import utcnow
    from app.bank import housekeeping

    with app.app_context():
        while True:
            gevent.sleep(interval)
            try:
                done = db.run(lambda conn: housekeeping.tidy(conn, utcnow()))
                if any(done.values()):
                    log.info("housekeeping", extra=done)
            except Exception:  # noqa: BLE001 - the database may be restarting; try again next round
                log.warning("housekeeping failed; retrying later", exc_info=True)


def serve() -> None:
    from app.api.health import sample_cpu_forever
    from app.live import hub

    instance = os.environ.get("PIGGY_INSTANCE", "appserver1")
    app_log.configure(instance)
    app = create_app()
    host, port = os.environ.get("PIGGY_BIND", "127.0.0.1"), int(os.environ.get("PIGGY_PORT", "8001"))
    server = WSGIServer(listening_socket(host, port), app, log=None, handler_class=OneWriteHandler)
    gevent.spawn(sample_cpu_forever)
    gevent.spawn(hub.poll_forever, app)
    gevent.spawn(tidy_forever, app)
    if app.config["DEMO_MODE"]:
        log.warning("demo mode is on: mTAN SMS are kept in an outbox shown at GET /api/demo/sms")

    def stop():
        log.info("stopping: finishing requests in flight")
        hub.stopping = True
        server.stop(timeout=5)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    log.info("serving", extra={"address": f"{host}:{port}"})
    # What starting made (modules, the app, its routes and schemas: ~85,000 objects) lives as long as
    # the process: left out of the cyclic collector's scans, which cost ~8 µs a request instead of ~3.
    gc.freeze()
    server.serve_forever()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve one app server (the default)")
    commands.add_parser("migrate", help="apply the schema migrations and the seed, once")
    new_user = commands.add_parser("create-user", help="add a customer with an account")
    for name in ("first", "last", "email", "password"):
        new_user.add_argument(f"--{name}", required=True)
    new_user.add_argument("--balance", default="0.00")
    new_user.add_argument("--limit", default="1000.00")
    new_user.add_argument("--rounds", type=int, default=12)
    commands.add_parser("audit", help="check the ledger's invariants; exit 1 if any is broken")
    args = parser.parse_args(argv)

    if args.command in (None, "serve"):
        serve()
        return 0
    app_log.configure("cli")
    app = create_app()
    with app.app_context():
        if args.command == "migrate":
            from app.bank.passwords import hash_password
            from app.schema import migrate

            applied = migrate(db.get_engine(), lambda pw: hash_password(pw, app.config["BCRYPT_ROUNDS"]))
            print(json.dumps({"applied": applied}))
        elif args.command == "create-user":
            from app.bank import users

            made = db.run(lambda conn: users.create_customer(
                conn, args.first, args.last, args.email, args.password, balance=Decimal(args.balance),
                monthly_limit=Decimal(args.limit), rounds=args.rounds))
            print(json.dumps(made))
        elif args.command == "audit":
            from app.bank import audit

            problems, totals = db.run(lambda conn: (audit.violations(conn), audit.totals(conn)))
            print(json.dumps({"violations": problems, **totals}))
            return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
