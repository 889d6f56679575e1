#!/usr/bin/env bash
# scripts/test.sh: THE test command of iotbridge (CI runs it through .ci/run).
#
#   scripts/test.sh [--unit-only] [--no-install] [--filter REGEX] [--keep-state] [--no-asan] [--tsan]
#
# Steps, each idempotent:
#   1. apt: installs the Debian packages the build and the tests need, only when
#      dpkg reports some missing (needs root or sudo then; --no-install skips it);
#      then pip: PIP_PACKAGES for /usr/bin/python3, only those that do not import.
#   2. swift build --build-tests, once (default scratch path .build; warnings are
#      errors through Package.swift).
#   3. gcc: Qpid Proton's C example broker (and send/receive) into scripts/.work/bin.
#   4. RabbitMQ: a private node on a free loopback port (own node name, epmd port,
#      mnesia/log dirs, cookie, enabled-plugins file with rabbitmq_amqp1_0).
#      PostgreSQL 15: a private cluster (initdb) on a free loopback port, password
#      auth, fsync off, data under scripts/.work/postgres-PID (scripts/lib/postgres.sh).
#   5. swift test --skip-build: the unit tests (--skip IntegrationTests), then the
#      integration tests (--filter IntegrationTests), from the same build, with the
#      integration tests' environment (see below) exported. Swift Testing runs the
#      tests of one run in parallel by itself; we add no --parallel (XCTest-only).
#   6. AddressSanitizer (skip with --no-asan): the AMQP unit tests, then the in-process
#      integration suites that drive our listener and client (Loopback, TLS, connection
#      errors, Python peers), built with --sanitize=address as a package of their own
#      (scripts/lib/sanitize.sh: AMQP + its tests + swift-log only) into .build-asan. Any
#      AddressSanitizer or LeakSanitizer report fails the run. ThreadSanitizer on the AMQP
#      unit tests (into .build-tsan) with --tsan; off by default.
#   7. Always (also on failure or Ctrl-C): stops PostgreSQL, RabbitMQ and its epmd by pid, and
#      ends every process this run's tests left behind (found by a marker variable
#      in their environment, IOTBRIDGE_TEST_RUN).
# Exits with the first failing swift test's status (or the failing step's).
#
# Options:
#   --unit-only    no Proton broker, no RabbitMQ; skips the IntegrationTests target
#   --no-install   never calls apt-get or pip (fails later if something is missing)
#   --filter X     one `swift test --filter X` run instead of the two above
#   --keep-state   keeps RabbitMQ's and PostgreSQL's data and logs (scripts/.work/rabbitmq-PID,
#                  scripts/.work/postgres-PID) afterwards
#   --no-asan      skips the AddressSanitizer step (CI runs it; about 3 minutes on 2 cores)
#   --tsan         also runs the AMQP unit tests under ThreadSanitizer (suppressions and
#                  why: scripts/lib/tsan-suppressions.txt)
#
# Environment the integration tests get (Tests/IntegrationTests/README.md has details):
#   IOTBRIDGE_RABBITMQ_URL    amqp://127.0.0.1:PORT  (guest/guest, SASL PLAIN or ANONYMOUS;
#                             addresses /queue/NAME)
#   IOTBRIDGE_RABBITMQ_NODE   NAME@localhost
#   IOTBRIDGE_RABBITMQCTL     path of a rabbitmqctl wrapper bound to that node's cookie
#                             and epmd port: "$IOTBRIDGE_RABBITMQCTL" -n "$IOTBRIDGE_RABBITMQ_NODE" list_queues
#   IOTBRIDGE_PROTON_BROKER   absolute path of Proton's example broker. Its CLI:
#                               broker [HOST [PORT]]      e.g.  broker 127.0.0.1 0
#                             HOST "" = all interfaces, PORT default "amqp" (5672), 0 =
#                             a free port. When it listens it prints "listening on PORT"
#                             (flushed) on stdout; started from another working dir it
#                             first prints (unflushed) "Failed to set up server
#                             certificate..." -- start it with the working directory
#                             $(dirname "$IOTBRIDGE_PROTON_BROKER") to also get optional TLS
#                             (ssl-certs/tserver-*.pem). SASL ANONYMOUS only; queues
#                             are in memory, named by address; SIGTERM ends it.
#   IOTBRIDGE_PROTON_SEND, IOTBRIDGE_PROTON_RECEIVE
#                             Proton's C send/receive examples: send HOST PORT ADDRESS COUNT
#   IOTBRIDGE_POSTGRES_URL    postgres://iotbridge:PASSWORD@127.0.0.1:PORT/iotbridge (superuser;
#                             tests create their own databases in it)
#   IOTBRIDGE_POSTGRES_CTL    path of a pg_ctl wrapper for that cluster: "$IOTBRIDGE_POSTGRES_CTL" restart
#                             (also stop, start, status)
#   IOTBRIDGE_PYTHON          /usr/bin/python3 (sees Debian's python3-qpid-proton)
#   IOTBRIDGE_PEERS           absolute path of Tests/IntegrationTests/peers
#   IOTBRIDGE_BIN             absolute path of the debug iotbridge binary
#   IOTBRIDGE_TEST_RUN        marker of this run (cleanup finds leftovers by it)

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK_DIR="$REPO_ROOT/scripts/.work"
BIN_DIR="$WORK_DIR/bin"
PEERS_DIR="$REPO_ROOT/Tests/IntegrationTests/peers"
SYSTEM_PYTHON=/usr/bin/python3

