#!/bin/sh
# Configures and builds SpamWeeder into ./build (Ninja, ccache when present).
# Fails with the compiler's message and a non-zero status.
set -eu
cd "$(dirname "$0")/.."
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${CMAKE_ARGS:-} >/dev/null
cmake --build build -j "${JOBS:-2}"
