#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# A burst of device.migrated events committed and delivered end to end to an AMQP sink (issue 10, item 6).
#
#   Benchmarks/registry/burst.sh [EVENTS] [IOTBRIDGE_BINARY]     # defaults: 500000, .build/release/iotbridge
#   (build the binary first: swift build -c release --product iotbridge)
#
# On a private RabbitMQ node (scripts/lib/rabbitmq.sh) on a free loopback port, with an amqp events sink
# (/queue/burst) in bridge.yaml:
# 1. Each phase alone. Benchmarks/RegistryBench fills a state file: EVENTS devices, then EVENTS device.migrated
#    events committed with their registry rows, 500 per transaction (its eventCommitsPerSecond). Then
#    `iotbridge events deliver --config bridge.yaml` delivers the whole outbox through the delivery loop
#    (OutboxDelivery: batches of 500, pipelined, each marked delivered once the broker confirmed it), timed with
#    /usr/bin/time: events/s delivered, peak RSS.
# 2. End to end, both at once, as in a bridge: RegistryBench on a fresh file, and `iotbridge events deliver`
#    in a loop beside it from the moment its burst begins (each run delivers what is committed, exits when it
#    caught up, and the next starts) until EVENTS are delivered: EVENTS / (last delivery - first commit).
# 3. The ceiling in the same run: Proton's C `send` example putting EVENTS messages on another queue of the
#    same broker (its ~20-byte map body, not a 600-byte event: an upper bound, not a like-for-like).
# The load average is printed before and after (a shared machine's figures depend on it).
# Scratch: scripts/.work/registry-burst-PID (removed at exit, the node stopped).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin"
events="${1:-500000}"
binary="${2:-$REPO_ROOT/.build/release/iotbridge}"
# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
work="$WORK_DIR/registry-burst-$$"
mkdir -p "$work"
bench_pid=""
cleanup() {
    [[ -z "$bench_pid" ]] || kill "$bench_pid" 2>/dev/null || true
    rabbitmq_stop || true
    rm -rf "$work"
}
trap cleanup EXIT

[[ -x "$binary" ]] || die "no iotbridge at $binary (swift build -c release --product iotbridge)"
swift build --package-path "$REPO_ROOT/Benchmarks/RegistryBench" -c release --product RegistryBench >&2
bench="$REPO_ROOT/Benchmarks/RegistryBench/.build/release/RegistryBench"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

rabbitmq_start "$work/rabbitmq"
export RABBIT_PW=guest
# bridge.yaml STATE QUEUE
write_config() {
    cat > "$work/bridge-$2.yaml" <<YAML
state: $1
upstreams:
  - { name: unused, url: "amqp://127.0.0.1:$RABBITMQ_PORT//queue/unused", auth: { kind: plain, user: guest, password: "\${RABBIT_PW}" } }
sinks:
  - { name: unused, kind: jsonl, path: $work/unused.jsonl }
events:
  sinks:
    - { name: burst, kind: amqp, url: "amqp://127.0.0.1:$RABBITMQ_PORT//queue/$2", auth: { kind: plain, user: guest, password: "\${RABBIT_PW}" } }
YAML
}
rate() {
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d events/s' % (s, int(sys.argv[3])/s))" "$@"
}

echo "== 1. each phase alone: RegistryBench (release), $events devices and events"
"$bench" "$work/alone.sqlite" "$events"
write_config "$work/alone.sqlite" burst
echo "== iotbridge events deliver → RabbitMQ /queue/burst: $events events ($binary)"
start=$(date +%s.%N)
/usr/bin/time -f "peak RSS %M KB" "$binary" events deliver --config "$work/bridge-burst.yaml"
end=$(date +%s.%N)
rate "$start" "$end" "$events"
"$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages | grep burst || true

echo "== 2. end to end: RegistryBench committing and iotbridge events deliver beside it"
write_config "$work/both.sqlite" both
REGISTRY_BENCH_BURST_MARK="$work/burst-began" "$bench" "$work/both.sqlite" "$events" > "$work/both.json" &
bench_pid=$!
while [[ ! -e "$work/burst-began" ]]; do
    kill -0 "$bench_pid" 2>/dev/null || die "RegistryBench ended before its burst"
    sleep 0.05
done
start=$(date +%s.%N)
delivered=0
while (( delivered < events )); do
    count=$("$binary" events deliver --config "$work/bridge-both.yaml" 2>&1 | sed -n 's/^\([0-9]*\) event(s) delivered$/\1/p')
    [[ -n "$count" ]] || die "iotbridge events deliver failed"
    delivered=$((delivered + count))
done
end=$(date +%s.%N)
wait "$bench_pid"
bench_pid=""
echo "RegistryBench beside it: $(cat "$work/both.json")"
rate "$start" "$end" "$events"
"$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages | grep both || true

if build_proton_examples "$BIN_DIR" >/dev/null 2>&1 && [[ -x "$BIN_DIR/send" ]]; then
    echo "== ceiling: Proton's C send → RabbitMQ /queue/ceiling: $events messages"
    start=$(date +%s.%N)
    "$BIN_DIR/send" 127.0.0.1 "$RABBITMQ_PORT" /queue/ceiling "$events" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d messages/s' % (s, int(sys.argv[3])/s))" "$start" "$end" "$events"
fi
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
