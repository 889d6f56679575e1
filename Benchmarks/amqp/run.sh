#!/usr/bin/env bash
# Benchmarks/amqp/run.sh: AMQP 1.0 throughput and receive-side memory of
# `iotbridge amqp send/receive` side by side with Qpid Proton's C send/receive
# examples, through Proton's example broker and through RabbitMQ, on loopback.
#
#   Benchmarks/amqp/run.sh [--count N] [--body-size B] [--credit C] [--repeat R]
#                          [--targets "proton rabbitmq"] [--clients "c-stock c iotbridge"]
#                          [--no-install] [--no-build] [--scratch-path DIR]
#                          [--iotbridge PATH]
#
# Defaults: 200,000 messages, 100-byte bodies, credit 1000, best of 3 runs.
# For each target, R rounds; in each round every client in turn (round-robin, so all
# clients see the same machine load): SEND N messages into a fresh queue (nobody receiving),
# then RECEIVE them (accept each), each phase timed on its own (wall time, date
# +%s.%N) with its peak RSS (/usr/bin/time -f %M, the "Maximum resident set size" of
# time -v). Output of every client goes to /dev/null (the C receive prints each body,
# iotbridge prints one JSON line per message). The best run of R (highest msgs/s) is
# reported, with the peak RSS of that run. Prints a Markdown table; a copy goes to
# scripts/.work/bench/amqp-TIMESTAMP.md.
#
# Clients:
#   c-stock   Proton's examples as shipped: send HOST PORT ADDRESS N (map body of ~20
#             bytes), receive HOST PORT ADDRESS N (grants all N credit at once)
#   c         the same sources with Benchmarks/amqp/c-examples-bench.patch: a
#             BODY_SIZE-byte data-section body, a credit window of CREDIT topped up
#             as messages are settled -- the same work iotbridge does
#   iotbridge iotbridge amqp send --url amqp://HOST:PORT/ADDRESS --count N --body TEXT
#             iotbridge amqp receive --url ... --count N --credit C --timeout S
#             (release build: swift build -c release --static-swift-stdlib --product iotbridge, scratch
#             path .build unless --scratch-path; --iotbridge PATH uses a prebuilt
#             binary instead; user guest/guest on RabbitMQ). Skipped with a note
#             when the binary has no `amqp send` yet.
# Addresses: Proton broker "bench-CLIENT-RUN"; RabbitMQ "/queue/bench-CLIENT-RUN"
# (URL amqp://127.0.0.1:PORT//queue/... : the address is the path after the first /).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin"
BENCH_DIR="$WORK_DIR/bench"
PATCH_FILE="$REPO_ROOT/Benchmarks/amqp/c-examples-bench.patch"

# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/apt.sh
source "$REPO_ROOT/scripts/lib/apt.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"

APT_PACKAGES=(libqpid-proton11-dev libqpid-proton11-dev-examples rabbitmq-server gcc pkg-config time patch)
PHASE_TIMEOUT=900

COUNT=200000
BODY_SIZE=100
CREDIT=1000
REPEAT=3
TARGETS="proton rabbitmq"
CLIENTS="c-stock c iotbridge"
INSTALL=1
BUILD=1
SCRATCH_PATH=".build"
IOTBRIDGE_GIVEN=""

IOTBRIDGE=""
IOTBRIDGE_NOTE=""
BROKER_PID=""
TARGET_PORT=""
RESULTS_FILE=""
BODY=""

usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
    while (( $# > 0 )); do
        case "$1" in
            --count) COUNT="$2"; shift ;;
            --body-size) BODY_SIZE="$2"; shift ;;
            --credit) CREDIT="$2"; shift ;;
            --repeat) REPEAT="$2"; shift ;;
            --targets) TARGETS="$2"; shift ;;
            --clients) CLIENTS="$2"; shift ;;
            --no-install) INSTALL=0 ;;
            --no-build) BUILD=0 ;;
            --scratch-path) SCRATCH_PATH="$2"; shift ;;
            --iotbridge) IOTBRIDGE_GIVEN="$2"; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1 (see --help)" ;;
        esac
        shift
    done
}

