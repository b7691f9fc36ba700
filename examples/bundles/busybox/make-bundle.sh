#!/bin/sh
# Build a runnable busybox OCI bundle.
#
# usage: examples/bundles/busybox/make-bundle.sh [BUNDLE_DIR]
#
# BUNDLE_DIR defaults to this script's directory. The script builds
# BUNDLE_DIR/rootfs with scripts/make-busybox-rootfs.sh and writes
# BUNDLE_DIR/config.json from the runtime's own default spec
# (`$PYRUNC spec`, PYRUNC defaulting to `pyrunc`) with terminal set to false
# and args set to a command that greets and prints the hostname, so that
# `$PYRUNC run -b BUNDLE_DIR ID` works without a terminal.
set -eu

die() {
	echo "make-bundle: $*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
bundle=${1:-$here}
runtime=${PYRUNC:-pyrunc}

if [ -n "${PYTHON:-}" ]; then
	python=$PYTHON
elif [ -x /usr/bin/python3 ]; then
	python=/usr/bin/python3
else
	python=$(command -v python3) || die "python3 is needed to edit config.json"
fi

command -v "$runtime" >/dev/null 2>&1 ||
	die "runtime '$runtime' not found: put pyrunc on PATH or set PYRUNC=/path/to/runtime"

mkdir -p "$bundle"
bundle=$(cd "$bundle" && pwd)

sh "$repo/scripts/make-busybox-rootfs.sh" "$bundle/rootfs"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! (cd "$tmp" && "$runtime" spec) >"$tmp/spec.log" 2>&1 || [ ! -s "$tmp/config.json" ]; then
	cat "$tmp/spec.log" >&2
	die "'$runtime spec' did not write a config.json; cannot build the bundle config"
fi

"$python" -I - "$tmp/config.json" "$bundle/config.json" <<'PY'
import json
import os
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    config = json.load(f)
process = config.setdefault("process", {})
process["terminal"] = False
process["args"] = [
    "sh",
    "-c",
    "echo hello from inside a pyrunc container; cat /etc/hostname 2>/dev/null; hostname",
]
tmp = dst + ".tmp"
with open(tmp, "w") as f:
    json.dump(config, f, indent="\t")
os.replace(tmp, dst)
PY

echo "make-bundle: bundle ready in $bundle (run it with: $runtime run -b $bundle ID)" >&2
