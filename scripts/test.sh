#!/bin/sh
# The README's second command: install what is missing, build, run every test (unit and
# integration over loopback with real peers). Exit status is ctest's.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/build.sh
ctest --test-dir build --output-on-failure -j "${JOBS:-2}" --timeout 300
