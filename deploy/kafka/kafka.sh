#!/usr/bin/env bash
# Manage a local single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1,
# run straight from the official jars on Maven Central: no Docker, no tarball download, only java + mvn.
#
#   kafka.sh fetch                 resolve the broker jars once into the user cache
#   kafka.sh start DATA_DIR PORT   configure, format (first time only) and start; wait until PORT accepts TCP
#   kafka.sh stop DATA_DIR         SIGTERM, wait up to 30 s, then SIGKILL
#   kafka.sh status DATA_DIR       "running" (exit 0) or "stopped" (exit 3)
#   kafka.sh cluster-start DATA_DIR PORT [NODES]  NODES (default 3) brokers in one cluster, replication factor 3
#                                  and min.insync.replicas 2 (the chaos run's cluster); node i on PORT+2(i-1)
#   kafka.sh cluster-stop DATA_DIR stop every node of that cluster
#
# Optional environment: KAFKA_HEAP_OPTS (default "-Xms256m -Xmx512m"), KAFKA_START_TIMEOUT (seconds, 60),
# KAFKA_ADVERTISED_PORT (default PORT): the port clients are told to connect to, e.g. a fault proxy's
# (chaos/proxy.py) in front of PORT, so that every client connection, not only the bootstrap, passes it.
#
# Non-obvious choices:
# - The jars live in ${XDG_CACHE_HOME:-$HOME/.cache}/asielketen/kafka-<version>/lib, outside the clone, so
#   every clone/worktree shares one copy. A marker file is written only after a complete copy, and copies go
#   to a temporary folder that is swapped in at the end, so an interrupted fetch is redone, never half used.
#   mvn resolves through ~/.m2, so re-resolving an already downloaded version is offline and quick.
# - The controller listens on PORT+1 with a static quorum (controller.quorum.voters). With a static quorum,
#   Kafka 4.1's StorageTool must format WITHOUT --standalone (that flag is only for dynamic quorums, set via
#   controller.quorum.bootstrap.servers). --ignore-formatted makes formatting safe to repeat.
# - Formatting happens only when DATA_DIR/logs/meta.properties is missing, so a restart keeps all data.
# - Topics keep events forever (retention -1): read models are rebuilt from offset 0.
# - Kafka 4 logs through log4j2; we write our own config so the broker logs to DATA_DIR/kafka.log.
# - The broker is started under setsid+nohup so it outlives this shell; a tiny bash wrapper writes its own
#   pid and then execs java, so the pid file holds the java pid even if setsid has to fork.
# - A pid is only trusted if /proc/<pid>/cmdline is a kafka.Kafka process for this DATA_DIR, so a stale pid
#   file (reboot, recycled pid) is never mistaken for a running broker and never gets a signal.
set -euo pipefail

KAFKA_VERSION="4.1.1"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/asielketen/kafka-$KAFKA_VERSION"
LIB_DIR="$CACHE_DIR/lib"
MARKER="$CACHE_DIR/.fetch-complete"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT=30
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<EOF
usage: $0 fetch
       $0 start DATA_DIR PORT
       $0 stop DATA_DIR
       $0 status DATA_DIR
       $0 cluster-start DATA_DIR PORT [NODES]
       $0 cluster-stop DATA_DIR
EOF
    exit 2
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

check_java() {
    need java "Kafka $KAFKA_VERSION needs a Java 17+ runtime, e.g. apt-get install -y openjdk-17-jre-headless"
    local ver
    ver="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    if [[ -n "$ver" && "$ver" -lt 17 ]]; then
        die "java $ver found; Kafka $KAFKA_VERSION needs Java 17 or newer"
    fi
}

