#!/bin/sh
# The README's first command: install what is missing, build, and run the gateway in the
# foreground on the bundled config (SMTP on 127.0.0.1:2525, relaying example.com to :2526), then
# provision the portal's demo reseller through the API (scripts/demo_reseller.sh, once).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/build.sh
mkdir -p var
./build/spamweeder serve -c config/spamweeder.yaml &
GW=$!
trap 'kill -TERM $GW 2>/dev/null' INT TERM
sh scripts/demo_reseller.sh config/spamweeder.yaml || echo "run: demo reseller not provisioned" >&2
wait $GW || { st=$?; wait $GW 2>/dev/null; exit $st; }
