"""The init's sequence, read off the recording side of the syscall seam.

`pyrunc.plan.build()` runs the same `init.setup()` that `create` runs, over
`RecordingSyscalls`, which performs nothing. These tests build small bundles
in tmp dirs and assert on what was recorded: no root needed, nothing mounted,
no namespace touched (they must pass as an unprivileged user too).
"""

import json
import os

import pytest

from pyrunc import flags as F
from pyrunc import init, plan, rootfs
from pyrunc.cgroups.disabled import DisabledManager
from pyrunc.cgroups.hybrid import HybridManager
from pyrunc.commands.spec import default_config
from pyrunc.create import load_bundle
from pyrunc.errors import RuntimeFailure
from pyrunc.rootfs import MountOptions
from pyrunc.spec.tables import CAPABILITIES
from pyrunc.recording import RecordingSyscalls

VERIFIED_DEVNULL = "/dev/null (host, verified)"


# -- helpers --------------------------------------------------------------------


def _config(**top):
    """runc's default spec (terminal false, no cgroup mount: that one depends on the
    host's cgroup layout and has tests of its own); keywords replace top-level keys."""
    cfg = default_config(unified=False)
    cfg["process"]["terminal"] = False
    cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]
    for key, value in top.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    return cfg


@pytest.fixture
def make_bundle(tmp_path):
    """Factory: make_bundle(edit=fn) -> bundle dir with a tiny rootfs and config.json."""
    counter = [0]

    def make(edit=None, cfg=None):
        counter[0] += 1
        path = tmp_path / f"bundle{counter[0]}"
        root = path / "rootfs"
        for d in ("bin", "proc", "sys", "dev", "etc", "tmp"):
            (root / d).mkdir(parents=True)
        (root / "bin" / "sh").write_bytes(b"")
        config = cfg if cfg is not None else _config()
        if edit is not None:
            edit(config)
        (path / "config.json").write_text(json.dumps(config))
        return str(path)

    return make


def _steps(bundle):
    """The plan without cgroups (their steps depend on the host; see test_cgroup_steps)."""
    return plan.build(bundle, cgroup=DisabledManager())


def _init_ops(steps):
    return [(op, text) for who, op, text in steps if who == "init"]


def _texts(steps, op):
    return [text for who, o, text in steps if o == op]


def _index(steps, op, text=None, start=0):
    """Index of the first step with this op (and text, if given; a prefix match with '*')."""
    for i, (_, o, t) in enumerate(steps):
        if i < start or o != op:
            continue
        if text is None or t == text or (text.endswith("*") and t.startswith(text[:-1])):
            return i
    raise AssertionError(f"no {op} {text!r} in plan:\n{plan.render(steps)}")


def _last_index(steps, op):
    idx = [i for i, (_, o, _) in enumerate(steps) if o == op]
    assert idx, f"no {op} in plan:\n{plan.render(steps)}"
    return idx[-1]


def _has(steps, op, text):
    return any(o == op and t == text for _, o, t in steps)


class _Sync:
    """The parent <-> init channel as setup() sees it, for direct setup() calls."""

    def __init__(self, sys):
        self.sys = sys

    def cgroups_point(self):
        self.sys.ops.append(("sync", "cgroups"))

    def hooks_point(self):
        self.sys.ops.append(("sync", "hooks"))


def _setup(bundle, **ctx_kw):
    """Run init.setup() directly over a RecordingSyscalls; returns (ops, result)."""
    bundle, config, root = load_bundle(bundle)
    sys = RecordingSyscalls()
    warnings = []

    def run_hook(kind, hooks):
        for hook in hooks:
            sys.ops.append(("hook", f"{kind} {hook.path}"))

    ctx = init.InitContext(config, bundle, root, _Sync(sys), "/state/exec.fifo", warnings.append,
                           run_hook, **ctx_kw)
    result = init.setup(sys, ctx)
    return sys.ops, result, warnings


def _available_caps():
    return RecordingSyscalls().bounding_set()


def _need_caps(*names):
    available = _available_caps()
    missing = [n for n in names if not available >> CAPABILITIES[n] & 1]
    if missing:
        pytest.skip(f"this host's bounding set lacks {missing}")


# -- namespaces -------------------------------------------------------------------


def test_default_namespaces_are_unshared_by_the_init_and_pid_by_the_runtime(make_bundle):
    steps = _steps(make_bundle())
    assert steps[0] == ("runtime", "unshare", "CLONE_NEWPID (the init becomes pid 1)")
    assert steps[1] == ("runtime", "fork", "init")
    unshares = [t for who, o, t in steps if o == "unshare" and who == "init"]
    assert len(unshares) == 1
    assert set(unshares[0].split("|")) == {"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET"}
    # a new network namespace gets its loopback up
    assert _has(steps, "ioctl", "SIOCSIFFLAGS lo up")
    assert not _texts(steps, "setns")


