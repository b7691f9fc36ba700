"""pyrunc.cgroups without a kernel: host detection, path rules, resource -> file
mapping on fake cgroup trees (plain directories in tmp), v2 conversions, state
round trips. Nothing here touches /sys/fs/cgroup.
"""

import errno
import os
import time

import pytest

from pyrunc import cgroups
from pyrunc.cgroups import stats as S
from pyrunc.cgroups import layout as cglayout, systemd, v1, v2
from pyrunc.cgroups.disabled import DisabledManager
from pyrunc.cgroups.hybrid import HybridManager
from pyrunc.cgroups.v1 import V1Manager
from pyrunc.cgroups.v2 import V2Manager
from pyrunc.errors import RuntimeFailure

# /proc/self/mountinfo of this host kind (hybrid), trimmed to what matters.
HYBRID_MOUNTINFO = """\
23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

HYBRID_PROC_CGROUP = """\
9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
"""

V2_MOUNTINFO = """\
25 20 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
"""

COMOUNT_MOUNTINFO = """\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
"""


class _Linux:
    def __init__(self, cgroups_path=None, resources=None, devices=()):
        self.cgroups_path = cgroups_path
        self.resources = resources
        self.devices = devices


class _Config:
    def __init__(self, cgroups_path=None, resources=None, devices=()):
        self.linux = _Linux(cgroups_path, resources, devices)


class _Globals:
    def __init__(self, manager=None, systemd_cgroup=False, rootless="auto"):
        self.cgroup_manager = manager
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless


def _hybrid():
    own = cglayout.parse_proc_cgroup(HYBRID_PROC_CGROUP)
    return cglayout.parse_mountinfo(HYBRID_MOUNTINFO, own), own


# -- detection ----------------------------------------------------------------------

def test_hybrid_host_is_detected_from_real_mounts_only():
    layout, _ = _hybrid()
    assert layout.mode == cgroups.HYBRID
    assert [h.key for h in layout.v1] == ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                          "blkio", "pids", "name=systemd"]
    assert layout.unified.mountpoint == "/sys/fs/cgroup/unified"
    # The tmpfs at /sys/fs/cgroup is no hierarchy; nothing is derived from its name.
    assert all(h.mountpoint != "/sys/fs/cgroup" for h in layout.v1)


def test_pure_v2_and_co_mounted_v1():
    assert cglayout.parse_mountinfo(V2_MOUNTINFO).mode == cgroups.V2
    layout = cglayout.parse_mountinfo(COMOUNT_MOUNTINFO)
    assert layout.mode == cgroups.V1
    assert [h.key for h in layout.v1] == ["cpu,cpuacct", "memory"]
    assert cglayout.parse_mountinfo("").mode == cgroups.DISABLED


def test_bind_mounted_hierarchy_prefers_the_mount_holding_our_cgroup():
    text = ("50 31 0:32 /other /mnt/a rw - cgroup cgroup rw,memory\n"
            "51 31 0:32 /process_api /mnt/b rw - cgroup cgroup rw,memory\n")
    own = {"memory": "/process_api/abc"}
    layout = cglayout.parse_mountinfo(text, own)
    (h,) = layout.v1
    assert h.mountpoint == "/mnt/b"
    assert cglayout.resolve(h, own, "ct") == "/mnt/b/abc/ct"


def test_escaped_mountpoints():
    text = r"60 31 0:40 / /tmp/with\040space rw - cgroup cgroup rw,pids" + "\n"
    (h,) = cglayout.parse_mountinfo(text).v1
    assert h.mountpoint == "/tmp/with space"


# -- path rules ---------------------------------------------------------------------

def test_relative_path_goes_under_own_cgroup_of_each_hierarchy():
    layout, own = _hybrid()
    mem = next(h for h in layout.v1 if h.key == "memory")
    cpu = next(h for h in layout.v1 if h.key == "cpu")
    assert cglayout.resolve(mem, own, "pyrunc-test/ct1") == \
        "/sys/fs/cgroup/memory/process_api/abc/pyrunc-test/ct1"
    assert cglayout.resolve(cpu, own, "pyrunc-test/ct1") == "/sys/fs/cgroup/cpu/pyrunc-test/ct1"
    assert cglayout.resolve(layout.unified, own, "ct1") == "/sys/fs/cgroup/unified/ct1"


def test_absolute_path_starts_at_each_hierarchy_root():
    layout, own = _hybrid()
    mem = next(h for h in layout.v1 if h.key == "memory")
    assert cglayout.resolve(mem, own, "/cgrouptest") == "/sys/fs/cgroup/memory/cgrouptest"


def test_pure_v2_relative_path_uses_the_parent_of_own_cgroup():
    (layout, own) = (cglayout.parse_mountinfo(V2_MOUNTINFO), {"": "/user.slice/session-1.scope"})
    assert cglayout.resolve(layout.unified, own, "ct", parent_of_own=True) == "/sys/fs/cgroup/user.slice/ct"
    assert cglayout.resolve(layout.unified, {"": "/"}, "ct", parent_of_own=True) == "/sys/fs/cgroup/ct"


@pytest.mark.parametrize("given,clean", [
    ("a/b", "a/b"), ("../../etc", "etc"), ("a/../../b", "b"), ("/x/../../y", "/y"),
    ("/a//b/", "/a/b"), ("", ""), ("..", "."),
])
def test_clean_path_never_climbs_out(given, clean):
    assert cgroups.clean_path(given) == clean


def test_default_path_is_the_container_id():
    assert cglayout.inner_path(_Config(None), "myid") == "myid"
    assert cglayout.inner_path(_Config("/abs/x"), "myid") == "/abs/x"


def test_manager_for_on_hybrid_host_has_every_hierarchy_plus_unified():
    layout, own = _hybrid()
    mgr = cglayout.manager_for(_Config("pyrunc-test/c"), "c", None, layout, own)
    assert isinstance(mgr, HybridManager)
    assert mgr.paths[""] == "/sys/fs/cgroup/unified/pyrunc-test/c"
    assert mgr.paths["memory"] == "/sys/fs/cgroup/memory/process_api/abc/pyrunc-test/c"
    assert len(mgr.paths) == 10
    # the caller's own cgroups are protected from the container's limits
    assert "/sys/fs/cgroup/memory/process_api/abc" in mgr.protected


def test_manager_for_on_pure_v2_host():
    layout = cglayout.parse_mountinfo(V2_MOUNTINFO)
    mgr = cglayout.manager_for(_Config("pyrunc-test/c"), "c", None, layout, {"": "/user.slice/me.scope"})
    assert isinstance(mgr, V2Manager)
    assert mgr.dir == "/sys/fs/cgroup/user.slice/pyrunc-test/c"
    assert mgr.mounts == {"": "/sys/fs/cgroup"}
    assert cgroups.load(mgr.to_state()).dir == mgr.dir


def test_manager_choice_follows_global_flags(monkeypatch):
    layout, own = _hybrid()
    assert isinstance(cglayout.manager_for(_Config(), "c", _Globals("disabled"), layout, own),
                      DisabledManager)
    monkeypatch.setattr(systemd, "systemd_running", lambda: False)
    with pytest.raises(RuntimeFailure) as e:
        cglayout.manager_for(_Config(), "c", _Globals(systemd_cgroup=True), layout, own)
    assert e.value.message == "systemd not running on this host, cannot use systemd cgroups manager"
    # --cgroup-manager wins over --systemd-cgroup
    assert cglayout.manager_name(_Globals("cgroupfs", systemd_cgroup=True)) == "cgroupfs"


def test_systemd_paths(monkeypatch):
    assert systemd.expand_slice("machine-pod1.slice") == "/machine.slice/machine-pod1.slice"
    assert systemd.expand_slice("-.slice") == "/"
    with pytest.raises(RuntimeFailure):
        systemd.expand_slice("a--b.slice")
    assert systemd.parse_path("", "id") == ("system.slice", "runc", "id")
    with pytest.raises(RuntimeFailure, match='expected cgroupsPath to be of format "slice:prefix:name"'):
        systemd.parse_path("/not/systemd", "id")
    monkeypatch.setattr(systemd, "systemd_running", lambda: True)
    assert systemd.inner_path(_Config("machine.slice:runc:abc"), "id") == "/machine.slice/runc-abc.scope"


def test_exec_cgroup_arguments():
    assert cgroups.parse_exec_cgroups(["sub"]) == {"": "sub"}
    assert cgroups.parse_exec_cgroups(["memory:a", "cpu,cpuacct:b"]) == \
        {"memory": "a", "cpu": "b", "cpuacct": "b"}
    for bad, text in ((["a", "b"], "missing <controller>: prefix"), ([":x"], "empty <controller>"),
                      (["a:b:c"], "invalid --cgroup argument"),
                      (["memory:a", "memory:b"], "specified multiple times")):
        with pytest.raises(RuntimeFailure, match=text):
            cgroups.parse_exec_cgroups(bad)
    assert cgroups.sub_path("/c/x", "sub/y") == "/c/x/sub/y"
    assert cgroups.sub_path("/c/x", "/") == "/c/x"
    with pytest.raises(RuntimeFailure, match=r" \.\. is not a sub cgroup path"):
        cgroups.sub_path("/c/x", "..")


# -- fake cgroup trees ---------------------------------------------------------------

V1_FILES = {
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "devices": {"devices.allow": "", "devices.deny": ""},
    "memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
               "memory.soft_limit_in_bytes": "", "memory.swappiness": "60", "memory.oom_control": "",
               "memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192"},
    "cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
            "cpu.rt_period_us": "", "cpu.rt_runtime_us": "", "cpu.cfs_burst_us": "", "cpu.idle": ""},
    "pids": {"pids.max": "max"},
    "blkio": {"blkio.bfq.weight": "", "blkio.bfq.weight_device": "", "blkio.throttle.read_bps_device": "",
              "blkio.throttle.write_iops_device": ""},
    "freezer": {"freezer.state": "THAWED"},
}


def _fake_v1(tmp_path, leaf="pyrunc-test/ct", controllers=V1_FILES):
    """A V1Manager whose hierarchies are plain directories under tmp_path, with the
    leaf already made and populated (cgroupfs would make the files itself)."""
    paths, mounts = {}, {}
    for ctrl, files in controllers.items():
        mount = tmp_path / ctrl
        d = mount / leaf
        d.mkdir(parents=True)
        for name, content in files.items():
            (d / name).write_text(content)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if ctrl == "cpuset":
                (mount / name).write_text("0-1\n" if name == "cpuset.cpus" else "0\n")
        paths[ctrl] = str(d)
        mounts[ctrl] = str(mount)
    return V1Manager(paths, mounts)


def _read(mgr, ctrl, name):
    with open(os.path.join(mgr.paths[ctrl], name)) as f:
        return f.read()


def test_v1_resources_land_in_the_right_files(tmp_path):
    mgr = _fake_v1(tmp_path)
    mgr.apply({
        "memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728, "swappiness": 10,
                   "disableOOMKiller": True},
        "cpu": {"shares": 1024, "quota": 50000, "period": 200000, "realtimePeriod": 1000000,
                "realtimeRuntime": 950000, "cpus": "0", "mems": "0", "burst": 1000, "idle": 0},
        "pids": {"limit": 42},
        "blockIO": {"weight": 500, "weightDevice": [{"major": 254, "minor": 0, "weight": 300}],
                    "throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 100}]},
    })
    assert _read(mgr, "memory", "memory.limit_in_bytes") == "67108864"
    assert _read(mgr, "memory", "memory.memsw.limit_in_bytes") == "134217728"
    assert _read(mgr, "memory", "memory.soft_limit_in_bytes") == "33554432"
    assert _read(mgr, "memory", "memory.swappiness") == "10"
    assert _read(mgr, "memory", "memory.oom_control") == "1"
    assert _read(mgr, "cpu", "cpu.cfs_quota_us") == "50000"
    assert _read(mgr, "cpu", "cpu.cfs_period_us") == "200000"
    assert _read(mgr, "cpu", "cpu.rt_period_us") == "1000000"
    assert _read(mgr, "cpu", "cpu.rt_runtime_us") == "950000"
    assert _read(mgr, "cpu", "cpu.cfs_burst_us") == "1000"
    assert _read(mgr, "cpu", "cpu.idle") == "0"
    assert _read(mgr, "cpuset", "cpuset.cpus") == "0"
    assert _read(mgr, "pids", "pids.max") == "42"
    assert _read(mgr, "blkio", "blkio.bfq.weight") == "500"
    assert _read(mgr, "blkio", "blkio.bfq.weight_device") == "254:0 300"
    assert _read(mgr, "blkio", "blkio.throttle.read_bps_device") == "254:0 1048576"
    assert _read(mgr, "blkio", "blkio.throttle.write_iops_device") == "254:0 100"


def test_v1_zero_values_change_nothing(tmp_path):
    mgr = _fake_v1(tmp_path)
    mgr.apply({"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0},
               "cpu": {"shares": 0, "quota": 0, "period": 0}, "pids": {"limit": 0},
               "blockIO": {"weight": 0}})
    assert _read(mgr, "memory", "memory.limit_in_bytes") == "9223372036854771712"
    assert _read(mgr, "cpu", "cpu.shares") == "1024"
    assert _read(mgr, "pids", "pids.max") == "max"


def test_v1_unlimited_values(tmp_path):
    mgr = _fake_v1(tmp_path)
    mgr.apply({"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}})
    # unlimited memory without a swap value means unlimited swap too
    assert _read(mgr, "memory", "memory.memsw.limit_in_bytes") == "-1"
    assert _read(mgr, "memory", "memory.limit_in_bytes") == "-1"
    assert _read(mgr, "pids", "pids.max") == "max"
    assert _read(mgr, "cpu", "cpu.cfs_quota_us") == "-1"


def test_v1_memory_and_swap_order(tmp_path, monkeypatch):
    """memsw must stay >= limit at each step: growing writes swap first."""
    mgr = _fake_v1(tmp_path)
    writes = []
    real = v1.write_file

    def spy(d, name, value):
        writes.append(name)
        return real(d, name, value)

    monkeypatch.setattr(v1, "write_file", spy)
    (tmp_path / "memory/pyrunc-test/ct/memory.limit_in_bytes").write_text("1000")
    mgr.apply({"memory": {"limit": 2000, "swap": 4000}})
    assert writes == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    writes.clear()
    (tmp_path / "memory/pyrunc-test/ct/memory.limit_in_bytes").write_text("8000")
    mgr.apply({"memory": {"limit": 2000, "swap": 4000}})
    assert writes == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]


def test_v1_rejects_unified_and_bad_swappiness(tmp_path):
    mgr = _fake_v1(tmp_path)
    with pytest.raises(RuntimeFailure, match="invalid configuration: cannot use unified on cgroup v1"):
        mgr.apply({"unified": {"memory.min": "1"}})
    with pytest.raises(RuntimeFailure, match="swappiness"):
        mgr.apply({"memory": {"swappiness": 101}})


def test_v1_missing_controller_is_named(tmp_path):
    mgr = _fake_v1(tmp_path)
    with pytest.raises(RuntimeFailure) as e:
        mgr.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})
    assert e.value.message == "cannot set hugetlb limit: container could not join or create cgroup"


def test_v1_missing_file_error_names_the_file(tmp_path):
    files = dict(V1_FILES)
    files["blkio"] = {}
    mgr = _fake_v1(tmp_path, controllers=files)
    with pytest.raises(RuntimeFailure) as e:
        mgr.apply({"blockIO": {"leafWeight": 300}})
    assert e.value.message.startswith('failed to write "300": openat2 ')
    assert e.value.message.endswith("/blkio.leaf_weight: no such file or directory")


def test_v1_device_rules_in_config_order(tmp_path, monkeypatch):
    mgr = _fake_v1(tmp_path)
    log = []
    real = cgroups.FileWriter.write

    def spy(self, name, value):
        log.append((name, value))
        real(self, name, value)

    monkeypatch.setattr(cgroups.FileWriter, "write", spy)
    mgr.device_nodes = [("c", 10, 229), ("p", 0, 0)]
    mgr.apply({"devices": [{"allow": False, "access": "rwm"},
                           {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rw"},
                           {"allow": False, "type": "b", "major": 8, "access": "m"}]})
    assert log[:3] == [("devices.deny", "a"), ("devices.allow", "c 10:200 rw"), ("devices.deny", "b 8:* m")]
    # runc's defaults come after the config's rules; linux.devices nodes get no rule of
    # their own (a denied node stays denied, as dev.bats checks)
    assert log[3:5] == [("devices.allow", "c *:* m"), ("devices.allow", "b *:* m")]
    assert ("devices.allow", "c 10:229 rwm") not in log
    assert ("devices.allow", "c 5:2 rwm") in log
    # Each file was opened once, and got one write per rule (the plain files of
    # this fake tree hold them one after the other).
    assert _read(mgr, "devices", "devices.deny") == "ab 8:* m"
    assert _read(mgr, "devices", "devices.allow").startswith("c 10:200 rwc *:* mb *:* mc 1:3 rwm")


def test_file_writer_error_names_the_value_and_file(tmp_path):
    with pytest.raises(RuntimeFailure) as e:
        with cgroups.FileWriter(str(tmp_path)) as files:
            files.write("missing.file", 7)
    assert e.value.message == f'failed to write "7": openat2 {tmp_path}/missing.file: no such file or directory'


def test_no_device_rules_means_no_device_writes():
    assert v1.device_rules(None, []) == []


def test_v1_update_leaves_devices_alone(tmp_path):
    mgr = _fake_v1(tmp_path)
    mgr.apply({"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 5}}, update=True)
    assert _read(mgr, "devices", "devices.deny") == ""
    assert _read(mgr, "pids", "pids.max") == "5"


def test_v1_period_retried_after_quota_on_einval(tmp_path, monkeypatch):
    mgr = _fake_v1(tmp_path)
    calls = []
    real = v1.write_file

    def flaky(d, name, value):
        calls.append((name, str(value)))
        if name == "cpu.cfs_period_us" and len([c for c in calls if c[0] == name]) == 1:
            raise cgroups.CgroupError("failed: invalid argument", 22)
        return real(d, name, value)

    monkeypatch.setattr(v1, "write_file", flaky)
    mgr.apply({"cpu": {"period": 10000, "quota": 3000}})
    assert calls == [("cpu.cfs_period_us", "10000"), ("cpu.cfs_quota_us", "3000"),
                     ("cpu.cfs_period_us", "10000")]


def test_v1_cpu_shares_read_back(tmp_path, monkeypatch):
    mgr = _fake_v1(tmp_path)
    real = v1.write_file

    def clamp(d, name, value):
        real(d, name, min(int(value), 262144) if name == "cpu.shares" else value)

    monkeypatch.setattr(v1, "write_file", clamp)
    with pytest.raises(RuntimeFailure, match="the maximum allowed cpu-shares is 262144"):
        mgr.apply({"cpu": {"shares": 300000}})


def test_v1_freezer_and_state_file(tmp_path):
    mgr = _fake_v1(tmp_path)
    assert mgr.freezer_state_file().endswith("/freezer/pyrunc-test/ct/freezer.state")
    assert not mgr.frozen()
    mgr.freeze()  # a plain file reads back what was written: FROZEN
    assert mgr.frozen()
    mgr.thaw()
    assert not mgr.frozen()


def test_make_dirs_records_only_what_it_made_and_destroy_removes_deepest_first(tmp_path):
    mount = tmp_path / "pids"
    (mount / "shared").mkdir(parents=True)
    mgr = V1Manager({"pids": str(mount / "shared/a/b")}, {"pids": str(mount)})
    made = mgr._make_dirs(str(mount / "shared/a/b"), str(mount))
    assert mgr.created == [str(mount / "shared/a"), str(mount / "shared/a/b")]
    assert sorted(made) == sorted(mgr.created)
    (mount / "shared/a/b/sub").mkdir()  # a sub-cgroup the container made
    state = mgr.to_state()
    cgroups.load(state).destroy()
    assert not (mount / "shared/a").exists()
    assert (mount / "shared").is_dir() and mount.is_dir()


def test_destroy_keeps_an_intermediate_dir_another_container_uses(tmp_path):
    mount = tmp_path / "pids"
    mount.mkdir()
    mgr = V1Manager({"pids": str(mount / "p/c1")}, {"pids": str(mount)})
    mgr._make_dirs(mgr.paths["pids"], str(mount))
    (mount / "p/c2").mkdir()  # the other container's leaf
    (mount / "p/c2/keep").write_text("")
    mgr.destroy()
    assert not (mount / "p/c1").exists()
    assert (mount / "p/c2").is_dir()


def test_make_dirs_never_leaves_the_mount(tmp_path):
    mgr = V1Manager()
    with pytest.raises(RuntimeFailure):
        mgr._make_dirs(str(tmp_path / "elsewhere/x"), str(tmp_path / "mnt"))


def test_protected_cgroup_gets_no_limits(tmp_path):
    mgr = _fake_v1(tmp_path)
    mgr.protected = {mgr.paths["memory"]}
    with pytest.raises(RuntimeFailure, match="refusing to apply linux.resources"):
        mgr.check_protected({"pids": {"limit": 1}})
    mgr.check_protected({})  # joining alone is fine


def test_cpuset_inherit_copies_parent_values_down(tmp_path):
    mount = tmp_path / "cpuset"
    (mount / "a").mkdir(parents=True)
    for d, cpus, mems in ((mount, "0-1", "0"), (mount / "a", "", "")):
        (d / "cpuset.cpus").write_text(cpus)
        (d / "cpuset.mems").write_text(mems)
    mgr = V1Manager({"cpuset": str(mount / "a")}, {"cpuset": str(mount)})
    mgr._cpuset_inherit()
    assert (mount / "a/cpuset.cpus").read_text() == "0-1"
    assert (mount / "a/cpuset.mems").read_text() == "0"


def test_cpuset_inherit_keeps_set_levels_and_fills_made_ones_from_above(tmp_path):
    mount = tmp_path / "cpuset"
    (mount / "a/b").mkdir(parents=True)
    for d, cpus, mems in ((mount, "0-1", "0"), (mount / "a", "1", "0"), (mount / "a/b", "", "")):
        (d / "cpuset.cpus").write_text(cpus)
        (d / "cpuset.mems").write_text(mems)
    mgr = V1Manager({"cpuset": str(mount / "a/b")}, {"cpuset": str(mount)},
                    created=[str(mount / "a/b")])
    mgr._cpuset_inherit()
    assert (mount / "a/cpuset.cpus").read_text() == "1"  # someone's setting: kept
    assert (mount / "a/b/cpuset.cpus").read_text() == "1"
    assert (mount / "a/b/cpuset.mems").read_text() == "0"


def test_v1_join_moves_the_single_thread_through_tasks(tmp_path):
    # "0" into `tasks`: a thread moving itself skips the threadgroup lock (Placement).
    mgr = _fake_v1(tmp_path)
    for p in mgr.paths.values():
        open(os.path.join(p, "tasks"), "w").close()
    mgr.join_self()
    assert all(_read(mgr, k, "tasks") == "0" for k in mgr.paths)
    assert mgr.birth_dir() is None  # pure v1: nothing to be born in
    with pytest.raises(RuntimeFailure, match="unknown controller whaaat"):
        mgr.join_self(sub={"whaaat": "/"})
    os.mkdir(os.path.join(mgr.paths["memory"], "submem"))
    with pytest.raises(RuntimeFailure) as e:
        mgr.join_self(sub={"memory": "submem"})
    assert "adding pid %d to cgroups" % os.getpid() in e.value.message
    # the canonical write is retried, for its error text (runc's tests match it)
    assert e.value.message.endswith("/submem/cgroup.procs: no such file or directory")


def test_placement_forks_plainly_while_threads_run(tmp_path, monkeypatch):
    # clone3 bypasses glibc's fork handling of threads: only single-threaded callers use it.
    import threading

    mgr = _fake_v2(tmp_path)
    monkeypatch.setattr(cgroups.os, "fork", lambda: 4343)
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    t.start()
    try:
        sys = _ForkRecorder()
        assert cgroups.Placement(mgr).fork(sys) == 4343 and sys.calls == []
    finally:
        release.set()
        t.join()
    # join() returns before the kernel has reaped the thread
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/task")) > 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    sys = _ForkRecorder()
    assert cgroups.Placement(mgr).fork(sys) == 4242 and sys.calls == [mgr.dir]


def test_hybrid_join_skips_the_unified_cgroup_it_was_born_in(tmp_path):
    mgr = _fake_v1(tmp_path)
    unified = tmp_path / "unified/ct"
    unified.mkdir(parents=True)
    (unified / "cgroup.procs").write_text("")
    mgr.paths[""] = str(unified)
    for k, p in mgr.paths.items():
        if k:
            open(os.path.join(p, "tasks"), "w").close()
    assert mgr.birth_dir() == str(unified)
    mgr.join_self(born_in=str(unified))
    assert (unified / "cgroup.procs").read_text() == ""
    mgr.join_self()  # born elsewhere (clone3 refused): the whole process, by cgroup.procs
    assert (unified / "cgroup.procs").read_text() == "0"


class _ForkRecorder:
    """The fork side of the syscall seam, without forking."""

    def __init__(self, refuse=None):
        self.refuse = refuse
        self.calls = []

    def fork_into_cgroup(self, directory):
        self.calls.append(directory)
        if self.refuse:
            raise OSError(self.refuse, os.strerror(self.refuse), "clone3 into " + directory)
        return 4242


def test_placement_forks_into_the_v2_directory_and_falls_back(tmp_path, monkeypatch):
    mgr = _fake_v2(tmp_path)
    placement = cgroups.Placement(mgr)
    assert placement.fork(_ForkRecorder()) == 4242 and placement.born_in == mgr.dir
    placement.join()  # born there: nothing to write
    assert (tmp_path / "cg2/ct/cgroup.procs").read_text() == ""

    monkeypatch.setattr(cgroups.os, "fork", lambda: 4343)
    refused = cgroups.Placement(mgr)
    sys = _ForkRecorder(refuse=errno.EBUSY)
    assert refused.fork(sys) == 4343 and sys.calls == [mgr.dir] and refused.born_in is None
    refused.join()
    assert (tmp_path / "cg2/ct/cgroup.procs").read_text() == "0"

    disabled = cgroups.Placement(cgroups.load(None))
    sys = _ForkRecorder()
    assert disabled.fork(sys) == 4343 and sys.calls == []


def test_pids_are_read_recursively(tmp_path):
    mgr = _fake_v1(tmp_path, controllers={"freezer": {"cgroup.procs": "10\n11\n"}})
    sub = os.path.join(mgr.paths["freezer"], "sub")
    os.mkdir(sub)
    with open(os.path.join(sub, "cgroup.procs"), "w") as f:
        f.write("12\n")
    assert sorted(mgr.pids()) == [10, 11, 12]


def test_state_round_trip():
    mgr = HybridManager({"pids": "/x/pids/c", "": "/x/unified/c"}, {"pids": "/x/pids", "": "/x/unified"},
                        ["/x/pids/c"], {"pids": {"limit": 3}})
    back = cgroups.load(mgr.to_state())
    assert isinstance(back, HybridManager)
    assert back.paths == mgr.paths and back.created == mgr.created and back.resources == mgr.resources
    assert isinstance(cgroups.load(None), DisabledManager)
    assert isinstance(cgroups.load(DisabledManager().to_state()), DisabledManager)
    assert cgroups.load(None).pids() is None


def test_hybrid_binds_include_unified():
    mgr = HybridManager({"cpu": "/sys/fs/cgroup/cpu/c", "": "/sys/fs/cgroup/unified/c"},
                        {"cpu": "/sys/fs/cgroup/cpu", "": "/sys/fs/cgroup/unified"})
    assert mgr.mount_binds() == [("cpu", "/sys/fs/cgroup/cpu/c"), ("unified", "/sys/fs/cgroup/unified/c")]


def test_go_style_keys_are_accepted():
    got = cgroups.canonical_keys({"CPU": {"Cpus": "1", "quota": 5}, "Memory": {"LIMIT": 3},
                                  "unified": {"memory.MAX": "1"}})
    assert got == {"cpu": {"cpus": "1", "quota": 5}, "memory": {"limit": 3}, "unified": {"memory.MAX": "1"}}


# -- cgroup v2 -------------------------------------------------------------------------

@pytest.mark.parametrize("shares,weight", [(0, 0), (2, 1), (100, 4), (512, 20), (1024, 39), (3333, 128),
                                           (262144, 10000)])
def test_shares_to_weight(shares, weight):
    assert v2.shares_to_weight(shares) == weight


def test_blkio_weight_to_io_weight():
    assert v2.blkio_weight_to_io_weight(750) == 7475
    assert v2.blkio_weight_to_io_weight(10) == 1
    assert v2.blkio_weight_to_io_weight(1000) == 10000
    assert v2.blkio_weight_to_io_weight(0) == 0


def test_swap_to_v2():
    assert v2.swap_to_v2(96468992, 52428800) == 96468992 - 52428800
    assert v2.swap_to_v2(0, 1000) is None
    assert v2.swap_to_v2(0, -1) == -1
    assert v2.swap_to_v2(-1, 1000) == -1
    assert v2.swap_to_v2(1000, 1000) == 0
    with pytest.raises(RuntimeFailure, match="without memory limit"):
        v2.swap_to_v2(1000, 0)
    with pytest.raises(RuntimeFailure, match="should be >= memory limit"):
        v2.swap_to_v2(10, 1000)


V2_FILES = ("cgroup.procs", "cgroup.freeze", "cgroup.events", "cgroup.controllers", "cgroup.subtree_control",
            "memory.max", "memory.low", "memory.swap.max", "memory.current", "pids.max", "cpu.weight", "cpu.max",
            "cpu.max.burst", "cpu.idle", "io.weight", "io.max", "cpuset.cpus", "cpuset.mems", "hugetlb.2MB.max",
            "memory.min", "rdma.max")


def _fake_v2(tmp_path, leaf="ct"):
    mount = tmp_path / "cg2"
    d = mount / leaf
    d.mkdir(parents=True)
    for name in V2_FILES:
        (d / name).write_text("")
    (d / "cgroup.controllers").write_text("cpu io memory pids hugetlb rdma cpuset\n")
    return V2Manager({"": str(d)}, {"": str(mount)})


def _r2(mgr, name):
    with open(os.path.join(mgr.dir, name)) as f:
        return f.read()


def test_v2_resources(tmp_path):
    mgr = _fake_v2(tmp_path)
    mgr.apply({"memory": {"limit": 52428800, "swap": 96468992, "reservation": 1000},
               "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "burst": 10},
               "pids": {"limit": -1},
               "blockIO": {"weight": 750, "throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1}]},
               "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
               "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}})
    assert _r2(mgr, "memory.max") == "52428800"
    assert _r2(mgr, "memory.swap.max") == str(96468992 - 52428800)
    assert _r2(mgr, "memory.low") == "1000"
    assert _r2(mgr, "cpu.weight") == "20"
    assert _r2(mgr, "cpu.max") == "50000 100000"
    assert _r2(mgr, "cpu.max.burst") == "10"
    assert _r2(mgr, "pids.max") == "max"
    assert _r2(mgr, "io.weight") == "7475"
    assert _r2(mgr, "io.max") == "254:0 rbps=1"
    assert _r2(mgr, "cpuset.cpus") == "0"
    assert _r2(mgr, "hugetlb.2MB.max") == "4194304"
    assert _r2(mgr, "rdma.max") == "mlx5_1 hca_handle=3 hca_object=10000"


def test_v2_cpu_max_forms(tmp_path):
    mgr = _fake_v2(tmp_path)
    mgr.apply({"cpu": {"period": 1000000}})
    assert _r2(mgr, "cpu.max") == "max 1000000"
    mgr.apply({"cpu": {"quota": 5000}})
    assert _r2(mgr, "cpu.max") == "5000"
    mgr.apply({"cpu": {"quota": -1, "period": 100000}})
    assert _r2(mgr, "cpu.max") == "max 100000"


def test_v2_unified_is_written_last_and_as_is(tmp_path):
    mgr = _fake_v2(tmp_path)
    mgr.apply({"pids": {"limit": 10}, "unified": {"pids.max": "42", "memory.min": "131072"}})
    assert _r2(mgr, "pids.max") == "42"
    assert _r2(mgr, "memory.min") == "131072"
    with pytest.raises(RuntimeFailure, match='controller "misc" not available'):
        mgr.apply({"unified": {"misc.max": "1"}})
    with pytest.raises(RuntimeFailure, match="no slashes"):
        mgr.apply({"unified": {"../x": "1"}})


def test_v2_freezer(tmp_path):
    mgr = _fake_v2(tmp_path)
    (tmp_path / "cg2/ct/cgroup.events").write_text("populated 1\nfrozen 1\n")
    mgr.freeze()
    assert mgr.frozen()
    assert mgr.freezer_state_file().endswith("/cgroup.freeze")
    mgr.thaw()
    assert not mgr.frozen()


def test_v2_enable_controllers_on_the_way_down(tmp_path):
    mount = tmp_path / "cg2"
    (mount / "a/b").mkdir(parents=True)
    for d in (mount, mount / "a"):
        (d / "cgroup.controllers").write_text("cpu memory pids\n")
        (d / "cgroup.subtree_control").write_text("cpu\n" if d == mount else "")
    v2.enable_controllers(str(mount), str(mount / "a/b"))
    assert (mount / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (mount / "a/cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    with pytest.raises(RuntimeFailure, match="cannot set hugetlb limit"):
        v2.enable_controllers(str(mount), str(mount / "a/b"), ("hugetlb",))


def test_v2_join_falls_back_to_the_inits_cgroup(tmp_path, monkeypatch):
    mgr = _fake_v2(tmp_path)
    (tmp_path / "cg2/ct/foo").mkdir()
    (tmp_path / "cg2/ct/foo/cgroup.procs").write_text("")
    real = cgroups.write_file

    def busy(d, name, value):
        if d == mgr.dir and name == "cgroup.procs":
            raise cgroups.CgroupError("busy", 16)
        return real(d, name, value)

    monkeypatch.setattr(cgroups, "write_file", busy)
    monkeypatch.setattr(V2Manager, "_cgroup2_of", lambda self, pid: self.dir + "/foo")
    mgr.join_self(init_pid=1)
    assert (tmp_path / "cg2/ct/foo/cgroup.procs").read_text() == "0"
    with pytest.raises(RuntimeFailure):
        mgr.join_self()  # no init to fall back to


# -- stats ----------------------------------------------------------------------------

def test_v1_stats_shape(tmp_path, monkeypatch):
    files = {
        "cpuacct": {"cpuacct.usage": "300", "cpuacct.usage_percpu": "100 200",
                    "cpuacct.usage_all": "cpu user system\n0 60 40\n1 150 50\n", "cpuacct.stat": "user 2\nsystem 1\n"},
        "cpu": {"cpu.stat": "nr_periods 5\nnr_throttled 0\nthrottled_time 0\n"},
        "memory": {"memory.stat": "total_cache 4096\ncache 4096\nrss 10\n", "memory.usage_in_bytes": "8192",
                   "memory.limit_in_bytes": "65536", "memory.max_usage_in_bytes": "9000", "memory.failcnt": "0"},
        "pids": {"pids.current": "3", "pids.max": "max"},
    }
    monkeypatch.setattr(S, "hugepage_sizes", lambda: [])
    mgr = _fake_v1(tmp_path, controllers=files)
    st = mgr.stats()
    assert list(st) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]
    assert st["cpu"]["usage"] == {"total": 300, "percpu": [100, 200], "percpu_kernel": [40, 50],
                                  "percpu_user": [60, 150], "kernel": 10_000_000, "user": 20_000_000}
    assert st["cpu"]["throttling"] == {"periods": 5}
    assert st["memory"]["cache"] == 4096
    assert st["memory"]["usage"] == {"limit": 65536, "usage": 8192, "max": 9000, "failcnt": 0}
    assert list(st["memory"]["raw"]) == ["cache", "rss", "total_cache"]
    assert st["pids"] == {"current": 3}
    assert st["network_interfaces"] is None and st["intel_rdt"] == {}


def test_stats_helpers():
    assert S.cpu_list("0-2,5") == [0, 1, 2, 5]
    assert S.cpu_list("") == []
    assert S._blkio_entries("254:0 Read 10\n254:0 Write 0\nTotal 10\n") == \
        [{"major": 254, "op": "Read", "value": 10}, {"major": 254, "op": "Write"}]


def test_exec_placement_checks_in_the_parent_and_joins_in_the_child(tmp_path):
    mgr = _fake_v1(tmp_path, controllers={"memory": {"tasks": ""}, "cpu": {"tasks": ""}})
    state = mgr.to_state()
    with pytest.raises(RuntimeFailure, match="unknown controller pids"):
        cgroups.exec_placement(state, ["pids:/x"])
    with pytest.raises(RuntimeFailure, match="is not a sub cgroup path"):
        cgroups.exec_placement(state, ["../x"])
    with pytest.raises(RuntimeFailure, match="no cgroups"):
        cgroups.exec_placement(None, ["x"])
    cgroups.exec_placement(None).join()  # no cgroups: nothing to join, no error
    cgroups.exec_placement(state, [], init_pid=1).join()
    assert _read(mgr, "memory", "tasks") == "0"  # "0" = the writing thread


@pytest.mark.parametrize("cls, paths", [
    (V1Manager, {"cpu,cpuacct": "/cg/cpu,cpuacct/c", "memory": "/cg/memory/c"}),
    (HybridManager, {"memory": "/cg/memory/c", "pids": "/cg/pids/c", "": "/cg/unified/c"}),
    (V2Manager, {"": "/cg2/c"}),
    (DisabledManager, {}),
])
def test_placement_from_the_state_alone_matches_the_backend(cls, paths):
    """exec places its process with the base Manager made from the state (no
    backend module loaded); where it goes must not depend on that."""
    mounts = {k: "/cg" if k else "/cg/unified" for k in paths}
    backend = cls(paths, mounts)
    generic = cgroups.exec_placement(backend.to_state()).manager
    assert type(generic) is cgroups.Manager
    for sub in (None, {"": "sub"}):
        if sub and not paths:
            continue
        birth = backend.birth_dir(sub)
        assert generic.birth_dir(sub) == birth
        assert generic.join_targets(sub, born_in=birth) == backend.join_targets(sub, born_in=birth)
        assert generic.join_targets(sub) == backend.join_targets(sub)
    if cls is HybridManager:
        assert generic.birth_dir() == "/cg/unified/c"
        assert generic.join_targets(born_in="/cg/unified/c") == [("/cg/memory/c", "tasks"),
                                                                   ("/cg/pids/c", "tasks")]


def test_v2_exec_cgroup_with_a_controller_is_refused_with_runcs_text():
    state = V2Manager({"": "/cg2/c"}, {"": "/cg2"}).to_state()
    with pytest.raises(RuntimeFailure, match=r"unknown controller memory in --cgroup \(cgroup v2 takes a path"):
        cgroups.exec_placement(state, ["memory:/x"])


def test_device_access_keeps_only_rwm():
    from pyrunc.cgroups.v1 import device_access

    assert device_access("rwa") == "rw"
    assert device_access("mwr") == "rwm"
    assert device_access(None) == "rwm"


def test_procs_of_walks_past_threaded_cgroups(tmp_path, monkeypatch):
    """cgroup v2 refuses to list cgroup.procs of a threaded cgroup (EOPNOTSUPP: its
    processes are listed by the thread root). Listing, and so `delete --force` and
    `kill --all`, must go on to its sub-cgroups (runc's delete.bats "cgroupv2 with
    subcgroups")."""
    top = tmp_path / "ct"
    (top / "threaded" / "deeper").mkdir(parents=True)
    (top / "cgroup.procs").write_text("10\n11\n")
    (top / "threaded" / "cgroup.procs").write_text("")
    (top / "threaded" / "deeper" / "cgroup.procs").write_text("12\n")
    real = cgroups.read_file

    def read(path):
        if path == str(top / "threaded" / "cgroup.procs"):
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP), path)
        return real(path)

    monkeypatch.setattr(cgroups, "read_file", read)
    assert sorted(cgroups.procs_of(str(top))) == [10, 11, 12]
    assert cgroups.procs_of(str(top / "threaded"), recursive=False) == []

    def broken(path):
        raise OSError(errno.EIO, "I/O error", path)

    monkeypatch.setattr(cgroups, "read_file", broken)
    with pytest.raises(OSError):
        cgroups.procs_of(str(top))
