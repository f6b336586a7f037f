#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 300), one after the other, one job each, and prints
# per target the executions, executions per second and crashes found. Exits 1 if any target crashed
# (or failed to start), 0 otherwise. Not part of CI: see fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Environment:
#   FUZZ_SANITIZER   cargo fuzz sanitizer (default: none; escache has no unsafe code, and without ASan
#                    the targets run several times faster; `address` works too)
#   FUZZ_ARGS        extra libFuzzer/atheris flags for every target (e.g. `-max_len=65536`)
#   FUZZ_NICE        niceness of the fuzzers (default 10)
#   ESCACHE_FUZZ_SKIP  check names to switch off while a known finding is being fixed (README)
#   NO_ATHERIS=1     skip the Python target
#
# Installs what it needs when it is missing: cargo-fuzz (crates.io) and, in fuzz/.venv, atheris
# (PyPI) and escache itself (maturin develop). The machine's Rust is stable: cargo fuzz needs nightly
# flags, which RUSTC_BOOTSTRAP=1 allows.
set -uo pipefail

SECONDS_EACH="${1:-300}"
shift || true
case "$SECONDS_EACH" in
    '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
cd "$ROOT" || exit 2

RUST_TARGETS=(rest_request json_body_differential service_tokens_file time_value scenario)
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=("${RUST_TARGETS[@]}" atheris_scenario)
fi
SANITIZER="${FUZZ_SANITIZER:-none}"
NICE="${FUZZ_NICE:-10}"
export RUSTC_BOOTSTRAP=1
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"

mkdir -p "$FUZZ_DIR/logs" "$FUZZ_DIR/work" "$FUZZ_DIR/artifacts"

wants_rust=0
wants_atheris=0
for t in "${TARGETS[@]}"; do
    if [ "$t" = atheris_scenario ]; then wants_atheris=1; else wants_rust=1; fi
done
[ "${NO_ATHERIS:-0}" = 1 ] && wants_atheris=0

# --- install and build ---------------------------------------------------------------------------
if [ "$wants_rust" = 1 ]; then
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "== installing cargo-fuzz"
        cargo install cargo-fuzz --locked || exit 2
    fi
    echo "== building the Rust targets (sanitizer: $SANITIZER)"
    nice -n "$NICE" cargo fuzz build --fuzz-dir "$FUZZ_DIR" -s "$SANITIZER" --debug-assertions \
        >"$FUZZ_DIR/logs/build.log" 2>&1 || { tail -30 "$FUZZ_DIR/logs/build.log"; exit 2; }
fi
if [ "$wants_atheris" = 1 ]; then
    VENV="$FUZZ_DIR/.venv"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== creating $VENV"
        python3 -m venv --system-site-packages "$VENV" || exit 2
    fi
    if ! "$VENV/bin/python" -c "import atheris" 2>/dev/null; then
        echo "== installing atheris"
        "$VENV/bin/pip" install -q atheris || exit 2
    fi
    echo "== building escache into $VENV"
    (
        export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH"
        command -v maturin >/dev/null || pip install -q "maturin>=1.7,<2"
        nice -n "$NICE" maturin develop --profile dev -m "$ROOT/Cargo.toml"
    ) >"$FUZZ_DIR/logs/build-python.log" 2>&1 || { tail -30 "$FUZZ_DIR/logs/build-python.log"; exit 2; }
fi

# --- run -----------------------------------------------------------------------------------------
# Inputs libFuzzer saved for a crash, a timeout, an out-of-memory or a leak (not `slow-unit-*`).
count_findings() {
    find "$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

BIN_DIR="$FUZZ_DIR/target/x86_64-unknown-linux-gnu/release"
status=0
summary=()
for t in "${TARGETS[@]}"; do
    if [ "$t" = atheris_scenario ] && [ "$wants_atheris" = 0 ]; then continue; fi
    work="$FUZZ_DIR/work/$t"
    seeds="$FUZZ_DIR/corpus/$t"
    artifacts="$FUZZ_DIR/artifacts/$t"
    log="$FUZZ_DIR/logs/$t.log"
    mkdir -p "$work" "$seeds" "$artifacts"
    before=$(count_findings "$artifacts")
    dict=()
    [ -f "$FUZZ_DIR/dict/$t.dict" ] && dict=("-dict=$FUZZ_DIR/dict/$t.dict")
    flags=(-max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/" "${dict[@]}" "${EXTRA[@]}")
    echo "== $t: ${SECONDS_EACH}s"
    if [ "$t" = atheris_scenario ]; then
        nice -n "$NICE" "$FUZZ_DIR/.venv/bin/python" "$FUZZ_DIR/atheris_scenario.py" \
            "$work" "$seeds" "${flags[@]}" >"$log" 2>&1
    else
        nice -n "$NICE" "$BIN_DIR/$t" "$work" "$seeds" "${flags[@]}" >"$log" 2>&1
    fi
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then # atheris prints no final stats: take libFuzzer's last status line
        last=$(grep -E '^#[0-9]+' "$log" | tail -1)
        execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
        rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
    fi
    crashes=$(($(count_findings "$artifacts") - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi # died without an artifact
    line=$(printf '%-24s executions: %-10s exec/s: %-8s crashes: %s' "$t" "${execs:-?}" "${rate:-?}" "$crashes")
    echo "$line"
    summary+=("$line")
    if [ "$crashes" -ne 0 ]; then
        status=1
        grep -m1 -A2 -E 'panicked at|Uncaught Python exception|ERROR: libFuzzer' "$log" | sed 's/^/    /'
        echo "    inputs: $artifacts (log: $log)"
    fi
done

echo
echo "== summary (${SECONDS_EACH}s per target)"
printf '%s\n' "${summary[@]}"
exit "$status"
