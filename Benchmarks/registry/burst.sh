#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# A burst of device.migrated events committed and delivered end to end to an AMQP sink (issue 10, item 6), to
# three kinds of receiver in the same run, so that our own pipeline's figure shows apart from a broker's.
#
#   Benchmarks/registry/burst.sh [EVENTS] [IOTBRIDGE_BINARY] [BASELINE_BINARY]
#   (defaults: 500000, .build/release/iotbridge, none; build the binary first: swift build -c release --product
#   iotbridge). With a BASELINE_BINARY (e.g. a release build of an earlier commit) every delivery scenario (1, 2)
#   runs again with it right after, on the same brokers: the two side by side in one run.
#   BURST_SCENARIOS="rabbitmq rabbitmq-transient proton listener e2e-rabbitmq e2e-proton ceiling-durable ceiling"
#   (the default: all) picks scenarios.
#
# One private RabbitMQ node (scripts/lib/rabbitmq.sh, its defaults, the same for every scenario) and one Proton C
# example broker (in memory, no persistence), both on free loopback ports.
# 0. RegistryBench (release) fills a state file once: EVENTS devices, then EVENTS device.migrated events committed
#    with their registry rows, 500 per transaction (its eventCommitsPerSecond). Each delivery scenario gets a copy.
# 1. Delivery alone: `iotbridge events deliver` sends the whole outbox through the delivery loop (OutboxDelivery:
#    batches of 500, 4 in flight, each marked once confirmed), timed with /usr/bin/time (wall, CPU, peak RSS), to
#    rabbitmq            a durable RabbitMQ queue, durable messages (the broker confirms once they are on disk);
#    rabbitmq-transient  the same broker and settings, a non-durable queue (`durable: false` on the sink: RabbitMQ
#                        declares the queue transient and keeps its messages in memory): what persisting costs;
#    proton              the C example broker (accepts each message once it is in its in-memory queue);
#    listener            no broker: `iotbridge run` with a listener sink serving `migration-events`
#                        (migrationEvents: true) and Proton's C receive example (with the listener's login) taking
#                        EVENTS events; timed from the receiver's start to its exit; iotbridge's CPU from /proc.
# 2. End to end, as in a bridge: RegistryBench commits on a fresh file and `iotbridge events deliver` runs beside
#    it in a loop from the moment its burst begins (each run delivers what is committed, exits when it caught up,
#    the next starts) until EVENTS are delivered: EVENTS / (last delivery - first commit), to a durable RabbitMQ
#    queue (e2e-rabbitmq) and to the C broker (e2e-proton).
# 3. The broker alone: Proton's C `send` example putting EVENTS messages on another RabbitMQ queue, (ceiling-durable)
#    patched to send 600-byte durable messages to a durable queue, like for like with the events, and (ceiling)
#    stock: its ~20-byte non-durable body on a transient queue, an upper bound of the broker.
# The load average is printed before and after every scenario (a shared machine's figures depend on it).
# Scratch: scripts/.work/registry-burst-PID (removed at exit, the brokers and the bridge stopped).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin/registry-burst"
events="${1:-500000}"
binary="${2:-$REPO_ROOT/.build/release/iotbridge}"
baseline="${3:-}"
scenarios=" ${BURST_SCENARIOS:-rabbitmq rabbitmq-transient proton listener e2e-rabbitmq e2e-proton ceiling-durable ceiling} "
# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
work="$WORK_DIR/registry-burst-$$"
mkdir -p "$work"
bench_pid=""
broker_pid=""
bridge_pid=""
cleanup() {
    [[ -z "$bench_pid" ]] || kill "$bench_pid" 2>/dev/null || true
    stop_pid "$bridge_pid" || true
    stop_pid "$broker_pid" || true
    rabbitmq_stop || true
    rm -rf "$work"
}
trap cleanup EXIT
wants() { [[ "$scenarios" == *" $1 "* ]]; }
load() { echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

[[ -x "$binary" ]] || die "no iotbridge at $binary (swift build -c release --product iotbridge)"
[[ -z "$baseline" || -x "$baseline" ]] || die "no baseline iotbridge at $baseline"
swift build --package-path "$REPO_ROOT/Benchmarks/RegistryBench" -c release --product RegistryBench >&2
bench="$REPO_ROOT/Benchmarks/RegistryBench/.build/release/RegistryBench"

# The C examples: the stock broker and send, and receive with the benchmark's credit window and the listener's
# login (the same two patches as Benchmarks/listener/run.sh).
build_proton_examples "$BIN_DIR" >&2
mkdir -p "$BIN_DIR/src"
cp "$PROTON_EXAMPLES_SRC/receive.c" "$BIN_DIR/src/receive.c"
(cd "$BIN_DIR/src" && patch -s -p1 < <(sed -n '/^--- a\/receive.c/,$p' "$REPO_ROOT/Benchmarks/amqp/c-examples-bench.patch") \
    && patch -s -p1 < "$REPO_ROOT/Benchmarks/listener/receive-auth.patch") || die "could not patch receive.c"
# shellcheck disable=SC2046
gcc -O2 -g -Wall -DCREDIT=1000 -o "$BIN_DIR/receive-bench" -I "$PROTON_EXAMPLES_SRC" \
    $(pkg-config --cflags libqpid-proton) "$BIN_DIR/src/receive.c" $(pkg-config --libs libqpid-proton) -lpthread \
    || die "could not build receive-bench"

# The broker's own ceiling, like for like: send.c with the benchmark patch (a BODY_SIZE data section), each
# message marked durable, as events are…
cp "$PROTON_EXAMPLES_SRC/send.c" "$BIN_DIR/src/send.c"
(cd "$BIN_DIR/src" && patch -s -p1 < <(sed '/^--- a\/receive.c/,$d' "$REPO_ROOT/Benchmarks/amqp/c-examples-bench.patch")) \
    || die "could not patch send.c"
sed -i 's|pn_message_set_inferred(app->message, true);|&\n  pn_message_set_durable(app->message, true); /* iotbridge burst: durable, as events are */|' "$BIN_DIR/src/send.c"
# …and a durable target, as the amqp sink asks for: RabbitMQ then declares the queue durable (with the stock
# target it declares it transient and keeps even durable messages in memory only).
sed -i 's|pn_terminus_set_address(pn_link_target(l), app->amqp_address);|&\n     pn_terminus_set_durability(pn_link_target(l), PN_DELIVERIES);|' "$BIN_DIR/src/send.c"
grep -q pn_message_set_durable "$BIN_DIR/src/send.c" && grep -q PN_DELIVERIES "$BIN_DIR/src/send.c" \
    || die "could not make send.c send durable messages to a durable queue"
# shellcheck disable=SC2046
gcc -O2 -g -Wall -DBODY_SIZE=600 -o "$BIN_DIR/send-durable" -I "$PROTON_EXAMPLES_SRC" \
    $(pkg-config --cflags libqpid-proton) "$BIN_DIR/src/send.c" $(pkg-config --libs libqpid-proton) -lpthread \
    || die "could not build send-durable"

echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rabbitmq_start "$work/rabbitmq"
broker_port="$(free_port)"
(cd "$BIN_DIR" && exec ./broker 127.0.0.1 "$broker_port" > "$work/broker.log" 2>&1) &
broker_pid=$!
wait_for_port "$broker_port" 30 || die "the C broker did not listen: $(cat "$work/broker.log")"
export RABBIT_PW=guest BENCH_PW=bench

# write_config NAME STATE SINK_YAML: bridge-NAME.yaml with one events sink.
write_config() {
    cat > "$work/bridge-$1.yaml" <<YAML
state: $2
upstreams:
  - { name: unused, url: "amqp://127.0.0.1:$broker_port/unused-$1", credit: 10 }
sinks:
  - { name: unused, kind: jsonl, path: $work/unused.jsonl }
events:
  sinks:
    - $3
YAML
}
rabbit_sink() { echo "{ name: burst, kind: amqp, url: \"amqp://127.0.0.1:$RABBITMQ_PORT//queue/$1\", auth: { kind: plain, user: guest, password: \"\${RABBIT_PW}\" }, durable: $2 }"; }
proton_sink() { echo "{ name: burst, kind: amqp, url: \"amqp://127.0.0.1:$broker_port/$1\" }"; }
rate() {
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d events/s' % (s, int(sys.argv[3])/s))" "$@"
}
# Prints "W s wall, U+S CPU s, X us CPU per event, peak RSS M KB" from /usr/bin/time's "%e %U %S %M".
time_report() {
    python3 -c "import sys; e,u,s,m=map(float,open(sys.argv[1]).read().split()[-4:]); n=int(sys.argv[2]); print('%.2f s, %d events/s; CPU %.2f s (user %.2f, sys %.2f): %.1f us per event; peak RSS %d MB' % (e, n/e, u+s, u, s, (u+s)*1e6/n, m/1024))" "$@"
}
# CPU seconds (user + system) PID has used so far.
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }

