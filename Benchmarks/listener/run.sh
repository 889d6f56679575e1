#!/usr/bin/env bash
# Benchmarks/listener/run.sh: the bridge as an AMQP endpoint (`kind: listener`) serving one consumer group, side
# by side with Qpid Proton's C example broker serving the same consumers, in the same run, on loopback.
#
#   Benchmarks/listener/run.sh [--count N] [--consumers "1 2 4"] [--repeat T] [--body-size B] [--credit C]
#                              [--rate R] [--latency-seconds S] [--scenarios "throughput latency"] [--no-install]
#                              [--no-build] [--scratch-path DIR] [--iotbridge PATH]
#
# Defaults: N = 200,000 messages of B = 200 bytes, consumers 1, 2 and 4, T = 1 round, credit 1000, R = 5,000 msg/s
# for S = 20 s.
# The iotbridge binary is built as Benchmarks/bridge/run.sh builds it (the committed HEAD, release; its functions
# are reused by sourcing that script).
#
# throughput  T rounds; in each, for each K in --consumers (same machine state for both sides):
#             (C broker)  N messages pre-filled into one queue of Proton's C example broker (Benchmarks/bridge/
#                         bench.py fill: the platform's envelope, AMQP 1.0); then K patched C receive examples
#                         (Benchmarks/amqp/c-examples-bench.patch: a credit window of C topped up as messages are
#                         accepted) drain it, N/K each; wall time from their start until the last one exits.
#             (listener)  N messages pre-filled the same way into another queue of the same broker; `iotbridge run`
#                         with that queue as its one upstream (credit C) and a listener sink serving one group
#                         (PLAIN user, allowInsecure on loopback, window 1000) starts; once it logged "bridge
#                         started", the same K consumers (Benchmarks/listener/receive-auth.patch adds the login)
#                         drain the listener, N/K each; same timing. The bridge's own work (claims in SQLite,
#                         settling upstream once each consumer accepted) is part of what is measured.
#             On two shared cores one round's ratio moves by +-10 points: with T > 1 the report adds each K's
#             median (ratio, msg/s and CPU per message).
# latency     R msg/s for S s (bench.py publish-rate, each message stamped with sentAt) into two C broker queues,
#             one Python consumer (bench.py consume, credit 1000): first straight from the two queues, then from
#             the listener with the bridge consuming both queues. p50/p99 of receive time - sentAt; added = the
#             difference.
# Target (issue 9): the listener's msgs/s >= 80 % of the C broker's; p99 added latency <= 5 ms at 5,000 msg/s.
# Prints a Markdown report; it goes to scripts/.work/bench/listener-TIMESTAMP.md, raw logs next to it.

set -euo pipefail

LISTENER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The bridge benchmark's functions and defaults (prepare, start_bridge, stop_bridge, calc, json_field...).
# shellcheck source=Benchmarks/bridge/run.sh
source "$LISTENER_HERE/../bridge/run.sh"

AUTH_PATCH="$LISTENER_HERE/receive-auth.patch"
LISTENER_BIN_DIR="$WORK_DIR/bin/listener-bench"
CONSUMERS="1 2 4"
REPEAT=1
SCENARIOS="throughput latency"
BROKER_PID=""
BROKER_PORT=""

listener_usage() {
    sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

listener_parse_args() {
    while (( $# > 0 )); do
        case "$1" in
            --count) COUNT="$2"; shift ;;
            --consumers) CONSUMERS="$2"; shift ;;
            --repeat) REPEAT="$2"; shift ;;
            --body-size) BODY_SIZE="$2"; shift ;;
            --credit) CREDIT="$2"; shift ;;
            --rate) RATE="$2"; shift ;;
            --latency-seconds) LATENCY_SECONDS="$2"; shift ;;
            --scenarios) SCENARIOS="$2"; shift ;;
            --no-install) INSTALL=0 ;;
            --no-build) BUILD=0 ;;
            --scratch-path) SCRATCH_PATH="$2"; shift ;;
            --iotbridge) IOTBRIDGE_GIVEN="$2"; shift ;;
            -h|--help) listener_usage ;;
            *) die "unknown option $1 (--help lists them)" ;;
        esac
        shift
    done
}

