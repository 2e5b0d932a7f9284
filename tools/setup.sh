#!/usr/bin/env bash
# Installs what embq needs from Debian 12's packages (only what is missing), then
# configures and builds it in Release. Safe to run again: it does only what is left.
#
#   tools/setup.sh              # install + build into ./build
#   EMBQ_BUILD_DIR=out tools/setup.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${EMBQ_BUILD_DIR:-$repo/build}"

packages=(
  cmake g++ make
  libtorch-dev python3-torch       # libtorch for embq; torch in /usr/bin/python3 for tools/*.py
  libopenblas0-pthread             # takes over libblas.so.3: FP32 matmul ~10x faster than reference BLAS
  libfaiss-dev libcli11-dev nlohmann-json3-dev libspdlog-dev
  libgtest-dev libbenchmark-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