APT_PACKAGES=(
    libqpid-proton11-dev libqpid-proton11-dev-examples python3-qpid-proton
    libcurl4-openssl-dev libssl-dev libsqlite3-dev rabbitmq-server gcc pkg-config
    openssl   # the TLS integration tests make their own CA and certificates with it
    python3-jsonschema   # the event tests validate migration-status events against docs/schemas/
    postgresql   # the PostgreSQL state store's contract tests and the bridge replica tests
    chromium     # the dashboard test renders the bridge's live web page headless (DashboardTests)
    python3-pip   # installs PIP_PACKAGES below for /usr/bin/python3
    curl         # the integration tests read the bridge's /status, /metrics and /instances with it
)

# PyPI packages for /usr/bin/python3, as MODULE:PACKAGE (installed when MODULE does not import): the official
# Alibaba Cloud Python SDK, which SimulatorSDKOpenAPITests points at the simulator's OpenAPI endpoint.
PIP_PACKAGES=(
    aliyunsdkcore:aliyun-python-sdk-core
    aliyunsdkiot:aliyun-python-sdk-iot
)

# shellcheck source=scripts/lib/common.sh
source "$REPO_ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/apt.sh
source "$REPO_ROOT/scripts/lib/apt.sh"
# shellcheck source=scripts/lib/proton_examples.sh
source "$REPO_ROOT/scripts/lib/proton_examples.sh"
# shellcheck source=scripts/lib/rabbitmq.sh
source "$REPO_ROOT/scripts/lib/rabbitmq.sh"
# shellcheck source=scripts/lib/postgres.sh
source "$REPO_ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/sanitize.sh
source "$REPO_ROOT/scripts/lib/sanitize.sh"

UNIT_ONLY=0
INSTALL=1
KEEP_STATE=0
FILTER=""
ASAN=1
TSAN=0
# The integration suites that run our listener and client in the test process itself (the
# others drive separate processes, which a sanitizer build of the tests does not reach).
SANITIZED_INTEGRATION_FILTER="LoopbackTests|TLSTests|ConnectionErrorTests|PythonPeerTests"
RUN_MARKER="iotbridge-test-$$-$(date +%s)"
RUN_START="$(now)"
TEST_STATUS=""

usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
    while (( $# > 0 )); do
        case "$1" in
            --unit-only) UNIT_ONLY=1 ;;
            --no-install) INSTALL=0 ;;
            --keep-state) KEEP_STATE=1 ;;
            --no-asan) ASAN=0 ;;
            --tsan) TSAN=1 ;;
            --filter)
                (( $# >= 2 )) || die "--filter needs a value"
                FILTER="$2"
                shift
                ;;
            --filter=*) FILTER="${1#--filter=}" ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option: $1 (see --help)" ;;
        esac
        shift
    done
}

install_packages() {
    section_begin "apt packages"
    if (( INSTALL == 1 )); then
        ensure_apt_packages "${APT_PACKAGES[@]}"
    else
        local missing
        missing="$(missing_apt_packages "${APT_PACKAGES[@]}" | tr '\n' ' ')"
        [[ -z "$missing" ]] || log "apt: --no-install, but missing: $missing"
    fi
    section_end
    install_pip_packages
}

# Prints the PyPI packages of PIP_PACKAGES whose module /usr/bin/python3 cannot import.
missing_pip_packages() {
    local entry
    for entry in "${PIP_PACKAGES[@]}"; do
        "$SYSTEM_PYTHON" -c "import ${entry%%:*}" 2> /dev/null || printf '%s\n' "${entry#*:}"
    done
}

