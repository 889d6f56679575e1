#!/usr/bin/env bash
# scripts/format.sh: formats the Swift sources in place with the toolchain's swift-format and the committed
# .swift-format configuration. scripts/test.sh checks the same (swift format lint) and fails when a file differs.
#
#   scripts/format.sh            format Sources, Tests and Package.swift
#   scripts/format.sh --check    only report what differs (exit 1 if anything does)

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
command -v swift > /dev/null || { echo "error: swift is not on PATH" >&2; exit 2; }
if [[ "${1:-}" == "--check" ]]; then
    exec swift format lint --strict --recursive --parallel Sources Tests Package.swift
fi
exec swift format format --in-place --recursive --parallel Sources Tests Package.swift
