#!/bin/sh
# Install the named Debian packages that are not installed yet (no recommends).
#   sh scripts/apt-ensure.sh PACKAGE...
set -eu
need=""
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
    echo "installing Debian packages:$need"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >/dev/null
fi
