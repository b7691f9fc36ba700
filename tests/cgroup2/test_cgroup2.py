"""cgroup v2 through the CLI, inside a pure-v2 guest:

    cgroup2-vm PYTHON -m pytest -q -p no:cacheprovider tests/cgroup2

(cgroup2-vm boots a pure-v2 guest kernel; PYTHON = the interpreter binary that
has pytest, not a pyenv shim, which costs seconds per call in the guest).

(skipped anywhere /sys/fs/cgroup is not cgroup2). Every runtime call costs about
a second in the guest, so there are few tests, each doing a lot. They clean up
after themselves (no leak guard runs here).
"""

import json
import os

import pytest

from harness import read_mountinfo


def _pure_v2():
    return any(m["mountpoint"] == "/sys/fs/cgroup" and m["fstype"] == "cgroup2" for m in read_mountinfo())


pytestmark = pytest.mark.skipif(not _pure_v2(), reason="needs a pure cgroup v2 host (tools/cgroup2-vm)")


def cgroup_dir(rel):
    """runc's v2 rule: a relative path goes under the PARENT of our own cgroup."""
    with open("/proc/self/cgroup") as f:
        own = next(line.rstrip("\n")[3:] for line in f if line.startswith("0::"))
    parent = os.path.dirname(own.rstrip("/")) or "/"
    return os.path.normpath(os.path.join("/sys/fs/cgroup", parent.lstrip("/"), rel))


def cat(path):
    with open(path) as f:
        return f.read().strip()


@pytest.fixture
def cleanup(rt):
    made = []
    yield made
    for cid in made:
        rt("delete", "--force", cid)


def test_limits_conversions_and_cleanup(rt, bundle, cid, cleanup, tmp_path):
    cleanup.append(cid)
    b = bundle(["sh", "-c", "cat /proc/self/cgroup; echo max=$(cat /sys/fs/cgroup/memory.max); sleep 1000"],
               linux={"resources": {
                   "memory": {"limit": 67108864, "swap": 100663296, "reservation": 1048576},
                   "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                   "pids": {"limit": 32},
                   "unified": {"memory.high": "60000000"}}})
    log = tmp_path / "log"
    created = rt._with_files(cid, ["--debug", "--log", str(log), "run", "-d", "--bundle", str(b), cid])
    assert created.returncode == 0, created.stderr
    d = cgroup_dir(b.cgroup)
    if not rt.is_runc:
        # born in its cgroup (clone3 CLONE_INTO_CGROUP), not moved there (cgroups.Placement)
        assert f"forked into cgroup {d}" in log.read_text()
    assert cat(d + "/memory.max") == "67108864"
    assert cat(d + "/memory.swap.max") == str(100663296 - 67108864)   # v2 swap = swap - limit
    assert cat(d + "/memory.low") == "1048576"
    assert cat(d + "/memory.high") == "59998208"   # page-aligned by the kernel
    assert cat(d + "/cpu.weight") == "20"          # 1 + (512-2)*9999/262142
    assert cat(d + "/cpu.max") == "50000 100000"
    assert cat(d + "/pids.max") == "32"
    pid = rt.state(cid)["pid"]
    rel = "/" + os.path.relpath(d, "/sys/fs/cgroup")
    assert cat(f"/proc/{pid}/cgroup") == "0::" + rel
    out = rt.wait_output(cid, "max=")
    assert "0::/\n" in out            # its own cgroup namespace: it sees itself as the root
    assert "max=67108864" in out      # and the cgroup2 mount shows its own limits
    # An exec'd process lands in the same cgroup, and in a sub-cgroup with --cgroup.
    os.mkdir(d + "/sub")
    for extra, where in (([], rel), (["--cgroup", "sub"], rel + "/sub")):
        proc = rt("exec", *extra, cid, "sh", "-c", "cat /proc/$$/cgroup; sleep 0")
        assert proc.returncode == 0, proc.stderr
        # Inside its cgroup namespace the path is relative to the container's cgroup.
        assert proc.stdout.strip() == "0::" + (where[len(rel):] or "/"), (extra, proc.stdout)
    proc = rt("exec", "--cgroup", "memory:sub", cid, "true")
    assert proc.returncode != 0 and "cgroup v2 takes a path without a controller" in proc.stderr
    os.rmdir(d + "/sub")
    assert rt("delete", "--force", cid).returncode == 0
    assert not os.path.exists(d)


