#!/bin/sh
# Set-up command 2: install what the tests need and run them. Run as root on Debian 12.
# The `pyrunc` under test is this checkout (scripts/install.sh --dev).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh --dev
PY="${PYRUNC_PREFIX:-/opt/pyrunc}/bin/python"
exec "$PY" -m pytest -q -p no:cacheprovider "$@" tests
