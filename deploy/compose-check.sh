#!/usr/bin/env bash
# Validate docker-compose.yml (syntax, schema, interpolation, anchors) without a Docker engine; CI runs this.
#
# Non-obvious choices:
# - `docker-compose config -q` only parses and validates; it needs no running Docker daemon.
# - If no compose is installed, Debian's docker-compose (v1.29, Compose Specification schema) is installed with
#   --no-install-recommends: its recommends would otherwise pull in docker.io, containerd, runc and iptables.
# - A Docker Compose v2 plugin (`docker compose`) is used instead when that is what the machine has.
# - AUTH_ISSUER is not required: the file has a default for it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_FILE="$REPO_ROOT/docker-compose.yml"

log() { printf 'compose-check.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$COMPOSE_FILE" ]] || die "$COMPOSE_FILE not found"

if command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    [[ "$(id -u)" -eq 0 ]] || die "docker-compose is missing and installing it needs root (apt-get install docker-compose)"
    log "docker-compose not found; installing Debian's docker-compose package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends docker-compose >&2 || die "apt-get install docker-compose failed"
    compose=(docker-compose)
fi

log "validating $COMPOSE_FILE with: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo 'version unknown'))"
# --project-directory so relative paths (build context, secrets, init script) resolve from the repo root.
if ! "${compose[@]}" --project-directory "$REPO_ROOT" -f "$COMPOSE_FILE" config -q; then
    die "docker-compose.yml is not valid"
fi
log "docker-compose.yml is valid"
