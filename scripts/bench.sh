#!/bin/sh
# bench.sh: `make bench`. Runs scripts/bench.py against the binaries in $PODD_BIN.
set -eu
cd "$(dirname "$0")/.."
command -v runc >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc >/dev/null 2>&1 || true; }
exec python3 scripts/bench.py "$@"
