#!/usr/bin/env bash
# Benchmarks/bridge/run.sh: throughput, added latency and memory of `iotbridge run` (the bridge: two AMQP 1.0
# upstreams -> de-duplication by messageId in the SQLite claim window -> one AMQP sink), side by side with
# RabbitMQ's Shovel plugin and with Qpid Proton's C examples doing the same moves, on one private RabbitMQ on
# loopback.
#
#   Benchmarks/bridge/run.sh [--count N] [--overlap F] [--body-size B] [--credit C] [--sink-window SW]
#                            [--rate R] [--latency-seconds S] [--window-count W]
#                            [--alloc-count A] [--scenarios "bridge shovel ceiling latency window allocations"]
#                            [--no-install] [--no-build] [--no-verify] [--scratch-path DIR]
#                            [--iotbridge PATH]
#
# The iotbridge binary: the committed HEAD exported with `git archive` to .build-bench-src/ (uncommitted edits
# in the checkout are not measured), built there with swift build -c release --static-swift-stdlib
# --product iotbridge --scratch-path .build-bench (or DIR); --no-build reuses the last export's build;
# --iotbridge PATH uses a given binary instead.
#
# Defaults: N = 200,000 distinct messages, overlap 0.1 (every 10th also in the other queue: 220,000 sent),
# 200-byte bodies, upstream credit 1000 (the C receive's window too), the AMQP sink's window left at the bridge's
# default (1000) unless --sink-window, R = 5,000 msg/s for S = 20 s, W = 1,000,000.
# Scenarios, in this order (each on fresh durable queues, deleted afterwards):
#   bridge   (A) N messages pre-filled in two durable queues with the overlap (same messageId, topic and body in
#            both; AMQP 1.0, platform envelope: topic/messageId/generateTime); then `iotbridge run` (release
#            build, fresh state file) forwards them to a third queue. Time from the bridge's start until the
#            merged queue holds the N distinct messages AND the bridge has settled all N+overlap upstream
#            deliveries (its /status); peak RSS (/usr/bin/time -f %M, and VmHWM before SIGTERM). Then the
#            merged queue is drained and checked: N distinct, no duplicates (--no-verify skips this).
#   shovel   (baseline 1) the same N+overlap messages published over AMQP 0-9-1 (pika; 3.10's 0-9-1 Shovel
#            crashes on AMQP 1.0-published messages), then two dynamic shovels (one per source queue,
#            ack-mode on-confirm, loopback URIs) move them to a third queue. Time from the first message in
#            the destination until it holds all N+overlap (Shovel does not de-duplicate).
#   ceiling  (baseline 2) Proton's patched C receive draining the two pre-filled source queues while C send
#            fills the sink queue with N messages of B bytes, concurrently; wall time until all three end.
#   latency  (B) R msg/s (overlap included) for S s into the two queues, each message stamped with sentAt (ns);
#            one consumer: first straight from the two source queues (no bridge), then from the merged queue
#            with the bridge running. Latency = receive time - sentAt, p50/p99 of each; added = difference.
#   window   (C) W distinct messages (no overlap) through the bridge with dedup.maxEntries W (the window
#            fills to W entries), then a restart on that full window forwarding 20,000 more (evicting the
#            oldest): peak RSS of both runs.
#   allocations (D) heaptrack counts every malloc call of the bridge over A and 2A distinct messages (with the
#            overlap, default A = 20,000); (calls(2A) - calls(A)) / (deliveries(2A) - deliveries(A)) is the
#            number of allocations per relayed message, start-up and shutdown cancelled out.
# The private RabbitMQ (scripts/lib/rabbitmq.sh) gets rabbitmq_shovel enabled online (rabbitmq-plugins
# enable) next to rabbitmq_amqp1_0. Queues are declared durable over AMQP 0-9-1 and addressed as
# /amq/queue/NAME over AMQP 1.0 by every client: RabbitMQ 3.10's /queue/NAME declares a queue durable only
# when the link's terminus asks for it (Python's Proton peers and the C examples do not), and refuses a
# terminus whose durability differs from an existing queue's.
# Prints a Markdown report; it goes to scripts/.work/bench/bridge-TIMESTAMP.md, every raw log and the
# console output (run.log) to scripts/.work/bench/bridge-TIMESTAMP/.
# Python peers: Benchmarks/bridge/bench.py, run by /usr/bin/python3 (Debian's qpid-proton and pika).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO_ROOT/Benchmarks/bridge"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin/bridge-bench"
BENCH_DIR="$WORK_DIR/bench"
PATCH_FILE="$REPO_ROOT/Benchmarks/amqp/c-examples-bench.patch"
PY=/usr/bin/python3
PEER="$HERE/bench.py"

# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/apt.sh
source "$REPO_ROOT/scripts/lib/apt.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"

APT_PACKAGES=(rabbitmq-server python3-qpid-proton python3-pika time libqpid-proton11-dev
    libqpid-proton11-dev-examples gcc pkg-config patch heaptrack)

COUNT=200000
OVERLAP=0.1
BODY_SIZE=200
CREDIT=1000
SINK_WINDOW=""
RATE=5000
LATENCY_SECONDS=20
WINDOW_COUNT=1000000
WINDOW_EXTRA=20000
ALLOC_COUNT=20000
SCENARIOS="bridge shovel ceiling latency window allocations"
INSTALL=1
BUILD=1
VERIFY=1
SCRATCH_PATH=".build-bench"
IOTBRIDGE_GIVEN=""

IOTBRIDGE=""
IOTBRIDGE_COMMIT=""
RUN_ID=""
RAW=""
REPORT=""
URL=""
BRIDGE_TIME_PID=""
BRIDGE_PID=""
BRIDGE_HTTP=""
BRIDGE_START=""
BRIDGE_HWM_KB=0
BRIDGE_RSS_KB=0
BRIDGE_CPU=""
QUEUES_TO_DELETE=()

# Results, filled by the scenarios and read by write_report.
declare -A R=()

usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
    while (( $# > 0 )); do
        case "$1" in
            --count) COUNT="$2"; shift ;;
            --overlap) OVERLAP="$2"; shift ;;
            --body-size) BODY_SIZE="$2"; shift ;;
            --credit) CREDIT="$2"; shift ;;
            --sink-window) SINK_WINDOW="$2"; shift ;;
            --rate) RATE="$2"; shift ;;
            --latency-seconds) LATENCY_SECONDS="$2"; shift ;;
            --window-count) WINDOW_COUNT="$2"; shift ;;
            --alloc-count) ALLOC_COUNT="$2"; shift ;;
            --scenarios) SCENARIOS="$2"; shift ;;
            --no-install) INSTALL=0 ;;
            --no-build) BUILD=0 ;;
            --no-verify) VERIFY=0 ;;
            --scratch-path) SCRATCH_PATH="$2"; shift ;;
            --iotbridge) IOTBRIDGE_GIVEN="$2"; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1 (see --help)" ;;
        esac
        shift
    done
}

# ------------------------------------------------------------------------------------------------ helpers

# awk arithmetic: calc 'EXPR' with a, b, c bound to the next arguments.
calc() {
    awk -v a="${2:-0}" -v b="${3:-0}" -v c="${4:-0}" "BEGIN { $1 }"
}

# A JSON field of the last JSON line of FILE: json_field FILE 'python expression on d'.
json_field() {
    "$PY" -c 'import json,sys
lines=[l for l in open(sys.argv[1]) if l.startswith("{")]
d=json.loads(lines[-1])
v=eval(sys.argv[2])
print("" if v is None else v)' "$1" "$2"
}

queues() { # declare durable queues and remember them for deletion
    "$PY" "$PEER" declare 127.0.0.1 "$RABBITMQ_PORT" "$@"
    QUEUES_TO_DELETE+=("$@")
}

