#!/bin/sh
# ===----------------------------------------------------------------------=== #
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
# ===----------------------------------------------------------------------=== #
# `migrate run` against a `kind: file` target (issue 13): ~1,640 steps from the issue-4 benchmark instance
# (DIVISOR 2: 100 consumer groups, 500 rules x 3 actions, 250 parsers), source and target both export files.
# Runs this build's binary and, side by side in the same run, a baseline binary (e.g. main's, which rewrote the
# whole file on every call) for at most BASELINE_SECONDS, reporting how far it got.
#   Benchmarks/migration-file/run.sh IOTBRIDGE_BINARY [BASELINE_BINARY] [BASELINE_SECONDS]
set -eu
BIN=${1:?usage: run.sh IOTBRIDGE_BINARY [BASELINE_BINARY] [BASELINE_SECONDS]}
BASELINE=${2:-}
LIMIT=${3:-120}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d /tmp/iotbridge-bench-file-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
/usr/bin/python3 "$ROOT/Tests/MigrationTests/Support/make_benchmark_instance.py" source.json 2
T="%e s wall, %U s user, %S s sys, %M KB max RSS"
run_one() { # NAME BINARY SECONDS
    mkdir "$1" && cp source.json "$1/" && cd "$1"
    printf 'source: {kind: file, file: source.json}\ntarget: {kind: file, file: target.yaml, create: true, regionId: cn-shanghai, iotInstanceId: iot-bench}\n' > migration.yaml
    "$2" migrate plan --config migration.yaml --out plan.yaml > /dev/null
    steps=$(grep -c '^- id:' plan.yaml)
    status=0
    /usr/bin/time -o time.txt -f "$T" timeout "$3" "$2" migrate run --plan plan.yaml > run.out 2> run.err || status=$?
    done_steps=$("$2" migrate status --plan plan.yaml | grep -c ' done ' || true)
    echo "$1: migrate run of $steps steps: $(cat time.txt | tail -1); exit $status; $done_steps steps done"
    cd ..
}
run_one this "$BIN" 600
if [ -n "$BASELINE" ]; then run_one baseline "$BASELINE" "$LIMIT"; fi