def test_unshare_flags_match_the_config_exactly(make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [{"type": "pid"}, {"type": "ipc"}, {"type": "mount"}]
        del cfg["hostname"]  # needs a UTS namespace

    steps = _steps(make_bundle(edit))
    ops = _init_ops(steps)
    assert [t for o, t in ops if o == "unshare"] == ["CLONE_NEWNS|CLONE_NEWIPC"]
    # no network namespace entry: the runtime's is inherited, nothing to bring up
    assert ("ioctl", "SIOCSIFFLAGS lo up") not in ops


def test_namespace_missing_from_config_is_not_unshared(make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"]
                                      if ns["type"] not in ("pid", "network")]

    steps = _steps(make_bundle(edit))
    assert ("runtime", "unshare", "CLONE_NEWPID (the init becomes pid 1)") not in steps
    assert steps[0] == ("runtime", "fork", "init")
    for text in _texts(steps, "unshare"):
        assert "CLONE_NEWNET" not in text and "CLONE_NEWPID" not in text


def test_namespace_with_path_is_joined_not_unshared(make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [
            {"type": "pid", "path": "/run/netns-test/pid"},
            {"type": "network", "path": "/run/netns-test/net"},
            {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
        ]

    steps = _steps(make_bundle(edit))
    assert steps[0] == ("runtime", "setns", "CLONE_NEWPID /run/netns-test/pid (for the init)")
    assert _texts(steps, "setns") == ["CLONE_NEWPID /run/netns-test/pid (for the init)",
                                      "CLONE_NEWNET /run/netns-test/net"]
    unshare = _texts(steps, "unshare")
    assert len(unshare) == 1 and "CLONE_NEWNET" not in unshare[0]
    # joined before the new ones are made
    assert _index(steps, "setns", "CLONE_NEWNET*") < _index(steps, "unshare")
    # a joined network namespace is someone else's: its loopback is left alone
    assert not _texts(steps, "ioctl")


# -- mounts -------------------------------------------------------------------------


def test_root_propagation_and_rootfs_bind_come_first(make_bundle):
    bundle = make_bundle()
    steps = _steps(bundle)
    mounts = _texts(steps, "mount")
    root = os.path.join(bundle, "rootfs")
    assert mounts[0] == "none none on / rec,slave"
    assert mounts[1] == f"bind {root} on {root} bind,rec"
    assert _index(steps, "unshare") < _index(steps, "mount")


@pytest.mark.parametrize("prop,during_setup,after_pivot", [
    ("slave", "rec,slave", None),
    ("private", "rec,private", None),
    # Never shared or unbindable before the pivot: pivot_root(2) refuses a shared
    # parent, and an unbindable "/" could not be bound.
    ("shared", "rec,slave", "shared"),
    ("unbindable", "rec,slave", "unbindable"),
])
def test_rootfs_propagation_from_config(make_bundle, prop, during_setup, after_pivot):
    def edit(cfg):
        cfg["linux"]["rootfsPropagation"] = prop

    steps = _steps(make_bundle(edit))
    mounts = _texts(steps, "mount")
    assert mounts[0] == f"none none on / {during_setup}"
    after = [m for m in mounts[1:] if m.startswith("none none on / ") and "remount" not in m]
    assert after == ([f"none none on / {after_pivot}"] if after_pivot else [])
    if after_pivot:
        assert _index(steps, "pivot_root") < _index(steps, "mount", f"none none on / {after_pivot}")


def test_default_mounts_in_config_order_with_fstype_flags_and_data(make_bundle):
    steps = _steps(make_bundle())
    mounts = _texts(steps, "mount")[2:]
    config_mounts = [m for m in mounts if not m.startswith(("bind ", "rbind ", "none "))]
    assert config_mounts[:6] == [
        "proc proc on /proc",
        'tmpfs tmpfs on /dev nosuid,strictatime "mode=755,size=65536k"',
        'devpts devpts on /dev/pts nosuid,noexec "newinstance,ptmxmode=0666,mode=0620,gid=5"',
        'tmpfs shm on /dev/shm nosuid,nodev,noexec "mode=1777,size=65536k"',
        "mqueue mqueue on /dev/mqueue nosuid,nodev,noexec",
        "sysfs sysfs on /sys ro,nosuid,nodev,noexec",
    ]


def test_mounts_follow_config_order(make_bundle, tmp_path):
    src = tmp_path / "share"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"] = [
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nodev", "size=1m"]},
            {"destination": "/mnt/share", "type": "bind", "source": str(src), "options": ["rbind"]},
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]},
            {"destination": "/run", "type": "tmpfs", "source": "run", "options": ["remount", "noexec"]},
        ]

    mounts = _texts(_steps(make_bundle(edit)), "mount")[2:]
    assert mounts[:4] == [
        'tmpfs tmpfs on /tmp nodev "size=1m"',
        f"rbind {src} on /mnt/share",
        "proc proc on /proc nosuid",
        # remount makes no sense on a fresh mount and is not passed on
        "tmpfs run on /run noexec",
    ]


def test_missing_destination_directories_are_made_one_component_at_a_time(make_bundle, tmp_path):
    src = tmp_path / "data"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/mnt/deep/data", "type": "bind", "source": str(src),
                              "options": ["bind"]})

    steps = _steps(make_bundle(edit))
    made = _texts(steps, "mkdir")
    assert "/mnt mode 755" in made
    i_mnt = _index(steps, "mkdir", "/mnt mode 755")
    i_deep = _index(steps, "mkdir", "/mnt/deep mode 755")
    i_data = _index(steps, "mkdir", "/mnt/deep/data mode 755")
    i_bind = _index(steps, "mount", f"bind {src} on /mnt/deep/data")
    assert i_mnt < i_deep < i_data < i_bind
    # existing directories are not made again
    assert not any(t.startswith(("/etc ", "/proc ", "/ ")) for t in made)


def test_file_bind_source_creates_a_file_not_a_directory(make_bundle, tmp_path):
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 127.0.0.1\n")

    def edit(cfg):
        cfg["mounts"].append({"destination": "/etc/resolv.conf", "type": "bind", "source": str(src),
                              "options": ["rbind", "ro"]})
        cfg["mounts"].append({"destination": "/opt/conf/hosts", "type": "bind", "source": str(src),
                              "options": ["bind"]})

    steps = _steps(make_bundle(edit))
    assert _has(steps, "create", "/etc/resolv.conf mode 644")
    assert not _has(steps, "mkdir", "/etc/resolv.conf mode 755")
    assert _index(steps, "create", "/etc/resolv.conf*") < _index(steps, "mount", f"rbind {src} on /etc/resolv.conf*")
    # missing parents of a file destination are directories
    assert _index(steps, "mkdir", "/opt mode 755") < _index(steps, "mkdir", "/opt/conf mode 755") \
        < _index(steps, "create", "/opt/conf/hosts mode 644")


def test_bind_source_relative_to_bundle(make_bundle):
    def edit(cfg):
        cfg["mounts"].append({"destination": "/data", "type": "bind", "source": "payload",
                              "options": ["bind"]})

    bundle = make_bundle(edit)
    os.mkdir(os.path.join(bundle, "payload"))
    assert f"bind {os.path.join(bundle, 'payload')} on /data" in _texts(_steps(bundle), "mount")


def test_bind_with_missing_source_is_refused(make_bundle, tmp_path):
    def edit(cfg):
        cfg["mounts"].append({"destination": "/data", "type": "bind", "source": str(tmp_path / "nope"),
                              "options": ["bind"]})

    with pytest.raises(RuntimeFailure, match="no such file or directory"):
        _steps(make_bundle(edit))


