#!/usr/bin/env bash
# Manage the local Debian PostgreSQL server used by the integration tests and by a local production-like run.
#
#   postgres.sh ensure [PID]           install if missing, create/start the cluster, create the login role;
#                                      with PID, register that process as a user of the cluster
#   postgres.sh createdb NAME [NAME..] create each database (owner asielketen) if missing
#   postgres.sh dropdb NAME [NAME..]   drop each database if it exists, WITH (FORCE)
#   postgres.sh stop [PID]             stop the cluster, but only if this script started it and no other
#                                      registered process still uses it
#   postgres.sh restart                stop (fast: connections are cut) and start the running cluster again,
#                                      data kept: the chaos runner's PostgreSQL fault (chaos/)
#
# Non-obvious choices:
# - Debian's postgresql-common tooling (pg_lsclusters, pg_createcluster, pg_ctlcluster) is used instead of raw
#   pg_ctl, so the cluster is the normal system one (/var/lib/postgresql/<ver>/main, port 5432) and works
#   without systemd (containers, CI).
# - Superuser work runs as the postgres OS user over the Unix socket (peer auth), hence `runuser` (needs root);
#   applications connect as `asielketen` over TCP 127.0.0.1 with a password (Debian's default pg_hba.conf
#   has scram-sha-256 for host connections). `ensure` checks that this login really works.
# - `stop` only stops a cluster this script started (marker file ${XDG_RUNTIME_DIR:-/tmp}/asielketen-pg-started),
#   so a developer's already running PostgreSQL is never taken down by a test run.
# - The role's password is (re)set on every `ensure`, so a role left over with another password is repaired.
# - Database names are restricted to [a-z0-9_] (starting with a letter or _), so they can be quoted safely.
set -euo pipefail

PG_PORT=5432
PG_HOST=127.0.0.1
PG_CLUSTER=main
APP_ROLE=asielketen
APP_PASSWORD=asielketen
MARKER="${XDG_RUNTIME_DIR:-/tmp}/asielketen-pg-started"
# Test runs that use the cluster register here (one file per process id), so that one run's `stop`
# never pulls the database from under another run on the same machine.
HOLDERS="${XDG_RUNTIME_DIR:-/tmp}/asielketen-pg-holders"
READY_TIMEOUT=30

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<EOF
usage: $0 ensure [HOLDER_PID]
       $0 createdb NAME [NAME...]
       $0 dropdb NAME [NAME...]
       $0 stop [HOLDER_PID]
       $0 restart
EOF
    exit 2
}

need_root() {
    [[ "$(id -u)" -eq 0 ]] || die "must run as root (it installs packages and runs psql as the postgres OS user)"
}

# Highest installed major version with server binaries, e.g. "15"; empty if none.
installed_version() {
    local d best=""
    for d in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$d" ]] || continue
        d="${d#/usr/lib/postgresql/}"
        d="${d%%/*}"
        if [[ -z "$best" || "$d" -gt "$best" ]]; then best="$d"; fi
    done
    echo "$best"
}

install_if_missing() {
    if command -v pg_ctlcluster >/dev/null 2>&1 && [[ -n "$(installed_version)" ]]; then
        return 0
    fi
    log "PostgreSQL server not installed; installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q postgresql >&2 || die "apt-get install postgresql failed"
    [[ -n "$(installed_version)" ]] || die "postgresql installed but no server binaries found under /usr/lib/postgresql"
}

# Status column of `pg_lsclusters` for VERSION main ("online", "down", ...); empty if the cluster does not exist.
cluster_status() { pg_lsclusters -h | awk -v v="$1" -v c="$PG_CLUSTER" '$1 == v && $2 == c { print $4 }'; }
cluster_port() { pg_lsclusters -h | awk -v v="$1" -v c="$PG_CLUSTER" '$1 == v && $2 == c { print $3 }'; }

# psql as the postgres superuser over the Unix socket. cd / because postgres cannot read root's cwd;
# client_min_messages=warning hides NOTICEs such as "database ... does not exist, skipping".
su_psql() {
    (cd / && runuser -u postgres -- env PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@")
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT))
    until pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; do
        if (( SECONDS >= deadline )); then
            pg_isready -h "$PG_HOST" -p "$PG_PORT" >&2 || true
            die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${READY_TIMEOUT} s (see /var/log/postgresql/)"
        fi
        sleep 0.5
    done
}