# pip for /usr/bin/python3 (Debian marks it externally managed, hence --break-system-packages), only for what is
# missing: a second run does no pip work at all. --no-install only reports.
install_pip_packages() {
    section_begin "pip packages"
    local missing
    mapfile -t missing < <(missing_pip_packages)
    if (( ${#missing[@]} == 0 )); then
        log "pip: all ${#PIP_PACKAGES[@]} packages already importable"
    elif (( INSTALL == 1 )); then
        log "pip: installing ${missing[*]}"
        "$SYSTEM_PYTHON" -m pip install --quiet --disable-pip-version-check --break-system-packages "${missing[@]}"
    else
        log "pip: --no-install, but missing: ${missing[*]} (the simulator's SDK test will fail saying so)"
    fi
    section_end
}

check_toolchain() {
    command -v swift > /dev/null || die "swift is not on PATH (Swift 6.2 or newer is needed)"
    log "$(swift --version 2>&1 | head -n 1)"
}

# The committed .swift-format style (scripts/format.sh applies it): a file that differs fails the run at the end,
# after the tests, so that one badly formatted line does not hide test results.
check_format() {
    section_begin "swift format lint"
    local status=0
    (cd "$REPO_ROOT" && swift format lint --strict --recursive --parallel Sources Tests Package.swift) || status=$?
    if (( status != 0 )); then
        log "swift format: files differ from .swift-format's style; run scripts/format.sh"
        record_status "$status"
    fi
    section_end
}

build_package() {
    section_begin "swift build --build-tests"
    (cd "$REPO_ROOT" && swift build --build-tests)
    IOTBRIDGE_BIN_DIR="$(cd "$REPO_ROOT" && swift build --show-bin-path)"
    section_end
}

# Records a step's status like swift_test does: the first failure is the run's.
record_status() {
    local status="$1"
    if [[ -z "$TEST_STATUS" || "$TEST_STATUS" == 0 ]]; then
        TEST_STATUS="$status"
    fi
}

# The sanitizer steps (scripts/lib/sanitize.sh). Skipped with --filter, which asks for one run.
run_sanitizers() {
    (( ASAN == 1 || TSAN == 1 )) || return 0
    if [[ -n "$FILTER" ]]; then
        log "sanitizers: skipped with --filter"
        return 0
    fi
    # The main build's checkouts: <scratch>/<triple>/debug -> <scratch>/checkouts.
    local scratch package="$WORK_DIR/sanitize" integration="" status
    scratch="$(cd "$IOTBRIDGE_BIN_DIR/../.." && pwd)"
    sanitizer_package "$package" "$REPO_ROOT" "$scratch/checkouts/swift-log"
    (( UNIT_ONLY == 1 )) || integration="$SANITIZED_INTEGRATION_FILTER"
    if (( ASAN == 1 )); then
        section_begin "AddressSanitizer: AMQPTests${integration:+ and $integration}"
        status=0
        run_sanitized address "$package" "$REPO_ROOT/.build-asan" AMQPTests "$integration" || status=$?
        section_end
        log "AddressSanitizer: exit $status"
        record_status "$status"
    fi
    if (( TSAN == 1 )); then
        section_begin "ThreadSanitizer: AMQPTests"
        status=0
        run_sanitized thread "$package" "$REPO_ROOT/.build-tsan" AMQPTests || status=$?
        section_end
        log "ThreadSanitizer: exit $status"
        record_status "$status"
    fi
}

build_c_examples() {
    section_begin "Proton C examples (gcc)"
    build_proton_examples "$BIN_DIR"
    section_end
}

start_rabbitmq() {
    section_begin "RabbitMQ"
    rabbitmq_start "$WORK_DIR/rabbitmq-$$"
    section_end
}

start_postgres() {
    section_begin "PostgreSQL"
    POSTGRES_NO_FSYNC=1 postgres_start "$WORK_DIR/postgres-$$"
    section_end
}

# Exports the environment the integration tests read.
export_test_environment() {
    export IOTBRIDGE_TEST_RUN="$RUN_MARKER"
    export IOTBRIDGE_PYTHON="$SYSTEM_PYTHON"
    export IOTBRIDGE_PEERS="$PEERS_DIR"
    export IOTBRIDGE_BIN="$IOTBRIDGE_BIN_DIR/iotbridge"
    if (( UNIT_ONLY == 0 )); then
        export IOTBRIDGE_RABBITMQ_URL="amqp://127.0.0.1:$RABBITMQ_PORT"
        export IOTBRIDGE_RABBITMQ_NODE="$RABBITMQ_NODE"
        export IOTBRIDGE_RABBITMQCTL="$RABBITMQCTL"
        export IOTBRIDGE_PROTON_BROKER="$BIN_DIR/broker"
        export IOTBRIDGE_PROTON_SEND="$BIN_DIR/send"
        export IOTBRIDGE_PROTON_RECEIVE="$BIN_DIR/receive"
        export IOTBRIDGE_POSTGRES_URL="$POSTGRES_URL"
        export IOTBRIDGE_POSTGRES_CTL="$POSTGRES_CTL"
    fi
    # The URL's password is the test cluster's own, but keep even that out of logs.
    env | grep '^IOTBRIDGE_' | sort | sed -E 's#(postgres://[^:]*:)[^@]*@#\1***@#; s/^/  /' >&2
}

# Runs `swift test --skip-build` with ARGS in a section; records the first failure.
swift_test() {
    local title="$1" status=0
    shift
    section_begin "$title: swift test --skip-build $*"
    (cd "$REPO_ROOT" && swift test --skip-build "$@") || status=$?
    section_end
    log "$title: exit $status"
    record_status "$status"
}

# Unit tests first, then the IntegrationTests target, as two runs of the same build:
# on 2 cores the timing-sensitive unit tests then do not compete with brokers, peers
# and fault tests. With --filter: one run with that filter.
run_tests() {
    if [[ -n "$FILTER" ]]; then
        if (( UNIT_ONLY == 1 )); then
            swift_test "tests" --filter "$FILTER" --skip IntegrationTests
        else
            swift_test "tests" --filter "$FILTER"
        fi
        return 0
    fi
    swift_test "unit tests" --skip IntegrationTests
    if (( UNIT_ONLY == 0 )); then
        swift_test "integration tests" --filter IntegrationTests
    fi
}

# Ends processes that carry this run's marker in their environment: brokers and peers
# the tests started and did not stop. Never touches anything else.
stop_leftover_processes() {
    local file pid found=()
    for file in $(grep -lzx "IOTBRIDGE_TEST_RUN=$RUN_MARKER" /proc/[0-9]*/environ 2>/dev/null || true); do
        pid="${file#/proc/}"
        pid="${pid%/environ}"
        if [[ "$pid" != "$$" && "$pid" != "$BASHPID" ]] && pid_alive "$pid"; then
            found+=("$pid")
        fi
    done
    for pid in "${found[@]}"; do
        log "cleanup: ending leftover process $pid: $(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | cut -c1-100)"
        stop_pid "$pid"
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n "$POSTGRES_DIR" ]]; then
        local postgres_dir="$POSTGRES_DIR"
        postgres_stop
        if (( KEEP_STATE == 0 )) && [[ "${TEST_STATUS:-1}" == 0 ]]; then
            rm -rf "$postgres_dir"
        else
            log "PostgreSQL data and log kept in $postgres_dir"
        fi
    fi
    if [[ -n "$RABBITMQ_DIR" ]]; then
        section_begin "cleanup"
        local state_dir="$RABBITMQ_DIR"
        rabbitmq_stop
        stop_leftover_processes
        if (( KEEP_STATE == 0 )) && [[ "${TEST_STATUS:-1}" == 0 ]]; then
            rm -rf "$state_dir"
        else
            log "RabbitMQ state and logs kept in $state_dir"
        fi
        section_end
    else
        stop_leftover_processes
    fi
    if [[ -n "$TEST_STATUS" ]]; then
        status="$TEST_STATUS"
    fi
    printf '\n==== total %ss, exit %s ====\n' "$(elapsed "$RUN_START" "$(now)")" "$status" >&2
    exit "$status"
}

on_signal() {
    log "interrupted"
    TEST_STATUS=130
    exit 130
}

main() {
    parse_args "$@"
    trap cleanup EXIT
    trap on_signal INT TERM
    install_packages
    check_toolchain
    check_format
    build_package
    export IOTBRIDGE_TEST_RUN="$RUN_MARKER"  # inherited by RabbitMQ too
    if (( UNIT_ONLY == 0 )); then
        build_c_examples
        start_rabbitmq
        start_postgres
    fi
    export_test_environment
    run_tests
    run_sanitizers
}

main "$@"