@pytest.mark.parametrize("options, text", [
    (["bind"], "bind {src} on /b"),
    (["rbind"], "rbind {src} on /b"),
    (["bind", "ro"], "bind {src} on /b ro"),
    (["rbind", "ro", "nosuid", "nodev", "noexec"], "rbind {src} on /b ro,nosuid,nodev,noexec"),
    (["rbind", "rw"], "rbind {src} on /b"),
    (["bind", "rprivate"], "bind {src} on /b private"),
    (["rbind", "rslave"], "rbind {src} on /b slave"),
    (["rbind", "shared"], "rbind {src} on /b shared"),
])
def test_bind_mounts_go_through_bind_tree_with_attributes(make_bundle, tmp_path, options, text):
    src = tmp_path / "src"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/b", "type": "bind", "source": str(src), "options": options})

    steps = _steps(make_bundle(edit))
    assert text.format(src=src) in _texts(steps, "mount")


def test_bind_type_alone_makes_a_bind(make_bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/b", "type": "bind", "source": str(src)})
        cfg["mounts"].append({"destination": "/c", "type": "none", "source": str(src), "options": ["rbind"]})

    mounts = _texts(_steps(make_bundle(edit)), "mount")
    assert f"bind {src} on /b" in mounts
    assert f"rbind {src} on /c" in mounts


def test_recursive_read_only_bind_sets_attributes_recursively_after_the_bind(make_bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/b", "type": "bind", "source": str(src),
                              "options": ["rbind", "rro", "rnosuid"]})

    steps = _steps(make_bundle(edit))
    i_bind = _index(steps, "mount", f"rbind {src} on /b")
    i_attr = _index(steps, "mount_setattr", "/b set ro,nosuid recursive")
    assert i_bind < i_attr


def test_propagation_on_a_new_mount_is_set_after_it(make_bundle):
    def edit(cfg):
        cfg["mounts"].append({"destination": "/mnt/shared", "type": "tmpfs", "source": "tmpfs",
                              "options": ["rshared"]})
        cfg["mounts"].append({"destination": "/mnt/once", "type": "tmpfs", "source": "tmpfs",
                              "options": ["private"]})

    steps = _steps(make_bundle(edit))
    assert _index(steps, "mount", "tmpfs tmpfs on /mnt/shared") < \
        _index(steps, "mount_setattr", "/mnt/shared shared recursive")
    assert _has(steps, "mount_setattr", "/mnt/once private")


def test_propagation_on_a_tmpfs_over_an_existing_directory(make_bundle):
    def edit(cfg):
        cfg["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                              "options": ["rshared"]})

    steps = _steps(make_bundle(edit))
    assert _has(steps, "mount_setattr", "/tmp shared recursive")


def test_plan_makes_no_directory_that_is_already_a_mount_point(make_bundle):
    made = _texts(_steps(make_bundle()), "mkdir")
    assert "/dev mode 755" not in made


def test_symlinked_proc_in_the_rootfs_is_refused(make_bundle, tmp_path):
    bundle = make_bundle()
    proc = os.path.join(bundle, "rootfs", "proc")
    os.rmdir(proc)
    os.symlink(str(tmp_path), proc)
    with pytest.raises(RuntimeFailure, match="must be mounted on ordinary directory") as err:
        _steps(bundle)
    assert "/proc" in str(err.value)


def test_symlinked_sys_in_the_rootfs_is_refused(make_bundle):
    bundle = make_bundle()
    sys_dir = os.path.join(bundle, "rootfs", "sys")
    os.rmdir(sys_dir)
    os.symlink("/etc", sys_dir)
    with pytest.raises(RuntimeFailure, match="must be mounted on ordinary directory"):
        _steps(bundle)


# -- cgroup mount -------------------------------------------------------------------


def _with_cgroup_mount(cfg, options=("nosuid", "noexec", "nodev", "relatime", "ro")):
    cfg["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                          "options": list(options)})


def test_cgroup_mount_on_a_cgroup2_host_is_one_cgroup2_mount(make_bundle):
    ops, _, _ = _setup(make_bundle(_with_cgroup_mount), cgroup_binds=None)
    assert ("mount", "cgroup2 cgroup2 on /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime") in ops


def test_cgroup_mount_on_a_v1_host_is_a_tmpfs_of_read_only_binds(make_bundle):
    binds = [("cpu", "/sys/fs/cgroup/cpu/x"), ("memory", "/sys/fs/cgroup/memory/x")]
    ops, _, _ = _setup(make_bundle(_with_cgroup_mount), cgroup_binds=binds)
    mounts = [t for o, t in ops if o in ("mount", "mount_setattr")]
    i = mounts.index('tmpfs tmpfs on /sys/fs/cgroup nosuid,nodev,noexec,relatime "mode=755"')
    assert mounts[i + 1:i + 4] == [
        "rbind /sys/fs/cgroup/cpu/x on /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec",
        "rbind /sys/fs/cgroup/memory/x on /sys/fs/cgroup/memory ro,nosuid,nodev,noexec",
        "/sys/fs/cgroup set ro",
    ]


def test_plan_uses_the_hosts_cgroup_layout(make_bundle):
    mounts = _texts(_steps(make_bundle(_with_cgroup_mount)), "mount")
    assert any(m.startswith(("cgroup2 cgroup2 on /sys/fs/cgroup", "tmpfs tmpfs on /sys/fs/cgroup"))
               for m in mounts)


# -- devices --------------------------------------------------------------------------


DEFAULT_NODES = [("null", "1:3"), ("zero", "1:5"), ("full", "1:7"), ("random", "1:8"),
                 ("urandom", "1:9"), ("tty", "5:0")]


def _with_a_runtime_hook(cfg):
    """A hook, so that the init stops at the hooks point ("sync")."""
    cfg["hooks"] = {"createRuntime": [{"path": "/bin/true"}]}


def test_default_devices_are_made_with_mode_666_after_dev_is_mounted(make_bundle):
    steps = _steps(make_bundle(_with_a_runtime_hook))
    assert _texts(steps, "mknod") == [f"/dev/{n} char {dev} mode 666" for n, dev in DEFAULT_NODES]
    for name, _ in DEFAULT_NODES:
        # mknod obeys the umask: the mode is set again explicitly
        assert _index(steps, "mknod", f"/dev/{name}*") < _index(steps, "chmod", f"/dev/{name} 666")
    assert _index(steps, "mount", "tmpfs tmpfs on /dev*") < _index(steps, "mknod")
    assert _last_index(steps, "mknod") < _index(steps, "sync")
    assert not _texts(steps, "chown")


def test_dev_links(make_bundle):
    steps = _steps(make_bundle())
    links = _texts(steps, "symlink")
    assert links[:5] == [
        "/dev/fd -> /proc/self/fd",
        "/dev/stdin -> /proc/self/fd/0",
        "/dev/stdout -> /proc/self/fd/1",
        "/dev/stderr -> /proc/self/fd/2",
        "/dev/ptmx -> pts/ptmx",
    ]
    assert links[5:] in ([], ["/dev/core -> /proc/kcore"])
    assert _last_index(steps, "mknod") < _index(steps, "symlink")


def test_linux_devices_with_mode_uid_gid(make_bundle):
    def edit(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
             "uid": 1000, "gid": 1001},
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
            {"path": "/dev/fifo", "type": "p", "fileMode": 0o600},
            {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666},
        ]

    steps = _steps(make_bundle(edit))
    nodes = _texts(steps, "mknod")
    assert nodes[len(DEFAULT_NODES):] == [
        "/dev/fuse char 10:229 mode 640",
        "/dev/sda block 8:0 mode 666",
        "/dev/fifo fifo 0:0 mode 600",
        "/dev/net/tun char 10:200 mode 666",
    ]
    assert _has(steps, "chmod", "/dev/fuse 640")
    assert _texts(steps, "chown") == ["/dev/fuse 1000:1001"]
    assert _index(steps, "mkdir", "/dev/net mode 755") < _index(steps, "mknod", "/dev/net/tun*")


def test_a_configured_default_device_replaces_the_default_one(make_bundle):
    def edit(cfg):
        cfg["linux"]["devices"] = [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3,
                                    "fileMode": 0o600, "uid": 0, "gid": 0}]

    nodes = _texts(_steps(make_bundle(edit)), "mknod")
    assert [n for n in nodes if n.startswith("/dev/null ")] == ["/dev/null char 1:3 mode 600"]
    assert len(nodes) == len(DEFAULT_NODES)


