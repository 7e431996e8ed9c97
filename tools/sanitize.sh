#!/usr/bin/env bash
# Build cnet with AddressSanitizer and UndefinedBehaviorSanitizer
# (-fsanitize=address,undefined -fno-sanitize-recover=all, OpenMP required)
# into a fresh virtual environment, then run the whole test suite, with the
# thread-stress test (tests/test_reliability_threads.py) run for
# CNET_STRESS_SECONDS (default 20), under the sanitizers. Python itself is
# not instrumented, so the ASan runtime is preloaded.
#
# Fails (exit 1) on a failed build, a failed test, or any sanitizer report,
# also one from a child process a test started. ASan writes its reports to
# files (log_path) and the run fails if any exists; GCC's UBSan runtime (a
# library of its own beside ASan's) writes to standard error whatever
# log_path says, so pytest runs with --capture=sys (a C library's writes to
# standard error reach the log instead of being captured with the test's
# output) and the run fails on any report in the log. A test's child
# process stops at its first report (-fno-sanitize-recover) with exit
# status 1, which fails that test.
#
# On failure the sanitizer reports, the pytest log and the build log are
# printed and copied to CNET_SANITIZE_KEEP (default: cnet-sanitize-reports in
# the current folder), so that they outlive the temporary folder.
#
# Usage: tools/sanitize.sh [pytest arguments...]     (Linux, GCC or Clang)
# Environment: PYTHON (default python3), CC (default gcc), CNET_STRESS_SECONDS,
# CNET_SANITIZE_KEEP.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
cc=${CC:-gcc}
work=$(mktemp -d "${TMPDIR:-/tmp}/cnet-sanitize.XXXXXX")
keep=${CNET_SANITIZE_KEEP:-$PWD/cnet-sanitize-reports}
keep_and_clean() {  # on a failure, save the logs and reports before the folder goes
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    mkdir -p "$keep"
    cp -r "$work/reports" "$keep/" 2>/dev/null || true
    cp "$work"/*.log "$keep/" 2>/dev/null || true
    echo "sanitize: logs and reports kept in $keep" >&2
  fi
  rm -rf "$work"
}
trap keep_and_clean EXIT
started=$(date +%s)
say() { printf 'sanitize: %s (at %ds)\n' "$*" "$(( $(date +%s) - started ))"; }

asan=$("$cc" -print-file-name=libasan.so)
case "$asan" in
  /*) ;;
  *) echo "sanitize: $cc has no libasan.so (install its AddressSanitizer runtime)" >&2
     exit 1 ;;
esac
# libstdc++ preloaded with the runtime: a C++ extension loaded later
# (matplotlib's ft2font) that throws would otherwise meet ASan's __cxa_throw
# interceptor with no real function behind it and abort.
stdcxx=$("$cc" -print-file-name=libstdc++.so.6)

# The sources without build output: the build must compile everything afresh.
mkdir -p "$work/src" "$work/reports"
tar -C "$repo" --exclude=./.git --exclude=./build --exclude='*.so' \
    --exclude='./cnet/_*.c' --exclude='*.egg-info' --exclude=__pycache__ -cf - . \
  | tar -C "$work/src" -xf -

say "venv and build tools"
"$py" -m venv "$work/env"
"$work/env/bin/python" -m pip install -q --upgrade pip
"$work/env/bin/python" -m pip install -q "setuptools>=77" wheel "Cython>=3.0.8" "numpy>=2.0"

say "build with -fsanitize=address,undefined, OpenMP required"
export CC="$cc"
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# -O1 (CNET_OPT): the usual level for sanitizer builds, and much faster to
# compile than -O3 with three SIMD clones of every dispatched kernel.
CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" CNET_REQUIRE_OPENMP=1 CNET_OPT=-O1 \
  "$work/env/bin/python" -m pip install -v --no-build-isolation "$work/src[test]" \
  > "$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; echo "sanitize: build failed" >&2; exit 1; }
grep -E '^ *cnet: ' "$work/build.log" || true
grep -q 'cnet: building with OpenMP' "$work/build.log" \
  || { echo "sanitize: the build did not use OpenMP" >&2; exit 1; }

export LD_PRELOAD="$asan${stdcxx:+ $stdcxx}"
# detect_leaks=0: CPython frees little at exit, which is not cnet's to fix.
# allocator_may_return_null=1: tests ask for absurd sizes and expect
# MemoryError, as a plain malloc gives.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=1:log_path=$work/reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work/reports/ubsan"
export CNET_STRESS_SECONDS=${CNET_STRESS_SECONDS:-20}
mirror="$repo/../shared/datasets/mnist"
if [ -z "${CNET_MNIST_MIRROR:-}" ] && [ -d "$mirror" ]; then
  export CNET_MNIST_MIRROR=$(cd "$mirror" && pwd)
fi
export CNET_DATA_HOME="$work/cache"

(cd "$work" && "$work/env/bin/python" -c \
  "import cnet, sys; i = cnet.config.config_info(); print('sanitize: cnet', cnet.__file__, 'openmp', i['openmp']); sys.exit(0 if i['openmp'] else 1)") \
  || { echo "sanitize: the sanitized cnet does not import, or has no OpenMP" >&2; cat "$work"/reports/* 2>/dev/null; exit 1; }

say "tests under ASan and UBSan (thread stress for ${CNET_STRESS_SECONDS}s)"
set +e
(cd "$work/src" && "$work/env/bin/pytest" -p no:cacheprovider -q -rfEs --capture=sys \
   --durations=10 "$@" tests) 2>&1 | tee "$work/pytest.log"
rc=${PIPESTATUS[0]}
set -e

if grep -E -n 'runtime error:|ERROR: AddressSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer' \
     "$work/pytest.log" > "$work/reports/in-pytest-log"; then
  echo "sanitize: sanitizer reports in the pytest log:" >&2
  head -n 20 "$work/reports/in-pytest-log" >&2
else
  rm -f "$work/reports/in-pytest-log"
fi

reports=$(ls "$work/reports" 2>/dev/null | wc -l)
if [ "$reports" -gt 0 ]; then
  for f in "$work"/reports/*; do
    echo "=== $f"
    head -n 60 "$f"
  done
  echo "sanitize: FAILED: $reports sanitizer report(s) above" >&2
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "sanitize: FAILED: pytest exited with $rc" >&2
  exit 1
fi
say "clean: no sanitizer report, every test passed"
