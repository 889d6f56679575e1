#!/bin/sh
# ===----------------------------------------------------------------------=== #
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
# ===----------------------------------------------------------------------=== #
# The issue-4 migration benchmark: plan time and memory, run time against the loopback OpenAPI server.
#   Tests/MigrationTests/Support/benchmark.sh /path/to/iotbridge
set -eu
BIN=${1:?usage: benchmark.sh IOTBRIDGE_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
cd "$WORK"
/usr/bin/python3 "$HERE/make_benchmark_instance.py" source.yaml
/usr/bin/python3 "$HERE/openapi_server.py" --key testid:testsecret > server.out 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 1
PORT=$(awk '/PORT/{print $2}' server.out)
cat > migration.yaml <<YAML
source: {kind: file, file: source.yaml}
target:
  kind: sim
  regionId: cn-shanghai
  iotInstanceId: iot-bench
  endpoint: http://127.0.0.1:$PORT
  accessKeyId: testid
  accessKeySecret: \${IOT_TARGET_SECRET}
YAML
export IOT_TARGET_SECRET=testsecret
T="%e s wall, %U s user, %M KB max RSS"
/usr/bin/time -f "plan:   $T" "$BIN" migrate plan --config migration.yaml --out plan.yaml > /dev/null
echo "steps:  $(grep -c '^- id:' plan.yaml)"
/usr/bin/time -f "run:    $T" "$BIN" migrate run --plan plan.yaml 2> run.err | tail -1
tail -1 run.err
/usr/bin/time -f "rerun:  $T" "$BIN" migrate run --plan plan.yaml 2>/dev/null | tail -1
/usr/bin/time -f "verify: $T" "$BIN" migrate verify --plan plan.yaml | tail -1
/usr/bin/time -f "clean:  $T" "$BIN" migrate clean --plan plan.yaml | tail -1
