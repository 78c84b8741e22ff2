# PiggyBank. `make up` runs the stack; `make test` installs what is missing and passes the tests.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: install install-test up down status test test-unit test-system lint drill bench failover load

install:            ## Debian packages, .venv, front-end build: only what is missing
	python3 -m stack.install

install-test:
	python3 -m stack.install --for-tests

up: install         ## start everything under Monit and wait until healthy
	$(PY) -m stack up

down:               ## stop everything, by pid file, and wait until the ports are free
	$(PY) -m stack down

status:             ## Monit's summary and each app server's health
	$(PY) -m stack status

drill:              ## kill -9 appserver1 three times and time Monit's restarts (SERVICE=mariadb ...)
	$(PY) -m stack drill $(or $(SERVICE),appserver1) --times 3

lint:
	$(PY) -m ruff check .

test: install-test  ## unit tests, then the system tests against their own stack
	$(PY) -m ruff check .
	$(PY) -m pytest tests

# --- containers (docker-compose.yml) ---
.PHONY: compose-env test-compose

compose-env:        ## write .env (the containers' secrets) for `docker compose up --build`; keeps existing ones
	python3 -m stack compose-env

test-compose:       ## check docker-compose.yml, the Dockerfiles and the container configs (no engine needed)
	$(PY) -m pytest tests/compose -q
