#!/usr/bin/env bash
# `make test`: build the site (skipped when nothing it is built from changed), then run the
# whole suite (pyproject.toml's options: every core, one file per worker) and, side by side
# with it on x86-64, every notebook again with the vector instructions of an AVX2 processor.
# Prints each stage's wall time at the end; fails when any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LOGS=_build/logs
mkdir -p "$LOGS"
declare -a names=() secs=() codes=()
record() { names+=("$1"); secs+=("$2"); codes+=("$3"); }

total_start=$SECONDS
start=$SECONDS
$PY tools/booktools.py build ${BOOK_ARGS:-}
status=$?
record "site (make book)" $((SECONDS - start)) $status
if [ $status -ne 0 ]; then
    echo "make test: the site did not build" >&2
    exit $status
fi

avx_pid=""
if [ -n "${PORTABLE_ENV:-}" ]; then
    echo "Notebooks again, alongside, with the vector instructions of an AVX2 processor: $PORTABLE_ENV"
    echo "(its output: $LOGS/notebooks-avx2.log)"
    avx_start=$SECONDS
    # One thread per process, as tests/conftest.py sets for the suite (this pass does not load it).
    # shellcheck disable=SC2086 - PORTABLE_ENV and PYTEST_ARGS are word lists
    env $PORTABLE_ENV OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \
        $PY -m pytest book --numprocesses 1 ${PYTEST_ARGS:-} > "$LOGS/notebooks-avx2.log" 2>&1 &
    avx_pid=$!
fi

start=$SECONDS
# shellcheck disable=SC2086
COMPANION_CHROMIUM=${CHROMIUM:-/usr/bin/chromium} $PY -m pytest ${PYTEST_ARGS:-}
status=$?
record "suite: tests, doctests, static checks, notebooks" $((SECONDS - start)) $status

if [ -n "$avx_pid" ]; then
    wait "$avx_pid"
    avx_status=$?
    record "notebooks as on an AVX2 processor (alongside)" $((SECONDS - avx_start)) $avx_status
    echo "---- notebooks as on an AVX2 processor ($LOGS/notebooks-avx2.log) ----"
    if [ $avx_status -ne 0 ]; then cat "$LOGS/notebooks-avx2.log"; else tail -n 3 "$LOGS/notebooks-avx2.log"; fi
fi

echo "---- make test: wall time per stage ----"
failed=0
for i in "${!names[@]}"; do
    printf '%6d s  %-52s %s\n' "${secs[$i]}" "${names[$i]}" "$([ "${codes[$i]}" -eq 0 ] && echo ok || echo "FAILED (exit ${codes[$i]})")"
    [ "${codes[$i]}" -eq 0 ] || failed=${codes[$i]}
done
printf '%6d s  total\n' $((SECONDS - ${total_start:-0}))
exit $failed