echo "== 0. RegistryBench (release): $events devices, then $events events committed (commits alone)"
"$bench" "$work/filled.sqlite" "$events"
load

# copy_filled NAME: NAME.sqlite, a copy of the filled state file (with its WAL, if any).
copy_filled() {
    local suffix
    rm -f "$work/$1.sqlite" "$work/$1.sqlite-wal" "$work/$1.sqlite-shm"
    for suffix in "" -wal; do
        [[ ! -e "$work/filled.sqlite$suffix" ]] || cp "$work/filled.sqlite$suffix" "$work/$1.sqlite$suffix"
    done
}
# deliver NAME SINK_YAML: iotbridge events deliver of a copy of the filled outbox.
deliver() {
    copy_filled "$1"
    write_config "$1" "$work/$1.sqlite" "$2"
    /usr/bin/time -o "$work/$1.time" -f "%e %U %S %M" "$binary" events deliver --config "$work/bridge-$1.yaml"
    time_report "$work/$1.time" "$events"
    load
}
# end_to_end NAME SINK_YAML: RegistryBench committing and iotbridge events deliver in a loop beside it.
end_to_end() {
    rm -f "$work/$1.sqlite" "$work/$1.sqlite-wal" "$work/$1.sqlite-shm" "$work/$1-burst-began"
    write_config "$1" "$work/$1.sqlite" "$2"
    REGISTRY_BENCH_BURST_MARK="$work/$1-burst-began" "$bench" "$work/$1.sqlite" "$events" > "$work/$1.json" &
    bench_pid=$!
    while [[ ! -e "$work/$1-burst-began" ]]; do
        kill -0 "$bench_pid" 2>/dev/null || die "RegistryBench ended before its burst"
        sleep 0.05
    done
    local start end delivered=0 count runs=0
    start=$(date +%s.%N)
    while (( delivered < events )); do
        count=$("$binary" events deliver --config "$work/bridge-$1.yaml" 2>&1 | sed -n 's/^\([0-9]*\) event(s) delivered$/\1/p')
        [[ -n "$count" ]] || die "iotbridge events deliver failed"
        delivered=$((delivered + count))
        runs=$((runs + 1))
    done
    end=$(date +%s.%N)
    wait "$bench_pid"
    bench_pid=""
    echo "RegistryBench beside it: $(cat "$work/$1.json")"
    echo "$runs runs of events deliver"
    rate "$start" "$end" "$events"
    load
}
# delete_queue NAME: drops a RabbitMQ queue, so that every scenario starts on the same broker state.
delete_queue() { "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q delete_queue "$1" > /dev/null 2>&1 || true; }

# run_scenarios LABEL: the delivery scenarios with $binary.
run_scenarios() {
    echo "######## iotbridge$1: $binary"
    if wants rabbitmq; then
        echo "== 1a. events deliver -> RabbitMQ, durable queue, durable messages"
        deliver rabbitmq "$(rabbit_sink burst-durable true)"
        "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages durable | grep burst-durable || true
        delete_queue burst-durable
    fi
    if wants rabbitmq-transient; then
        echo "== 1b. events deliver -> RabbitMQ, the same broker, messages sent non-durable (durable: false)"
        deliver rabbitmq-transient "$(rabbit_sink burst-transient false)"
        "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages durable | grep burst-transient || true
        delete_queue burst-transient
    fi
    if wants proton; then
        echo "== 1c. events deliver -> Proton's C example broker (in memory)"
        deliver proton "$(proton_sink burst)"
    fi
    if wants listener; then
        echo "== 1d. iotbridge run, listener sink migration-events -> Proton C receive (credit 1000), no broker"
        copy_filled listener
        listen_port="$(free_port)"
        cat > "$work/bridge-listener.yaml" <<YAML
state: $work/listener.sqlite
upstreams:
  - { name: unused, url: "amqp://127.0.0.1:$broker_port/unused-listener", credit: 10 }
sinks:
  - name: backends
    kind: listener
    listen: 127.0.0.1:$listen_port
    allowInsecure: true
    migrationEvents: true
    consumerGroups: [ { id: cg-bench, users: [ { user: bench, password: "\${BENCH_PW}" } ] } ]
deadLetter: { kind: jsonl, path: $work/dead-letter.jsonl }
YAML
        "$binary" run --config "$work/bridge-listener.yaml" --quiet > "$work/bridge.log" 2>&1 &
        bridge_pid=$!
        for _ in $(seq 300); do
            grep -q "bridge started" "$work/bridge.log" && break
            pid_alive "$bridge_pid" || die "the bridge exited: $(tail -n 5 "$work/bridge.log")"
            sleep 0.1
        done
        wait_for_port "$listen_port" 30 || die "the listener did not listen: $(tail -n 5 "$work/bridge.log")"
        cpu0="$(cpu_of "$bridge_pid")"
        start=$(date +%s.%N)
        BENCH_USER=bench BENCH_PASSWORD=bench "$BIN_DIR/receive-bench" 127.0.0.1 "$listen_port" migration-events "$events" \
            > /dev/null 2> "$work/receive.log" || die "receive-bench failed: $(tail -n 5 "$work/receive.log")"
        end=$(date +%s.%N)
        cpu1="$(cpu_of "$bridge_pid")"
        rate "$start" "$end" "$events"
        python3 -c "import sys; c=float(sys.argv[2])-float(sys.argv[1]); print('iotbridge CPU %.2f s: %.1f us per event' % (c, c*1e6/int(sys.argv[3])))" "$cpu0" "$cpu1" "$events"
        load
        stop_pid "$bridge_pid"
        bridge_pid=""
    fi

    if wants e2e-rabbitmq; then
        echo "== 2a. end to end: RegistryBench committing, iotbridge events deliver beside it -> RabbitMQ durable queue"
        end_to_end e2e-rabbitmq "$(rabbit_sink both true)"
        "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages | grep both || true
        delete_queue both
    fi
    if wants e2e-proton; then
        echo "== 2b. end to end: RegistryBench committing, iotbridge events deliver beside it -> the C broker"
        end_to_end e2e-proton "$(proton_sink both)"
    fi
}
run_scenarios ""
if [[ -n "$baseline" ]]; then
    binary="$baseline"
    run_scenarios " (baseline)"
fi

if wants ceiling-durable; then
    echo "== 3a. the broker alone, like for like: Proton's C send, 600-byte durable messages -> RabbitMQ durable queue"
    start=$(date +%s.%N)
    "$BIN_DIR/send-durable" 127.0.0.1 "$RABBITMQ_PORT" /queue/ceiling-durable "$events" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d messages/s' % (s, int(sys.argv[3])/s))" "$start" "$end" "$events"
    "$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages durable | grep ceiling-durable || true
    load
fi
if wants ceiling; then
    echo "== 3b. ceiling: Proton's C send (stock) -> RabbitMQ /queue/ceiling: $events messages"
    start=$(date +%s.%N)
    "$BIN_DIR/send" 127.0.0.1 "$RABBITMQ_PORT" /queue/ceiling "$events" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d messages/s' % (s, int(sys.argv[3])/s))" "$start" "$end" "$events"
    load
fi
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
