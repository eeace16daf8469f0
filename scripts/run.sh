#!/bin/sh
# The README's first command: install what is missing, build, and run the gateway in the
# foreground on the bundled config (SMTP on 127.0.0.1:2525, relaying example.com to :2526).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/build.sh
mkdir -p var
exec ./build/spamweeder serve -c config/spamweeder.yaml