check_name() {
    [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (use lowercase letters, digits and _)"
}

hold() {
    [[ -n "${1:-}" ]] || return 0
    [[ "$1" =~ ^[0-9]+$ ]] || die "holder must be a process id, got '$1'"
    mkdir -p "$HOLDERS"
    : >"$HOLDERS/$1"
}

other_live_holders() {
    local file pid
    [[ -d "$HOLDERS" ]] || return 1
    for file in "$HOLDERS"/*; do
        [[ -e "$file" ]] || continue
        pid="$(basename "$file")"
        if kill -0 "$pid" 2>/dev/null; then return 0; fi
        rm -f "$file"  # a holder that died without releasing
    done
    return 1
}

cmd_ensure() {
    need_root
    hold "${1:-}"
    install_if_missing
    local ver status port
    ver="$(installed_version)"
    status="$(cluster_status "$ver")"
    if [[ -z "$status" ]]; then
        log "creating cluster $ver/$PG_CLUSTER on port $PG_PORT"
        pg_createcluster --port "$PG_PORT" "$ver" "$PG_CLUSTER" >&2 || die "pg_createcluster $ver $PG_CLUSTER failed"
        status="$(cluster_status "$ver")"
    fi
    port="$(cluster_port "$ver")"
    [[ "$port" == "$PG_PORT" ]] || die "cluster $ver/$PG_CLUSTER is configured for port $port, expected $PG_PORT"
    if [[ "$status" == online* ]]; then
        log "cluster $ver/$PG_CLUSTER already running on port $PG_PORT"
    else
        log "starting cluster $ver/$PG_CLUSTER"
        pg_ctlcluster "$ver" "$PG_CLUSTER" start >&2 || die "pg_ctlcluster $ver $PG_CLUSTER start failed (see /var/log/postgresql/postgresql-$ver-$PG_CLUSTER.log)"
        printf '%s %s\n' "$ver" "$PG_CLUSTER" >"$MARKER"
    fi
    wait_ready

    # CREATE ROLE has no IF NOT EXISTS; the DO block makes it idempotent. The password is always (re)set.
    su_psql <<SQL || die "creating role $APP_ROLE failed"
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
        CREATE ROLE $APP_ROLE LOGIN CREATEDB;
    END IF;
END
\$\$;
ALTER ROLE $APP_ROLE WITH LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
SQL

    if ! PGPASSWORD="$APP_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$APP_ROLE" -d postgres \
        -tAc 'select 1' >/dev/null; then
        die "password login as $APP_ROLE over TCP $PG_HOST:$PG_PORT fails; check /etc/postgresql/$ver/$PG_CLUSTER/pg_hba.conf has 'host all all 127.0.0.1/32 scram-sha-256' (or md5)"
    fi
    log "ready: postgresql://$APP_ROLE:***@$PG_HOST:$PG_PORT (PostgreSQL $ver)"
}

cmd_createdb() {
    [[ $# -ge 1 ]] || usage
    local name
    for name in "$@"; do check_name "$name"; done
    cmd_ensure
    for name in "$@"; do
        if [[ "$(su_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" == "1" ]]; then
            log "database $name already exists"
        else
            su_psql -c "CREATE DATABASE \"$name\" OWNER $APP_ROLE" || die "creating database $name failed"
            log "created database $name (owner $APP_ROLE)"
        fi
    done
}

cmd_dropdb() {
    [[ $# -ge 1 ]] || usage
    local name
    for name in "$@"; do check_name "$name"; done
    cmd_ensure
    for name in "$@"; do
        # FORCE terminates leftover connections (e.g. from a crashed test run) instead of failing.
        su_psql -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" || die "dropping database $name failed"
        log "dropped database $name (if it existed)"
    done
}

cmd_stop() {
    need_root
    [[ -z "${1:-}" ]] || rm -f "$HOLDERS/$1"
    if other_live_holders; then
        log "another run still uses PostgreSQL; leaving it running"
        return 0
    fi
    if [[ ! -f "$MARKER" ]]; then
        log "PostgreSQL was not started by this script; leaving it as it is"
        return 0
    fi
    local ver cluster
    read -r ver cluster <"$MARKER" || true
    if [[ -n "${ver:-}" && "$(cluster_status "$ver")" == online* ]]; then
        log "stopping cluster $ver/$cluster"
        pg_ctlcluster "$ver" "$cluster" stop >&2 || die "pg_ctlcluster $ver $cluster stop failed"
    else
        log "cluster ${ver:-?}/${cluster:-?} is not running"
    fi
    rm -f "$MARKER"
}

cmd_restart() {
    need_root
    local ver
    ver="$(installed_version)"
    [[ -n "$ver" && "$(cluster_status "$ver")" == online* ]] || die "no running cluster to restart"
    log "restarting cluster $ver/$PG_CLUSTER (fast: open connections are cut)"
    pg_ctlcluster "$ver" "$PG_CLUSTER" restart -m fast >&2 || die "pg_ctlcluster $ver $PG_CLUSTER restart failed"
    wait_ready
}

[[ $# -ge 1 ]] || usage
sub="$1"
shift
case "$sub" in
    ensure) [[ $# -le 1 ]] || usage; cmd_ensure "$@" ;;
    createdb) cmd_createdb "$@" ;;
    dropdb) cmd_dropdb "$@" ;;
    stop) [[ $# -le 1 ]] || usage; cmd_stop "$@" ;;
    restart) [[ $# -eq 0 ]] || usage; cmd_restart ;;
    -h|--help|help) usage ;;
    *) log "unknown subcommand '$sub'"; usage ;;
esac
