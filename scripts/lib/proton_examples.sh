#!/usr/bin/env bash
# scripts/lib/proton_examples.sh: builds Qpid Proton's C examples (Debian package
# libqpid-proton11-dev-examples, sources in /usr/share/proton/examples/c) with gcc.
#
#   build_proton_examples OUT_DIR            broker, send, receive (stock sources)
#   build_proton_bench_examples OUT_DIR PATCH  send-bench, receive-bench: the same
#                                            sources with PATCH applied (100-byte
#                                            data-section body, credit window 1000;
#                                            PROTON_BENCH_CFLAGS="-DBODY_SIZE=B
#                                            -DCREDIT=C" changes them)
#
# Rebuilds only when a binary is missing or older than its source. Also copies the
# examples' ssl-certs/ next to the binaries: the broker enables optional TLS when
# started with that folder as its working directory.
#
# Note: Debian's 0.37 ships only the pkg-config module `libqpid-proton` (core and
# proactor in one library), so the examples' Makefile.pkgconfig (which asks for
# libqpid-proton-core and libqpid-proton-proactor) does not work; we call gcc here.

PROTON_EXAMPLES_SRC="${PROTON_EXAMPLES_SRC:-/usr/share/proton/examples/c}"

# Compiles one C file SRC into OUT with the example's folder on the include path
# (broker.c includes "thread.h" from there) and any EXTRA_CFLAGS (word-split).
# Skips when OUT is newer than SRC.
_compile_proton_example() {
    local src="$1" out="$2" include_dir="$3" extra_cflags="${4:-}"
    if [[ -x "$out" && "$out" -nt "$src" ]]; then
        return 0
    fi
    log "gcc: $(basename "$src") $extra_cflags -> $out"
    # shellcheck disable=SC2046,SC2086  # pkg-config output and extra flags are word-split
    gcc -O2 -g -Wall $extra_cflags -o "$out" -I "$include_dir" $(pkg-config --cflags libqpid-proton) \
        "$src" $(pkg-config --libs libqpid-proton) -lpthread
}

# Builds broker, send and receive from the stock example sources into OUT_DIR.
build_proton_examples() {
    local out_dir="$1" name
    [[ -f "$PROTON_EXAMPLES_SRC/broker.c" ]] \
        || die "no $PROTON_EXAMPLES_SRC/broker.c: install libqpid-proton11-dev-examples"
    mkdir -p "$out_dir"
    for name in broker send receive; do
        _compile_proton_example "$PROTON_EXAMPLES_SRC/$name.c" "$out_dir/$name" "$PROTON_EXAMPLES_SRC"
    done
    if [[ ! -d "$out_dir/ssl-certs" ]]; then
        cp -r "$PROTON_EXAMPLES_SRC/ssl-certs" "$out_dir/ssl-certs"
    fi
}

# Builds send-bench and receive-bench: send.c and receive.c with PATCH applied.
build_proton_bench_examples() {
    local out_dir="$1" patch_file="$2" src_dir name
    src_dir="$out_dir/bench-src"
    mkdir -p "$src_dir"
    if [[ ! -f "$src_dir/.patched" || "$patch_file" -nt "$src_dir/.patched" ]]; then
        cp "$PROTON_EXAMPLES_SRC/send.c" "$PROTON_EXAMPLES_SRC/receive.c" "$src_dir/"
        (cd "$src_dir" && patch -s -p1 < "$patch_file") || die "could not apply $patch_file"
        touch "$src_dir/.patched"
    fi
    for name in send receive; do
        _compile_proton_example "$src_dir/$name.c" "$out_dir/$name-bench" "$PROTON_EXAMPLES_SRC" \
            "${PROTON_BENCH_CFLAGS:-}"
    done
}
