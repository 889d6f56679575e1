#!/usr/bin/env bash
#===----------------------------------------------------------------------===#
#
# This source file is part of the iotbridge open source project
# SPDX-License-Identifier: Apache-2.0
#
#===----------------------------------------------------------------------===#
#
# Builds a libFuzzer target of the Fuzz/ package (release, -sanitize=fuzzer,address) and runs it.
#
# Why one combined -sanitize=fuzzer,address for Swift: swiftc keeps only the LAST -sanitize= flag, so
# SwiftPM's `--sanitize fuzzer --sanitize address` silently drops the coverage instrumentation of Swift code
# (libFuzzer then runs blind: "no interesting inputs were found"). Checked with Swift 6.3.1.
#
#   scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   scripts/fuzz.sh RuleSQLParser 600
#
# Targets are the executable targets of Fuzz/Package.swift. The seed corpus is Fuzz/corpus/TARGET (checked
# in); the growing corpus and any crash reproducers go to .build-fuzz-work/ (not checked in). Exit status is
# libFuzzer's: 0 when no crash was found in the time given.
set -euo pipefail

target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags...]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))

root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${FUZZ_SCRATCH_PATH:-$root/.build-fuzz}"
work="${FUZZ_WORK_PATH:-$root/.build-fuzz-work}/corpus/$target"
artifacts="${FUZZ_WORK_PATH:-$root/.build-fuzz-work}/artifacts/$target/"


swift build \
    --package-path "$root/Fuzz" \
    --scratch-path "$scratch" \
    -c release \
    --sanitize fuzzer \
    -Xswiftc -sanitize=fuzzer,address \
    --product "$target"

mkdir -p "$work" "$artifacts"
seeds=()
if [ -d "$root/Fuzz/corpus/$target" ]; then
    seeds+=("$root/Fuzz/corpus/$target")
fi

echo "fuzzing $target for ${seconds}s (corpus $work, crashes in $artifacts)" >&2
# The Swift backtracer and ASan both want the crash; let ASan report it.
SWIFT_BACKTRACE=enable=no exec "$scratch/release/$target" \
    -max_total_time="$seconds" \
    -max_len=4096 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts" \
    "$@" \
    "$work" "${seeds[@]}"
