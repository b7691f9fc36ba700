"""cgroups through the CLI on this (hybrid v1) host: limits, paths, pause/resume,
ps, update, events, kill --all, and clean-up.

Every container uses a RELATIVE cgroupsPath, so it stays inside the caller's own
cgroups (on this host kind the caller's memory cgroup is the supervisor's
/process_api/<hash>, which must not be touched). Values are checked from outside
(the host's cgroup files) and from inside (/proc/self/cgroup, the container's
/sys/fs/cgroup). The leak guard (tests/conftest.py) checks that no cgroup
directory is left and nothing new appears in /sys/fs/cgroup.
"""

import json
import os
import subprocess
import time

import pytest

from harness import read_mountinfo, remove_cgroup, unescape, wait_exec


def _host_is_pure_v2():
    return any(m["mountpoint"] == "/sys/fs/cgroup" and m["fstype"] == "cgroup2" for m in read_mountinfo())


pytestmark = pytest.mark.skipif(_host_is_pure_v2(), reason="v1/hybrid host tests (tests/cgroup2 covers v2)")


def _own():
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            out[ctrls] = path
    return out


def cgroup_dirs(rel):
    """{hierarchy key ("" = unified): host directory} of a cgroupsPath, for every real
    cgroup mount (runc's rule: relative = under our own cgroup)."""
    own = _own()
    dirs = {}
    for m in read_mountinfo():
        if m["fstype"] == "cgroup2":
            key = ""
        elif m["fstype"] == "cgroup":
            opts = set(m["super"].split(","))
            key = next((k for k in own if k and set(k.split(",")) <= opts), None)
        else:
            continue
        if key is None or key not in own:
            continue
        base = "/" if rel.startswith("/") else own[key]
        dirs[key] = os.path.normpath(os.path.join(m["mountpoint"], base.lstrip("/"), rel.lstrip("/")))
    return dirs


def cat(path):
    with open(path) as f:
        return f.read().strip()


@pytest.fixture
def cg(_leak_registry):
    """cg(name) -> a unique relative cgroupsPath the leak guard will check."""
    def make(name):
        rel = f"pyrunc-cgtest-{os.getpid()}-{name}"
        _leak_registry["cgroups"].append(rel)
        return rel
    return make


LIMITS = {
    "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 42},
}


def test_limits_applied_and_visible_inside(rt, bundle, cid):
    b = bundle(["sh", "-c", "cat /proc/self/cgroup; echo pids=$(cat /sys/fs/cgroup/pids/pids.max); "
                            "echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); sleep 1000"],
               linux={"resources": LIMITS})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    out = rt.wait_output(cid, "mem=")
    d = cgroup_dirs(b.cgroup)
    assert cat(d["memory"] + "/memory.limit_in_bytes") == "67108864"
    assert cat(d["memory"] + "/memory.soft_limit_in_bytes") == "33554432"
    assert cat(d["memory"] + "/memory.memsw.limit_in_bytes") == "134217728"
    assert cat(d["cpu"] + "/cpu.shares") == "512"
    assert cat(d["cpu"] + "/cpu.cfs_quota_us") == "50000"
    assert cat(d["cpu"] + "/cpu.cfs_period_us") == "100000"
    assert cat(d["cpuset"] + "/cpuset.cpus") == "0"
    assert cat(d["pids"] + "/pids.max") == "42"
    pid = rt.state(cid)["pid"]
    # from outside: the init is in the container's cgroup of every hierarchy
    own = _own()
    lines = cat(f"/proc/{pid}/cgroup").splitlines()
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        assert path == os.path.join(own[ctrls], b.cgroup), line
    # from inside: the same, and the "cgroup" mount shows the container's own cgroups
    inside = [line for line in out.splitlines() if line.count(":") >= 2]
    assert sorted(inside) == sorted(lines)
    assert "pids=42" in out and "mem=67108864" in out
    assert rt("delete", "--force", cid).returncode == 0
    assert not any(os.path.exists(p) for p in d.values())


