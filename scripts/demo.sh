#!/bin/sh
# Set-up command 1: install pyrunc (Debian packages + a venv), build the busybox
# example bundle, and run it. Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
sh examples/bundles/busybox/make-bundle.sh
exec pyrunc --root "${PYRUNC_ROOT:-/run/pyrunc}" run --bundle examples/bundles/busybox "demo-$$"
