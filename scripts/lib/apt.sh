#!/usr/bin/env bash
# scripts/lib/apt.sh: installs the Debian packages the build and the tests need,
# only when some are missing (idempotent; a second run does no apt work at all).
#
# Usage: source scripts/lib/apt.sh; ensure_apt_packages PKG...

# Prints the packages among the arguments that dpkg does not report as installed.
missing_apt_packages() {
    local pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Installs the missing ones among PKG... with apt-get (noninteractive). Needs root,
# or sudo when not root.
ensure_apt_packages() {
    local missing sudo=()
    mapfile -t missing < <(missing_apt_packages "$@")
    if (( ${#missing[@]} == 0 )); then
        log "apt: all ${#@} packages already installed"
        return 0
    fi
    if (( EUID != 0 )); then
        sudo=(sudo)
    fi
    log "apt: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    _apt_block_service_starts "${sudo[@]}"
    local status=0
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || status=$?
    _apt_unblock_service_starts "${sudo[@]}"
    return "$status"
}

_APT_POLICY=/usr/sbin/policy-rc.d
_APT_POLICY_OURS=0

# Keeps package installs from starting system services (rabbitmq-server would start
# a system-wide node on 5672 that nobody stops): writes a policy-rc.d that denies
# starts, unless one exists already (Docker images ship one). Args: sudo prefix.
_apt_block_service_starts() {
    if [[ -e "$_APT_POLICY" ]]; then
        return 0
    fi
    printf '#!/bin/sh\n# written by iotbridge scripts/lib/apt.sh during apt-get install\nexit 101\n' \
        | "$@" tee "$_APT_POLICY" >/dev/null
    "$@" chmod 755 "$_APT_POLICY"
    _APT_POLICY_OURS=1
}

# Removes the policy-rc.d that _apt_block_service_starts wrote, if it wrote one.
_apt_unblock_service_starts() {
    if (( _APT_POLICY_OURS == 1 )); then
        "$@" rm -f "$_APT_POLICY"
        _APT_POLICY_OURS=0
    fi
}
