#!/bin/sh
# ===----------------------------------------------------------------------=== #
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
# ===----------------------------------------------------------------------=== #
# The issue-4 migration benchmark (200 consumer groups, 1,000 rules x 3 actions, 500 parsers): plan time and
# memory, run time, against the loopback OpenAPI server.
#   Tests/MigrationTests/Support/benchmark.sh /path/to/iotbridge [DIVISOR]
set -eu
BIN=${1:?usage: benchmark.sh IOTBRIDGE_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
cd "$WORK"
/usr/bin/python3 "$HERE/make_benchmark_instance.py" bench.json "${2:-1}"
/usr/bin/python3 "$HERE/openapi_server.py" --key testid:testsecret > server.out 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 1
PORT=$(awk '/PORT/{print $2}' server.out)
# The legacy source instance lives in the server, as on the cloud.
curl -sf --data-binary @bench.json "http://127.0.0.1:$PORT/__seed?instance=" > /dev/null
TARGET="target: {kind: sim, regionId: cn-shanghai, iotInstanceId: iot-bench, endpoint: \"http://127.0.0.1:$PORT\", accessKeyId: testid, accessKeySecret: \"\${IOT_SECRET}\"}"
cat > live.yaml <<YAML
source: {kind: sim, regionId: cn-shanghai, iotInstanceId: "", endpoint: "http://127.0.0.1:$PORT", accessKeyId: testid, accessKeySecret: "\${IOT_SECRET}"}
$TARGET
YAML
cat > offline.yaml <<YAML
source: {kind: file, file: source-export.yaml}
$TARGET
YAML
export IOT_SECRET=testsecret
T="%e s wall, %U s user, %M KB max RSS"
/usr/bin/time -a -o times.txt -f "export (source over OpenAPI -> YAML): $T" "$BIN" instance export --config live.yaml --side source --out source-export.yaml
/usr/bin/time -a -o times.txt -f "plan (source from the YAML export):   $T" "$BIN" migrate plan --config offline.yaml --out offline-plan.yaml > /dev/null
/usr/bin/time -a -o times.txt -f "plan (source over OpenAPI):           $T" "$BIN" migrate plan --config live.yaml --out plan.yaml > /dev/null
echo "steps: $(grep -c '^- id:' plan.yaml), plan file $(wc -c < plan.yaml) bytes"
/usr/bin/time -a -o times.txt -f "run:                                  $T" "$BIN" migrate run --plan plan.yaml 2> run.err | tail -1
grep -v '^\[' run.err || true
/usr/bin/time -a -o times.txt -f "run again (all done):                 $T" "$BIN" migrate run --plan plan.yaml 2>/dev/null | tail -1
/usr/bin/time -a -o times.txt -f "verify:                               $T" "$BIN" migrate verify --plan plan.yaml | tail -1
/usr/bin/time -a -o times.txt -f "clean:                                $T" "$BIN" migrate clean --plan plan.yaml | tail -1
cat times.txt
echo "OpenAPI calls: $(curl -sf "http://127.0.0.1:$PORT/__state?instance=iot-bench" | /usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin)["calls"]; print(sum(c.values()))')"
