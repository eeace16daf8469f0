#!/bin/sh
# Checks contrib/systemd/spamweeder.service with `systemd-analyze verify`: known keys only,
# executables that exist (the built binary stands in for /usr/local/bin/spamweeder).
# Fails (exit 1) with systemd's words on any warning; exit 77 (skipped) without systemd-analyze.
# usage: verify-unit.sh UNIT BINARY
set -eu
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
sed "s|/usr/local/bin/spamweeder|$2|g" "$1" > "$T/spamweeder.service"
out=$(systemd-analyze verify "$T/spamweeder.service" 2>&1) || { echo "$out"; exit 1; }
# Warnings (unknown keys, bad values) do not change the exit status: treat them as failures.
if [ -n "$out" ]; then echo "$out"; exit 1; fi
echo "spamweeder.service: ok"
