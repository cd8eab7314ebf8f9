#!/usr/bin/env bash
# scripts/install-deps.sh — installs the Debian packages sparsedd needs to build, test and run the
# quickstart. Idempotent: installs only what is missing and says what it installs. Runs apt as root,
# or through sudo otherwise. The CUDA toolkit (nvcc, cuDNN, cuBLAS, NCCL) is not a Debian package
# here: it is used when present under /usr/local/cuda and never required.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  catch2                     # tests (Catch2 2.13)
  libbenchmark-dev           # CPU microbenchmarks
  libopenblas-dev            # CPU sgemm
  libyaml-cpp-dev            # YAML experiment configs
  nlohmann-json3-dev         # safetensors headers, sparsity reports
  zlib1g-dev                 # gzipped IDX files
  libturbojpeg0-dev          # Tiny ImageNet JPEG decoding
  libcurl4-openssl-dev libarchive-dev   # --download of the CIFAR archives
  libopenmpi-dev openmpi-bin # multi-process data parallelism
  dataset-fashion-mnist      # the quickstart's data set
  gnuplot-nox                # `sparsedd report` plots (SVG, PNG)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
