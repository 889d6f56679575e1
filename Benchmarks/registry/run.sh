#!/usr/bin/env bash
# Benchmarks/registry/run.sh: the instance registry with the platform's 500,000 devices per product (issue 10).
#
#   Benchmarks/registry/run.sh [--devices N] [--debug]
#
# 1. RegistryMeasurement (Tests/EventsTests): seeds N devices in batches of 10,000 (the work of
#    `registry import`), then looks each up once in random order, timing every call: lookups/s, p50/p99/max,
#    file size. Release build (`swift test -c release`, scratch path .build-release) unless --debug.
# 2. The baseline, on the same file in the same run: Python's sqlite3 (the same SQLite library) doing the same
#    lookups with a prepared statement; what a hand-written subscriber table gives.
# 3. `iotbridge registry import --csv` of N devices end to end (CSV parse + seed), timed with /usr/bin/time.
# Scratch files go to scripts/.work/registry-bench-PID.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEVICES=500000
CONFIG=release
SCRATCH="$REPO_ROOT/.build-release"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --devices) DEVICES="$2"; shift 2 ;;
        --debug) CONFIG=debug; SCRATCH="$REPO_ROOT/.build"; shift ;;
        *) echo "error: unknown option $1" >&2; exit 2 ;;
    esac
done
WORK="$REPO_ROOT/scripts/.work/registry-bench-$$"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cd "$REPO_ROOT"

echo "== RegistryMeasurement ($CONFIG, $DEVICES devices)"
IOTBRIDGE_MEASURE=1 IOTBRIDGE_MEASURE_DEVICES="$DEVICES" IOTBRIDGE_MEASURE_STATE="$WORK/registry.sqlite" \
    swift test -c "$CONFIG" --scratch-path "$SCRATCH" --filter RegistryMeasurement 2>&1 | grep -A4 "registry measurement"

echo "== baseline: Python sqlite3, same file, same lookups"
/usr/bin/python3 - "$WORK/registry.sqlite" "$DEVICES" <<'PY'
import random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
names = ["device-%d" % i for i in range(n)]
random.shuffle(names)
latencies = []
for name in names:
    start = time.perf_counter()
    row = db.execute("SELECT iotInstanceId FROM registry WHERE productKey = ? AND deviceName = ?",
                     ("a1B2c3D4e5F", name)).fetchone()
    latencies.append(time.perf_counter() - start)
    assert row is not None
latencies.sort()
total = sum(latencies)
print("  python sqlite3: %d lookups/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (
    n / total, latencies[n // 2] * 1000, latencies[int(n * 0.99)] * 1000, latencies[-1] * 1000))
PY

echo "== iotbridge registry import --csv ($DEVICES devices)"
BIN="$SCRATCH/$CONFIG/iotbridge"
[[ -x "$BIN" ]] || swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product iotbridge >/dev/null
/usr/bin/python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('productKey,deviceName,iotInstanceId\n')
    for i in range(int(sys.argv[2])): f.write('a1B2c3D4e5F,device-%d,\n' % i)
" "$WORK/devices.csv" "$DEVICES"
/usr/bin/time -f "  wall %e s, peak RSS %M KB" "$BIN" registry import --csv "$WORK/devices.csv" --state "$WORK/import.sqlite"
ls -l "$WORK/import.sqlite" | awk '{printf "  file %.1f MB\n", $5 / 1e6}'
