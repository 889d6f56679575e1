#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# A burst of device.migrated events delivered end to end to an AMQP sink (issue 10, item 6).
#
#   Benchmarks/registry/burst.sh [EVENTS] [IOTBRIDGE_BINARY]     # defaults: 500000, .build/debug/iotbridge
#
# 1. Benchmarks/RegistryBench fills a state file: EVENTS devices and EVENTS device.migrated events in the outbox.
# 2. A private RabbitMQ node (scripts/lib/rabbitmq.sh) on a free loopback port.
# 3. `iotbridge events replay --from 0 --config bridge.yaml` sends the whole outbox to an amqp events sink
#    (/queue/NAME): the delivery loop's code path (batches of 1,000, each event confirmed by the broker before
#    the next batch). Timed with /usr/bin/time: events/s end to end, peak RSS.
# 4. The ceiling in the same run: Proton's C `send` example putting EVENTS messages on another queue of the
#    same broker (its ~20-byte map body, not a 600-byte event: an upper bound, not a like-for-like).
# Scratch: scripts/.work/registry-burst-PID (removed at exit, the node stopped).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin"
events="${1:-500000}"
binary="${2:-$REPO_ROOT/.build/debug/iotbridge}"
# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
work="$WORK_DIR/registry-burst-$$"
mkdir -p "$work"
cleanup() { rabbitmq_stop || true; rm -rf "$work"; }
trap cleanup EXIT

swift build --package-path "$REPO_ROOT/Benchmarks/RegistryBench" -c release --product RegistryBench >&2
"$REPO_ROOT/Benchmarks/RegistryBench/.build/release/RegistryBench" "$work/state.sqlite" "$events"

rabbitmq_start "$work/rabbitmq"
export RABBIT_PW=guest
cat > "$work/bridge.yaml" <<YAML
state: $work/state.sqlite
upstreams:
  - { name: unused, url: "amqp://127.0.0.1:$RABBITMQ_PORT//queue/unused", auth: { kind: plain, user: guest, password: "\${RABBIT_PW}" } }
sinks:
  - { name: unused, kind: jsonl, path: $work/unused.jsonl }
events:
  sinks:
    - { name: burst, kind: amqp, url: "amqp://127.0.0.1:$RABBITMQ_PORT//queue/burst", auth: { kind: plain, user: guest, password: "\${RABBIT_PW}" } }
YAML
echo "== iotbridge events replay → RabbitMQ /queue/burst: $events events ($binary)"
start=$(date +%s.%N)
/usr/bin/time -f "peak RSS %M KB" "$binary" events replay --from 0 --config "$work/bridge.yaml"
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d events/s' % (s, int(sys.argv[3])/s))" "$start" "$end" "$events"
"$RABBITMQCTL" -n "$RABBITMQ_NODE" -q list_queues name messages | grep burst || true

if build_proton_examples "$BIN_DIR" >/dev/null 2>&1 && [[ -x "$BIN_DIR/send" ]]; then
    echo "== ceiling: Proton's C send → RabbitMQ /queue/ceiling: $events messages"
    start=$(date +%s.%N)
    "$BIN_DIR/send" 127.0.0.1 "$RABBITMQ_PORT" /queue/ceiling "$events" >/dev/null
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('%.2f s, %d messages/s' % (s, int(sys.argv[3])/s))" "$start" "$end" "$events"
fi
