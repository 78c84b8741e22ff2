# PiggyBank. `make up` runs the stack; `make test` installs what is missing and passes the tests.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: install install-test up down status restart test test-unit test-system lint drill bench bench-board failover load fuzz

install:            ## Debian packages, .venv, front-end build: only what is missing
	python3 -m stack.install

install-test:
	python3 -m stack.install --for-tests

up: install         ## start everything under Monit and wait until healthy
	$(PY) -m stack up

down:               ## stop everything, by pid file, and wait until the ports are free
	$(PY) -m stack down

status:             ## Monit's summary, HAProxy's rotation and each app server's health
	$(PY) -m stack status

restart:            ## restart the app servers one at a time, each drained in HAProxy first (after a code change)
	$(PY) -m stack restart

drill:              ## kill -9 appserver1 three times and time Monit's restarts (SERVICE=appserver2, haproxy, nginx, mariadb, db2 ...)
	$(PY) -m stack drill $(or $(SERVICE),appserver1) --times 3

lint:
	$(PY) -m ruff check .

test: install-test  ## lint, unit tests (Python, then the browser app's), everything against a real stack, then a Galera cluster's
	$(PY) -m ruff check .
	$(PY) -m pytest tests/unit
	cd frontend && npm test
	$(PY) -m pytest tests --ignore=tests/unit --ignore=tests/cluster
	$(PY) -m pytest tests/cluster

# --- containers (docker-compose.yml) ---
.PHONY: compose-env test-compose

compose-env:        ## optional: write .env with generated secrets to edit (the config service generates its own otherwise)
	python3 -m stack compose-env

test-compose:       ## check docker-compose.yml, the Dockerfiles and the container configs (no engine needed)
	$(PY) -m pytest tests/compose -q

# --- load, failover drill, benchmark (load/); results in load/results/ (git-ignored) ---
LOAD_USERS ?= 20
LOAD_RATE ?= 4
LOAD_TIME ?= 1m

load:               ## Locust journeys against the running stack: headless, CSV + HTML; UI=1 serves the web UI on :8089
	@mkdir -p load/results
ifeq ($(UI),1)
	.venv/bin/locust -f load/locustfile.py --web-host 127.0.0.1 --web-port 8089 -u $(LOAD_USERS) -r $(LOAD_RATE)
else
	.venv/bin/locust -f load/locustfile.py --headless -u $(LOAD_USERS) -r $(LOAD_RATE) -t $(LOAD_TIME) \
		--csv load/results/load --html load/results/load.html --only-summary
endif

failover:           ## kill -9 / SIGSTOP app servers and the database (its writer on a cluster), bad input, all under load; -> docs/benchmarks.md
	$(PY) -m load.failover --docs

bench-board:        ## the board: overview drawn with 6 h of data, Prometheus CPU per refresh, JS size; -> docs/benchmarks.md
	$(PY) -m load.board_bench --docs

FUZZ_TIME ?= 300

fuzz:               ## schemathesis against the running stack: every check and phase, FUZZ_TIME s, a new seed (SEED=n replays); DOCS=1 -> docs/benchmarks.md
	$(PY) -m load.fuzz --max-time $(FUZZ_TIME) $(if $(SEED),--seed $(SEED)) $(if $(DOCS),--docs)

bench:              ## wrk: the stack vs a minimal Flask app and a bare WSGI callable, metrics on/off; -> docs/benchmarks.md
	@command -v wrk >/dev/null || python3 -m stack.install --for-tests
	$(PY) -m load.bench --docs
