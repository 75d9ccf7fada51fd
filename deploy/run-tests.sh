#!/usr/bin/env bash
# `make test`: static checks, then the whole suite against a real Apache Kafka broker (started here, on a
# free port, in a throw-away folder) and the machine's PostgreSQL (installed and started if needed).
# Whatever this script starts, it stops again, also when a test fails or the run is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
started=$(date +%s)
kafka_dir=$(mktemp -d -t asielketen-test-kafka-XXXXXX)
mkdir -p test-artifacts

cleanup() {
    deploy/kafka/kafka.sh stop "$kafka_dir" >/dev/null 2>&1 || true
    deploy/postgres/postgres.sh stop $$ >/dev/null 2>&1 || true
    rm -rf "$kafka_dir"
}
trap cleanup EXIT

echo "== static checks (ruff, mypy, import contracts)"
$VENV/bin/ruff check .
$VENV/bin/mypy
$VENV/bin/lint-imports

echo "== docker-compose.yml parses"
deploy/compose-check.sh

echo "== Kubernetes manifests validate against the Kubernetes schemas"
deploy/k8s-check.sh

echo "== Chromium (Debian's) for the dashboard's browser test"
deploy/chromium/chromium.sh ensure

echo "== PostgreSQL and Kafka"
deploy/postgres/postgres.sh ensure $$
port=$($VENV/bin/python -c 'from tests.infrastructure import free_port; print(free_port())')
deploy/kafka/kafka.sh start "$kafka_dir" "$port"
export ASIELKETEN_TEST_KAFKA="127.0.0.1:$port"
export ASIELKETEN_TEST_POSTGRES="postgresql+asyncpg://asielketen:asielketen@127.0.0.1:5432"

echo "== tests"
status=0
$VENV/bin/pytest -q -ra --junitxml=test-artifacts/junit.xml "$@" || status=$?
echo "make test took $(( $(date +%s) - started ))s"
exit $status
