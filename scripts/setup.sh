#!/usr/bin/env bash
# Installs everything xcept needs to build, test and run on Debian 12.
# Uses sudo only when not root (CI runs as root without sudo).
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  dataset-fashion-mnist
  zlib1g-dev libstb-dev
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  clang libclang-rt-14-dev
  openmpi-bin libopenmpi-dev
  pybind11-dev python3-dev python3-numpy python3-pytest
  gnuplot-nox
  # XNNPACK is a benchmark peer (bench/peers/bench_xnnpack.cpp), never a library dependency.
  libxnnpack-dev libpthreadpool-dev
)

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm fetch ONNX Runtime (bench/peers) for the export tests and peer benchmarks.
# A node that ships its own npm (e.g. NodeSource's) is kept as it is.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