# The stock broker, and receive-bench with the login patch on top of the bench patch.
build_listener_tools() {
    local src="$LISTENER_BIN_DIR/src"
    mkdir -p "$src"
    build_proton_examples "$LISTENER_BIN_DIR"
    cp "$PROTON_EXAMPLES_SRC/receive.c" "$src/receive.c"
    (cd "$src" && patch -s -p1 < <(sed -n '/^--- a\/receive.c/,$p' "$PATCH_FILE") && patch -s -p1 < "$AUTH_PATCH") \
        || die "could not apply the receive patches"
    # shellcheck disable=SC2046
    gcc -O2 -g -Wall -DBODY_SIZE="$BODY_SIZE" -DCREDIT="$CREDIT" -o "$LISTENER_BIN_DIR/receive-bench" \
        -I "$PROTON_EXAMPLES_SRC" $(pkg-config --cflags libqpid-proton) "$src/receive.c" \
        $(pkg-config --libs libqpid-proton) -lpthread || die "could not build receive-bench"
}

start_c_broker() {
    BROKER_PORT="$(free_port)"
    (cd "$LISTENER_BIN_DIR" && exec ./broker 127.0.0.1 "$BROKER_PORT" > "$RAW/broker.log" 2>&1) &
    BROKER_PID=$!
    local _
    for _ in $(seq 100); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$BROKER_PORT") 2> /dev/null; then
            log "C broker: listening on $BROKER_PORT (pid $BROKER_PID)"
            return 0
        fi
        sleep 0.1
    done
    die "the C broker did not listen: $(tail -n 5 "$RAW/broker.log")"
}

# write_listener_config DIR PORT UPSTREAM_ADDRESS...
write_listener_config() {
    local dir="$1" port="$2" http address n=0
    shift 2
    http="$(free_port)"
    BRIDGE_HTTP="http://127.0.0.1:$http/status"
    {
        echo "# written by Benchmarks/listener/run.sh"
        echo "state: $dir/bridge.sqlite"
        echo "upstreams:"
        for address in "$@"; do
            n=$(( n + 1 ))
            echo "  - { name: u$n, url: \"amqp://127.0.0.1:$BROKER_PORT/$address\", connections: 1, credit: $CREDIT }"
        done
        echo "sinks:"
        echo "  - name: backends"
        echo "    kind: listener"
        echo "    listen: 127.0.0.1:$port"
        echo "    allowInsecure: true"
        echo "    consumerGroups: [ { id: cg-bench, users: [ { user: bench, password: \"\${BENCH_PW}\" } ] } ]"
        echo "deadLetter: { kind: jsonl, path: $dir/dead-letter.jsonl }"
        echo "http: { listen: 127.0.0.1:$http }"
        echo "shutdown: { deadline: 5s }"
    } > "$dir/bridge.yaml"
}

# drain_with PORT ADDRESS K LOGDIR [login]: K receive-bench processes, COUNT/K each; prints the wall seconds.
drain_with() {
    local port="$1" address="$2" k="$3" logs="$4" login="${5:-}" i start pids=() per=$(( COUNT / $3 )) status=0
    start="$(now)"
    for (( i = 0; i < k; i++ )); do
        if [[ -n "$login" ]]; then
            BENCH_USER=bench BENCH_PASSWORD=bench "$LISTENER_BIN_DIR/receive-bench" 127.0.0.1 "$port" "$address" "$per" \
                > /dev/null 2> "$logs/receive-$i.log" &
        else
            "$LISTENER_BIN_DIR/receive-bench" 127.0.0.1 "$port" "$address" "$per" > /dev/null 2> "$logs/receive-$i.log" &
        fi
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || status=$?; done
    (( status == 0 )) || die "a receive-bench failed: $(cat "$logs"/receive-*.log | tail -n 5)"
    awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'

}