def test_pause_update_events(rt, bundle, cid, cleanup):
    cleanup.append(cid)
    b = bundle(["sleep", "1000"], linux={"resources": {"memory": {"limit": 33554432},
                                                       "cpu": {"quota": 500000, "period": 1000000}}})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    d = cgroup_dir(b.cgroup)
    assert rt("pause", cid).returncode == 0
    assert cat(d + "/cgroup.freeze") == "1" and "frozen 1" in cat(d + "/cgroup.events")
    assert rt.status(cid) == "paused"
    assert rt("resume", cid).returncode == 0
    assert rt.status(cid) == "running"
    proc = rt("update", "--memory", "100M", "--memory-swap", "200M", "--cpu-period", "900000", cid)
    assert proc.returncode == 0, proc.stderr
    assert cat(d + "/memory.max") == str(100 << 20)
    assert cat(d + "/memory.swap.max") == str(100 << 20)
    assert cat(d + "/cpu.max") == "500000 900000"       # the quota kept
    proc = rt("update", "-r", "-", cid, input=json.dumps({"unified": {"pids.max": "10"},
                                                          "cpu": {"shares": 100}}))
    assert proc.returncode == 0, proc.stderr
    assert cat(d + "/pids.max") == "10"
    assert cat(d + "/cpu.weight") == "4"
    proc = rt("events", "--stats", cid)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["memory"]["usage"]["limit"] == 100 << 20
    assert data["pids"]["limit"] == 10
    proc = rt("ps", "--format", "json", cid)
    assert json.loads(proc.stdout) == [rt.state(cid)["pid"]]
    assert rt("delete", "--force", cid).returncode == 0
    assert not os.path.exists(d)


def test_device_rules_through_ebpf(rt, bundle, cid):
    """/dev/kmsg (1:11) bound in: writable only when a rule allows it."""
    def with_kmsg(cfg):
        cfg["mounts"].append({"destination": "/dev/x", "type": "bind", "source": "/dev/kmsg",
                              "options": ["bind"]})

    script = "if (echo pyrunc-ebpf-test >/dev/x) 2>/dev/null; then echo write-ok; else echo denied; fi"
    results = []
    for extra in ([], [{"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"}]):
        name = f"{cid}-{len(results)}"
        b = bundle(["sh", "-c", script], edit=with_kmsg,
                   linux={"resources": {"devices": [{"allow": False, "access": "rwm"}] + extra}})
        proc = rt.run(name, b)
        assert proc.returncode == 0, proc.stderr
        results.append(proc.stdout.strip())
        assert not os.path.exists(cgroup_dir(b.cgroup))
    assert results == ["denied", "write-ok"]


def test_forced_delete_removes_threaded_sub_cgroups(rt, bundle, cid, cleanup):
    """runc's delete.bats "cgroupv2 with subcgroups": the container makes a threaded
    sub-cgroup and moves a thread of a second process into it. cgroup.procs of a
    threaded cgroup cannot be read (EOPNOTSUPP); delete --force still kills
    everything and removes the whole tree."""
    cleanup.append(cid)

    def writable_cgroup_mount(cfg):
        for m in cfg["mounts"]:
            if m["destination"] == "/sys/fs/cgroup":
                m["options"] = [o for o in m.get("options", []) if o != "ro"] + ["rw"]

    b = bundle(["sleep", "1000"], edit=writable_cgroup_mount)
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    assert rt._with_files(cid, ["exec", "-d", cid, "sleep", "2000"]).returncode == 0
    ps = rt("exec", cid, "ps", "-o", "pid,args")
    pid = next(line.split()[0] for line in ps.stdout.splitlines() if "sleep 2000" in line)
    script = ("set -e; cd /sys/fs/cgroup; echo +pids > cgroup.subtree_control; mkdir foo; "
              f"echo threaded > foo/cgroup.type; echo {pid} > foo/cgroup.threads; "
              "cat foo/cgroup.threads")
    proc = rt("exec", cid, "sh", "-c", script)
    assert proc.returncode == 0 and proc.stdout.split() == [pid], (proc.stdout, proc.stderr)
    d = cgroup_dir(b.cgroup)
    assert os.path.isdir(d + "/foo")
    proc = rt("delete", "--force", cid)
    assert proc.returncode == 0, proc.stderr
    assert rt("state", cid).returncode != 0
    assert not os.path.exists(d)
