#!/usr/bin/env bash
# Benchmarks/replicas/run.sh: relay throughput of `iotbridge run` with its SQLite window (one process) and with
# 1, 2 and 3 replicas sharing one PostgreSQL window, in the same run, on one private RabbitMQ and one private
# PostgreSQL 15 on loopback.
#
#   Benchmarks/replicas/run.sh --iotbridge PATH [--count N] [--overlap F] [--credit C] [--setups "sqlite pg1 pg2 pg3"]
#                              [--no-verify]
#
# Each setup: two durable queues pre-filled with N distinct messages (the overlap share in both, same messageId,
# topic and body; Benchmarks/bridge/bench.py fill), then the replicas start together (each: one connection per
# upstream, credit C, one AMQP sink to a third queue, a fresh state: a SQLite file, or a fresh PostgreSQL
# database shared by the replicas). Time from the first replica's start until the merged queue holds the N
# distinct messages (bench.py wait-count); msg/s out = N / that time, msg/s in = (N + overlap) / that time.
# Then the merged queue is drained and checked (distinct, duplicates, missing); --no-verify skips it. Also
# reported: the claim table's size after the run (pg_total_relation_size) and the SQLite file's.
# On a 2-core machine the replicas, RabbitMQ and PostgreSQL share the cores: the figures show the cost of
# sharing a window, not scaling (README "Scaling out" has the projection).
#
# Defaults: N = 100,000, overlap 0.1, credit 1000, setups "sqlite pg1 pg2 pg3". The binary: a release build,
# e.g. swift build -c release --product iotbridge --scratch-path .build-release. Report: Markdown on stdout and
# in scripts/.work/bench/replicas-TIMESTAMP.md; raw logs in scripts/.work/bench/replicas-TIMESTAMP/.

set -euo pipefail

REPLICAS_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The bridge benchmark's helpers (fill_amqp10, queues, delete_queues, json_field, calc); sourcing defines only.
# shellcheck source=Benchmarks/bridge/run.sh
source "$REPLICAS_HERE/../bridge/run.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"

COUNT=100000
OVERLAP=0.1
CREDIT=1000
SETUPS="sqlite pg1 pg2 pg3"
VERIFY=1
IOTBRIDGE=""
PIDS=()
ROWS=()

replicas_usage() { sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

replicas_parse_args() {
    while (( $# > 0 )); do
        case "$1" in
            --iotbridge) IOTBRIDGE="$2"; shift ;;
            --count) COUNT="$2"; shift ;;
            --overlap) OVERLAP="$2"; shift ;;
            --credit) CREDIT="$2"; shift ;;
            --setups) SETUPS="$2"; shift ;;
            --no-verify) VERIFY=0 ;;
            -h|--help) replicas_usage; exit 0 ;;
            *) die "unknown option: $1 (see --help)" ;;
        esac
        shift
    done
    [[ -x "$IOTBRIDGE" ]] || die "--iotbridge PATH: a release build of iotbridge is needed"
}

