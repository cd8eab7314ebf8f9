#!/usr/bin/env bash
# bench/run_gpu_benches.sh — everything a GPU machine should run, in one command (DESIGN section 6):
# build with CUDA, the [cuda] tests, every GPU bench binary (bench/*_bench.cu) and the PyTorch
# comparison when torch imports; writes bench/results/<date>-<device>.md with the date, the device
# (nvidia-smi) and every number.
#   bench/run_gpu_benches.sh [build-dir]        (default: build-gpu-bench)
set -u -o pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu-bench}
JOBS=${JOBS:-$(nproc)}
LOG=$(mktemp -d)
DATE=$(date +%Y-%m-%d)
DEVICE=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)
DEVICE=${DEVICE:-no-gpu}
SLUG=$(echo "$DEVICE" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')
mkdir -p bench/results
OUT=bench/results/${DATE}-${SLUG}.md
status=0

step() {  # step <name> <command...>: runs, logs to $LOG/<name>.log, records the exit code
  local name=$1; shift
  echo "== $name: $*"
  "$@" >"$LOG/$name.log" 2>&1
  local rc=$?
  echo "$rc" >"$LOG/$name.rc"
  tail -n 5 "$LOG/$name.log"
  [ "$rc" -eq 0 ] || status=1
  return 0
}

step configure cmake -S . -B "$BUILD" -G Ninja -DSDD_CUDA=ON -DSDD_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release
step build ninja -C "$BUILD" -j "$JOBS"
step tests_cuda "$BUILD/tests/sdd_tests" "[cuda]"
step ctest_cuda ctest --test-dir "$BUILD" -R cuda --output-on-failure -j 1
BENCHES=()
for src in bench/*_bench.cu; do
  name=$(basename "$src" .cu)_cuda
  BENCHES+=("$name")
  step "$name" "$BUILD/bench/$name"
done
if python3 -c 'import torch' >/dev/null 2>&1; then
  step compare_pytorch python3 bench/compare_pytorch.py --ours-file "$LOG/train_step_bench_cuda.log"
else
  echo "compare_pytorch: SKIPPED: torch does not import" >"$LOG/compare_pytorch.log"; echo 0 >"$LOG/compare_pytorch.rc"
fi

{
  echo "# GPU benches — $DATE — $DEVICE"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- device: $DEVICE"
  echo "- nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n1)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "- build: $BUILD (CUDA $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
  echo
  echo "## Steps"
  echo
  echo "| step | exit code |"
  echo "|---|---|"
  for f in "$LOG"/*.rc; do echo "| $(basename "$f" .rc) | $(cat "$f") |"; done
  echo
  echo "## [cuda] tests"
  echo
  echo '```'
  grep -E "test cases|assertions|SKIPPED|FAILED" "$LOG/tests_cuda.log" | tail -n 20
  grep -E "tests passed|tests failed|Skipped|Failed" "$LOG/ctest_cuda.log" | tail -n 20
  echo '```'
  echo
  echo "## Numbers"
  echo
  echo "| bench | metric | value | unit |"
  echo "|---|---|---|---|"
  cat "$LOG"/*.log | grep -E '^RESULT ' | while read -r _ b m v u; do echo "| $b | $m | $v | $u |"; done
  echo
  echo "## Validation (each kernel against the CPU before timing)"
  echo
  echo '```'
  cat "$LOG"/*.log | grep -E '^VALIDATION ' || true
  echo '```'
  for name in "${BENCHES[@]}" compare_pytorch; do
    echo
    echo "### $name (full output)"
    echo
    echo '```'
    cat "$LOG/$name.log" 2>/dev/null | tail -n 200
    echo '```'
  done
} >"$OUT"
echo "wrote $OUT"
exit $status
