#!/bin/sh
# The cgroup v2 checks, in a pure cgroup v2 guest (../shared/tools/cgroup2-vm boots a
# User-Mode Linux kernel with cgroup_no_v1=all; this host kind is hybrid, where these
# checks would skip):
#   1. tests/cgroup2 (limits and their conversions, pause/update/events, the eBPF
#      device filter, threaded sub-cgroups);
#   2. the tests of runc's bats suite that need cgroup v2, with the expected
#      failures in .ci/runc-bats-v2-xfail.
# Needs pyrunc installed (scripts/install.sh) and runc-bats set up (its first run on
# the host does that). Every runtime call takes about a second in the guest.
#
#   scripts/test-cgroup2.sh [RESULTS_DIR]
set -eu
cd "$(dirname "$0")/.."
repo=$PWD
vm=${CGROUP2_VM:-$repo/../shared/tools/cgroup2-vm}
bats=${RUNC_BATS:-$repo/../shared/conformance/runc-bats}
PY="${PYRUNC_PREFIX:-/opt/pyrunc}/bin/python"
runtime=$(command -v pyrunc)
results=${1:-$(mktemp -d /tmp/pyrunc-cgroup2.XXXXXX)}
mkdir -p "$results"
status=0

PYRUNC="$runtime" "$vm" "$PY" -m pytest -q -p no:cacheprovider tests/cgroup2 || status=1

# The suite's v2-only tests (their names say so), in the files that have them.
# runc-bats reads process substitutions through /dev/fd, which the guest lacks.
(cd "$results" &&
    CGROUP2_VM_PASSENV="RUNC_BATS_FILTER RUNC_BATS_RESULTS RUNC_BATS_XFAIL" \
    RUNC_BATS_FILTER='v2|unified|cgroupv2|blkio weight' \
    RUNC_BATS_RESULTS="$results/bats-v2" \
    RUNC_BATS_XFAIL="$repo/.ci/runc-bats-v2-xfail" \
    "$vm" --rw "$results" -- sh -c '[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd; exec "$@"' \
        sh "$bats" "$runtime" cgroups.bats exec.bats update.bats delete.bats) || status=1
if grep -q "ok (listed as expected failure)" "$results/bats-v2/summary.txt" 2>/dev/null; then
    echo "runc-bats (cgroup v2): tests listed in .ci/runc-bats-v2-xfail now pass; remove them:"
    grep "ok (listed as expected failure)" "$results/bats-v2/summary.txt"
    status=1
fi
exit $status