# Writes DIR/bridge.yaml for STATE (a SQLite path or a postgres:// URL with ${PG_PW}).
write_replica_config() {
    local dir="$1" a="$2" b="$3" sink="$4" state="$5"
    local auth='auth: { kind: plain, user: guest, password: "${RABBIT_PW}" }'
    cat > "$dir/bridge.yaml" <<YAML
# written by Benchmarks/replicas/run.sh
state: $state
dedup: { window: 1h, maxEntries: 10000000 }
upstreams:
  - { name: a, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$a", $auth, connections: 1, credit: $CREDIT }
  - { name: b, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$b", $auth, connections: 1, credit: $CREDIT }
sinks:
  - { name: merged, kind: amqp, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$sink", $auth }
deadLetter: { kind: jsonl, path: $dir/dead-letter.jsonl }
shutdown: { deadline: 5s }
YAML
}

# One setup: NAME REPLICAS KIND (sqlite | postgres).
run_setup() {
    local name="$1" replicas="$2" kind="$3" p dir state database="" sent i start reached secs size
    section_begin "$name: $replicas replica(s), $kind"
    p="br$$$name"
    dir="$RAW/$name"
    mkdir -p "$dir"
    queues "$p-a" "$p-b" "$p-merged"
    fill_amqp10 "$p-a" "$p-b" "$COUNT" "$OVERLAP" m "$name"
    sent=$(( $(json_field "$RAW/$name-fill-0.json" 'd["sent"]') + $(json_field "$RAW/$name-fill-1.json" 'd["sent"]') ))
    if [[ "$kind" == sqlite ]]; then
        state="$dir/bridge.sqlite"
    else
        database="bench_$name"
        PGPASSWORD="$(cat "$POSTGRES_DIR/password")" "$POSTGRES_BINDIR/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" \
            -U iotbridge -d iotbridge -q -c "CREATE DATABASE $database" || die "cannot create $database"
        state="postgres://iotbridge:\${PG_PW}@127.0.0.1:$POSTGRES_PORT/$database"
    fi
    write_replica_config "$dir" "$p-a" "$p-b" "$p-merged" "$state"
    PIDS=()
    start="$(now)"
    for (( i = 0; i < replicas; i++ )); do
        RABBIT_PW=guest PG_PW="$(cat "$POSTGRES_DIR/password")" \
            "$IOTBRIDGE" run --config "$dir/bridge.yaml" --quiet > "$dir/replica$i.out" 2> "$dir/replica$i.err" &
        PIDS+=($!)
    done
    "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$COUNT" --timeout 900 \
        --progress "$dir/merged-depth.txt" > "$dir/wait-count.json" || die "$name: merged queue incomplete: $(cat "$dir/wait-count.json")"
    reached="$(json_field "$dir/wait-count.json" 'd["at"]')"
    for i in "${PIDS[@]}"; do stop_pid "$i"; done
    for i in "${PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
    PIDS=()
    secs="$(calc 'printf "%.3f", a - b' "$reached" "$start")"
    if [[ "$kind" == sqlite ]]; then
        size="$(stat -c %s "$dir/bridge.sqlite") (+ WAL $(stat -c %s "$dir/bridge.sqlite-wal" 2>/dev/null || echo 0))"
    else
        size="$(PGPASSWORD="$(cat "$POSTGRES_DIR/password")" "$POSTGRES_BINDIR/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" \
            -U iotbridge -d "$database" -At -c "SELECT pg_total_relation_size('iotbridge_claim')")"
    fi
    local verify="-"
    if (( VERIFY == 1 )); then
        "$PY" "$PEER" consume "$URL" "/amq/queue/$p-merged" --expected "$COUNT" --idle 2 --timeout 600 > "$dir/verify.json"
        verify="$(json_field "$dir/verify.json" '"distinct %d, duplicates %d, missing %d" % (d["distinct"], d["duplicates"], d["missing"])')"
    fi
    ROWS+=("| $name | $replicas | $kind | $sent | $COUNT | $secs | $(calc 'printf "%d", a / b' "$sent" "$secs") | $(calc 'printf "%d", a / b' "$COUNT" "$secs") | $size | $verify |")
    log "$name: $secs s, $(calc 'printf "%d", a / b' "$COUNT" "$secs") msg/s out; window $size bytes; $verify"
    delete_queues
    section_end
}

replicas_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    postgres_stop
    if [[ -n "$RABBITMQ_DIR" ]]; then
        local dir="$RABBITMQ_DIR"
        rabbitmq_stop
        rm -rf "$dir"
    fi
    exit "$status"
}

replicas_main() {
    replicas_parse_args "$@"
    RUN_ID="replicas-$(date -u +%Y%m%dT%H%M%S)"
    RAW="$BENCH_DIR/$RUN_ID"
    REPORT="$BENCH_DIR/$RUN_ID.md"
    mkdir -p "$RAW"
    exec > >(tee -a "$RAW/run.log") 2>&1
    trap replicas_cleanup EXIT
    trap 'exit 130' INT TERM
    local load_before setup
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    section_begin "rabbitmq"
    rabbitmq_start "$RAW/rabbitmq"
    URL="amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT"
    section_end
    section_begin "postgres"
    postgres_start "$RAW/postgres"
    section_end
    for setup in $SETUPS; do
        case "$setup" in
            sqlite) run_setup sqlite 1 sqlite ;;
            pg[1-9]) run_setup "$setup" "${setup#pg}" postgres ;;
            *) die "unknown setup $setup (sqlite, pg1, pg2, pg3)" ;;
        esac
    done
    {
        printf '### %s: %s distinct messages, overlap %s, credit %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COUNT" "$OVERLAP" "$CREDIT"
        printf 'Load average %s before, %s after (nproc %s).\n\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
        printf '| setup | replicas | window | in | out | seconds | msg/s in | msg/s out | window bytes | merged queue |\n'
        printf '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n'
        printf '%s\n' "${ROWS[@]}"
    } > "$REPORT"
    printf '\n' >&2
    cat "$REPORT"
    log "report: $REPORT; raw output: $RAW/"
}

replicas_main "$@"