def test_bind_mounted_dev_gets_no_default_devices_or_links(make_bundle, tmp_path):
    devdir = tmp_path / "devdir"
    devdir.mkdir()

    def edit(cfg):
        cfg["mounts"] = [m for m in cfg["mounts"] if not m["destination"].startswith("/dev")]
        cfg["mounts"].append({"destination": "/dev", "type": "bind", "source": str(devdir),
                              "options": ["rbind"]})

    steps = _steps(make_bundle(edit))
    assert not _texts(steps, "mknod")
    assert not _texts(steps, "symlink")


# -- hooks -------------------------------------------------------------------------------


def _with_hooks(cfg):
    cfg["hooks"] = {
        "prestart": [{"path": "/usr/bin/prestart-hook"}],
        "createRuntime": [{"path": "/usr/bin/create-runtime-hook"}],
        "createContainer": [{"path": "/usr/bin/create-container-hook"}],
        "startContainer": [{"path": "/usr/bin/start-container-hook"}],
        "poststart": [{"path": "/usr/bin/poststart-hook"}],
    }


def test_hook_points(make_bundle):
    steps = _steps(make_bundle(_with_hooks))
    hooks = [(who, t) for who, o, t in steps if o == "hook"]
    assert hooks == [
        ("init", "prestart /usr/bin/prestart-hook (run by the runtime, host namespaces)"),
        ("init", "createRuntime /usr/bin/create-runtime-hook (run by the runtime, host namespaces)"),
        ("init", "createContainer /usr/bin/create-container-hook (run by the init)"),
        ("init", "startContainer /usr/bin/start-container-hook"),
    ]
    i_sync = _index(steps, "sync")
    # prestart/createRuntime: after the environment is made (mounts, devices), before the
    # sync point releases the init; createContainer after it, all before pivot_root
    assert _last_index(steps, "mknod") < _index(steps, "hook", "prestart*") < \
        _index(steps, "hook", "createRuntime*") < i_sync < _index(steps, "hook", "createContainer*") < \
        _index(steps, "pivot_root")
    # startContainer: after `start` releases the init, right before execve
    assert _index(steps, "wait") < _index(steps, "hook", "startContainer*") < _index(steps, "execve")


def test_without_hooks_the_init_does_not_stop_for_them(make_bundle):
    steps = _steps(make_bundle())
    assert not _texts(steps, "hook")
    assert "init waits for the runtime's hooks" not in _texts(steps, "sync")


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer"])
def test_any_hook_makes_the_init_stop_for_the_runtime(make_bundle, kind):
    def edit(cfg):
        cfg["hooks"] = {kind: [{"path": "/bin/true"}]}

    assert "init waits for the runtime's hooks" in _texts(_steps(make_bundle(edit)), "sync")


def test_a_seccomp_agent_makes_the_init_stop_for_its_pid(make_bundle):
    def edit(cfg):
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}

    assert "init waits for the runtime's hooks" in _texts(_steps(make_bundle(edit)), "sync")


# -- masked and read-only paths ---------------------------------------------------------


def _masking_bundle(make_bundle, masked, readonly=()):
    def edit(cfg):
        cfg["linux"]["maskedPaths"] = list(masked)
        cfg["linux"]["readonlyPaths"] = list(readonly)

    bundle = make_bundle(edit)
    root = os.path.join(bundle, "rootfs")
    with open(os.path.join(root, "etc", "secret"), "w") as f:
        f.write("s3cret\n")
    os.mkdir(os.path.join(root, "etc", "private"))
    os.mkdir(os.path.join(root, "opt"))
    return bundle


def test_masked_files_are_bound_from_the_verified_host_devnull(make_bundle):
    steps = _steps(_masking_bundle(make_bundle, ["/etc/secret"]))
    assert _has(steps, "mount", f"bind {VERIFIED_DEVNULL} on /etc/secret")
    # never the container's own /dev/null (CVE-2025-31133)
    assert not any(t.startswith("bind /dev/null on") or t.startswith("rbind /dev/null")
                   for t in _texts(steps, "mount"))


def test_masked_directories_get_a_read_only_tmpfs(make_bundle):
    steps = _steps(_masking_bundle(make_bundle, ["/etc/private"]))
    assert _has(steps, "mount", "tmpfs tmpfs on /etc/private ro")