scenario_throughput() {
    local k r dir seconds
    COUNT=$(( COUNT / 4 * 4 ))
    [[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat takes a whole number of rounds (got $REPEAT)"
    for (( r = 1; r <= REPEAT; r++ )); do
        for k in $CONSUMERS; do
            section_begin "throughput: $k consumer(s), round $r of $REPEAT"
            dir="$RAW/throughput-$k-$r"
            mkdir -p "$dir/c" "$dir/listener"
            # --only 0 of a plan twice as long: COUNT messages, all into the first address, over one link.
            "$PY" "$PEER" fill "amqp://127.0.0.1:$BROKER_PORT" "direct-$k-$r" unused "$(( 2 * COUNT ))" --overlap 0 --only 0 \
                --body-size "$BODY_SIZE" --prefix "d$k-$r-" > "$dir/fill-c.json"
            seconds="$(drain_with "$BROKER_PORT" "direct-$k-$r" "$k" "$dir/c")"
            R[c_${k}_$r]="$(calc 'printf "%.0f", b / a' "$seconds" "$COUNT")"
            log "C broker, $k consumer(s): $COUNT in $seconds s = ${R[c_${k}_$r]} msg/s"
            "$PY" "$PEER" fill "amqp://127.0.0.1:$BROKER_PORT" "up-$k-$r" unused "$(( 2 * COUNT ))" --overlap 0 --only 0 \
                --body-size "$BODY_SIZE" --prefix "l$k-$r-" > "$dir/fill-listener.json"
            local port
            port="$(free_port)"
            write_listener_config "$dir/listener" "$port" "up-$k-$r"
            start_bridge "$dir/listener"
            seconds="$(drain_with "$port" "default" "$k" "$dir/listener" login)"
            stop_bridge "$dir/listener"
            R[l_${k}_$r]="$(calc 'printf "%.0f", b / a' "$seconds" "$COUNT")"
            R[rss_${k}_$r]="$(mb "$BRIDGE_RSS_KB")"
            R[cpu_${k}_$r]="$BRIDGE_CPU"
            log "listener, $k consumer(s): $COUNT in $seconds s = ${R[l_${k}_$r]} msg/s (bridge CPU $BRIDGE_CPU s)"
            section_end
        done
    done
}

# median V...: the middle value (the lower of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

scenario_listener_latency() {
    section_begin "latency: $RATE msg/s for $LATENCY_SECONDS s"
    local dir="$RAW/latency" sent distinct port
    mkdir -p "$dir/bridge"
    sent=$(( RATE * LATENCY_SECONDS ))
    "$PY" "$PEER" plan-size "$sent" > "$dir/plan-size.json"
    distinct="$(json_field "$dir/plan-size.json" 'd["distinct"]')"
    # Straight from the broker's two queues.
    "$PY" "$PEER" consume "amqp://127.0.0.1:$BROKER_PORT" lat-direct-a lat-direct-b --expected "$distinct" --idle 3 \
        --timeout $(( LATENCY_SECONDS + 120 )) > "$dir/direct.json" &
    local consumer=$!
    sleep 1
    "$PY" "$PEER" publish-rate "amqp://127.0.0.1:$BROKER_PORT" lat-direct-a lat-direct-b --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --body-size "$BODY_SIZE" --prefix ld- > "$dir/publish-direct.json"
    wait "$consumer"
    # Through the bridge's listener.
    port="$(free_port)"
    write_listener_config "$dir/bridge" "$port" lat-up-a lat-up-b
    start_bridge "$dir/bridge"
    "$PY" "$PEER" consume "amqp://bench:bench@127.0.0.1:$port" default --expected "$distinct" --idle 3 \
        --timeout $(( LATENCY_SECONDS + 120 )) > "$dir/listener.json" &
    consumer=$!
    sleep 1
    "$PY" "$PEER" publish-rate "amqp://127.0.0.1:$BROKER_PORT" lat-up-a lat-up-b --rate "$RATE" \
        --seconds "$LATENCY_SECONDS" --body-size "$BODY_SIZE" --prefix ll- > "$dir/publish-listener.json"
    wait "$consumer"
    stop_bridge "$dir/bridge"
    local direct listener
    direct="$(tail -n 1 "$dir/direct.json")"
    listener="$(tail -n 1 "$dir/listener.json")"
    R[lat_direct_p50]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["latencyMs"]["p50"])' "$direct")"
    R[lat_direct_p99]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["latencyMs"]["p99"])' "$direct")"
    R[lat_listener_p50]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["latencyMs"]["p50"])' "$listener")"
    R[lat_listener_p99]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["latencyMs"]["p99"])' "$listener")"
    R[lat_listener_missing]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["missing"])' "$listener")"
    R[lat_listener_duplicates]="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["duplicates"])' "$listener")"
    log "latency: direct p50 ${R[lat_direct_p50]} / p99 ${R[lat_direct_p99]} ms; listener p50 ${R[lat_listener_p50]} / p99 ${R[lat_listener_p99]} ms"
    section_end
}

