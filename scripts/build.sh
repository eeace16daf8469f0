#!/bin/sh
# Configures and builds SpamWeeder into ./build (Ninja, ccache when present).
# Fails with the compiler's message and a non-zero status.
set -eu
cd "$(dirname "$0")/.."
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
# ccache hits across clones: paths under the tree are hashed relative to it (CI builds a fresh
# clone in another folder; its compiles reuse the cache a developer's build left).
CCACHE_BASEDIR=$(pwd); CCACHE_NOHASHDIR=true; export CCACHE_BASEDIR CCACHE_NOHASHDIR
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${CMAKE_ARGS:-} >/dev/null
cmake --build build -j "${JOBS:-2}"