prepare_tools() {
    section_begin "tools"
    if (( INSTALL == 1 )); then
        ensure_apt_packages "${APT_PACKAGES[@]}"
    fi
    build_proton_examples "$BIN_DIR"
    # The patched examples take BODY_SIZE and CREDIT at compile time.
    rm -f "$BIN_DIR/send-bench" "$BIN_DIR/receive-bench"
    PROTON_BENCH_CFLAGS="-DBODY_SIZE=$BODY_SIZE -DCREDIT=$CREDIT" \
        build_proton_bench_examples "$BIN_DIR" "$PATCH_FILE"
    BODY="$(head -c "$BODY_SIZE" /dev/zero | tr '\0' 'x')"
    section_end
}

# Builds the release iotbridge and checks that it has the `amqp send/receive` CLI.
prepare_iotbridge() {
    [[ " $CLIENTS " == *" iotbridge "* ]] || return 0
    section_begin "iotbridge (release)"
    if [[ -n "$IOTBRIDGE_GIVEN" ]]; then
        IOTBRIDGE="$(cd "$(dirname "$IOTBRIDGE_GIVEN")" && pwd)/$(basename "$IOTBRIDGE_GIVEN")"
    else
        if (( BUILD == 1 )); then
            (cd "$REPO_ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH_PATH" --product iotbridge) \
                || IOTBRIDGE_NOTE="release build failed"
        fi
        IOTBRIDGE="$(cd "$REPO_ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH_PATH" --show-bin-path)/iotbridge"
    fi
    log "iotbridge: $IOTBRIDGE"
    if [[ -z "$IOTBRIDGE_NOTE" ]]; then
        if [[ ! -x "$IOTBRIDGE" ]]; then
            IOTBRIDGE_NOTE="no release binary"
        elif ! "$IOTBRIDGE" amqp send --help > /dev/null 2>&1 \
            || ! "$IOTBRIDGE" amqp receive --help > /dev/null 2>&1; then
            IOTBRIDGE_NOTE="binary has no 'amqp send/receive' yet"
        fi
    fi
    [[ -z "$IOTBRIDGE_NOTE" ]] || log "iotbridge: skipped ($IOTBRIDGE_NOTE)"
    section_end
}

start_target() {
    local target="$1" out
    case "$target" in
        proton)
            out="$BENCH_DIR/broker.out"
            # Working dir = BIN_DIR: the broker finds ssl-certs/ there (quiet start).
            (cd "$BIN_DIR" && exec ./broker 127.0.0.1 0) > "$out" 2>&1 &
            BROKER_PID=$!
            local _
            for _ in $(seq 100); do
                TARGET_PORT="$(awk '/^listening on/ { print $3 }' "$out")"
                [[ -z "$TARGET_PORT" ]] || break
                sleep 0.1
            done
            [[ -n "$TARGET_PORT" ]] || die "proton broker did not start: $(cat "$out")"
            log "proton broker: pid $BROKER_PID, port $TARGET_PORT"
            ;;
        rabbitmq)
            rabbitmq_start "$BENCH_DIR/rabbitmq-$$"
            TARGET_PORT="$RABBITMQ_PORT"
            ;;
        *) die "unknown target $target (proton, rabbitmq)" ;;
    esac
}

stop_target() {
    if [[ -n "$BROKER_PID" ]]; then
        stop_pid "$BROKER_PID"
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=""
    fi
    if [[ -n "$RABBITMQ_DIR" ]]; then
        local dir="$RABBITMQ_DIR"
        rabbitmq_stop
        rm -rf "$dir"
    fi
}

# The node address for TARGET and a queue NAME.
address_for() {
    local target="$1" name="$2"
    if [[ "$target" == rabbitmq ]]; then
        printf '/queue/%s' "$name"
    else
        printf '%s' "$name"
    fi
}