def test_missing_masked_and_readonly_paths_are_skipped(make_bundle):
    steps = _steps(_masking_bundle(make_bundle, ["/etc/nothere", "/nope/deeper"], ["/missing"]))
    mounts = _texts(steps, "mount")
    assert not any("nothere" in m or "deeper" in m or "/missing" in m for m in mounts)
    assert not any("nothere" in t or "nope" in t or "missing" in t for t in _texts(steps, "mkdir"))


def test_masked_paths_in_config_order(make_bundle):
    steps = _steps(_masking_bundle(make_bundle, ["/etc/private", "/etc/secret"]))
    assert _index(steps, "mount", "tmpfs tmpfs on /etc/private ro") < \
        _index(steps, "mount", f"bind {VERIFIED_DEVNULL} on /etc/secret")


def test_masked_directory_under_proc_gets_a_tmpfs(make_bundle):
    def edit(cfg):
        cfg["linux"]["maskedPaths"] = ["/proc/sys"]
        cfg["linux"]["readonlyPaths"] = []

    steps = _steps(make_bundle(edit))
    assert _has(steps, "mount", "tmpfs tmpfs on /proc/sys ro")


def test_masked_file_that_is_a_bind_mount_gets_devnull(make_bundle, tmp_path):
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 127.0.0.1\n")

    def edit(cfg):
        cfg["mounts"].append({"destination": "/etc/resolv.conf", "type": "bind", "source": str(src),
                              "options": ["rbind", "ro"]})
        cfg["linux"]["maskedPaths"] = ["/etc/resolv.conf"]

    steps = _steps(make_bundle(edit))
    assert _has(steps, "mount", f"bind {VERIFIED_DEVNULL} on /etc/resolv.conf")


def test_readonly_paths_are_recursive_read_only_binds_onto_themselves(make_bundle):
    steps = _steps(_masking_bundle(make_bundle, [], ["/etc", "/opt"]))
    assert _has(steps, "mount", "rbind /etc on /etc ro")
    assert _has(steps, "mount", "rbind /opt on /opt ro")
    assert _index(steps, "mount", "rbind /etc on /etc ro") < _index(steps, "mount", "rbind /opt on /opt ro")


def test_masked_before_readonly_before_pivot(make_bundle):
    def with_hook(edit):
        return make_bundle(lambda cfg: (edit(cfg), _with_a_runtime_hook(cfg)))

    steps = _steps(_masking_bundle(with_hook, ["/etc/secret"], ["/etc"]))
    assert _index(steps, "sync") < _index(steps, "mount", f"bind {VERIFIED_DEVNULL} on /etc/secret") < \
        _index(steps, "mount", "rbind /etc on /etc ro") < _index(steps, "open") < _index(steps, "pivot_root")


# -- root ------------------------------------------------------------------------------


def test_pivot_root_sequence(make_bundle):
    bundle = make_bundle()
    ops = _init_ops(_steps(bundle))
    i = ops.index(("pivot_root", ". (old root at .)"))
    assert ops[i - 1] == ("chdir", os.path.join(bundle, "rootfs"))
    assert ops[i + 1:i + 4] == [
        ("mount", "none none on . rec,slave"),
        ("umount", ". detach"),
        ("chdir", "/"),
    ]
    assert not [t for o, t in ops if o == "chroot"]


def test_no_pivot_moves_the_root_and_chroots(make_bundle):
    bundle = make_bundle()
    ops, _, _ = _setup(bundle, no_pivot=True)
    root = os.path.join(bundle, "rootfs")
    assert not [t for o, t in ops if o == "pivot_root"]
    i = ops.index(("mount", f"none {root} on / move"))
    assert ops[i - 1] == ("chdir", root)
    assert ops[i + 1:i + 3] == [("chroot", "."), ("chdir", "/")]
    assert not [t for o, t in ops if o == "umount"]


def test_readonly_root_is_remounted_after_pivot(make_bundle):
    ops = _init_ops(_steps(make_bundle()))
    i_pivot = ops.index(("pivot_root", ". (old root at .)"))
    i_ro = ops.index(("mount", "none none on / ro,remount,bind"))
    assert i_pivot < i_ro < ops.index(("sethostname", "runc"))


def test_writable_root_is_not_remounted(make_bundle):
    def edit(cfg):
        cfg["root"]["readonly"] = False

    assert "none none on / ro,remount,bind" not in _texts(_steps(make_bundle(edit)), "mount")


def test_without_mount_namespace_nothing_is_mounted_and_the_root_is_chrooted(make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "mount"]

    bundle = make_bundle(edit)
    steps = _steps(bundle)
    assert not _texts(steps, "mount") and not _texts(steps, "mknod") and not _texts(steps, "pivot_root")
    ops = _init_ops(steps)
    i = ops.index(("chroot", "."))
    assert ops[i - 1] == ("chdir", os.path.join(bundle, "rootfs"))
    assert ops[i + 1] == ("chdir", "/")


# -- names, limits, identity -------------------------------------------------------------


def test_hostname_and_domainname(make_bundle):
    def edit(cfg):
        cfg["hostname"] = "box"
        cfg["domainname"] = "example.org"

    steps = _steps(make_bundle(edit))
    assert _texts(steps, "sethostname") == ["box"]
    assert _texts(steps, "setdomainname") == ["example.org"]
    assert _index(steps, "pivot_root") < _index(steps, "sethostname") < _index(steps, "setdomainname")


def test_hostname_without_uts_namespace_is_refused(make_bundle):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [ns for ns in cfg["linux"]["namespaces"] if ns["type"] != "uts"]

    with pytest.raises(RuntimeFailure, match="without a private UTS namespace"):
        _steps(make_bundle(edit))


def test_no_hostname_no_sethostname(make_bundle):
    def edit(cfg):
        del cfg["hostname"]

    assert not _texts(_steps(make_bundle(edit)), "sethostname")


def test_rlimits_in_config_order(make_bundle):
    def edit(cfg):
        cfg["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
            {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200},
        ]

    steps = _steps(make_bundle(edit))
    assert _texts(steps, "setrlimit") == [
        "RLIMIT_NOFILE soft=1024 hard=4096",
        "RLIMIT_CORE soft=0 hard=0",
        "RLIMIT_NPROC soft=100 hard=200",
    ]
    assert _index(steps, "pivot_root") < _index(steps, "setrlimit") < _index(steps, "setresuid")


