#!/usr/bin/env bash
# Installs a build into a temporary prefix and uses it as a user would: builds examples/
# with find_package(xcept), compiles one example through pkg-config, imports the Python
# module, and runs two examples briefly. Usage: scripts/test_install.sh [BUILD_DIR]
# (default: build). Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S examples -B "$prefix/examples-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build "$prefix/examples-build" >/dev/null
"$prefix/examples-build/model_costs" mini-mobilenet | tail -n 1
"$prefix/bin/xcept" export --model mini-mobilenet --output "$prefix/m.onnx" >/dev/null
"$prefix/examples-build/classify_image" "$prefix/m.onnx" examples/data/sneaker.png | head -n 1

libdir="$(dirname "$(find "$prefix" -name 'libxcept.so' | head -n 1)")"
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exists xcept
# shellcheck disable=SC2046  # pkg-config's flags are meant to split
c++ examples/model_costs.cpp -o "$prefix/model_costs_pc" -Wall -Wextra -Werror \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs xcept) -Wl,-rpath,"$libdir"
"$prefix/model_costs_pc" mini-xception | tail -n 1

module="$(find "$prefix" -name 'xcept*.so' -path '*-packages*' | head -n 1)"
[ -n "$module" ] || { echo "test_install: the Python module was not installed" >&2; exit 1; }
PYTHONPATH="$(dirname "$module")" /usr/bin/python3 -c 'import xcept; assert xcept.models()'
echo "install: library, CMake package, pkg-config, examples and Python module work from $prefix"
