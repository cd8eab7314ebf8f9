#!/usr/bin/env bash
# scripts/test.sh — what CI runs: installs dependencies, builds CPU-only and (where nvcc exists) with
# CUDA, and runs the whole test suite (ctest) in both builds. Fails loudly on the first failure.
# Environment: SDD_JOBS (build parallelism, default: nproc), SDD_SKIP_CUDA=1 to skip the CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${SDD_JOBS:-$(nproc)}

bash scripts/install-deps.sh

# Tests run two at a time (ctest -j) on small tensors: one OpenMP / OpenBLAS / sparsedd thread each avoids
# oversubscribing the cores. Correctness does not depend on the thread count.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} SPARSEDD_THREADS=${SPARSEDD_THREADS:-1}

# Runs ctest in $1; ctest lists skipped tests after its summary, so the summary line is repeated
# last (CI reads the closing line).
run_ctest() {
  local log="$1/ctest-output.log" rc
  set +e
  (cd "$1" && ctest --output-on-failure -j "$JOBS") 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  grep -E "tests passed|tests failed" "$log" | tail -n 1
  return "$rc"
}

configure_build() {  # $1 = build dir, $2 = SDD_CUDA value
  cmake -S "$ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSDD_CUDA="$2" -DSDD_BUILD_BENCH=ON
  cmake --build "$1" -j "$JOBS"
}

echo "=== CPU-only build ==="
configure_build "$ROOT/build/cpu" OFF
echo "=== tests: CPU-only build ==="
run_ctest "$ROOT/build/cpu"

if [ "${SDD_SKIP_CUDA:-0}" != "1" ] && { command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; }; then
  echo "=== CUDA build ==="
  configure_build "$ROOT/build/cuda" ON
  echo "=== tests: CUDA build (the CPU suite; [cuda] tests skip without a device) ==="
  # The CUDA build must list exactly the [cuda] tests of the CPU-only build (none lost to #ifdefs).
  diff <("$ROOT/build/cpu/tests/sdd_tests" "[cuda]" --list-test-names-only | sort) \
       <("$ROOT/build/cuda/tests/sdd_tests" "[cuda]" --list-test-names-only | sort) \
    || { echo "test.sh: the CUDA and CPU-only builds list different [cuda] tests" >&2; exit 1; }
  run_ctest "$ROOT/build/cuda"
fi
