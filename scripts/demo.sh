#!/usr/bin/env bash
# scripts/demo.sh: THE main command of iotbridge for a newcomer. Works as the first command on a fresh
# Debian 12 + Swift machine: installs the Debian packages the build needs (only when some are missing; root or
# sudo), builds the release binary, and runs `iotbridge demo`: a whole migration rehearsed in one process on
# loopback (two simulated instances, the migration of consumer groups, subscriptions and rules, the bridge,
# 3 grayscale batches and a full migration, a live display, a report that must say 0 lost and 0 duplicates).
# Extra arguments go to `iotbridge demo` (e.g. --duration 20, --devices 50, --rate 200, --json).
# The AMQP smoke test of before is `swift run -c release iotbridge amqp demo`.
#
#   scripts/demo.sh [--no-install] [DEMO OPTIONS...]

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The build's system libraries (Package.swift's system targets and GRDB's SQLite), and openssl, with which the
# simulated instances make their self-signed TLS certificates.
BUILD_PACKAGES=(libqpid-proton11-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config openssl)

# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/apt.sh
source "$REPO_ROOT/scripts/lib/apt.sh"

if [[ "${1:-}" == "--no-install" ]]; then
    shift
else
    ensure_apt_packages "${BUILD_PACKAGES[@]}"
fi
command -v swift > /dev/null || die "swift is not on PATH (Swift 6.2 or newer is needed)"
cd "$REPO_ROOT"
exec swift run -c release iotbridge demo "$@"
