#!/bin/sh
# Set-up command 2: install what the tests need and run them. Run as root on Debian 12.
# The `pyrunc` under test is this checkout (scripts/install.sh --dev). The engine
# tests (tests/engines) drive it through podman, containerd and docker, installed
# here from Debian (docker only unpacked: scripts/docker-extract.sh);
# PYRUNC_TEST_ENGINES=0 skips installing them, and the tests then skip.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh --dev
if [ "${PYRUNC_TEST_ENGINES:-1}" != 0 ]; then
    sh scripts/apt-ensure.sh podman conmon containerd
    sh scripts/docker-extract.sh
fi
PY="${PYRUNC_PREFIX:-/opt/pyrunc}/bin/python"
exec "$PY" -m pytest -q -p no:cacheprovider "$@" tests
