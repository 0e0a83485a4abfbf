#!/usr/bin/env bash
# Installs what eventfeed needs to build and test, from Debian 12's packages, only when missing.
# Used by `make run`, `make test` and .ci/run; safe to run again (it does nothing then).
#   --peers   instead: the servers bench/compare measures us against (Nchan in nginx and
#             Pushpin)
set -euo pipefail

if [ "${1:-}" = --peers ]; then
  packages=(nginx-light libnginx-mod-nchan pushpin)
else
  packages=(
    build-essential cmake ninja-build pkg-config git curl
    libboost1.81-dev libboost-json1.81-dev
    libsqlite3-dev libhiredis-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
    libjemalloc-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    clang-format
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
