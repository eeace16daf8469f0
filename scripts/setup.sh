#!/bin/sh
# Installs every Debian package SpamWeeder needs to build, run and test (idempotent, no
# prompts, never starts system services). Run as root. Skips apt when all are present.
set -eu
PKGS="build-essential cmake ninja-build pkg-config ccache git \
  libboost1.81-dev libssl-dev libcurl4-openssl-dev libclamav-dev clamav clamav-testfiles \
  librocksdb-dev libyaml-cpp-dev libgtest-dev libc-ares-dev \
  rspamd redis-server postfix swaks libnet-ssleay-perl openssl procps bc python3 chromium \
  util-linux systemd dnsmasq-base clang libclang-rt-14-dev libseccomp-dev libpqxx-dev postgresql"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "setup: all packages present"
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
