#!/usr/bin/env bash
# Installs what eventfeed needs to build and test, from Debian 12's packages, only when missing,
# and the compat tier's SDKs from npm (tests/compat: `npm ci` from the lock file, only when
# node_modules is missing or older than the lock file).
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
    libjemalloc-dev libjwt-dev libssl-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    clang-format
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The compat tier runs the SDKs with Node.js. A node or npm from elsewhere (NodeSource, nvm) will
# do; only when a command is missing do Debian's packages come in.
if [ "${1:-}" != --peers ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The SDKs of the compat tier, exactly as the lock file pins them.
if [ "${1:-}" != --peers ]; then
  compat="$(cd "$(dirname "$0")/.." && pwd)/tests/compat"
  if [ ! -d "$compat/node_modules" ] || [ "$compat/package-lock.json" -nt "$compat/node_modules" ]; then
    echo "install-deps: npm ci in tests/compat"
    (cd "$compat" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$compat/node_modules"
  fi
fi