# Prints the command line (one word per line) for CLIENT doing DIRECTION (send or
# receive) of COUNT messages at ADDRESS on TARGET.
client_command() {
    local client="$1" direction="$2" target="$3" address="$4"
    local url="amqp://127.0.0.1:$TARGET_PORT/$address" auth=()
    if [[ "$target" == rabbitmq ]]; then
        auth=(--user guest --password guest)
    fi
    case "$client:$direction" in
        c-stock:send) printf '%s\n' "$BIN_DIR/send" 127.0.0.1 "$TARGET_PORT" "$address" "$COUNT" ;;
        c-stock:receive) printf '%s\n' "$BIN_DIR/receive" 127.0.0.1 "$TARGET_PORT" "$address" "$COUNT" ;;
        c:send) printf '%s\n' "$BIN_DIR/send-bench" 127.0.0.1 "$TARGET_PORT" "$address" "$COUNT" ;;
        c:receive) printf '%s\n' "$BIN_DIR/receive-bench" 127.0.0.1 "$TARGET_PORT" "$address" "$COUNT" ;;
        iotbridge:send)
            printf '%s\n' "$IOTBRIDGE" amqp send --url "$url" --count "$COUNT" --body "$BODY" "${auth[@]}" ;;
        iotbridge:receive)
            printf '%s\n' "$IOTBRIDGE" amqp receive --url "$url" --count "$COUNT" --credit "$CREDIT" \
                --timeout "$PHASE_TIMEOUT" "${auth[@]}" ;;
        *) die "unknown client $client" ;;
    esac
}

# Precise seconds between two `now` values.
seconds_between() {
    awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'
}

declare -A BEST_RATE=() BEST_RUN=() FAILURES=()

# One run of CLIENT against TARGET: SEND COUNT messages into a fresh queue, then
# RECEIVE them; keeps the best rate per phase in BEST_RATE/BEST_RUN.
bench_once() {
    local target="$1" client="$2" run="$3" direction address cmd start end status rss secs rate key
    address="$(address_for "$target" "bench-$client-$$-$run")"
    for direction in send receive; do
        key="$target:$client:$direction"
        mapfile -t cmd < <(client_command "$client" "$direction" "$target" "$address")
        local log_file="$BENCH_DIR/$target-$client-$run-$direction.log"
        start="$(now)"
        status=0
        timeout "$PHASE_TIMEOUT" /usr/bin/time -f '%M' -o "$log_file.rss" "${cmd[@]}" \
            > /dev/null 2> "$log_file" || status=$?
        end="$(now)"
        secs="$(seconds_between "$start" "$end")"
        rss="$(tail -n 1 "$log_file.rss" 2>/dev/null || true)"
        [[ "$rss" =~ ^[0-9]+$ ]] || rss=0
        if (( status != 0 )); then
            log "$target/$client run $run $direction FAILED (exit $status): $(tail -n 3 "$log_file" | tr '\n' ' ')"
            FAILURES["$target:$client"]+="$direction run $run exit $status; "
            [[ "$direction" == send ]] && return 0  # nothing to receive
            continue
        fi
        rate="$(awk -v n="$COUNT" -v s="$secs" 'BEGIN { printf "%d", n / s }')"
        log "$target/$client run $run $direction: ${secs}s, $rate msg/s, peak RSS $(( rss / 1024 )) MB"
        if (( rate > ${BEST_RATE["$key"]:-0} )); then
            BEST_RATE["$key"]="$rate"
            BEST_RUN["$key"]="$secs $rss"
        fi
    done
}

