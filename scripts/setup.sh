#!/bin/sh
# Installs every Debian package SpamWeeder needs to build, run and test (idempotent, no
# prompts, never starts system services). Run as root. Skips apt when all are present.
set -eu
PKGS="build-essential cmake ninja-build pkg-config ccache git \
  libboost1.81-dev libssl-dev libcurl4-openssl-dev libclamav-dev clamav clamav-testfiles \
  librocksdb-dev libyaml-cpp-dev libgtest-dev libc-ares-dev \
  rspamd redis-server postfix swaks libnet-ssleay-perl openssl procps bc python3 chromium curl \
  util-linux systemd dnsmasq-base clang libclang-rt-14-dev libseccomp-dev libpqxx-dev postgresql"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js + npm for the portal's browser tests (Debian's nodejs 18, or a newer one already there).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# The portal's browser tests: playwright-core (drives Debian's chromium; downloads no browser)
# and axe-core, into tests/browser/node_modules, from the lock file. playwright-core 1.65 needs
# Node >= 20; on Debian 12's Node 18 the last release that runs there is used.
browser_deps() {
  dir="$(dirname "$0")/../tests/browser"
  [ -f "$dir/node_modules/playwright-core/package.json" ] && [ -f "$dir/node_modules/axe-core/axe.min.js" ] && return 0
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge 20 ]; then
    npm ci --prefix "$dir" --no-audit --no-fund >/dev/null
  else
    npm install --prefix "$dir" --no-audit --no-fund --no-save playwright-core@1.49.1 axe-core@4.10.3 >/dev/null
  fi
  echo "setup: browser test packages installed in tests/browser/node_modules"
}
if [ -z "$missing" ]; then
  echo "setup: all packages present"
  browser_deps
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing packages:$missing; run as root (or with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start daemons (rspamd, redis, postfix, freshclam).
if [ ! -x /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
# Postfix (smtp-sink, smtp-source, benchmark baseline): no prompt, no system config.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "setup: installing:$missing"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
browser_deps
