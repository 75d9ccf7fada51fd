# asielketen — the two commands a new user needs:
#   make run    Kafka and the five services on this machine, until Ctrl-C
#   make test   everything CI runs: static checks, then the whole suite on real Kafka and PostgreSQL
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: help venv run test lint format clean bench bench-append bench-import bench-http bench-rebuild vendor-charts chaos

help:
	@echo "make run    start Kafka and the five services (SQLite under ./data), Ctrl-C stops all"
	@echo "make test   static checks + all tests on real Kafka and PostgreSQL (installs what it needs)"
	@echo "make lint   ruff, mypy and the import contracts only"
	@echo "make bench          the benchmark suite: bench-append, bench-import, bench-http, bench-rebuild with 1,000,000 events, then the targets table"
	@echo "make bench-append [APPEND_EVENTS=3000]  event-store append vs raw INSERT and eventsourcing"
	@echo "make bench-import [IMPORT_EVENTS=100000]  asielketen import vs raw COPY of the same rows"
	@echo "make bench-http     intake over HTTP (2 workers), lag to the read side, outbox relay, memory"
	@echo "make bench-rebuild [EVENTS=1000000] [LIVE_EVENTS=100000]  a read-side rebuild from offset 0, a live one, queries"
	@echo "make chaos [FAULTS=55 SEED=8]  fault injection under load on PostgreSQL and Kafka, writes CHAOS.md"
	@echo "make vendor-charts  re-fetch the dashboard's Chart.js at its pinned version (npm)"

# The virtualenv is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@deploy/kafka/kafka.sh fetch
	$(VENV)/bin/asielketen run

test: $(STAMP)
	@deploy/run-tests.sh

# Not part of `make test`: benchmarks, measured and written to BENCHMARKS.md, never asserted.
bench: $(STAMP)
	$(MAKE) bench-append
	$(MAKE) bench-import
	$(MAKE) bench-http
	$(MAKE) bench-rebuild EVENTS=1000000
	$(VENV)/bin/python -m bench.targets

APPEND_EVENTS ?= 3000
bench-append: $(STAMP)
	$(VENV)/bin/python -m bench.append --events $(APPEND_EVENTS)

IMPORT_EVENTS ?= 100000
bench-import: $(STAMP)
	$(VENV)/bin/python -m bench.import_ --events $(IMPORT_EVENTS)

bench-http: $(STAMP)
	@deploy/kafka/kafka.sh fetch
	$(VENV)/bin/python -m bench.http

EVENTS ?= 100000
LIVE_EVENTS ?= 100000
bench-rebuild: $(STAMP)
	@deploy/kafka/kafka.sh fetch
	$(VENV)/bin/python -m bench.rebuild --events $(EVENTS) --live-events $(LIVE_EVENTS)

# The dashboard ships Chart.js (committed, with its licence); this fetches the pinned version again.
vendor-charts:
	@deploy/vendor/fetch-chartjs.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) test-artifacts .mypy_cache .ruff_cache

# Not part of `make test` (a short version is): the fault-injection suite on PostgreSQL and real Kafka,
# CHAOS.md rewritten with the figures of the run; exits non-zero on any broken invariant.
FAULTS ?= 55
SEED ?= 8
chaos: $(STAMP)
	@deploy/kafka/kafka.sh fetch
	$(VENV)/bin/python -m chaos --faults $(FAULTS) --seed $(SEED) --brokers 3 --report CHAOS.md