def test_bounding_set_drops_everything_not_listed(make_bundle):
    steps = _steps(make_bundle())
    dropped = set(_texts(steps, "capbset_drop"))
    available = _available_caps()
    keep = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
    expected = {name for name, n in CAPABILITIES.items() if available >> n & 1 and name not in keep}
    assert dropped == expected
    assert not dropped & keep


def test_capset_masks(make_bundle):
    _need_caps("CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE")

    def edit(cfg):
        cfg["process"]["capabilities"] = {
            "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"],
            "inheritable": ["CAP_NET_BIND_SERVICE"],
        }

    steps = _steps(make_bundle(edit))
    # named in kernel (bit) order
    assert _texts(steps, "capset") == [
        "effective=[CAP_KILL] permitted=[CAP_CHOWN,CAP_KILL] inheritable=[CAP_NET_BIND_SERVICE]"]
    assert not _texts(steps, "ambient_raise")


def test_no_capabilities_object_means_none(make_bundle):
    def edit(cfg):
        del cfg["process"]["capabilities"]

    steps = _steps(make_bundle(edit))
    assert _texts(steps, "capset") == ["effective=[] permitted=[] inheritable=[]"]
    # as runc: no object at all empties the bounding set too
    available = _available_caps()
    assert set(_texts(steps, "capbset_drop")) == {
        name for name, n in CAPABILITIES.items() if available >> n & 1}


