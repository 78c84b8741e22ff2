"""`make fuzz`: schemathesis explores the API of the running stack against its own OpenAPI document.

Every check schemathesis has, every phase (the document's examples, the coverage of each schema's
edges, random fuzzing, and the stateful phase that follows the document's links: create a
transfer, then read and confirm it), through nginx as a client sees it. A new seed each run,
printed first, so that a failure can be replayed with --seed. `make test` runs it too, briefly and
with a fixed seed (tests/system/test_api_fuzz.py); whatever a long run finds becomes a fixed case
there.

The fuzz signs in as two customers of its own, made for the run: its logouts end only its own
sessions, its limit changes and transfers touch nobody else's account, and the second customer lets
schemathesis check that neither can read the other's transfers (object_level_authorization).
Schemathesis signs in through POST /auth (the WFC auth file) and again after a logout.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import requests

from stack.settings import ROOT, Stack

RESULTS = ROOT / "load" / "results"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# 409, 410 and 422 are business rules (funds, limit, expiry, unknown recipient...): a schema-valid
# request may meet one. The operations that declare them may answer them to valid data; any other
# rejection of valid data is a difference between the document and the server.
BUSINESS_STATUSES = ("409", "410", "422")
# schemathesis's own default for positive_data_acceptance (schemathesis/config/_checks.py).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
DOMAIN = "fuzz.piggybank.test"
STATEFUL_LABEL = "Stateful tests"
MAX_RESPONSE_SECONDS = 5  # the label of the stateful phase's scenarios in the event stream


def document(base_url: str, ca_file: str) -> dict:
    response = requests.get(f"{base_url}/api/openapi.json", verify=ca_file, timeout=10)
    response.raise_for_status()
    return response.json()


def accepted_statuses(operation: dict) -> list[str]:
    return ACCEPTED + [s for s in BUSINESS_STATUSES if s in operation["responses"] and s not in ACCEPTED]


def config_toml(doc: dict, auth_file: Path, login_rate: str) -> str:
    """The schemathesis configuration: WFC auth with both customers as peers, each operation's
    business statuses, and a sign-in rate below nginx's limit (it is shared with the stack's users)."""
    lines = ['[auth.wfc]', f'path = "{auth_file}"', 'peers = ["first", "second"]', ""]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            lines += ["[[operations]]", f'include-operation-id = "{operation["operationId"]}"',
                      f"checks.positive_data_acceptance.expected-statuses = {json.dumps(accepted_statuses(operation))}"]
            if (method, path) == ("post", "/auth"):
                lines.append(f'rate-limit = "{login_rate}"')
            lines.append("")
    return "\n".join(lines)


def wfc_auth(customers: list[dict]) -> dict:
    """Web Fuzzing Commons auth: how schemathesis signs in as each customer."""
    return {"schemaVersion": "0.1", "auth": [{
        "name": name,
        "loginEndpointAuth": {
            "endpoint": "/auth", "verb": "POST", "contentType": "application/json",
            "payloadUserPwd": {"username": customer["email"], "usernameField": "username",
                               "password": customer["password"], "passwordField": "password"},
            "token": {"extractFrom": "body", "extractSelector": "/access_token", "sendIn": "header",
                      "sendName": "Authorization", "sendTemplate": "JWT {token}"}},
    } for name, customer in zip(("first", "second"), customers, strict=True)]}


def make_customers(stack: Stack, run_id: str) -> list[dict]:
    """Two new customers of this run (bcrypt cost 4: schemathesis signs in often)."""
    from app.bank import users
    from load.customers import engine

    db = engine(stack)
    made = []
    try:
        with db.connect() as conn:
            for label in ("a", "b"):
                email, password = f"fuzz-{run_id}-{label}@{DOMAIN}", secrets.token_urlsafe(18)
                users.create_customer(conn, "Fuzz", f"Customer {label.upper()}", email, password,
                                      balance=Decimal("1000.00"), monthly_limit=Decimal("5000.00"), rounds=4)
                made.append({"email": email, "password": password})
    finally:
        db.dispose()
    return made


def st_command(base_url: str, ca_file: str, config_file: Path, seed: int, args, report: Path) -> list[str]:
    command = [str(ROOT / ".venv" / "bin" / "st"), "--config-file", str(config_file), "run",
               f"{base_url}/api/openapi.json", "--url", base_url, "--checks", "all", "--phases", ",".join(args.phases),
               "--seed", str(seed), "--tls-verify", ca_file, "--workers", "1", "--no-color",
               # max_response_time is off unless given a limit: nginx gives up on an app server after 5 s
               "--max-response-time", str(MAX_RESPONSE_SECONDS),
               "--report", "ndjson", "--report-ndjson-path", str(report)]
    if args.max_examples:
        command += ["--max-examples", str(args.max_examples), "--generation-deterministic"]
    if args.max_time:
        command += ["--max-time", str(args.max_time)]
    return command


def summarise(report: Path) -> dict:
    """Operations, test cases, checks and failures, from schemathesis's event stream."""
    checks, failures, operations, cases, stateful = {}, set(), set(), 0, 0
    phase_started, phase_seconds = {}, {}
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for kind in ("PhaseStarted", "PhaseFinished"):
            if kind in event and event[kind]["phase"]["name"] in PHASES:
                name, at = event[kind]["phase"]["name"], event[kind]["timestamp"]
                if kind == "PhaseStarted":
                    phase_started[name] = at
                else:
                    # with a time budget, fuzzing and stateful run again and again: add the rounds up
                    phase_seconds[name] = round(phase_seconds.get(name, 0) + at - phase_started.get(name, at), 1)
        recorder = (event.get("ScenarioFinished") or {}).get("recorder") or {}
        if not recorder.get("cases"):
            continue
        if recorder["label"] == STATEFUL_LABEL:
            stateful += 1
        else:
            operations.add(recorder["label"])
        cases += len(recorder["cases"])
        for checked in recorder.get("checks", {}).values():
            for check in checked:
                checks[check["name"]] = checks.get(check["name"], 0) + 1
                if check["status"] == "failure":
                    failures.add((check["name"], recorder["label"]))
    return {"operations": sorted(operations), "stateful_scenarios": stateful, "cases": cases, "checks": checks,
            "phase_seconds": phase_seconds,
            "failures": sorted(f"{name} on {label}" for name, label in failures)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="replay a run (default: a new random seed, printed)")
    parser.add_argument("--max-time", type=int, default=300, help="seconds of exploration (0: until done)")
    parser.add_argument("--max-examples", type=int, help="cases per operation and phase, deterministic (make test)")
    parser.add_argument("--phases", type=lambda text: text.split(","), default=list(PHASES))
    parser.add_argument("--login-rate", default=os.environ.get("PIGGY_FUZZ_LOGIN_RATE", "4/s"),
                        help="schemathesis's own POST /auth rate (nginx allows 10/s per address by default)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--docs", action="store_true", help="also write the run's figures into docs/benchmarks.md")
    args = parser.parse_args()

    stack = Stack.from_env()
    base_url, ca_file = stack.url("").rstrip("/"), str(stack.tls / "cert.pem")
    seed = secrets.randbits(64) if args.seed is None else args.seed
    run_id = uuid.uuid4().hex[:8]
    print(f"make fuzz: seed {seed} (replay with --seed {seed}), against {base_url}, "
          f"phases {', '.join(args.phases)}, every check, "
          + (f"at most {args.max_time} s" if args.max_time else f"{args.max_examples} cases per operation"),
          flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / f"fuzz-{run_id}"
    work.mkdir()
    customers = make_customers(stack, run_id)
    print(f"  customers of this run: {', '.join(c['email'] for c in customers)}", flush=True)
    auth_file = work / "auth.json"
    auth_file.write_text(json.dumps(wfc_auth(customers), indent=2))
    auth_file.chmod(0o600)
    config_file = work / "schemathesis.toml"
    config_file.write_text(config_toml(document(base_url, ca_file), auth_file, args.login_rate))
    report = work / "events.ndjson"
    started, load_before = time.monotonic(), os.getloadavg()
    done = subprocess.run(st_command(base_url, ca_file, config_file, seed, args, report), cwd=work)
    duration = time.monotonic() - started
    summary = {"seed": seed, "duration_s": round(duration, 1), "phases": args.phases, "exit_code": done.returncode,
               "load_average": [round(x, 2) for x in load_before], **summarise(report)}
    (work / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nmake fuzz: seed {seed}, {duration:.0f} s, {len(summary['operations'])} operations, "
          f"{summary['cases']} test cases, {sum(summary['checks'].values())} checks "
          f"({len(summary['checks'])} kinds), {len(summary['failures'])} failures; exit {done.returncode}; "
          f"details in {work}")
    if args.docs:
        from load.docs import update_fuzz

        update_fuzz(summary)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
