#!/bin/sh
# Install pyrunc on Debian 12 as root: system packages, a virtual environment with
# the Python dependencies, and the fast `pyrunc` launcher on PATH.
#
#   scripts/install.sh            install into $PYRUNC_PREFIX (default /opt/pyrunc),
#                                 launcher at $PYRUNC_BIN (default /usr/local/bin/pyrunc)
#   scripts/install.sh --dev      same venv, plus pytest; the launcher runs the code of
#                                 this checkout (native module built in place)
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PYRUNC_PREFIX:-/opt/pyrunc}
BIN=${PYRUNC_BIN:-/usr/local/bin/pyrunc}
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

sh scripts/apt-ensure.sh python3 python3-venv python3-dev gcc libc6-dev libcap-dev busybox-static

# Debian's interpreter: it starts fastest here (static libpython) and is not a shim.
[ -x "$PREFIX/bin/python" ] || /usr/bin/python3 -m venv "$PREFIX"
PY="$PREFIX/bin/python"
"$PY" -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel cffi
if [ "$DEV" = 1 ]; then
    "$PY" -m pip install -q --disable-pip-version-check cffi python-prctl click jsonschema pyroute2 pytest
    "$PY" _native/build.py
    "$PY" -m compileall -q pyrunc >/dev/null
    PYTHONPATH=. "$PY" -m pyrunc.launcher "$BIN" --source .
else
    "$PY" -m pip install -q --disable-pip-version-check ".[test]"
    # From /: `python -m` puts the cwd first on sys.path, and the launcher must name
    # the installed package, not this checkout.
    (cd / && "$PY" -m pyrunc.launcher "$BIN")
fi
echo "pyrunc installed: $BIN ($("$BIN" --version | head -n 1))"
