#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# The instance registry with the platform's 500,000 devices per product (issue 10, item 6).
#
#   Benchmarks/registry/run.sh [DEVICES] [IOTBRIDGE_BINARY]      # defaults: 500000, .build/debug/iotbridge
#
# 1. Benchmarks/RegistryBench (release build, a package of its own): seed DEVICES in batches of 10,000, look each
#    up once in random order timing every call, then commit a burst of DEVICES device.migrated events with their
#    registry rows, 500 per transaction. One JSON line of figures.
# 2. The baseline, in the same run on the same file: Python's sqlite3 (the same SQLite library) doing the same
#    lookups with one prepared statement — what a hand-written subscriber table gets.
# 3. `iotbridge registry import --csv` of DEVICES rows end to end (CSV parse + seed), /usr/bin/time.
# Scratch files: scripts/.work/registry-bench-PID (removed at exit).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
devices="${1:-500000}"
binary="${2:-$root/.build/debug/iotbridge}"
work="$root/scripts/.work/registry-bench-$$"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

swift build --package-path "$root/Benchmarks/RegistryBench" -c release --product RegistryBench >&2
echo "== RegistryBench (release): $devices devices"
"$root/Benchmarks/RegistryBench/.build/release/RegistryBench" "$work/registry.sqlite" "$devices"

echo "== baseline: Python sqlite3 on the same file, same lookups"
/usr/bin/python3 - "$work/registry.sqlite" "$devices" <<'PY'
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
print('{"lookupsPerSecond":%d,"lookupP50Ms":%.4f,"lookupP99Ms":%.4f,"lookupMaxMs":%.3f}' % (
    n / sum(latencies), latencies[n // 2] * 1000, latencies[int(n * 0.99)] * 1000, latencies[-1] * 1000))
PY

echo "== iotbridge registry import --csv: $devices devices ($binary)"
/usr/bin/python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('productKey,deviceName,iotInstanceId\n')
    for i in range(int(sys.argv[2])): f.write('a1B2c3D4e5F,device-%d,\n' % i)
" "$work/devices.csv" "$devices"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$binary" registry import --csv "$work/devices.csv" --state "$work/import.sqlite"
"$binary" registry lookup a1B2c3D4e5F/device-$((devices - 1)) --state "$work/import.sqlite" --json