# REPEAT rounds over all clients against TARGET (round-robin, so that every client
# sees the same changes in machine load), then one table row per client and phase.
bench_target() {
    local target="$1" run client direction key
    for run in $(seq "$REPEAT"); do
        for client in $CLIENTS; do
            if [[ "$client" == iotbridge && -n "$IOTBRIDGE_NOTE" ]]; then
                continue
            fi
            bench_once "$target" "$client" "$run"
        done
    done
    for client in $CLIENTS; do
        if [[ "$client" == iotbridge && -n "$IOTBRIDGE_NOTE" ]]; then
            continue
        fi
        for direction in send receive; do
            key="$target:$client:$direction"
            emit_row "$target" "$client" "$direction" "${BEST_RATE["$key"]:-0}" "${BEST_RUN["$key"]:-}" \
                "${FAILURES["$target:$client"]:-}"
        done
    done
}

declare -A RATES=()

# Appends one table row: target, client, direction, best msgs/s, seconds, RSS, and
# the ratio to the patched C example's figure for the same target and direction.
emit_row() {
    local target="$1" client="$2" direction="$3" rate="$4" best="$5" failures="$6"
    local secs="-" rss_mb="-" ratio="-" base
    if [[ -n "$best" ]]; then
        secs="${best%% *}"
        rss_mb="$(awk -v k="${best##* }" 'BEGIN { printf "%.1f", k / 1024 }')"
        RATES["$target:$client:$direction"]="$rate"
        base="${RATES["$target:c:$direction"]:-}"
        if [[ -n "$base" && "$base" != 0 ]]; then
            ratio="$(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%d%%", 100 * a / b }')"
        fi
    else
        rate="failed"
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$target" "$client" "$direction" "$COUNT" "$secs" "$rate" "$rss_mb" "$ratio" >> "$RESULTS_FILE"
    if [[ -n "$failures" && "$direction" == receive ]]; then
        printf '|  |  | (failures: %s) |  |  |  |  |  |\n' "$failures" >> "$RESULTS_FILE"
    fi
}

# Says which iotbridge binary ran (and the commit of the checkout it lives in).
iotbridge_description() {
    if [[ " $CLIENTS " != *" iotbridge "* ]]; then
        return 0
    fi
    if [[ -n "$IOTBRIDGE_NOTE" ]]; then
        printf '; iotbridge skipped: %s' "$IOTBRIDGE_NOTE"
        return 0
    fi
    local commit
    commit="$(git -C "$(dirname "$IOTBRIDGE")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    printf '; iotbridge %s (checkout at %s)' "$IOTBRIDGE" "$commit"
}

write_header() {
    {
        printf '### %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf -- '- machine: %s cores, %s, %s MB RAM; load average before: %s\n' \
            "$(nproc)" "$(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')" \
            "$(free -m | awk '/^Mem:/ { print $2 }')" "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf -- '- %s messages, %s-byte bodies, credit %s, best of %s runs per phase\n' \
            "$COUNT" "$BODY_SIZE" "$CREDIT" "$REPEAT"
        printf -- '- Proton %s (Debian), RabbitMQ %s (Debian); commit %s%s\n\n' \
            "$(dpkg-query -W -f='${Version}' libqpid-proton11)" \
            "$(dpkg-query -W -f='${Version}' rabbitmq-server)" \
            "$(cd "$REPO_ROOT" && git rev-parse --short HEAD)" \
            "$(iotbridge_description)"
        printf '| target | client | direction | messages | seconds | msgs/s | peak RSS MB | vs C |\n'
        printf '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n'
    } > "$RESULTS_FILE"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    stop_target
    exit "$status"
}

main() {
    parse_args "$@"
    mkdir -p "$BENCH_DIR"
    RESULTS_FILE="$BENCH_DIR/amqp-$(date -u +%Y%m%dT%H%M%S).md"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    prepare_tools
    prepare_iotbridge
    write_header
    local target client
    for target in $TARGETS; do
        section_begin "target $target"
        start_target "$target"
        bench_target "$target"
        stop_target
        section_end
    done
    printf '\n- load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS_FILE"
    printf '\n' >&2
    cat "$RESULTS_FILE"
    log "results: $RESULTS_FILE"
}

main "$@"