cmd_fetch() {
    if [[ -f "$MARKER" && -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
        log "Kafka $KAFKA_VERSION jars already in $LIB_DIR"
        return 0
    fi
    need mvn "needed once to fetch the Kafka jars from Maven Central, e.g. apt-get install -y maven"
    mkdir -p "$CACHE_DIR"
    # Serialise concurrent fetches (parallel test runs) on one lock file.
    exec 9>"$CACHE_DIR/.fetch.lock"
    flock 9
    if [[ -f "$MARKER" && -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
        log "Kafka $KAFKA_VERSION jars already in $LIB_DIR"
        exec 9>&-
        return 0
    fi
    if [[ -d "$LIB_DIR" ]]; then
        log "$LIB_DIR exists without a completion marker; resolving again to be sure it is complete"
    fi
    log "resolving Kafka $KAFKA_VERSION jars with Maven into $LIB_DIR"
    local tmp="$CACHE_DIR/lib.partial"
    rm -rf "$tmp"
    # mvn output goes to a log that is shown only on failure (even -B -q prints stray colour codes).
    if ! mvn -B -q -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
        org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE_DIR/fetch.log" 2>&1; then
        cat "$CACHE_DIR/fetch.log" >&2
        rm -rf "$tmp"
        die "mvn could not resolve the Kafka jars (network or Maven Central problem?); see above"
    fi
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"; }
    rm -rf "$LIB_DIR"
    mv "$tmp" "$LIB_DIR"
    local njars
    njars="$(find "$LIB_DIR" -maxdepth 1 -name '*.jar' | wc -l)"
    printf 'kafka %s, %s jars, fetched %s\n' "$KAFKA_VERSION" "$njars" "$(date -u +%FT%TZ)" >"$MARKER"
    exec 9>&-
    log "fetched $njars jars into $LIB_DIR"
}

# Absolute path of DATA_DIR (created if needed), so the broker config does not depend on the cwd.
abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# Echo the pid from DATA_DIR/kafka.pid if it is a live kafka.Kafka process for that DATA_DIR.
live_pid() {
    local data_dir="$1" pidfile="$1/kafka.pid" pid cmdline
    [[ -f "$pidfile" ]] || return 1
    pid="$(tr -dc '0-9' <"$pidfile")"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmdline" == *kafka.Kafka* && "$cmdline" == *"$data_dir/server.properties"* ]] || return 1
    # A zombie counts as gone.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]] || return 1
    echo "$pid"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

show_logs() {
    local data_dir="$1" f
    for f in "$data_dir/kafka.out" "$data_dir/kafka.log"; do
        if [[ -s "$f" ]]; then
            log "---- last lines of $f ----"
            tail -n 40 "$f" >&2
        fi
    done
}

# write_config DATA_DIR PORT [NODE_ID VOTERS REPLICATION MIN_ISR ADVERTISED_PORT]
# (a single node: node 1, itself the only voter, replication 1, min ISR 1, advertised KAFKA_ADVERTISED_PORT or PORT)
write_config() {
    local data_dir="$1" port="$2" cport=$(($2 + 1))
    local node_id="${3:-1}" voters="${4:-1@127.0.0.1:$(($2 + 1))}" replication="${5:-1}" min_isr="${6:-1}"
    local advertised="${7:-${KAFKA_ADVERTISED_PORT:-$port}}"
    cat >"$data_dir/server.properties" <<EOF
# Written by deploy/kafka/kafka.sh; rewritten on every start, edits are lost.
process.roles=broker,controller
node.id=$node_id
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$advertised
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=$voters
log.dirs=$data_dir/logs
num.partitions=6
default.replication.factor=$replication
offsets.topic.replication.factor=$replication
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
# Keep events forever: every read model must be rebuildable from offset 0.
log.retention.ms=-1
log.retention.bytes=-1
# The default 128 MiB dedupe buffer is far too much for a dev broker capped at 512 MiB heap.
# Kafka requires strictly MORE than 1 MiB per cleaner thread, so exactly 1048576 is rejected.
log.cleaner.dedupe.buffer.size=2097152
group.initial.rebalance.delay.ms=0
# Topics are created explicitly by the Python side, with their intended partitions and settings.
auto.create.topics.enable=false
EOF
    cat >"$data_dir/log4j2.properties" <<EOF
# Written by deploy/kafka/kafka.sh: broker logs go to $data_dir/kafka.log at INFO.
name=asielketen-kafka
# Without this, log4j2's own shutdown hook races Kafka's and the last shutdown lines are lost.
shutdownHook=disable
appender.file.type=RollingFile
appender.file.name=FILE
appender.file.fileName=$data_dir/kafka.log
appender.file.filePattern=$data_dir/kafka.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=50MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=3
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=FILE
# Per-request logging is very noisy at INFO.
logger.request.name=kafka.request.logger
logger.request.level=WARN
EOF
}

# launch_node DATA_DIR PORT CLUSTER_ID [write_config's NODE_ID VOTERS REPLICATION MIN_ISR ADVERTISED_PORT]:
# configure, format (first time only, with CLUSTER_ID or a new one) and start one node in the background.
launch_node() {
    local data_dir="$1" port="$2" cluster_id="$3"
    shift 3
    local p
    for p in "$port" $((port + 1)); do
        if port_open "$p"; then
            die "127.0.0.1:$p is already in use by another process; pick another PORT (the broker needs PORT and PORT+1)"
        fi
    done
    write_config "$data_dir" "$port" "$@"
    local cp="$LIB_DIR/*" log4j="-Dlog4j2.configurationFile=$data_dir/log4j2.properties"
    mkdir -p "$data_dir/logs"
    if [[ ! -f "$data_dir/logs/meta.properties" ]]; then
        if [[ -z "$cluster_id" ]]; then
            cluster_id="$(java "$log4j" -cp "$cp" kafka.tools.StorageTool random-uuid | tail -n1)"
        fi
        [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid returned '$cluster_id'"
        log "formatting $data_dir/logs (cluster id $cluster_id)"
        java "$log4j" -cp "$cp" kafka.tools.StorageTool format \
            -t "$cluster_id" -c "$data_dir/server.properties" --ignore-formatted >&2 \
            || die "formatting the storage in $data_dir/logs failed"
    else
        log "storage in $data_dir/logs already formatted; keeping its data"
    fi

    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (controller $((port + 1))), data $data_dir"
    # shellcheck disable=SC2086,SC2016  # HEAP_OPTS is split into JVM flags; $$ is for the inner bash
    setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$data_dir/kafka.pid" \
        java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        "$log4j" -cp "$cp" kafka.Kafka "$data_dir/server.properties" \
        >"$data_dir/kafka.out" 2>&1 </dev/null &
}

# wait_node DATA_DIR PORT STARTED: wait until PORT accepts TCP; exit 1 if the node died or timed out.
wait_node() {
    local data_dir="$1" port="$2" started="$3" pid
    while (( SECONDS - started < START_TIMEOUT )); do
        sleep 0.5
        if port_open "$port"; then
            pid="$(live_pid "$data_dir" || echo '?')"
            log "ready: 127.0.0.1:$port accepts connections after $((SECONDS - started)) s (pid $pid)"
            return 0
        fi
        # Give the wrapper a moment to write the pid file before judging the process dead.
        if (( SECONDS - started >= 3 )) && ! live_pid "$data_dir" >/dev/null; then
            log "the broker process exited during startup"
            show_logs "$data_dir"
            rm -f "$data_dir/kafka.pid"
            exit 1
        fi
    done
    log "timed out after ${START_TIMEOUT} s waiting for 127.0.0.1:$port; the broker is left running, stop it with: $0 stop $data_dir"
    show_logs "$data_dir"
    exit 1
}

cmd_start() {
    [[ $# -eq 2 ]] || usage
    local port="$2" data_dir
    [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65534 ]] || die "PORT must be a number from 1 to 65534 (PORT+1 is the controller port), got '$port'"
    data_dir="$(abs_dir "$1")"
    local pid
    if pid="$(live_pid "$data_dir")"; then
        log "already running (pid $pid, data $data_dir)"
        return 0
    fi
    rm -f "$data_dir/kafka.pid"
    check_java
    cmd_fetch
    local started=$SECONDS
    launch_node "$data_dir" "$port" ""
    wait_node "$data_dir" "$port" "$started"
}

# A cluster of NODES combined broker+controller nodes in DATA_DIR/node-<i>, node i on PORT+2(i-1) (its
# controller on the port after), all voters of one static quorum, sharing one cluster id (DATA_DIR/cluster.id);
# replication factor NODES (at most 3) and min.insync.replicas NODES-1, as in production (docs/operations.md).
# KAFKA_ADVERTISED_PORTS="p1,p2,..." makes node i advertise p_i (fault proxies in front of the nodes).
# Each node is then an ordinary node for `stop` and `status` (kafka.sh stop DATA_DIR/node-2), and
# `cluster-start` again starts only those that are not running.
cmd_cluster_start() {
    [[ $# -eq 2 || $# -eq 3 ]] || usage
    local port="$2" nodes="${3:-3}" data_dir
    [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65500 ]] || die "PORT must be a number, got '$port'"
    [[ "$nodes" =~ ^[2-9]$ ]] || die "NODES must be 2 to 9, got '$nodes'"
    data_dir="$(abs_dir "$1")"
    check_java
    cmd_fetch
    local voters="" i replication min_isr cluster_id
    for (( i = 1; i <= nodes; i++ )); do
        voters="${voters:+$voters,}$i@127.0.0.1:$((port + 2 * (i - 1) + 1))"
    done
    replication=$(( nodes < 3 ? nodes : 3 ))
    min_isr=$(( replication - 1 ))
    if [[ ! -f "$data_dir/cluster.id" ]]; then
        java -cp "$LIB_DIR/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$data_dir/cluster.id"
    fi
    cluster_id="$(cat "$data_dir/cluster.id")"
    local -a advertised=()
    IFS=',' read -r -a advertised <<<"${KAFKA_ADVERTISED_PORTS:-}"
    local started=$SECONDS node_dir node_port
    for (( i = 1; i <= nodes; i++ )); do
        node_dir="$(abs_dir "$data_dir/node-$i")"
        node_port=$((port + 2 * (i - 1)))
        if live_pid "$node_dir" >/dev/null; then
            log "node $i already running"
            continue
        fi
        rm -f "$node_dir/kafka.pid"
        launch_node "$node_dir" "$node_port" "$cluster_id" "$i" "$voters" "$replication" "$min_isr" \
            "${advertised[$((i - 1))]:-$node_port}"
    done
    # The nodes start together: a node's broker waits for a quorum of controllers, so one at a time would not do.
    for (( i = 1; i <= nodes; i++ )); do
        wait_node "$data_dir/node-$i" $((port + 2 * (i - 1))) "$started"
    done
}

cmd_cluster_stop() {
    [[ $# -eq 1 ]] || usage
    local node
    for node in "$1"/node-*; do
        [[ -d "$node" ]] && cmd_stop "$node"
    done
    return 0
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local data_dir pid
    [[ -d "$1" ]] || { log "stopped (no data dir $1)"; return 0; }
    data_dir="$(abs_dir "$1")"
    if ! pid="$(live_pid "$data_dir")"; then
        rm -f "$data_dir/kafka.pid"
        log "not running (data $data_dir)"
        return 0
    fi
    log "stopping Kafka (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while (( SECONDS < deadline )) && live_pid "$data_dir" >/dev/null; do
        sleep 0.5
    done
    if live_pid "$data_dir" >/dev/null; then
        log "still running after ${STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$data_dir/kafka.pid"
    log "stopped"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    local data_dir pid
    if [[ -d "$1" ]] && data_dir="$(abs_dir "$1")" && pid="$(live_pid "$data_dir")"; then
        echo "running (pid $pid, data $data_dir)"
        return 0
    fi
    echo "stopped"
    exit 3
}

[[ $# -ge 1 ]] || usage
sub="$1"
shift
case "$sub" in
    fetch) [[ $# -eq 0 ]] || usage; cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    cluster-start) cmd_cluster_start "$@" ;;
    cluster-stop) cmd_cluster_stop "$@" ;;
    -h|--help|help) usage ;;
    *) log "unknown subcommand '$sub'"; usage ;;
esac
