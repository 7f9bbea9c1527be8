#!/usr/bin/env bash
# deps.sh -- install the Debian packages ddiplane builds, tests and benchmarks with (only what is missing)
set -euo pipefail

pkgs=(
  # build
  gcc g++ meson ninja-build pkg-config
  libdpdk-dev liburcu-dev liblmdb-dev libssl-dev libjansson-dev libmicrohttpd-dev
  libcmocka-dev libbenchmark-dev libsystemd-dev
  clang   # scripts/fuzz.sh: libFuzzer harnesses with ASan + UBSan
  # tools the tests and benchmarks drive
  lmdb-utils iproute2 procps psmisc bind9-dnsutils knot-dnsutils dnsperf knot nsd
  valgrind python3 ethtool iputils-ping curl
  systemd   # systemd-analyze: tests/integration/systemd.sh verifies the unit
  kea-dhcp-ddns-server   # ddns.sh: Kea D2 drives RFC 2136 updates
  bind9   # xfr.sh: named as a secondary of ddiplane
  libkrb5-dev krb5-kdc krb5-admin-server krb5-user   # GSS-TSIG: GSS-API, and gsstsig.sh's own KDC
  python3-gssapi   # gsstsig.sh: a second GSS-TSIG client beside nsupdate -g
  openssl passwd util-linux   # httpapi.sh: a test certificate, useradd/userdel, runuser
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# Nothing else: the packaged servers (knot, nsd, kea) are left as their
# packages and the operator set them. Tests and benchmarks start their own
# instances with their own configuration, in their own network namespaces.