def test_capabilities_without_bounding_leave_the_bounding_set_alone(make_bundle):
    _need_caps("CAP_KILL")

    def edit(cfg):
        cfg["process"]["capabilities"] = {"effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}

    steps = _steps(make_bundle(edit))
    assert not _texts(steps, "capbset_drop")
    assert _texts(steps, "capset") == ["effective=[CAP_KILL] permitted=[CAP_KILL] inheritable=[]"]


def test_ambient_only_when_permitted_and_inheritable(make_bundle):
    _need_caps("CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE")

    def edit(cfg):
        cfg["process"]["capabilities"] = {
            "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL", "CAP_CHOWN"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"],
            "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        }

    steps = _steps(make_bundle(edit))
    assert _texts(steps, "ambient_raise") == ["CAP_KILL"]
    warnings = _texts(steps, "warning")
    assert "ambient capability CAP_CHOWN is not both permitted and inheritable, ignored" in warnings
    assert "ambient capability CAP_NET_BIND_SERVICE is not both permitted and inheritable, ignored" in warnings
    assert _index(steps, "capset") < _index(steps, "ambient_raise")


def test_capabilities_the_host_cannot_grant_are_warned_about_and_skipped(make_bundle):
    available = _available_caps()
    missing = [name for name, n in CAPABILITIES.items() if not available >> n & 1]
    if not missing:
        pytest.skip("this host's bounding set has every capability")

    def edit(cfg):
        cfg["process"]["capabilities"]["effective"].append(missing[0])
        cfg["process"]["capabilities"]["permitted"].append(missing[0])

    steps = _steps(make_bundle(edit))
    assert any(t.startswith("ignoring capabilities this host cannot grant: ") and missing[0] in t
               for t in _texts(steps, "warning"))
    assert missing[0] not in _texts(steps, "capset")[0]


def test_identity_change_order(make_bundle):
    def edit(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 0o27}

    ops = _init_ops(_steps(make_bundle(edit)))
    i = ops.index(("prctl", "PR_SET_KEEPCAPS 1"))
    assert ops[i:i + 5] == [
        ("prctl", "PR_SET_KEEPCAPS 1"),
        ("setgroups", "10,20"),
        ("setresgid", "1001"),
        ("setresuid", "1000"),
        ("prctl", "PR_SET_KEEPCAPS 0"),
    ]
    names = [o for o, _ in ops]
    # bounding set dropped before (needs CAP_SETPCAP), final sets after the uid change
    assert names.index("capbset_drop") < i
    assert names.index("capset") == i + 5
    assert ("umask", "0027") in ops
    assert names.index("capset") < names.index("umask")


def test_no_additional_gids_clears_the_groups(make_bundle):
    assert _texts(_steps(make_bundle()), "setgroups") == ["(none)"]


def test_no_new_privs_is_the_init_last_step(make_bundle):
    steps = _steps(make_bundle())
    setup_ops = [(o, t) for who, o, t in steps if who == "init" and o not in ("wait", "hook", "execve")]
    assert setup_ops[-1] == ("prctl", "PR_SET_NO_NEW_PRIVS 1")
    assert steps[-1] == ("init", "execve", "sh")


def test_no_new_privs_false(make_bundle):
    def edit(cfg):
        cfg["process"]["noNewPrivileges"] = False

    assert "PR_SET_NO_NEW_PRIVS 1" not in _texts(_steps(make_bundle(edit)), "prctl")


def test_cwd_is_made_if_missing_and_entered_before_identity(make_bundle):
    def edit(cfg):
        cfg["process"]["cwd"] = "/work/dir"
        cfg["process"]["args"] = ["/bin/sh", "-c", "true"]

    steps = _steps(make_bundle(edit))
    i_made = _index(steps, "mkdir", "/work/dir mode 755")
    assert i_made < _index(steps, "pivot_root")
    # runc enters the cwd while still privileged; the user keeps it.
    assert _index(steps, "chdir", "/work/dir") < _index(steps, "setresuid")
    assert steps[-1] == ("init", "execve", "/bin/sh -c true")


# -- the process before the namespaces -----------------------------------------------------


def test_inherited_fds_closed_first_then_non_dumpable(make_bundle):
    ops = _init_ops(_steps(make_bundle()))
    assert ops[0] == ("close_range", "3..")
    assert ops[1] == ("prctl", "PR_SET_DUMPABLE 0")


def test_preserved_fds_are_kept(make_bundle):
    ops, _, _ = _setup(make_bundle(), preserve_fds=2, keep_fds=(9,))
    assert ops[0] == ("close_range", "3.. keep [3, 4, 9]")


def test_oom_score_adj_is_written_before_becoming_non_dumpable(make_bundle):
    def edit(cfg):
        cfg["process"]["oomScoreAdj"] = 500

    ops = _init_ops(_steps(make_bundle(edit)))
    assert ops.index(("write", "/proc/self/oom_score_adj = 500")) < ops.index(("prctl", "PR_SET_DUMPABLE 0"))


def test_sysctls_are_written_after_the_hooks_and_before_pivot(make_bundle):
    def edit(cfg):
        cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        _with_a_runtime_hook(cfg)

    steps = _steps(make_bundle(edit))
    i = _index(steps, "write", "/proc/sys/net/ipv4/ip_forward = 1")
    assert _index(steps, "sync") < i < _index(steps, "pivot_root")


def test_exec_fifo_opened_before_pivot(make_bundle):
    steps = _steps(make_bundle())
    assert _index(steps, "open", "<state>/exec.fifo*") < _index(steps, "pivot_root")


def test_config_without_process_creates_no_process(make_bundle):
    def edit(cfg):
        del cfg["process"]

    bundle = make_bundle(edit)
    steps = _steps(bundle)
    assert not _texts(steps, "execve") and not _texts(steps, "setresuid")
    ops, result, _ = _setup(bundle)
    assert result[:3] == (None, None, None)


def test_setup_returns_what_finish_execs(make_bundle):
    def edit(cfg):
        cfg["process"]["args"] = ["sh", "-c", "echo hi"]
        cfg["process"]["env"] = ["PATH=/bin", "HOME=/root"]

    _, (path, argv, env, fifo_fd), _ = _setup(make_bundle(edit))
    assert (path, argv, fifo_fd) == ("sh", ["sh", "-c", "echo hi"], None)
    assert env == ["PATH=/bin", "HOME=/root"]


# -- the big picture ------------------------------------------------------------------------


def test_phase_order(make_bundle):
    def edit(cfg):
        _with_hooks(cfg)
        cfg["linux"]["maskedPaths"] = ["/etc/secret"]
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000}

    bundle = make_bundle(edit)
    with open(os.path.join(bundle, "rootfs", "etc", "secret"), "w") as f:
        f.write("x")
    steps = _steps(bundle)
    phases = [
        ("namespaces", _index(steps, "unshare", "CLONE_NEWNS*")),
        ("first mount", _index(steps, "mount")),
        ("last config mount", _index(steps, "mount", "sysfs sysfs on /sys*")),
        ("devices", _index(steps, "mknod")),
        ("dev links", _last_index(steps, "symlink")),
        ("hooks sync", _index(steps, "sync")),
        ("masked", _index(steps, "mount", f"bind {VERIFIED_DEVNULL} on /etc/secret")),
        ("pivot", _index(steps, "pivot_root")),
        ("hostname", _index(steps, "sethostname")),
        ("identity", _index(steps, "setresuid")),
        ("no_new_privs", _index(steps, "prctl", "PR_SET_NO_NEW_PRIVS 1")),
        ("wait for start", _index(steps, "wait")),
        ("execve", _index(steps, "execve")),
    ]
    order = [name for name, _ in sorted(phases, key=lambda p: p[1])]
    assert order == [name for name, _ in phases], plan.render(steps)
    assert steps[-1][1] == "execve"


def _tree(path):
    return sorted((os.path.relpath(d, path), sorted(dirs), sorted(files)) for d, dirs, files in os.walk(path))


def test_plan_records_and_never_performs(make_bundle, tmp_path):
    src = tmp_path / "src"
    src.mkdir()

    def edit(cfg):
        cfg["mounts"].append({"destination": "/mnt/new", "type": "bind", "source": str(src),
                              "options": ["rbind"]})
        cfg["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]

    bundle = make_bundle(edit)
    before = _tree(bundle)
    steps = _steps(bundle)
    assert _has(steps, "mkdir", "/mnt/new mode 755") and _texts(steps, "mknod")
    assert _tree(bundle) == before
    assert os.listdir(os.path.join(bundle, "rootfs", "dev")) == []


# -- MountOptions -------------------------------------------------------------------------------


def test_mount_options_flags():
    o = MountOptions(["nosuid", "noexec", "nodev", "ro", "strictatime"])
    assert o.flags == F.MS_NOSUID | F.MS_NOEXEC | F.MS_NODEV | F.MS_RDONLY | F.MS_STRICTATIME
    assert o.clear == 0 and o.propagation == 0 and o.rec_set == 0 and o.rec_clr == 0
    assert o.data == ""


def test_mount_options_last_one_wins():
    o = MountOptions(["ro", "rw"])
    assert not o.flags & F.MS_RDONLY and o.clear & F.MS_RDONLY
    o = MountOptions(["rw", "ro"])
    assert o.flags & F.MS_RDONLY and not o.clear & F.MS_RDONLY
    o = MountOptions(["suid", "nosuid", "exec"])
    assert o.flags == F.MS_NOSUID and o.clear == F.MS_NOEXEC


def test_mount_options_bind_and_rbind():
    assert MountOptions(["bind"]).flags == F.MS_BIND
    assert MountOptions(["rbind"]).flags == F.MS_BIND | F.MS_REC


@pytest.mark.parametrize("opt, value", [
    ("private", F.MS_PRIVATE), ("rprivate", F.MS_PRIVATE | F.MS_REC),
    ("shared", F.MS_SHARED), ("rshared", F.MS_SHARED | F.MS_REC),
    ("slave", F.MS_SLAVE), ("rslave", F.MS_SLAVE | F.MS_REC),
    ("unbindable", F.MS_UNBINDABLE), ("runbindable", F.MS_UNBINDABLE | F.MS_REC),
])
def test_mount_options_propagation(opt, value):
    o = MountOptions([opt])
    assert o.propagation == value
    assert o.flags == 0 and o.data == ""


def test_mount_options_recursive_attrs():
    o = MountOptions(["rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow"])
    assert o.rec_set == (F.MOUNT_ATTR_RDONLY | F.MOUNT_ATTR_NOSUID | F.MOUNT_ATTR_NODEV
                         | F.MOUNT_ATTR_NOEXEC | F.MOUNT_ATTR_NOSYMFOLLOW)
    assert o.rec_clr == 0 and o.flags == 0
    o = MountOptions(["rrw", "rsuid", "rexec"])
    assert o.rec_clr == F.MOUNT_ATTR_RDONLY | F.MOUNT_ATTR_NOSUID | F.MOUNT_ATTR_NOEXEC
    assert o.rec_set == 0


def test_mount_options_data_keeps_unknown_options_in_order():
    o = MountOptions(["nosuid", "mode=755", "size=65536k", "newinstance", "ptmxmode=0666"])
    assert o.data == "mode=755,size=65536k,newinstance,ptmxmode=0666"
    assert o.flags == F.MS_NOSUID


def test_mount_options_ignored_ones_reach_neither_flags_nor_data():
    o = MountOptions(["tmpcopyup", "defaults", "idmap", "ridmap"])
    assert (o.flags, o.clear, o.propagation, o.rec_set, o.rec_clr, o.data) == (0, 0, 0, 0, 0, "")


def test_mount_options_attrs_for_binds():
    assert MountOptions(["rbind", "ro", "nosuid", "nodev", "noexec"]).attrs() == (
        F.MOUNT_ATTR_RDONLY | F.MOUNT_ATTR_NOSUID | F.MOUNT_ATTR_NODEV | F.MOUNT_ATTR_NOEXEC, 0)
    assert MountOptions(["bind", "rw", "suid"]).attrs() == (0, F.MOUNT_ATTR_RDONLY | F.MOUNT_ATTR_NOSUID)
    assert MountOptions(["bind"]).attrs() == (0, 0)
    # atime is one field: choosing one clears the field
    attr_set, attr_clr = MountOptions(["bind", "noatime"]).attrs()
    assert attr_set == F.MOUNT_ATTR_NOATIME and attr_clr & F.MOUNT_ATTR__ATIME == F.MOUNT_ATTR__ATIME


def test_mount_options_tables_agree_with_runc_names():
    assert set(rootfs.PROPAGATION_OPTIONS) == {
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}
    for name in ("ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind", "remount", "relatime",
                 "noatime", "strictatime", "nosymfollow"):
        assert name in rootfs.MOUNT_OPTIONS


# -- render ------------------------------------------------------------------------------


def test_render_numbers_lines_and_heads_each_actor():
    steps = [
        ("runtime", "unshare", "CLONE_NEWPID (the init becomes pid 1)"),
        ("runtime", "fork", "init"),
        ("init", "mount", "proc proc on /proc"),
        ("init", "execve", "sh"),
    ]
    assert plan.render(steps) == (
        "# runtime\n"
        "  1  unshare  CLONE_NEWPID (the init becomes pid 1)\n"
        "  2  fork     init\n"
        "# init\n"
        "  3  mount    proc proc on /proc\n"
        "  4  execve   sh\n"
    )


def test_render_repeats_the_heading_when_the_actor_changes_back():
    out = plan.render([("a", "x", "1"), ("b", "y", "2"), ("a", "z", "3")])
    assert out.splitlines() == ["# a", "  1  x  1", "# b", "  2  y  2", "# a", "  3  z  3"]


def test_render_of_a_real_plan(make_bundle):
    steps = _steps(make_bundle())
    lines = plan.render(steps).splitlines()
    assert lines[0] == "# runtime"
    assert "# init" in lines
    numbered = [line for line in lines if not line.startswith("# ")]
    assert len(numbered) == len(steps)
    for n, line in enumerate(numbered, 1):
        assert line[:3] == f"{n:3d}" and line[3:5] == "  "
    assert numbered[-1].split() == [str(len(steps)), "execve", "sh"]


# -- cgroups ---------------------------------------------------------------------------


def test_cgroup_steps_come_from_the_manager_create_uses(make_bundle):
    # A hybrid host: the unified directory first, the init is born in it; the v1
    # directories and limits are made while the init makes its namespaces, and it
    # moves itself into each v1 hierarchy through `tasks` (cgroups.Placement) when
    # told, before its cgroup namespace and the mounts.
    paths = {"memory": "/cg/memory/ct", "pids": "/cg/pids/ct", "": "/cg/unified/ct"}
    mgr = HybridManager(paths, {k: p.rsplit("/", 1)[0] for k, p in paths.items()},
                        resources={"pids": {"limit": 5}, "devices": []})

    def edit(cfg):
        cfg["linux"]["namespaces"].append({"type": "cgroup"})

    steps = plan.build(make_bundle(edit), cgroup=mgr)
    assert steps[:3] == [("runtime", "mkdir", "/cg/unified/ct (cgroup unified; parents too)"),
                         ("runtime", "unshare", "CLONE_NEWPID (the init becomes pid 1)"),
                         ("runtime", "fork", "init, born in /cg/unified/ct (clone3 CLONE_INTO_CGROUP)")]
    assert steps[3:7] == [("runtime", "mkdir", "/cg/memory/ct (cgroup memory; parents too)"),
                          ("runtime", "mkdir", "/cg/pids/ct (cgroup pids; parents too)"),
                          ("runtime", "cgroup", "write linux.resources: pids"),
                          ("runtime", "send", "CGROUPS (the init joins them now)")]
    assert steps[7] == ("init", "close_range", "3..")
    wait = steps.index(("init", "sync", "init waits for CGROUPS"))
    assert _index(steps, "unshare", "CLONE_NEWNS*") < wait
    assert steps[wait + 1:wait + 4] == [("init", "write", "0 > /cg/memory/ct/tasks"),
                                        ("init", "write", "0 > /cg/pids/ct/tasks"),
                                        ("init", "unshare", "CLONE_NEWCGROUP")]
    assert wait + 4 <= _index(steps, "mount", "proc*")


def test_rootless_cgroups_are_all_made_before_the_fork(make_bundle):
    paths = {"memory": "/cg/memory/ct", "": "/cg/unified/ct"}
    mgr = HybridManager(paths, {k: p.rsplit("/", 1)[0] for k, p in paths.items()})
    mgr.rootless = True
    steps = plan.build(make_bundle(), cgroup=mgr)
    fork = _index(steps, "fork")
    assert _texts(steps[:fork], "mkdir") == ["/cg/memory/ct (cgroup memory; parents too)",
                                             "/cg/unified/ct (cgroup unified; parents too)"]
    assert not _texts(steps, "send") and "init waits for CGROUPS" not in _texts(steps, "sync")
    # joined at the same point, without waiting
    assert _index(steps, "unshare", "CLONE_NEWNS*") < _index(steps, "write", "0 > /cg/memory/ct/tasks")


def test_plan_of_the_real_host_lists_its_cgroups(make_bundle):
    steps = plan.build(make_bundle())
    forks = [text for who, op, text in steps if op == "fork"]
    assert len(forks) == 1
    mkdirs = _texts(steps, "mkdir")
    if forks[0] != "init":  # this host has a cgroup v2 hierarchy to be born in
        born = forks[0].split(" born in ")[1].split(" ")[0]
        assert any(m.startswith(born + " ") for m in mkdirs)