delete_queues() {
    if (( ${#QUEUES_TO_DELETE[@]} > 0 )) && [[ -n "$RABBITMQ_PORT" ]]; then
        "$PY" "$PEER" declare 127.0.0.1 "$RABBITMQ_PORT" --delete "${QUEUES_TO_DELETE[@]}" || true
    fi
    QUEUES_TO_DELETE=()
}

# Fills /amq/queue/A and /amq/queue/B with COUNT distinct messages (OVERLAP share in both), two publishers in
# parallel. Args: A B COUNT OVERLAP PREFIX LOGNAME.
fill_amqp10() {
    local a="$1" b="$2" count="$3" overlap="$4" prefix="$5" name="$6" start end pids=() part status=0
    start="$(now)"
    for part in 0 1; do
        "$PY" "$PEER" fill "$URL" "/amq/queue/$a" "/amq/queue/$b" "$count" --overlap "$overlap" \
            --body-size "$BODY_SIZE" --prefix "$prefix" --only "$part" > "$RAW/$name-fill-$part.json" 2>&1 &
        pids+=($!)
    done
    for part in 0 1; do wait "${pids[$part]}" || status=$?; done
    end="$(now)"
    (( status == 0 )) || die "fill failed: $(cat "$RAW/$name-fill-"*.json)"
    log "filled $a/$b: $count distinct in $(elapsed "$start" "$end") s ($("$PY" "$PEER" depth 127.0.0.1 "$RABBITMQ_PORT" "$a" "$b"))"
}

# Writes DIR/bridge.yaml: upstreams /amq/queue/A and B, the AMQP sink /amq/queue/SINK. Args: DIR A B SINK MAX.
write_bridge_config() {
    local dir="$1" a="$2" b="$3" sink="$4" max="$5" port
    port="$(free_port)"
    BRIDGE_HTTP="http://127.0.0.1:$port/status"
    local auth='auth: { kind: plain, user: guest, password: "${RABBIT_PW}" }'
    cat > "$dir/bridge.yaml" <<YAML
# written by Benchmarks/bridge/run.sh
state: $dir/bridge.sqlite
dedup: { window: 1h, maxEntries: $max }
upstreams:
  - { name: a, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$a", $auth, connections: 1, credit: $CREDIT }
  - { name: b, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$b", $auth, connections: 1, credit: $CREDIT }
sinks:
  - { name: merged, kind: amqp, url: "amqp://127.0.0.1:$RABBITMQ_PORT//amq/queue/$sink", $auth${SINK_WINDOW:+, window: $SINK_WINDOW} }
deadLetter: { kind: jsonl, path: $dir/dead-letter.jsonl }
http: { listen: 127.0.0.1:$port }
shutdown: { deadline: 5s }
YAML
}

# Starts `iotbridge run --config DIR/bridge.yaml` under /usr/bin/time; waits for "bridge started".
start_bridge() {
    local dir="$1" _
    BRIDGE_START="$(now)"
    RABBIT_PW=guest /usr/bin/time -f '%M %U %S %e' -o "$dir/time.out" ${BRIDGE_WRAPPER:-} \
        "$IOTBRIDGE" run --config "$dir/bridge.yaml" --quiet > "$dir/stdout.log" 2> "$dir/stderr.log" &
    BRIDGE_TIME_PID=$!
    BRIDGE_PID=""
    for _ in $(seq 300); do
        # The iotbridge process itself (under a wrapper such as heaptrack it is not time's child).
        [[ -n "$BRIDGE_PID" ]] || BRIDGE_PID="$(pgrep -n -f -- "run --config $dir/bridge.yaml" 2>/dev/null | head -n 1 || true)"
        [[ -z "$BRIDGE_PID" || "$(cat "/proc/$BRIDGE_PID/comm" 2>/dev/null)" == iotbridge ]] || BRIDGE_PID=""
        if grep -q "bridge started" "$dir/stderr.log" 2>/dev/null; then
            log "bridge: started (pid $BRIDGE_PID) in $(elapsed "$BRIDGE_START" "$(now)") s"
            return 0
        fi
        pid_alive "$BRIDGE_TIME_PID" || die "the bridge exited: $(tail -n 5 "$dir/stderr.log")"
        sleep 0.1
    done
    die "the bridge did not start in 30 s: $(tail -n 5 "$dir/stderr.log")"
}

# Reads VmHWM, SIGTERMs the bridge, waits; sets BRIDGE_HWM_KB, BRIDGE_RSS_KB (time's %M), BRIDGE_CPU (user+sys s).
stop_bridge() {
    local dir="$1" status=0 line
    [[ -n "$BRIDGE_PID" ]] || BRIDGE_PID="$(ps -o pid= --ppid "$BRIDGE_TIME_PID" 2>/dev/null | tr -d ' ' || true)"
    BRIDGE_HWM_KB="$(awk '/^VmHWM:/ { print $2 }' "/proc/$BRIDGE_PID/status" 2>/dev/null || echo 0)"
    stop_pid "$BRIDGE_PID"
    wait "$BRIDGE_TIME_PID" || status=$?
    line="$(tail -n 1 "$dir/time.out" 2>/dev/null || true)"
    BRIDGE_RSS_KB="$(awk '{ print $1 }' <<< "$line")"
    [[ "$BRIDGE_RSS_KB" =~ ^[0-9]+$ ]] || BRIDGE_RSS_KB=0
    BRIDGE_CPU="$(awk '{ printf "%.1f", $2 + $3 }' <<< "$line")"
    log "bridge: stopped (exit $status), peak RSS $(( BRIDGE_RSS_KB / 1024 )) MB (VmHWM $(( ${BRIDGE_HWM_KB:-0} / 1024 )) MB), CPU ${BRIDGE_CPU} s"
    BRIDGE_TIME_PID=""
    BRIDGE_PID=""
}

# Saves the bridge's /metrics (Prometheus text) to FILE.
save_metrics() {
    "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
        "${BRIDGE_HTTP%/status}/metrics" > "$1" 2>&1 || true
}

# CPU seconds (user + system) the broker's Erlang VM has used so far.
broker_cpu() {
    local pid
    pid="$(cat "$RABBITMQ_DIR/rabbitmq.pid" 2>/dev/null || true)"
    [[ -n "$pid" && -r "/proc/$pid/stat" ]] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat"
}

mb() { calc 'printf "%.1f", a / 1024' "$1"; }

# ---------------------------------------------------------------------------------------------- scenarios

# A: the bridge over a pre-filled backlog.
scenario_bridge() {
    section_begin "A: bridge, $COUNT distinct + overlap $OVERLAP"
    local p="bb$$a" dir="$RAW/A" sent
    mkdir -p "$dir"
    queues "$p-src-a" "$p-src-b" "$p-merged"
    fill_amqp10 "$p-src-a" "$p-src-b" "$COUNT" "$OVERLAP" m A
    sent=$(( $(json_field "$RAW/A-fill-0.json" 'd["sent"]') + $(json_field "$RAW/A-fill-1.json" 'd["sent"]') ))
    write_bridge_config "$dir" "$p-src-a" "$p-src-b" "$p-merged" 1000000
    local cpu0
    cpu0="$(broker_cpu)"
    start_bridge "$dir"
    "$PY" "$PEER" sample-status "$BRIDGE_HTTP" "$dir/status-samples.txt" --pid "$BRIDGE_PID" \
        --broker-pid "$(cat "$RABBITMQ_DIR/rabbitmq.pid")" &
    "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$COUNT" --timeout 900 \
        --progress "$dir/merged-depth.txt" > "$dir/wait-count.json" || die "A: merged queue incomplete: $(cat "$dir/wait-count.json")"
    "$PY" "$PEER" wait-status "$BRIDGE_HTTP" --settled "$sent" --timeout 120 > "$dir/status.json" \
        || log "A: the bridge did not settle all $sent deliveries in 120 s"
    local reached first settled
    reached="$(json_field "$dir/wait-count.json" 'd["at"]')"
    first="$(json_field "$dir/wait-count.json" 'd["first"]')"
    settled="$(json_field "$dir/status.json" 'd["at"]')"
    R[A_broker_cpu]="$(calc 'printf "%.1f", a - b' "$(broker_cpu)" "$cpu0")"
    save_metrics "$dir/metrics.txt"
    "$PY" "$PEER" histogram "$dir/metrics.txt" iotbridge_receipt_to_settle_seconds > "$dir/settle-histogram.json" || true
    stop_bridge "$dir"
    local end secs
    end="$(calc 'printf "%.6f", (a > b ? a : b)' "$reached" "$settled")"
    secs="$(calc 'printf "%.3f", a - b' "$end" "$BRIDGE_START")"
    R[A_in]="$sent"; R[A_out]="$COUNT"; R[A_secs]="$secs"
    R[A_rate_in]="$(calc 'printf "%d", a / b' "$sent" "$secs")"
    R[A_rate_out]="$(calc 'printf "%d", a / b' "$COUNT" "$secs")"
    R[A_merged_secs]="$(calc 'printf "%.3f", a - b' "$reached" "$BRIDGE_START")"
    R[A_first_secs]="$(calc 'printf "%.3f", a - b' "$first" "$BRIDGE_START")"
    R[A_rss]="$(mb "$BRIDGE_RSS_KB")"; R[A_hwm]="$(mb "$BRIDGE_HWM_KB")"; R[A_cpu]="$BRIDGE_CPU"
    R[A_status]="$(json_field "$dir/status.json" '"settled %s, confirmed %s, duplicates %s, dead-lettered %s" % (d["status"]["settled"], d["status"]["sinks"][0]["confirmed"], sum(u["duplicates"] for u in d["status"]["upstreams"]), sum(d["status"]["deadLettered"].values()))' || echo '?')"
    log "A: ${R[A_secs]} s, ${R[A_rate_in]} msg/s in, ${R[A_rate_out]} msg/s out, peak RSS ${R[A_rss]} MB; ${R[A_status]}"
    if (( VERIFY == 1 )); then
        "$PY" "$PEER" consume "$URL" "/amq/queue/$p-merged" --expected "$COUNT" --idle 2 --timeout 600 > "$dir/verify.json"
        R[A_verify]="$(json_field "$dir/verify.json" '"received %d, distinct %d, duplicates %d, missing %d" % (d["received"], d["distinct"], d["duplicates"], d["missing"])')"
        log "A: merged queue: ${R[A_verify]}"
    fi
    delete_queues
    section_end
}

# Baseline 1: RabbitMQ's Shovel, two shovels with ack-mode on-confirm, over AMQP 0-9-1.
scenario_shovel() {
    section_begin "baseline 1: Shovel (on-confirm), $COUNT distinct + overlap $OVERLAP over AMQP 0-9-1"
    local p="bb$$s" dir="$RAW/shovel" total q pids=() start
    mkdir -p "$dir"
    queues "$p-src-a" "$p-src-b" "$p-merged"
    "$PY" "$PEER" fill091 127.0.0.1 "$RABBITMQ_PORT" "$p-src-a" "$p-src-b" "$COUNT" --overlap "$OVERLAP" \
        --body-size "$BODY_SIZE" > "$dir/fill.json" || die "shovel fill failed: $(cat "$dir/fill.json")"
    total="$(json_field "$dir/fill.json" 'd["sent"]')"
    log "filled over 0-9-1: $(cat "$dir/fill.json")"
    "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$total" --timeout 900 \
        --progress "$dir/merged-depth.txt" > "$dir/wait-count.json" &
    local waiter=$! cpu0
    cpu0="$(broker_cpu)"
    start="$(now)"
    for q in "$p-src-a" "$p-src-b"; do
        "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q set_parameter shovel "$q" \
            "{\"src-protocol\":\"amqp091\",\"src-uri\":\"amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT\",\"src-queue\":\"$q\",\"dest-protocol\":\"amqp091\",\"dest-uri\":\"amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT\",\"dest-queue\":\"$p-merged\",\"ack-mode\":\"on-confirm\"}" \
            > "$dir/set-$q.log" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}" || die "set_parameter shovel failed: $(cat "$dir"/set-*.log)"
    wait "$waiter" || die "shovel: destination incomplete: $(cat "$dir/wait-count.json")"
    local reached first
    reached="$(json_field "$dir/wait-count.json" 'd["at"]')"
    first="$(json_field "$dir/wait-count.json" 'd["first"]')"
    R[S_broker_cpu]="$(calc 'printf "%.1f", a - b' "$(broker_cpu)" "$cpu0")"
    "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q shovel_status > "$dir/shovel-status.txt" 2>&1 || true
    for q in "$p-src-a" "$p-src-b"; do
        "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q clear_parameter shovel "$q" > /dev/null 2>&1 || true
    done
    R[S_in]="$total"; R[S_out]="$total"
    R[S_secs]="$(calc 'printf "%.3f", a - b' "$reached" "$first")"
    R[S_secs_cmd]="$(calc 'printf "%.3f", a - b' "$reached" "$start")"
    R[S_rate]="$(calc 'printf "%d", a / b' "$total" "${R[S_secs]}")"
    log "shovel: $total in ${R[S_secs]} s from the first message moved (${R[S_secs_cmd]} s from set_parameter): ${R[S_rate]} msg/s"
    delete_queues
    section_end
}

# Baseline 2: Proton's C receive x2 (draining the sources) and C send (filling the sink), concurrently.
scenario_ceiling() {
    section_begin "baseline 2: ceiling, C receive x2 + C send concurrently, $BODY_SIZE-byte bodies"
    local p="bb$$c" dir="$RAW/ceiling" na nb start end status=0 pids=() names=() i
    mkdir -p "$dir"
    queues "$p-src-a" "$p-src-b" "$p-merged"
    fill_amqp10 "$p-src-a" "$p-src-b" "$COUNT" "$OVERLAP" m ceiling
    na="$(json_field "$RAW/ceiling-fill-0.json" 'd["sent"]')"
    nb="$(json_field "$RAW/ceiling-fill-1.json" 'd["sent"]')"
    local cpu0
    cpu0="$(broker_cpu)"
    start="$(now)"
    /usr/bin/time -f '%M %U %S %e' -o "$dir/recv-a.time" timeout 900 "$BIN_DIR/receive-bench" 127.0.0.1 "$RABBITMQ_PORT" "/amq/queue/$p-src-a" "$na" > /dev/null 2> "$dir/recv-a.log" &
    pids+=($!); names+=(recv-a)
    /usr/bin/time -f '%M %U %S %e' -o "$dir/recv-b.time" timeout 900 "$BIN_DIR/receive-bench" 127.0.0.1 "$RABBITMQ_PORT" "/amq/queue/$p-src-b" "$nb" > /dev/null 2> "$dir/recv-b.log" &
    pids+=($!); names+=(recv-b)
    /usr/bin/time -f '%M %U %S %e' -o "$dir/send.time" timeout 900 "$BIN_DIR/send-bench" 127.0.0.1 "$RABBITMQ_PORT" "/amq/queue/$p-merged" "$COUNT" > /dev/null 2> "$dir/send.log" &
    pids+=($!); names+=(send)
    for i in 0 1 2; do
        wait "${pids[$i]}" || { status=$?; log "ceiling: ${names[$i]} exit $status: $(tail -n 3 "$dir/${names[$i]}.log")"; }
    done
    end="$(now)"
    R[C_broker_cpu]="$(calc 'printf "%.1f", a - b' "$(broker_cpu)" "$cpu0")"
    (( status == 0 )) || die "ceiling: a C example failed"
    "$PY" "$PEER" depth 127.0.0.1 "$RABBITMQ_PORT" "$p-src-a" "$p-src-b" "$p-merged" > "$dir/depth.json"
    R[C_in]=$(( na + nb )); R[C_out]="$COUNT"
    R[C_secs]="$(calc 'printf "%.3f", a - b' "$end" "$start")"
    R[C_rate_in]="$(calc 'printf "%d", a / b' "${R[C_in]}" "${R[C_secs]}")"
    R[C_rate_out]="$(calc 'printf "%d", a / b' "$COUNT" "${R[C_secs]}")"
    R[C_rss]="$(cat "$dir"/*.time | awk '{ s += $1 } END { printf "%.1f", s / 1024 }')"
    R[C_cpu]="$(cat "$dir"/*.time | awk '{ s += $2 + $3 } END { printf "%.1f", s }')"
    R[C_times]="$(for i in recv-a recv-b send; do printf '%s %s s, ' "$i" "$(awk '{ print $4 }' "$dir/$i.time")"; done)"
    R[C_times]="${R[C_times]%, }"
    log "ceiling: ${R[C_secs]} s (${R[C_times]}), ${R[C_rate_in]} msg/s in, ${R[C_rate_out]} msg/s out; depths $(cat "$dir/depth.json")"
    delete_queues
    section_end
}

# B: added latency at a steady rate.
scenario_latency() {
    section_begin "B: latency at $RATE msg/s for $LATENCY_SECONDS s"
    local p="bb$$l" dir="$RAW/B" sends distinct consumer
    mkdir -p "$dir"
    queues "$p-src-a" "$p-src-b" "$p-merged"
    sends="$(calc 'printf "%d", a * b' "$RATE" "$LATENCY_SECONDS")"
    distinct="$("$PY" "$PEER" plan-size "$sends" --overlap "$OVERLAP" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["distinct"])')"

    # B1: no bridge: the consumer reads the two source queues.
    "$PY" "$PEER" consume "$URL" "/amq/queue/$p-src-a" "/amq/queue/$p-src-b" --expected "$distinct" --idle 3 \
        --timeout $(( LATENCY_SECONDS + 120 )) --out "$dir/direct-latencies.txt" > "$dir/direct.json" &
    consumer=$!
    sleep 1
    "$PY" "$PEER" publish-rate "$URL" "/amq/queue/$p-src-a" "/amq/queue/$p-src-b" --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --overlap "$OVERLAP" --body-size "$BODY_SIZE" --prefix d > "$dir/direct-publish.json"
    wait "$consumer" || die "B: direct consumer failed: $(cat "$dir/direct.json")"
    log "B direct: publish $(cat "$dir/direct-publish.json")"
    log "B direct: $(cat "$dir/direct.json")"

    # B2: through the bridge: the consumer reads the merged queue.
    write_bridge_config "$dir" "$p-src-a" "$p-src-b" "$p-merged" 1000000
    start_bridge "$dir"
    "$PY" "$PEER" sample-status "$BRIDGE_HTTP" "$dir/status-samples.txt" --pid "$BRIDGE_PID" \
        --broker-pid "$(cat "$RABBITMQ_DIR/rabbitmq.pid")" &
    "$PY" "$PEER" consume "$URL" "/amq/queue/$p-merged" --expected "$distinct" --idle 3 \
        --timeout $(( LATENCY_SECONDS + 120 )) --out "$dir/bridge-latencies.txt" > "$dir/bridge.json" &
    consumer=$!
    sleep 1
    "$PY" "$PEER" publish-rate "$URL" "/amq/queue/$p-src-a" "/amq/queue/$p-src-b" --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --overlap "$OVERLAP" --body-size "$BODY_SIZE" --prefix l > "$dir/bridge-publish.json"
    wait "$consumer" || die "B: bridge consumer failed: $(cat "$dir/bridge.json")"
    "$PY" "$PEER" wait-status "$BRIDGE_HTTP" --settled "$sends" --timeout 30 > "$dir/status.json" || true
    save_metrics "$dir/metrics.txt"
    stop_bridge "$dir"
    log "B bridge: publish $(cat "$dir/bridge-publish.json")"
    log "B bridge: $(cat "$dir/bridge.json")"
    local k
    for k in p50 p90 p99 p999 max n; do
        R[B_direct_$k]="$(json_field "$dir/direct.json" "d['latencyMs']['$k']")"
        R[B_bridge_$k]="$(json_field "$dir/bridge.json" "d['latencyMs']['$k']")"
    done
    R[B_direct_rate]="$(json_field "$dir/direct-publish.json" 'd["rate"]')"
    R[B_bridge_rate]="$(json_field "$dir/bridge-publish.json" 'd["rate"]')"
    R[B_bridge_check]="$(json_field "$dir/bridge.json" '"received %d, distinct %d, duplicates %d, missing %d" % (d["received"], d["distinct"], d["duplicates"], d["missing"])')"
    R[B_rss]="$(mb "$BRIDGE_RSS_KB")"
    "$PY" "$PEER" histogram "$dir/metrics.txt" iotbridge_receipt_to_settle_seconds > "$dir/settle-histogram.json" || true
    R[B_settle]="$(json_field "$dir/settle-histogram.json" '"p50 <= %g ms, p90 <= %g ms, p99 <= %g ms" % (d["p50"] * 1000, d["p90"] * 1000, d["p99"] * 1000)' || echo '?')"
    delete_queues
    section_end
}

# C: memory with a full window of WINDOW_COUNT claims.
scenario_window() {
    section_begin "C: window of $WINDOW_COUNT claims"
    local p="bb$$w" dir="$RAW/C" dir2="$RAW/C2"
    mkdir -p "$dir" "$dir2"
    queues "$p-src-a" "$p-src-b" "$p-merged"
    fill_amqp10 "$p-src-a" "$p-src-b" "$WINDOW_COUNT" 0 w C
    write_bridge_config "$dir" "$p-src-a" "$p-src-b" "$p-merged" "$WINDOW_COUNT"
    start_bridge "$dir"
    "$PY" "$PEER" sample-status "$BRIDGE_HTTP" "$dir/status-samples.txt" --interval 1 --pid "$BRIDGE_PID" \
        --broker-pid "$(cat "$RABBITMQ_DIR/rabbitmq.pid")" &
    "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$WINDOW_COUNT" --timeout 1800 \
        --progress "$dir/merged-depth.txt" > "$dir/wait-count.json" || die "C: merged queue incomplete"
    "$PY" "$PEER" wait-status "$BRIDGE_HTTP" --settled "$WINDOW_COUNT" --timeout 120 > "$dir/status.json" || true
    local reached
    reached="$(json_field "$dir/wait-count.json" 'd["at"]')"
    stop_bridge "$dir"
    R[W_fill_secs]="$(calc 'printf "%.1f", a - b' "$reached" "$BRIDGE_START")"
    R[W_fill_rate]="$(calc 'printf "%d", a / b' "$WINDOW_COUNT" "${R[W_fill_secs]}")"
    R[W_fill_rss]="$(mb "$BRIDGE_RSS_KB")"; R[W_fill_cpu]="$BRIDGE_CPU"
    "$PY" "$PEER" window "$dir/bridge.sqlite" > "$dir/window.json"
    R[W_entries]="$(json_field "$dir/window.json" 'd["entries"]')"
    R[W_file_mb]="$(json_field "$dir/window.json" '"%.0f" % (d["bytes"] / 1048576)')"
    log "C: window filled: $(cat "$dir/window.json") in ${R[W_fill_secs]} s, peak RSS ${R[W_fill_rss]} MB"
    "$PY" "$PEER" declare 127.0.0.1 "$RABBITMQ_PORT" --delete "$p-merged"
    "$PY" "$PEER" declare 127.0.0.1 "$RABBITMQ_PORT" "$p-merged"

    # The restart: the same state file (full window), WINDOW_EXTRA new messages.
    fill_amqp10 "$p-src-a" "$p-src-b" "$WINDOW_EXTRA" 0 x C2
    sed "s|state: $dir/|state: $dir2/|; s|path: $dir/|path: $dir2/|" "$dir/bridge.yaml" > "$dir2/bridge.yaml"
    mv "$dir/bridge.sqlite" "$dir2/bridge.sqlite"
    for f in "$dir/bridge.sqlite-wal" "$dir/bridge.sqlite-shm"; do [[ ! -e "$f" ]] || mv "$f" "$dir2/"; done
    # Same http port as the first run (stopped by now): BRIDGE_HTTP stays.
    start_bridge "$dir2"
    "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$WINDOW_EXTRA" --timeout 600 \
        > "$dir2/wait-count.json" || die "C2: merged queue incomplete"
    "$PY" "$PEER" wait-status "$BRIDGE_HTTP" --settled "$WINDOW_EXTRA" --timeout 60 > "$dir2/status.json" || true
    # Stay up past the maintenance loop's expiry pass (every 10 s), which evicts down to maxEntries.
    sleep 12
    stop_bridge "$dir2"
    R[W_run_rss]="$(mb "$BRIDGE_RSS_KB")"
    "$PY" "$PEER" window "$dir2/bridge.sqlite" > "$dir2/window.json"
    R[W_entries2]="$(json_field "$dir2/window.json" 'd["entries"]')"
    log "C: restart on the full window, $WINDOW_EXTRA more: $(cat "$dir2/window.json"), peak RSS ${R[W_run_rss]} MB"
    delete_queues
    section_end
}

# ---------------------------------------------------------------------------------------------- report

verdict() { # verdict CONDITION(awk) -> met / NOT met
    if [[ "$(calc "print ($1) ? 1 : 0" "${2:-0}" "${3:-0}" "${4:-0}")" == 1 ]]; then echo "met"; else echo "**not met**"; fi
}

write_report() {
    local load_before="$1"
    {
        printf '### %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf -- '- command: `Benchmarks/bridge/run.sh %s`\n' "$ARGS_TEXT"
        printf -- '- iotbridge measured: commit %s (release, --static-swift-stdlib), %s\n' "$IOTBRIDGE_COMMIT" "$IOTBRIDGE"
        printf -- '- machine: %s cores (%s), %s MB RAM, shared with another engineer'"'"'s tests; load average before %s, after %s\n' \
            "$(nproc)" "$(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')" \
            "$(free -m | awk '/^Mem:/ { print $2 }')" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf -- '- RabbitMQ %s, Proton %s; %s distinct messages, overlap %s, %s-byte bodies, upstream credit %s, sink window %s\n\n' \
            "$(dpkg-query -W -f='${Version}' rabbitmq-server)" "$(dpkg-query -W -f='${Version}' libqpid-proton11)" \
            "$COUNT" "$OVERLAP" "$BODY_SIZE" "$CREDIT" "${SINK_WINDOW:-1000 (default)}"
        if [[ -n "${R[A_secs]:-}${R[S_secs]:-}${R[C_secs]:-}${R[W_fill_secs]:-}" ]]; then
            printf '| run | messages in | messages out | seconds | in msgs/s | out msgs/s | peak RSS MB | CPU s: mover / broker | notes |\n'
            printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n'
        fi
        if [[ -n "${R[A_secs]:-}" ]]; then
            printf '| A: iotbridge run | %s | %s | %s | %s | %s | %s | %s / %s | from process start until the merged queue holds all distinct (%s s) and every upstream delivery is settled; first message in the merged queue at %s s; %s; merged queue drained: %s |\n' \
                "${R[A_in]}" "${R[A_out]}" "${R[A_secs]}" "${R[A_rate_in]}" "${R[A_rate_out]}" "${R[A_rss]}" \
                "${R[A_cpu]}" "${R[A_broker_cpu]}" "${R[A_merged_secs]}" "${R[A_first_secs]}" "${R[A_status]}" "${R[A_verify]:-not checked}"
        fi
        if [[ -n "${R[S_secs]:-}" ]]; then
            printf '| Shovel, on-confirm (2 shovels) | %s | %s | %s | %s | %s | (in the broker) | - / %s | does NOT de-duplicate: delivers all %s; timed from the first message in the destination (%s s from set_parameter) |\n' \
                "${R[S_in]}" "${R[S_out]}" "${R[S_secs]}" "${R[S_rate]}" "${R[S_rate]}" "${R[S_broker_cpu]}" "${R[S_in]}" "${R[S_secs_cmd]}"
        fi
        if [[ -n "${R[C_secs]:-}" ]]; then
            printf '| ceiling: C receive x2 + C send | %s | %s | %s | %s | %s | %s (3 processes) | %s / %s | no de-duplication, no settlement coupling, no application properties; %s |\n' \
                "${R[C_in]}" "${R[C_out]}" "${R[C_secs]}" "${R[C_rate_in]}" "${R[C_rate_out]}" "${R[C_rss]}" "${R[C_cpu]}" \
                "${R[C_broker_cpu]}" "${R[C_times]}"
        fi
        if [[ -n "${R[W_fill_secs]:-}" ]]; then
            printf '| C: fill the window | %s | %s | %s | %s | %s | %s | %s / - | dedup.maxEntries %s, no overlap; window after: %s claims, state file %s MB |\n' \
                "$WINDOW_COUNT" "$WINDOW_COUNT" "${R[W_fill_secs]}" "${R[W_fill_rate]}" "${R[W_fill_rate]}" "${R[W_fill_rss]}" \
                "${R[W_fill_cpu]}" "$WINDOW_COUNT" "${R[W_entries]}" "${R[W_file_mb]}"
            printf '| C: restart on the full window | %s | %s | - | - | - | %s | - | window after: %s claims (the expiry pass evicts the oldest down to maxEntries) |\n' \
                "$WINDOW_EXTRA" "$WINDOW_EXTRA" "${R[W_run_rss]}" "${R[W_entries2]}"
        fi
        if [[ -n "${R[B_bridge_p50]:-}" ]]; then
            printf '\nLatency at %s msg/s for %s s (publisher achieved %s / %s msg/s), ms, receive time - sentAt, first 1 s left out:\n\n' \
                "$RATE" "$LATENCY_SECONDS" "${R[B_direct_rate]}" "${R[B_bridge_rate]}"
            printf '| path | messages | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
            printf '| direct (source queues, no bridge) | %s | %s | %s | %s | %s | %s |\n' "${R[B_direct_n]}" "${R[B_direct_p50]}" \
                "${R[B_direct_p90]}" "${R[B_direct_p99]}" "${R[B_direct_p999]}" "${R[B_direct_max]}"
            printf '| through the bridge (merged queue) | %s | %s | %s | %s | %s | %s |\n' "${R[B_bridge_n]}" "${R[B_bridge_p50]}" \
                "${R[B_bridge_p90]}" "${R[B_bridge_p99]}" "${R[B_bridge_p999]}" "${R[B_bridge_max]}"
            printf '| added by the bridge | | %s | %s | %s | %s | |\n' \
                "$(calc 'printf "%.2f", a - b' "${R[B_bridge_p50]}" "${R[B_direct_p50]}")" \
                "$(calc 'printf "%.2f", a - b' "${R[B_bridge_p90]}" "${R[B_direct_p90]}")" \
                "$(calc 'printf "%.2f", a - b' "${R[B_bridge_p99]}" "${R[B_direct_p99]}")" \
                "$(calc 'printf "%.2f", a - b' "${R[B_bridge_p999]}" "${R[B_direct_p999]}")"
            printf '\nBridge during B: peak RSS %s MB; merged queue: %s; its own receipt-to-settle histogram (iotbridge_receipt_to_settle_seconds: from the batch reaching the bridge to the upstream accept, sink confirmation and claim record included): %s.\n' \
                "${R[B_rss]}" "${R[B_bridge_check]}" "${R[B_settle]}"
        fi
        if [[ -n "${R[D_per_message]:-}" ]]; then
            printf '\nAllocations (heaptrack, calls to malloc and friends): %s upstream deliveries, %s calls; %s deliveries, %s calls: **%s allocations per relayed message** (%s of them temporary, freed right after).\n' \
                "${R[D1_in]}" "${R[D1_calls]}" "${R[D2_in]}" "${R[D2_calls]}" "${R[D_per_message]}" "${R[D_temporary_per_message]}"
        fi
        printf '\nTargets:\n'
        if [[ -n "${R[A_secs]:-}" && -n "${R[S_secs]:-}" ]]; then
            local ratio
            ratio="$(calc 'printf "%.2f", a / b' "${R[A_rate_in]}" "${R[S_rate]}")"
            printf -- '- >= 1.5x Shovel (same backlog of %s in): %sx: %s\n' "${R[A_in]}" "$ratio" "$(verdict 'a >= 1.5' "$ratio")"
        fi
        if [[ -n "${R[A_secs]:-}" && -n "${R[C_secs]:-}" ]]; then
            local share
            share="$(calc 'printf "%d", 100 * a / b' "${R[A_rate_in]}" "${R[C_rate_in]}")"
            printf -- '- >= 60%% of the ceiling: %s%%: %s\n' "$share" "$(verdict 'a >= 60' "$share")"
        fi
        if [[ -n "${R[B_bridge_p99]:-}" ]]; then
            local added
            added="$(calc 'printf "%.2f", a - b' "${R[B_bridge_p99]}" "${R[B_direct_p99]}")"
            printf -- '- p99 added latency <= 5 ms: %s ms: %s\n' "$added" "$(verdict 'a <= 5' "$added")"
        fi
        if [[ -n "${R[W_fill_rss]:-}" ]]; then
            local worst
            worst="$(calc 'printf "%.1f", (a > b ? a : b)' "${R[W_fill_rss]}" "${R[W_run_rss]:-0}")"
            printf -- '- RSS <= 100 MB with %s entries in the window: %s MB: %s\n' "$WINDOW_COUNT" "$worst" "$(verdict 'a <= 100' "$worst")"
        fi
    } > "$REPORT"
}

# D: allocations per relayed message. heaptrack (LD_PRELOAD) counts every call to malloc and friends; two
# runs move A and 2A distinct messages (with the overlap) and the difference of their counts, divided by the
# difference of the upstream deliveries, is the cost per message: start-up, shutdown and the fixed cost of
# the window cancel out. heaptrack slows the process down; the counts do not depend on speed.
scenario_allocations() {
    section_begin "D: allocations per relayed message (heaptrack), $ALLOC_COUNT and $(( 2 * ALLOC_COUNT )) distinct"
    command -v heaptrack > /dev/null || die "heaptrack is not installed (apt-get install heaptrack)"
    local run count p dir sent calls temporary
    for run in 1 2; do
        count=$(( ALLOC_COUNT * run ))
        p="bb$$d$run"; dir="$RAW/D$run"
        mkdir -p "$dir"
        queues "$p-src-a" "$p-src-b" "$p-merged"
        fill_amqp10 "$p-src-a" "$p-src-b" "$count" "$OVERLAP" "d$run" "D$run"
        sent=$(( $(json_field "$RAW/D$run-fill-0.json" 'd["sent"]') + $(json_field "$RAW/D$run-fill-1.json" 'd["sent"]') ))
        write_bridge_config "$dir" "$p-src-a" "$p-src-b" "$p-merged" 1000000
        BRIDGE_WRAPPER="heaptrack -o $dir/heaptrack" start_bridge "$dir"
        "$PY" "$PEER" wait-count 127.0.0.1 "$RABBITMQ_PORT" "$p-merged" "$count" --timeout 900 > "$dir/wait-count.json" \
            || die "D: merged queue incomplete: $(cat "$dir/wait-count.json")"
        "$PY" "$PEER" wait-status "$BRIDGE_HTTP" --settled "$sent" --timeout 300 > "$dir/status.json" \
            || die "D: the bridge did not settle all $sent deliveries"
        stop_bridge "$dir"
        heaptrack_print --print-peaks 0 --print-temporary 0 --print-leaks 0 --print-allocators 1 \
            "$dir"/heaptrack*.zst > "$dir/heaptrack.txt" 2>&1 || die "heaptrack_print failed: $(tail -n 3 "$dir/heaptrack.txt")"
        calls="$(awk -F': ' '/^calls to allocation functions:/ { split($2, v, " "); print v[1] }' "$dir/heaptrack.txt")"
        temporary="$(awk -F': ' '/^temporary memory allocations:/ { split($2, v, " "); print v[1] }' "$dir/heaptrack.txt")"
        [[ "$calls" =~ ^[0-9]+$ ]] || die "D: no allocation count in $dir/heaptrack.txt"
        R[D${run}_in]="$sent"; R[D${run}_calls]="$calls"; R[D${run}_temporary]="${temporary:-0}"
        log "D$run: $sent upstream deliveries, $calls allocation calls ($temporary temporary)"
        delete_queues
    done
    R[D_per_message]="$(calc 'printf "%.1f", (a - b) / (c)' "${R[D2_calls]}" "${R[D1_calls]}" "$(( R[D2_in] - R[D1_in] ))")"
    R[D_temporary_per_message]="$(calc 'printf "%.1f", (a - b) / (c)' "${R[D2_temporary]}" "${R[D1_temporary]}" "$(( R[D2_in] - R[D1_in] ))")"
    log "D: ${R[D_per_message]} allocations per upstream delivery (${R[D_temporary_per_message]} temporary)"
    section_end
}

# ---------------------------------------------------------------------------------------------- main

prepare() {
    section_begin "tools"
    if (( INSTALL == 1 )); then
        ensure_apt_packages "${APT_PACKAGES[@]}"
    fi
    "$PY" -c 'import proton, pika' || die "$PY cannot import proton and pika (python3-qpid-proton, python3-pika)"
    if [[ " $SCENARIOS " == *" ceiling "* ]]; then
        mkdir -p "$BIN_DIR"
        rm -f "$BIN_DIR/send-bench" "$BIN_DIR/receive-bench"
        PROTON_BENCH_CFLAGS="-DBODY_SIZE=$BODY_SIZE -DCREDIT=$CREDIT" build_proton_bench_examples "$BIN_DIR" "$PATCH_FILE"
    fi
    section_end
    section_begin "iotbridge (release)"
    if [[ -n "$IOTBRIDGE_GIVEN" ]]; then
        IOTBRIDGE="$(cd "$(dirname "$IOTBRIDGE_GIVEN")" && pwd)/$(basename "$IOTBRIDGE_GIVEN")"
        IOTBRIDGE_COMMIT="given binary, checkout at $(git -C "$REPO_ROOT" rev-parse --short HEAD)"
    else
        # The committed HEAD, exported: edits in progress in a shared checkout must not leak into the figures.
        local src="$REPO_ROOT/.build-bench-src" head scratch="$SCRATCH_PATH"
        [[ "$scratch" == /* ]] || scratch="$REPO_ROOT/$scratch"
        head="$(git -C "$REPO_ROOT" rev-parse HEAD)"
        if [[ "$(cat "$src/COMMIT" 2>/dev/null || true)" != "$head" ]]; then
            if (( BUILD == 0 )); then
                [[ -f "$src/COMMIT" ]] || die "--no-build: no exported source in $src yet"
                log "--no-build: the binary is of $(cat "$src/COMMIT"), HEAD is $head"
                head="$(cat "$src/COMMIT")"
            else
                log "exporting $head (git archive) to $src"
                rm -rf "$src"
                mkdir -p "$src"
                git -C "$REPO_ROOT" archive "$head" | tar -x -C "$src"
                # Pinned dependency versions (not tracked): lets SwiftPM resolve from its cache, offline.
                [[ ! -f "$REPO_ROOT/Package.resolved" ]] || cp "$REPO_ROOT/Package.resolved" "$src/"
                printf '%s\n' "$head" > "$src/COMMIT"
            fi
        fi
        if (( BUILD == 1 )); then
            (cd "$src" && swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product iotbridge) \
                || die "release build failed"
        fi
        IOTBRIDGE="$(cd "$src" && swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/iotbridge"
        IOTBRIDGE_COMMIT="$(git -C "$REPO_ROOT" rev-parse --short "$head")"
    fi
    [[ -x "$IOTBRIDGE" ]] || die "no iotbridge binary at $IOTBRIDGE"
    "$IOTBRIDGE" run --help > /dev/null 2>&1 || die "$IOTBRIDGE has no 'run' command"
    log "iotbridge: $IOTBRIDGE"
    section_end
}

start_broker() {
    section_begin "rabbitmq"
    rabbitmq_start "$RAW/rabbitmq"
    URL="amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT"
    # rabbitmq.sh enables rabbitmq_amqp1_0 only; Shovel is enabled online (same enabled-plugins file).
    (
        # shellcheck disable=SC1091
        source "$RAW/rabbitmq/env.sh"
        "$RABBITMQ_LIBBIN/rabbitmq-plugins" -n "$RABBITMQ_NODE" enable rabbitmq_shovel
    ) > "$RAW/rabbitmq-plugins.log" 2>&1 || die "could not enable rabbitmq_shovel: $(tail -n 5 "$RAW/rabbitmq-plugins.log")"
    log "rabbitmq: plugins $(cat "$RAW/rabbitmq/enabled_plugins")"
    section_end
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n "$BRIDGE_PID" ]]; then stop_pid "$BRIDGE_PID"; fi
    if [[ -n "$BRIDGE_TIME_PID" ]]; then wait "$BRIDGE_TIME_PID" 2>/dev/null; fi
    if [[ -n "$RABBITMQ_DIR" ]]; then
        local dir="$RABBITMQ_DIR"
        rabbitmq_stop
        rm -rf "$dir"
    fi
    exit "$status"
}

ARGS_TEXT=""

main() {
    ARGS_TEXT="$*"
    parse_args "$@"
    RUN_ID="bridge-$(date -u +%Y%m%dT%H%M%S)"
    RAW="$BENCH_DIR/$RUN_ID"
    REPORT="$BENCH_DIR/$RUN_ID.md"
    mkdir -p "$RAW"
    exec > >(tee -a "$RAW/run.log") 2>&1
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    prepare
    local load_before scenario
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    start_broker
    for scenario in $SCENARIOS; do
        case "$scenario" in
            bridge) scenario_bridge ;;
            shovel) scenario_shovel ;;
            ceiling) scenario_ceiling ;;
            latency) scenario_latency ;;
            window) scenario_window ;;
            allocations) scenario_allocations ;;
            *) die "unknown scenario $scenario (bridge shovel ceiling latency window allocations)" ;;
        esac
    done
    write_report "$load_before"
    printf '\n' >&2
    cat "$REPORT"
    log "report: $REPORT; raw output: $RAW/"
}

# Sourced (e.g. by an experiment that reuses the scenario functions): define only.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
