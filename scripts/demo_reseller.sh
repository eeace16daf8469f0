#!/bin/sh
# Owns the demo reseller of scripts/run.sh: "Demo Hosting" (brand, portal_host localhost), one
# customer, two domains and a reseller token, provisioned through the admin API with curl.
# Fails with the API's answer and status 1; skips everything when the reseller already exists.
# Usage: scripts/demo_reseller.sh [CONFIG] (default config/spamweeder.yaml; gateway running).
set -eu
cd "$(dirname "$0")/.."
CONFIG=${1:-config/spamweeder.yaml}
# admin.listen and admin.token of the config (the bundled one has both inline).
ADMIN=$(sed -n '/^admin:/,/^[a-z]/s/^  listen: *\([^ #]*\).*/\1/p' "$CONFIG")
TOKEN=$(sed -n '/^admin:/,/^[a-z]/s/^  token: *\([^ #]*\).*/\1/p' "$CONFIG")
[ -n "$ADMIN" ] && [ -n "$TOKEN" ] || { echo "demo: no admin.listen/admin.token in $CONFIG" >&2; exit 1; }
PORT=${ADMIN##*:}
API="http://$ADMIN/api/v1"
SAVED=var/demo-reseller.token

call() {  # METHOD PATH [JSON] -> body on stdout; fails on a status >= 300
  out=$(curl -sS -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$API$2") || return 1
  code=$(printf '%s' "$out" | tail -n 1)
  body=$(printf '%s' "$out" | sed '$d')
  if [ "$code" -ge 300 ]; then echo "demo: $1 $2: $code $body" >&2; return 1; fi
  printf '%s' "$body"
}
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }  # first "key":"string" of a compact object

for _ in $(seq 1 50); do
  curl -sf "http://$ADMIN/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

if call GET /resellers | grep -q '"name":"Demo Hosting"'; then
  echo "demo: reseller Demo Hosting already provisioned"
else
  R=$(call POST /resellers '{"name":"Demo Hosting","plan":{"max_domains":50},
    "branding":{"product_name":"Demo Hosting Mail Shield","primary_color":"#0f766e",
    "support_email":"support@demo-hosting.test","portal_host":"localhost",
    "alert_from_name":"Demo Hosting Alerts"}}' | field id)
  C=$(call POST /customers "{\"name\":\"Demo Bakery\",\"reseller\":\"$R\",
    \"contacts\":[{\"name\":\"Owner\",\"email\":\"owner@bakery.demo.test\"}]}" | field id)
  for d in bakery.demo.test shop.demo.test; do
    call POST /domains "{\"name\":\"$d\",\"customer\":\"$C\",
      \"destinations\":[\"[127.0.0.1]:2526\"]}" >/dev/null
  done
  mkdir -p var
  (umask 077 && call POST /tokens "{\"account\":\"$R\",\"role\":\"admin\",\"name\":\"demo\"}" |
    field token >"$SAVED")
  echo "demo: provisioned reseller Demo Hosting ($R), customer Demo Bakery, 2 domains"
fi
echo "demo: portal (operator):      http://127.0.0.1:$PORT/  sign in with the config's admin.token"
echo "demo: portal (Demo Hosting):  http://localhost:$PORT/  sign in with $(cat "$SAVED" 2>/dev/null ||
  echo 'the token printed on the first run')"
