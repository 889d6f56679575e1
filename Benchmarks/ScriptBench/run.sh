#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# Builds the parser-script benchmark in release mode and runs it pinned to one core.
#
#   Benchmarks/ScriptBench/run.sh [messages-per-run] [runs]     # defaults: 500000 3
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
swift build --package-path "$here" -c release --product ScriptBench >&2
exec taskset -c "${BENCH_CPU:-0}" "$here/.build/release/ScriptBench" "$@"
