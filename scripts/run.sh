#!/usr/bin/env bash
# scripts/run.sh — the main job: installs dependencies, builds the CPU-only sparsedd binary (nothing
# else), runs the quickstart (experiments/configs/quickstart.yaml: a lottery ticket experiment with
# the MNIST MLP on Fashion-MNIST with 20 % random labels, 21 levels of 60 epochs), then prints the
# per-level table and where the results are. A killed run resumes when this script is run again.
# Results go to $SPARSEDD_RESULTS (default: ./results); data come from $SPARSEDD_DATA or the Debian
# package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/install-deps.sh
cmake -S "$ROOT" -B "$ROOT/build/run" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSDD_CUDA=OFF -DSDD_BUILD_TESTS=OFF -DSDD_BUILD_BENCH=OFF
cmake --build "$ROOT/build/run" -j "$(nproc)" --target sparsedd
SDD="$ROOT/build/run/sparsedd"
export SPARSEDD_RESULTS="${SPARSEDD_RESULTS:-$ROOT/results}"
CONFIG="$ROOT/experiments/configs/quickstart.yaml"
echo
echo "== quickstart: sparsedd run $CONFIG"
echo "== results go to:"
"$SDD" run "$CONFIG" -d
echo
# The run prints one summary line per level as it finishes and the level table at the end
# (level, remaining weights %, last / best test accuracy, last train accuracy, where the results are).
"$SDD" run "$CONFIG"
echo
# The report: report.csv, report.md and (with gnuplot) report.svg / report.png beside the results.
EXP_DIR=$("$SDD" run "$CONFIG" -d | head -n 1 | sed -E 's#/replicate_[0-9]+/.*##')
"$SDD" report "$EXP_DIR" --out "$EXP_DIR/report"
echo "report: $EXP_DIR/report"
