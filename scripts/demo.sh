#!/usr/bin/env bash
# scripts/demo.sh: THE main command of iotbridge for a newcomer. Works as the first command on a fresh
# Debian 12 + Swift machine: installs the Debian packages the build needs (only when some are missing; root or
# sudo), builds the release binary, and runs `iotbridge amqp demo` (a loopback AMQP 1.0 broker inside the
# process, 10,000 platform-shaped messages published with SASL PLAIN and consumed, each accepted only after it
# was handled). Extra arguments go to `iotbridge amqp demo` (e.g. --count 50000).
#
#   scripts/demo.sh [--no-install] [DEMO OPTIONS...]

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The build's system libraries (Package.swift's system targets and GRDB's SQLite).
BUILD_PACKAGES=(libqpid-proton11-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config)

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
exec swift run -c release iotbridge amqp demo "$@"
