#!/bin/sh
# Set-up command 2: install what the tests need and run them. Run as root on Debian 12.
# The `pyrunc` under test is this checkout (scripts/install.sh --dev). The engine
# tests (tests/engines) drive it through podman and containerd, installed here from
# Debian (PYRUNC_TEST_ENGINES=0 skips installing them; the tests then skip).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh --dev
if [ "${PYRUNC_TEST_ENGINES:-1}" != 0 ]; then
    need=""
    for pkg in podman conmon containerd; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
    done
    if [ -n "$need" ]; then
        echo "installing engines for tests/engines:$need"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >/dev/null
    fi
fi
PY="${PYRUNC_PREFIX:-/opt/pyrunc}/bin/python"
exec "$PY" -m pytest -q -p no:cacheprovider "$@" tests
