#!/bin/sh
# Owns a private, relay-only Postfix instance used as the benchmark baseline (root only).
# usage: postfix-instance.sh start STATE [LISTEN] [NEXTHOP] [DOMAIN] | stop STATE
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
cmd=$1; S=$(realpath -m "$2"); C="$S/conf"
case "$cmd" in
start)
  L=${3:-127.0.0.1:2525}; N=${4:-[127.0.0.1]:2526}; D=${5:-example.com}
  mkdir -p "$C" "$S/queue" "$S/data"
  for f in main.cf master.cf; do
    sed -e "s|@STATE@|$S|g" -e "s|@LISTEN@|$L|g" -e "s|@NEXTHOP@|$N|g" -e "s|@DOMAIN@|$D|g" \
      "$HERE/postfix/$f.in" > "$C/$f"
  done
  chown postfix "$S/data"
  postfix -c "$C" check
  postfix -c "$C" start ;;
stop)
  postfix -c "$C" stop || true ;;
*) echo "usage: $0 start|stop STATE ..." >&2; exit 2 ;;
esac