write_listener_report() {
    local load_before="$1" k ratio
    {
        echo "# Listener benchmark ($RUN_ID)"
        echo
        echo "iotbridge $IOTBRIDGE_COMMIT; $(nproc) cores; load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)."
        echo "Command: \`Benchmarks/listener/run.sh $ARGS_TEXT\`"
        echo
        if [[ " $SCENARIOS " == *" throughput "* ]]; then
            echo "| consumers | round | C broker msg/s | listener msg/s | listener / C | bridge CPU s | bridge CPU µs/msg | bridge peak RSS MB |"
            echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            for k in $CONSUMERS; do
                local r per ratios=() pers=() cs=() ls=()
                for (( r = 1; r <= REPEAT; r++ )); do
                    ratio="$(calc 'printf "%.0f", 100 * b / a' "${R[c_${k}_$r]}" "${R[l_${k}_$r]}")"
                    per="$(calc 'printf "%.1f", 1000000 * a / b' "${R[cpu_${k}_$r]}" "$COUNT")"
                    ratios+=("$ratio"); pers+=("$per"); cs+=("${R[c_${k}_$r]}"); ls+=("${R[l_${k}_$r]}")
                    echo "| $k | $r | ${R[c_${k}_$r]} | ${R[l_${k}_$r]} | $ratio % | ${R[cpu_${k}_$r]} | $per | ${R[rss_${k}_$r]} |"
                done
                if (( REPEAT > 1 )); then
                    echo "| $k | **median** | $(median "${cs[@]}") | $(median "${ls[@]}") | **$(median "${ratios[@]}") %** | | $(median "${pers[@]}") | |"
                fi
            done
            echo
            echo "$COUNT messages of $BODY_SIZE bytes, credit $CREDIT, each consumer N/K, $REPEAT round(s); target listener >= 80 % of the C broker."
            echo
        fi
        if [[ " $SCENARIOS " == *" latency "* ]]; then
            echo "| $RATE msg/s for $LATENCY_SECONDS s | p50 ms | p99 ms |"
            echo "| --- | ---: | ---: |"
            echo "| straight from the C broker | ${R[lat_direct_p50]} | ${R[lat_direct_p99]} |"
            echo "| through the bridge's listener | ${R[lat_listener_p50]} | ${R[lat_listener_p99]} |"
            echo "| added | $(calc 'printf "%.1f", b - a' "${R[lat_direct_p50]}" "${R[lat_listener_p50]}") | $(calc 'printf "%.1f", b - a' "${R[lat_direct_p99]}" "${R[lat_listener_p99]}") |"
            echo
            echo "Through the listener: ${R[lat_listener_missing]} missing, ${R[lat_listener_duplicates]} duplicates (the 10 % overlap is de-duplicated). Target: p99 added <= 5 ms."
        fi
    } > "$REPORT"
}

listener_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n "$BRIDGE_PID" ]]; then stop_pid "$BRIDGE_PID"; fi
    if [[ -n "$BROKER_PID" ]]; then stop_pid "$BROKER_PID"; fi
    exit "$status"
}

listener_main() {
    ARGS_TEXT="$*"
    # The listener's login (bridge.yaml takes passwords only as environment references).
    export BENCH_PW=bench
    listener_parse_args "$@"
    RUN_ID="listener-$(date -u +%Y%m%dT%H%M%S)"
    RAW="$BENCH_DIR/$RUN_ID"
    REPORT="$BENCH_DIR/$RUN_ID.md"
    mkdir -p "$RAW"
    exec > >(tee -a "$RAW/run.log") 2>&1
    trap listener_cleanup EXIT
    trap 'exit 130' INT TERM
    local scenarios="$SCENARIOS"
    SCENARIOS=""  # prepare() builds only the iotbridge binary
    prepare
    SCENARIOS="$scenarios"
    build_listener_tools
    local load_before scenario
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    start_c_broker
    for scenario in $SCENARIOS; do
        case "$scenario" in
            throughput) scenario_throughput ;;
            latency) scenario_listener_latency ;;
            *) die "unknown scenario $scenario (throughput latency)" ;;
        esac
    done
    write_listener_report "$load_before"
    printf '\n' >&2
    cat "$REPORT"
    log "report: $REPORT; raw output: $RAW/"
}

listener_main "$@"