def test_default_cgroup_path_is_the_container_id(rt, bundle, cid, _leak_registry):
    _leak_registry["cgroups"].append(cid)
    b = bundle(["sleep", "1000"], linux={"cgroupsPath": None, "resources": {"pids": {"limit": 7}}})
    assert rt.create(cid, b).returncode == 0, rt.err(cid)
    d = cgroup_dirs(cid)
    assert cat(d["pids"] + "/pids.max") == "7"
    assert rt("delete", cid).returncode == 0
    assert not any(os.path.exists(p) for p in d.values())


@pytest.mark.pyrunc_only(reason="runc removes only the leaf, not the parents it made")
def test_delete_removes_exactly_the_dirs_create_made(rt, bundle, cid, cg):
    parent = cg("nested")
    rel = f"{parent}/{cid}"
    dirs_parent = cgroup_dirs(parent)
    # One parent exists before create (someone else's): it must survive delete.
    os.mkdir(dirs_parent["pids"])
    top_before = set(os.listdir("/sys/fs/cgroup"))
    try:
        b = bundle(["sleep", "1000"], linux={"cgroupsPath": rel, "resources": {"pids": {"limit": 9}}})
        assert rt.create(cid, b).returncode == 0, rt.err(cid)
        leaf = cgroup_dirs(rel)
        assert all(os.path.isdir(p) for p in leaf.values())
        assert rt("delete", cid).returncode == 0
        assert not any(os.path.exists(p) for p in leaf.values())
        gone = {k: p for k, p in dirs_parent.items() if k != "pids"}
        assert not any(os.path.exists(p) for p in gone.values()), "parents create made must go"
        assert os.path.isdir(dirs_parent["pids"]), "a parent that existed before must stay"
        assert set(os.listdir("/sys/fs/cgroup")) == top_before
    finally:
        remove_cgroup(dirs_parent["pids"])


def test_hybrid_init_joins_unified_cgroup(rt, bundle, cid):
    own = _own()
    if "" not in own or not any(m["fstype"] == "cgroup2" for m in read_mountinfo()):
        pytest.skip("no cgroup2 mount beside v1")
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0, rt.err(cid)
    pid = rt.state(cid)["pid"]
    last = cat(f"/proc/{pid}/cgroup").splitlines()[-1]
    assert last == "0::" + os.path.join(own[""], b.cgroup)
    assert rt("delete", cid).returncode == 0



