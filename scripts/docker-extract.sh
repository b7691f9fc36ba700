#!/bin/sh
# Unpack dockerd and the docker client from Debian's docker.io package for the
# engine tests (tests/engines/test_docker.py), without installing the package:
# its postinst would start a system-wide dockerd (/var/lib/docker, docker0,
# iptables rules) on a machine that is shared. The tests start their own dockerd
# with private directories; containerd and runc come from Debian as usual.
#   sh scripts/docker-extract.sh [DEST]    (default /opt/pyrunc-engines/docker)
set -eu
dest=${1:-/opt/pyrunc-engines/docker}
if [ -x "$dest/dockerd" ] && [ -x "$dest/docker" ]; then
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
# What dockerd links against or starts (containerd, its shim, runc).
sh "$here/apt-ensure.sh" containerd runc libdevmapper1.02.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download needs the package lists; a fresh machine may have none yet.
apt-get download docker.io >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download docker.io >/dev/null; }
dpkg-deb -x docker.io_*.deb unpacked
mkdir -p "$dest"
cp unpacked/usr/sbin/dockerd unpacked/usr/bin/docker "$dest/"
echo "docker engine for the tests: $dest"
