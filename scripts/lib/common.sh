#!/usr/bin/env bash
# scripts/lib/common.sh: logging, section timing and free-port helpers shared by
# scripts/test.sh and Benchmarks/amqp/run.sh.
#
# Usage: source "$REPO_ROOT/scripts/lib/common.sh"   (the caller sets -euo pipefail)

# Seconds since the epoch with nanoseconds, for timings.
now() {
    date +%s.%N
}

# Prints a duration in seconds, one decimal, between two `now` values.
elapsed() {
    local start="$1" end="$2"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}

# Prints a log line to stderr, prefixed with the wall-clock time.
log() {
    printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

# Prints an error to stderr and exits 1.
die() {
    log "ERROR: $*"
    exit 1
}

_SECTION_NAME=""
_SECTION_START=""

# Starts a named section: prints a header and remembers the start time.
section_begin() {
    _SECTION_NAME="$1"
    _SECTION_START="$(now)"
    printf '\n==== %s ====\n' "$_SECTION_NAME" >&2
}

# Ends the current section: prints how long it took.
section_end() {
    printf -- '---- %s: %ss\n' "$_SECTION_NAME" "$(elapsed "$_SECTION_START" "$(now)")" >&2
}

# Prints a TCP port on 127.0.0.1 that is free right now (the kernel picks it).
free_port() {
    /usr/bin/python3 - <<'PY'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

# Waits until something accepts TCP connections on 127.0.0.1:PORT, at most TIMEOUT seconds.
wait_for_port() {
    local port="$1" timeout="${2:-30}" deadline
    deadline=$(( $(date +%s) + timeout ))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if (( $(date +%s) >= deadline )); then
            return 1
        fi
        sleep 0.1
    done
}

# True when PID exists and is not a zombie (kill -0 also succeeds for zombies,
# which linger on hosts whose pid 1 does not reap).
pid_alive() {
    local pid="$1" state
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != "Z" && "$state" != "X" ]]
}

# Sends SIGTERM to PID if it is alive, waits up to 5 s, then SIGKILL.
stop_pid() {
    local pid="$1" _
    [[ -n "$pid" ]] || return 0
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    log "pid $pid ignored SIGTERM for 5 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}