@pytest.mark.pyrunc_only(reason="how the process gets there is pyrunc's (cgroups.Placement)")
def test_init_and_exec_are_born_in_the_unified_cgroup(rt, bundle, cid, tmp_path):
    # Born there (clone3 CLONE_INTO_CGROUP), not moved: the fallback would log why.
    own = _own()
    if "" not in own or not any(m["fstype"] == "cgroup2" for m in read_mountinfo()):
        pytest.skip("no cgroup2 mount beside v1")
    log = tmp_path / "log"
    b = bundle(["sleep", "1000"])
    created = rt._with_files(cid, ["--debug", "--log", str(log), "run", "-d", "-b", str(b), cid])
    assert created.returncode == 0, created.stderr
    proc = rt("--debug", "--log", str(log), "exec", cid, "cat", "/proc/self/cgroup")
    assert proc.returncode == 0, proc.stderr
    want = {line.split(":", 2)[1]: os.path.join(own[line.split(":", 2)[1]], b.cgroup)
            for line in proc.stdout.splitlines()}
    for line in proc.stdout.splitlines() + cat(f"/proc/{rt.state(cid)['pid']}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        assert path == want[ctrls], line
    text = log.read_text()
    born = "forked into cgroup " + cgroup_dirs(b.cgroup)[""]
    assert text.count(born) == 2 and "clone3 into" not in text, text
    assert rt("delete", "--force", cid).returncode == 0

def test_exec_into_sub_cgroups(rt, bundle, cid):
    # exec --cgroup: into an existing sub-cgroup of one controller, the rest at the top;
    # a missing one fails with runc's text, naming cgroup.procs and the host pid.
    b = bundle(["sleep", "1000"])
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    d = cgroup_dirs(b.cgroup)
    os.mkdir(d["pids"] + "/sub")
    try:
        proc = rt("exec", "--cgroup", "pids:sub", cid, "cat", "/proc/self/cgroup")
        assert proc.returncode == 0, proc.stderr
        own = _own()
        for line in proc.stdout.splitlines():
            _, ctrls, path = line.split(":", 2)
            want = os.path.join(own[ctrls], b.cgroup) + ("/sub" if ctrls == "pids" else "")
            assert path == want, line
        proc = rt("exec", "--cgroup", "nonexistent", cid, "true")
        assert proc.returncode != 0
        assert " adding pid " in proc.stderr and "/nonexistent/cgroup.procs: no such file" in proc.stderr
    finally:
        assert rt("delete", "--force", cid).returncode == 0
        remove_cgroup(d["pids"] + "/sub")


def test_pause_resume(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    freezer = cgroup_dirs(b.cgroup)["freezer"] + "/freezer.state"
    assert rt("pause", cid).returncode == 0
    assert rt.status(cid) == "paused"
    assert cat(freezer) == "FROZEN"
    proc = rt("pause", cid)
    assert proc.returncode == 1 and "container not running" in proc.stderr
    assert rt("resume", cid).returncode == 0
    assert rt.status(cid) == "running"
    assert cat(freezer) == "THAWED"
    proc = rt("resume", cid)
    assert proc.returncode == 1 and "container not paused" in proc.stderr
    assert rt("pause", "nonexistent-" + cid).returncode != 0
    assert rt("resume", "nonexistent-" + cid).returncode != 0
    # delete --force of a paused container
    assert rt("pause", cid).returncode == 0
    proc = rt("delete", "--force", cid)
    assert proc.returncode == 0, proc.stderr
    assert rt("state", cid).returncode != 0


def test_pause_created_container_and_resume_to_created(rt, bundle, cid):
    b = bundle(["true"])
    assert rt.create(cid, b).returncode == 0, rt.err(cid)
    assert rt("pause", cid).returncode == 0
    assert rt.status(cid) == "paused"
    proc = rt("start", cid)
    assert proc.returncode == 1
    assert rt("resume", cid).returncode == 0
    assert rt.status(cid) == "created"
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    assert rt("delete", cid).returncode == 0


def test_pause_stopped_container_fails(rt, bundle, cid):
    b = bundle(["true"])
    assert rt.run_detached(cid, b).returncode == 0
    rt.wait_status(cid, "stopped")
    proc = rt("pause", cid)
    assert proc.returncode == 1 and "container not running" in proc.stderr
    assert rt("delete", cid).returncode == 0


def test_ps(rt, bundle, cid):
    b = bundle(["sh", "-c", "sleep 1000 & exec sleep 999"])
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    pid = rt.state(cid)["pid"]
    wait_exec(pid, "sleep")
    proc = rt("ps", "--format", "json", cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("]\n") and " " not in proc.stdout
    pids = json.loads(proc.stdout)
    assert pid in pids and len(pids) == 2
    proc = rt("ps", cid)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    assert sorted(int(line.split()[1]) for line in lines[1:]) == sorted(pids)
    proc = rt("ps", cid, "-e", "-x")
    assert proc.returncode == 0, proc.stderr
    assert "PID" in proc.stdout.splitlines()[0] and "COMMAND" in proc.stdout.splitlines()[0]
    proc = rt("ps", "--format", "yaml", cid)
    assert proc.returncode == 1 and "invalid format option" in proc.stderr
    # stopped: header only, exit 0
    assert rt("kill", cid, "KILL").returncode == 0
    rt.wait_status(cid, "stopped")
    proc = rt("ps", cid)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert rt("delete", cid).returncode == 0


def test_update_flags_and_json(rt, bundle, cid, tmp_path):
    b = bundle(["sleep", "1000"], linux={"resources": {
        "memory": {"limit": 33554432, "reservation": 25165824},
        "cpu": {"shares": 100, "quota": 500000, "period": 1000000}, "pids": {"limit": 20}}})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    d = cgroup_dirs(b.cgroup)
    mem = d["memory"]
    unlimited = cat(os.path.dirname(mem) + "/memory.limit_in_bytes")

    def upd(*args, **kw):
        proc = rt("update", *args, cid, **kw)
        assert proc.returncode == 0, proc.stderr
        return proc

    upd("--memory", "50M")
    assert cat(mem + "/memory.limit_in_bytes") == str(50 << 20)
    upd("--memory-reservation", "33554432")
    assert cat(mem + "/memory.soft_limit_in_bytes") == "33554432"
    upd("--memory-swap", "-1")
    assert cat(mem + "/memory.memsw.limit_in_bytes") == unlimited
    upd("--memory-swap", "96468992")
    assert cat(mem + "/memory.memsw.limit_in_bytes") == "96468992"
    upd("--memory", "-1")
    assert cat(mem + "/memory.limit_in_bytes") == unlimited
    assert cat(mem + "/memory.memsw.limit_in_bytes") == unlimited
    upd("--pids-limit", "10")
    assert cat(d["pids"] + "/pids.max") == "10"
    upd("--pids-limit", "-1")
    assert cat(d["pids"] + "/pids.max") == "max"
    # growing memory above the old swap: swap first, then the limit
    upd("--memory", "30M", "--memory-swap", "50M")
    upd("--memory", "60M", "--memory-swap", "80M")
    assert cat(mem + "/memory.limit_in_bytes") == str(60 << 20)
    assert cat(mem + "/memory.memsw.limit_in_bytes") == str(80 << 20)
    # one of quota/period alone keeps the other
    upd("--cpu-period", "900000")
    assert (cat(d["cpu"] + "/cpu.cfs_quota_us"), cat(d["cpu"] + "/cpu.cfs_period_us")) == ("500000", "900000")
    upd("--cpu-quota", "-1")
    assert cat(d["cpu"] + "/cpu.cfs_quota_us") == "-1"
    upd("--cpu-share", "200")
    assert cat(d["cpu"] + "/cpu.shares") == "200"
    # JSON on stdin: docker's shape, zeros mean unchanged
    upd("-r", "-", input=json.dumps({"memory": {"limit": 41943040, "reservation": 0, "swap": 0, "kernel": 0},
                                     "cpu": {"shares": 0, "quota": 50000, "period": 100000},
                                     "pids": {"limit": 20}, "blockIO": {"weight": 0}}))
    assert cat(mem + "/memory.limit_in_bytes") == "41943040"
    assert cat(mem + "/memory.soft_limit_in_bytes") == "33554432"
    assert cat(d["cpu"] + "/cpu.shares") == "200"
    assert cat(d["cpu"] + "/cpu.cfs_quota_us") == "50000"
    assert cat(d["pids"] + "/pids.max") == "20"
    # JSON from a file, Go-style capitalised keys; other flags are ignored with -r
    f = tmp_path / "res.json"
    f.write_text(json.dumps({"CPU": {"Cpus": "0"}, "Pids": {"Limit": 30}}))
    upd("-r", str(f), "--pids-limit", "99")
    assert cat(d["pids"] + "/pids.max") == "30"
    assert cat(d["cpuset"] + "/cpuset.cpus") == "0"
    proc = rt("update", "--cpu-period", "abc", cid)
    assert proc.returncode == 1 and "invalid value for cpu-period" in proc.stderr
    proc = rt("update", "--memory", "12Q", cid)
    assert proc.returncode == 1 and "invalid value for memory" in proc.stderr
    # the container stays paused across an update
    assert rt("pause", cid).returncode == 0
    upd("--pids-limit", "31")
    assert rt.status(cid) == "paused"
    assert rt("delete", "--force", cid).returncode == 0


def test_update_stopped_container_fails(rt, bundle, cid):
    b = bundle(["true"])
    assert rt.run_detached(cid, b).returncode == 0
    rt.wait_status(cid, "stopped")
    proc = rt("update", "--pids-limit", "5", cid)
    assert proc.returncode == 1 and "container not running" in proc.stderr
    assert rt("delete", cid).returncode == 0


def test_events_stats_once(rt, bundle, cid):
    b = bundle(["sleep", "1000"], linux={"resources": {"pids": {"limit": 50}}})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    proc = rt("events", "--stats", cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    assert proc.stdout.startswith('{"type":"stats","id":"%s","data":' % cid)
    data = json.loads(proc.stdout)["data"]
    assert data["pids"] == {"current": 1, "limit": 50}
    assert data["memory"]["usage"]["usage"] > 0
    assert list(data) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"]
    proc = rt("events", "--interval", "0s", cid)
    assert proc.returncode == 1 and "duration interval must be greater than 0" in proc.stderr
    assert rt("delete", "--force", cid).returncode == 0
    proc = rt("events", "--stats", cid)
    assert proc.returncode == 1 and "container does not exist" in proc.stderr


def test_events_stream_until_delete(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    ev = subprocess.Popen(rt.argv("events", "--interval", "100ms", cid), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=rt.env, text=True)
    try:
        first = ev.stdout.readline()
        assert json.loads(first)["type"] == "stats"
        assert rt("delete", "--force", cid).returncode == 0
        out, err = ev.communicate(timeout=10)
        assert ev.returncode == 0, err
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.communicate()


def test_events_reports_oom(rt, bundle, cid):
    b = bundle(["sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; "
                            "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 1000"],
               linux={"resources": {"memory": {"limit": 33554432, "swap": 33554432}}})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    ev = subprocess.Popen(rt.argv("events", "--interval", "100ms", cid), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=rt.env, text=True)
    try:
        assert json.loads(ev.stdout.readline())["type"] == "stats"
        open(os.path.join(b.rootfs, "go"), "w").close()
        deadline = time.monotonic() + 15
        seen = False
        while time.monotonic() < deadline and not seen:
            line = ev.stdout.readline()
            seen = line.strip() == '{"type":"oom","id":"%s"}' % cid
        assert seen, "no oom event"
    finally:
        rt("delete", "--force", cid)
        try:
            ev.communicate(timeout=10)
        finally:
            if ev.poll() is None:
                ev.kill()
                ev.communicate()


def test_kill_all_without_pid_namespace(rt, bundle, cid):
    def no_pid_ns(cfg):
        cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "pid"]

    b = bundle(["sh", "-c", "sleep 1000 & sleep 1001 & wait"], edit=no_pid_ns)
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    procs = cgroup_dirs(b.cgroup)["pids"] + "/cgroup.procs"
    deadline = time.monotonic() + 5
    while len(cat(procs).split()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(cat(procs).split()) == 3
    assert rt("kill", "--all", cid, "9").returncode == 0
    rt.wait_status(cid, "stopped")
    deadline = time.monotonic() + 5
    while cat(procs) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cat(procs) == ""
    assert rt("delete", cid).returncode == 0


def test_second_container_in_a_used_cgroup_warns(rt, bundle, cid, cg):
    rel = cg("shared")
    b = bundle(["sleep", "1000"], linux={"cgroupsPath": rel})
    c2 = cid + "-b"
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    try:
        proc = rt.create(c2, b)
        assert proc.returncode == 0, proc.stderr
        assert "container's cgroup is not empty" in proc.stderr
    finally:
        rt("delete", "--force", c2)
        rt("delete", "--force", cid)


def test_pre_frozen_cgroup_is_refused(rt, bundle, cid, cg):
    rel = cg("frozen")
    freezer = cgroup_dirs(rel)["freezer"]
    os.mkdir(freezer)
    try:
        with open(freezer + "/freezer.state", "w") as f:
            f.write("FROZEN")
        b = bundle(["true"], linux={"cgroupsPath": rel})
        proc = rt.create(cid, b)
        assert proc.returncode == 1
        assert "container's cgroup unexpectedly frozen" in proc.stderr
        assert rt.list_ids() == []
        assert os.path.isdir(freezer), "a cgroup create did not make must stay"
        others = {k: p for k, p in cgroup_dirs(rel).items() if k != "freezer"}
        assert not any(os.path.exists(p) for p in others.values())
    finally:
        with open(freezer + "/freezer.state", "w") as f:
            f.write("THAWED")
        remove_cgroup(freezer)


def test_unified_resources_rejected_on_v1(rt, bundle, cid):
    b = bundle(["true"], linux={"resources": {"pids": {"limit": 10}, "unified": {"memory.min": "131072"}}})
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert "invalid configuration" in proc.stderr
    assert rt.list_ids() == []


def test_blockio_throttle_on_the_real_disk(rt, bundle, cid):
    if not os.path.exists("/sys/dev/block/254:0"):
        pytest.skip("no block device 254:0")
    b = bundle(["sleep", "1000"], linux={"resources": {"blockIO": {
        "throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1048576}]}}})
    assert rt.create(cid, b).returncode == 0, rt.err(cid)
    assert cat(cgroup_dirs(b.cgroup)["blkio"] + "/blkio.throttle.read_bps_device") == "254:0 1048576"
    assert rt("delete", cid).returncode == 0


def test_blockio_leaf_weight_error_names_the_file(rt, bundle, cid):
    b = bundle(["true"], linux={"resources": {"blockIO": {"leafWeight": 300}}})
    proc = rt.create(cid, b)
    assert proc.returncode == 1
    assert "blkio.leaf_weight: no such file or directory" in unescape(proc.stderr)
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only(reason="runc writes its default rules first")
def test_device_rules_in_config_order(rt, bundle, cid):
    rules = [{"allow": False, "access": "rwm"},
             {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
             {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "r"}]
    b = bundle(["sleep", "1000"], linux={"resources": {"devices": rules}})
    assert rt.create(cid, b).returncode == 0, rt.err(cid)
    listed = cat(cgroup_dirs(b.cgroup)["devices"] + "/devices.list").splitlines()
    assert listed[:2] == ["c 10:229 rw", "b 7:0 r"]
    assert "c 1:3 rwm" in listed and "c 136:* rwm" in listed
    assert rt("delete", cid).returncode == 0


@pytest.mark.parametrize("allow", [False, True])
def test_device_rules_are_enforced(rt, bundle, cid, allow):
    """The host's /dev/fuse (10:229) bound into the container opens only with an allow rule."""
    if not os.path.exists("/dev/fuse") or os.stat("/dev/fuse").st_rdev != os.makedev(10, 229):
        pytest.skip("no /dev/fuse (10:229)")
    rules = [{"allow": False, "access": "rwm"}]
    if allow:
        rules.append({"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"})
    b = bundle(["sh", "-c", "if (: </dev/x) 2>/dev/null; then echo open-ok; else echo denied; fi"],
               edit=lambda cfg: cfg["mounts"].append(
                   {"destination": "/dev/x", "type": "bind", "source": "/dev/fuse", "options": ["bind"]}),
               linux={"resources": {"devices": rules}})
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("open-ok" if allow else "denied")


def test_cgroup_manager_disabled(rt, bundle, cid):
    if rt.is_runc:
        pytest.skip("runc has no --cgroup-manager")
    b = bundle(["sleep", "1000"], linux={"resources": {"pids": {"limit": 5}}})
    proc = rt._with_files(cid, ["--cgroup-manager", "disabled", "create", "--bundle", b.path, cid])
    assert proc.returncode == 0, proc.stderr
    d = cgroup_dirs(b.cgroup)
    made = [p for p in d.values() if os.path.exists(p)]
    assert not made, ("cgroups were made although the manager is disabled; does commands/create.py "
                      "pass globals_=inv.globals to CreateOptions?")
    pid = rt.state(cid)["pid"]
    proc = rt("ps", "--format", "json", cid)
    assert proc.returncode == 0 and json.loads(proc.stdout) == [pid]
    proc = rt("pause", cid)
    assert proc.returncode == 1
    assert rt("delete", "--force", cid).returncode == 0


def test_systemd_cgroup_needs_systemd(rt, bundle, cid):
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd runs here")
    b = bundle(["true"], linux={"cgroupsPath": "system.slice:pyrunc:" + cid})
    proc = rt._with_files(cid, ["--systemd-cgroup", "create", "--bundle", b.path, cid])
    assert proc.returncode == 1
    assert "systemd not running on this host, cannot use systemd cgroups manager" in proc.stderr, \
        "does commands/create.py pass globals_=inv.globals to CreateOptions?"
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only(reason="runc sets hugetlb only through a v1 hugetlb mount")
def test_hugetlb_goes_to_unified_on_hybrid(rt, bundle, cid):
    unified = cgroup_dirs("")[""] if "" in _own() else None
    root = "/sys/fs/cgroup/unified"
    if unified is None or "hugetlb" not in cat(root + "/cgroup.controllers").split():
        pytest.skip("no hugetlb in a cgroup2 mount beside v1")
    had = "hugetlb" in cat(root + "/cgroup.subtree_control").split()
    b = bundle(["sleep", "1000"], linux={"resources": {"hugepageLimits": [{"pageSize": "2MB",
                                                                           "limit": 8388608}]}})
    try:
        assert rt.create(cid, b).returncode == 0, rt.err(cid)
        assert cat(cgroup_dirs(b.cgroup)[""] + "/hugetlb.2MB.max") == "8388608"
        assert rt("delete", cid).returncode == 0
    finally:
        rt("delete", "--force", cid)
        if not had:
            # leave the host's unified root as it was
            with open(root + "/cgroup.subtree_control", "w") as f:
                f.write("-hugetlb")


def test_invalid_hugepage_size_fails_create(rt, bundle, cid):
    b = bundle(["true"], linux={"resources": {"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}})
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_delete_of_stopped_container_without_pid_namespace_kills_leftovers(rt, bundle, cid):
    def no_pid_ns(cfg):
        cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "pid"]

    b = bundle(["sh", "-c", "sleep 1000 & echo started"], edit=no_pid_ns)
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    rt.wait_status(cid, "stopped")
    procs = cgroup_dirs(b.cgroup)["pids"] + "/cgroup.procs"
    left = cat(procs).split()
    assert len(left) == 1, "the orphaned sleep is still in the container's cgroup"
    assert rt("delete", cid).returncode == 0
    assert not os.path.exists(procs)


@pytest.mark.pyrunc_only
def test_without_own_cgroups_the_cgroup_mount_is_empty(rt, bundle, cid):
    """A container with no cgroups of its own must not see (or write) its caller's: on a
    v1 host its "cgroup" mount is an empty tmpfs then."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("pure cgroup v2 host: the mount is cgroup2 in the container's namespace")
    b = bundle(["sh", "-c", "ls /sys/fs/cgroup | wc -l"])
    proc = rt("--cgroup-manager", "disabled", "run", "--bundle", b.path, cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


def test_cgroup_mount_binds_carry_the_entrys_options(rt, bundle, cid):
    """On a v1 host the "cgroup" entry becomes one bind per hierarchy; each has the
    entry's options (the default spec's ro, nosuid, nodev, noexec), as runc's do."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("pure cgroup v2 host: the mount is one cgroup2")
    b = bundle(["sh", "-c", "grep ' /sys/fs/cgroup/' /proc/self/mounts"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, "no cgroup hierarchy is mounted"
    for line in lines:
        options = set(line.split()[3].split(","))
        assert {"ro", "nosuid", "nodev", "noexec"} <= options, line
