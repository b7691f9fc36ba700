"""Root filesystem, mounts, /dev, devices, masked and read-only paths, seen from inside."""

import json
import os
import stat

import pytest

from harness import mount_at, parse_mountinfo

SEP = "---MOUNTINFO---"


def run_ok(rt, b, cid):
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def with_mountinfo(script: str) -> list[str]:
    """sh args running script, then dumping the container's mountinfo after SEP."""
    return ["sh", "-c", f"{script}; echo {SEP}; cat /proc/self/mountinfo"]


def split_mountinfo(out: str):
    head, _, tail = out.partition(SEP + "\n")
    return head, parse_mountinfo(tail)


def opts(m):
    return set(m["options"].split(","))


def test_readonly_root(rt, bundle, cid):
    b = bundle(with_mountinfo("touch /x 2>&1; echo rc=$?"))
    head, mounts = split_mountinfo(run_ok(rt, b, cid))
    assert "Read-only file system" in head
    assert "rc=1" in head
    assert "ro" in opts(mount_at(mounts, "/"))
    assert not os.path.exists(os.path.join(b.rootfs, "x"))


def test_writable_root(rt, bundle, cid):
    b = bundle(["sh", "-c", "echo data > /written; cat /written"], root={"readonly": False})
    assert run_ok(rt, b, cid) == "data\n"
    with open(os.path.join(b.rootfs, "written")) as f:
        assert f.read() == "data\n"


@pytest.mark.parametrize("pivot", [True, False], ids=["pivot", "no-pivot"])
@pytest.mark.parametrize("propagation", ["shared", "slave", "private", "unbindable"])
def test_rootfs_propagation(rt, bundle, cid, propagation, pivot):
    """The root's propagation is the config's, with pivot_root (which refuses a shared
    parent mount or put_old) and with --no-pivot (MS_MOVE, which refuses them too)."""
    b = bundle(["cat", "/proc/self/mountinfo"], linux={"rootfsPropagation": propagation})
    proc = rt.run(cid, b, *(() if pivot else ("--no-pivot",)))
    assert proc.returncode == 0, proc.stderr
    root_lines = [line.split(" - ")[0].split(" ") for line in proc.stdout.splitlines()
                  if line.split(" ")[4] == "/"]
    optional = root_lines[-1][6:]
    if propagation == "shared":
        assert any(f.startswith("shared:") for f in optional), optional
    else:
        assert not any(f.startswith("shared:") for f in optional), optional
    if propagation == "unbindable":
        assert "unbindable" in optional


def _mark(rootfs, text):
    with open(os.path.join(rootfs, "which"), "w") as f:
        f.write(text)


def test_root_path_relative(rt, bundle, cid):
    b = bundle(["cat", "/which"])
    os.rename(os.path.join(b.path, "rootfs"), os.path.join(b.path, "altroot"))
    _mark(os.path.join(b.path, "altroot"), "relative")
    b.config["root"]["path"] = "altroot"
    b.write()
    assert run_ok(rt, b, cid) == "relative"


def test_root_path_absolute(rt, bundle, cid):
    b = bundle(["cat", "/which"])
    alt = os.path.join(b.path, "elsewhere", "root")
    os.makedirs(os.path.dirname(alt))
    os.rename(os.path.join(b.path, "rootfs"), alt)
    _mark(alt, "absolute")
    b.config["root"]["path"] = alt
    b.write()
    assert run_ok(rt, b, cid) == "absolute"


def test_bundle_is_rootfs(rt, bundle, cid):
    # runtime-tools layout: root.path "." and config.json inside the rootfs
    b = bundle(["cat", "/which"])
    _mark(b.rootfs, "dot")
    cfg = dict(b.config, root={"path": ".", "readonly": True})
    with open(os.path.join(b.rootfs, "config.json"), "w") as f:
        json.dump(cfg, f)
    proc = rt.run(cid, b.rootfs)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "dot"


def test_tmpfs_mount_options(rt, bundle, cid):
    mounts = [
        {"destination": "/mnt/ro", "type": "tmpfs", "source": "tmpfs",
         "options": ["ro", "nosuid", "noexec", "nodev", "size=1m", "mode=750"]},
        {"destination": "/mnt/rw", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=1777"]},
    ]
    b = bundle(with_mountinfo("touch /mnt/ro/x 2>/dev/null; echo ro=$?; touch /mnt/rw/x; echo rw=$?; "
                              "stat -c '%a' /mnt/ro /mnt/rw"),
               edit=lambda c: c["mounts"].extend(mounts))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head.split() == ["ro=1", "rw=0", "750", "1777"]
    ro = mount_at(mi, "/mnt/ro")
    assert ro["fstype"] == "tmpfs"
    assert {"ro", "nosuid", "noexec", "nodev"} <= opts(ro)
    assert "size=1024k" in ro["super"].split(",")
    rw = mount_at(mi, "/mnt/rw")
    assert "rw" in opts(rw) and "size=2048k" in rw["super"].split(",")


def _host_dir(tmp_path, name, files=()):
    d = tmp_path / name
    d.mkdir()
    for f in files:
        (d / f).write_text(f"content of {f}\n")
    return str(d)


def test_bind_mount_rw(rt, bundle, cid, tmp_path):
    host = _host_dir(tmp_path, "rw", ["from-host"])
    b = bundle(["sh", "-c", "cat /data/from-host; echo hi > /data/from-container"],
               edit=lambda c: c["mounts"].append(
                   {"destination": "/data", "type": "bind", "source": host, "options": ["rbind", "rw"]}))
    assert run_ok(rt, b, cid) == "content of from-host\n"
    with open(os.path.join(host, "from-container")) as f:
        assert f.read() == "hi\n"


@pytest.mark.parametrize("options", [["bind", "ro"], ["rbind", "ro"]])
def test_bind_mount_ro(rt, bundle, cid, tmp_path, options):
    host = _host_dir(tmp_path, "ro", ["from-host"])
    b = bundle(with_mountinfo("cat /data/from-host; touch /data/new 2>/dev/null; echo rc=$?"),
               edit=lambda c: c["mounts"].append(
                   {"destination": "/data", "type": "bind", "source": host, "options": options}))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head == "content of from-host\nrc=1\n"
    assert "ro" in opts(mount_at(mi, "/data"))
    assert os.listdir(host) == ["from-host"]


def test_bind_mount_of_a_file(rt, bundle, cid, tmp_path):
    src = tmp_path / "file.txt"
    src.write_text("single file\n")
    b = bundle(["cat", "/etc/injected.txt"], edit=lambda c: c["mounts"].append(
        {"destination": "/etc/injected.txt", "type": "bind", "source": str(src), "options": ["bind", "ro"]}))
    assert run_ok(rt, b, cid) == "single file\n"


def test_mount_order_nested(rt, bundle, cid, tmp_path):
    # the bind lands inside the tmpfs mounted just before it
    host = _host_dir(tmp_path, "inner", ["f"])
    b = bundle(with_mountinfo("cat /mnt/a/b/f"), edit=lambda c: c["mounts"].extend([
        {"destination": "/mnt/a", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/mnt/a/b", "type": "bind", "source": host, "options": ["bind"]},
    ]))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head == "content of f\n"
    a, ab = mount_at(mi, "/mnt/a"), mount_at(mi, "/mnt/a/b")
    assert ab["parent"] == a["id"]


def test_mount_order_last_wins(rt, bundle, cid, tmp_path):
    first = _host_dir(tmp_path, "first", ["one"])
    second = _host_dir(tmp_path, "second", ["two"])
    b = bundle(with_mountinfo("ls /data"), edit=lambda c: c["mounts"].extend([
        {"destination": "/data", "type": "bind", "source": first, "options": ["bind"]},
        {"destination": "/data", "type": "bind", "source": second, "options": ["bind"]},
    ]))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head == "two\n"
    stacked = [m for m in mi if m["mountpoint"] == "/data"]
    assert len(stacked) == 2 and stacked[1]["parent"] == stacked[0]["id"]


def test_mount_destination_through_absolute_symlink(rt, bundle, cid, tmp_path):
    # /lnk -> an absolute path that also exists on the host: the mount must
    # land at that path *inside* the rootfs, never on the host (security.md §4)
    host_target = str(tmp_path / "symlink-target")
    os.mkdir(host_target)
    b = bundle(with_mountinfo("touch /lnk/made-inside; ls /lnk"), root={"readonly": False},
               edit=lambda c: c["mounts"].append(
                   {"destination": "/lnk", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}))
    inside_target = os.path.join(b.rootfs, host_target.lstrip("/"))
    os.makedirs(inside_target)
    os.symlink(host_target, os.path.join(b.rootfs, "lnk"))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head == "made-inside\n"
    m = mount_at(mi, host_target)
    assert m is not None and m["fstype"] == "tmpfs", "tmpfs not at the symlink's target inside the rootfs"
    assert os.listdir(host_target) == []
    assert os.listdir(inside_target) == []  # the file went into the tmpfs


def test_mount_destination_through_absolute_symlink_to_missing_dir(rt, bundle, cid, tmp_path):
    # the symlink's target does not exist anywhere: it is created inside the rootfs
    host_target = str(tmp_path / "symlink-missing")
    b = bundle(with_mountinfo("true"), root={"readonly": False},
               edit=lambda c: c["mounts"].append(
                   {"destination": "/lnk", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}))
    os.symlink(host_target, os.path.join(b.rootfs, "lnk"))
    proc = rt.run(cid, b)
    assert not os.path.lexists(host_target), "the runtime created a directory on the host"
    if proc.returncode == 0:
        _, mi = split_mountinfo(proc.stdout)
        assert mount_at(mi, host_target) is not None
        assert os.path.isdir(os.path.join(b.rootfs, host_target.lstrip("/")))


def _stat_lines(out):
    rows = {}
    for line in out.splitlines():
        name, kind, dev, mode, uid, gid = line.rsplit(" ", 5)
        rows[name] = (kind, dev, mode, uid, gid)
    return rows


STAT_FMT = "%n %F %t:%T %a %u %g"


def test_default_dev(rt, bundle, cid):
    devices = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8", "urandom": "1:9", "tty": "5:0"}
    paths = " ".join(f"/dev/{d}" for d in devices)
    b = bundle(with_mountinfo(
        f"stat -c '{STAT_FMT}' {paths}; echo ===; "
        "for l in ptmx fd stdin stdout stderr; do echo $l $(readlink /dev/$l); done"))
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    stats, _, links = head.partition("===\n")
    rows = _stat_lines(stats.replace("character special file", "char"))
    for name, dev in devices.items():
        kind, got_dev, mode, uid, gid = rows[f"/dev/{name}"]
        assert kind == "char" and got_dev == dev, name
        assert mode == "666" and uid == "0" and gid == "0", name
    assert dict(line.split(" ", 1) for line in links.splitlines()) == {
        "ptmx": "pts/ptmx",
        "fd": "/proc/self/fd",
        "stdin": "/proc/self/fd/0",
        "stdout": "/proc/self/fd/1",
        "stderr": "/proc/self/fd/2",
    }
    assert mount_at(mi, "/dev")["fstype"] == "tmpfs"
    assert mount_at(mi, "/dev/pts")["fstype"] == "devpts"
    assert mount_at(mi, "/dev/shm")["fstype"] == "tmpfs"
    assert mount_at(mi, "/dev/mqueue")["fstype"] == "mqueue"
    assert mount_at(mi, "/proc")["fstype"] == "proc"
    sysfs = mount_at(mi, "/sys")
    assert sysfs["fstype"] == "sysfs" and "ro" in opts(sysfs)


def test_dev_null_works(rt, bundle, cid):
    b = bundle(["sh", "-c", "echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 && echo ok"])
    out = run_ok(rt, b, cid)
    assert out.split() == ["00", "00", "00", "00", "ok"]


def test_linux_devices(rt, bundle, cid):
    devices = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 1000, "gid": 5},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o600, "uid": 0, "gid": 0},
        {"path": "/dev/sub/myblk", "type": "b", "major": 7, "minor": 200, "fileMode": 0o660, "uid": 0, "gid": 6},
    ]
    b = bundle(["stat", "-c", STAT_FMT, "/dev/mynull", "/dev/myfifo", "/dev/sub/myblk"], linux={"devices": devices})
    rows = _stat_lines(run_ok(rt, b, cid).replace("character special file", "char")
                       .replace("block special file", "block"))
    assert rows["/dev/mynull"] == ("char", "1:3", "640", "1000", "5")
    assert rows["/dev/myfifo"][0] == "fifo" and rows["/dev/myfifo"][2:] == ("600", "0", "0")
    assert rows["/dev/sub/myblk"] == ("block", "7:c8", "660", "0", "6")


DEFAULT_MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"]
DEFAULT_READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def test_default_masked_paths(rt, bundle, cid):
    # only the paths this kernel has can be checked (no /proc/kcore here, say)
    present = [p for p in DEFAULT_MASKED if os.path.exists(p)]
    assert present
    script = "; ".join(
        f"echo {p} $(ls -A {p} | wc -l)" if os.path.isdir(p) else f"echo {p} $(wc -c < {p})" for p in present)
    b = bundle(["sh", "-c", script])
    out = run_ok(rt, b, cid)
    assert dict(line.split() for line in out.splitlines()) == {p: "0" for p in present}


def test_masked_paths_custom(rt, bundle, cid):
    b = bundle(["sh", "-c", "cat /etc/secret; echo rc=$?; ls -A /secretdir; echo listed; "
                            "echo x > /etc/secret 2>/dev/null; echo write=$?"],
               root={"readonly": False}, linux={"maskedPaths": ["/etc/secret", "/secretdir", "/does-not-exist"]})
    with open(os.path.join(b.rootfs, "etc", "secret"), "w") as f:
        f.write("s3cr3t\n")
    os.makedirs(os.path.join(b.rootfs, "secretdir"))
    with open(os.path.join(b.rootfs, "secretdir", "hidden"), "w") as f:
        f.write("hidden\n")
    out = run_ok(rt, b, cid)
    lines = out.splitlines()
    assert lines[0] == "rc=0", "a masked file reads as empty"
    assert lines[1] == "listed", "a masked directory is empty"
    # writing the masked file (it is /dev/null underneath) never reaches the real one
    with open(os.path.join(b.rootfs, "etc", "secret")) as f:
        assert f.read() == "s3cr3t\n"


def test_readonly_paths(rt, bundle, cid):
    b = bundle(with_mountinfo("touch /data/x 2>/dev/null; echo data=$?; touch /y; echo root=$?; "
                              "echo x > /etc/motd 2>/dev/null; echo file=$?"),
               root={"readonly": False},
               linux={"readonlyPaths": ["/data", "/etc/motd", "/proc/sys", "/does-not-exist"]})
    os.makedirs(os.path.join(b.rootfs, "data"))
    with open(os.path.join(b.rootfs, "etc", "motd"), "w") as f:
        f.write("motd\n")
    head, mi = split_mountinfo(run_ok(rt, b, cid))
    assert head.split() == ["data=1", "root=0", "file=1"]
    for p in ("/data", "/etc/motd", "/proc/sys"):
        assert "ro" in opts(mount_at(mi, p)), p
    assert not os.path.exists(os.path.join(b.rootfs, "data", "x"))
    with open(os.path.join(b.rootfs, "etc", "motd")) as f:
        assert f.read() == "motd\n"


def test_default_readonly_paths(rt, bundle, cid):
    b = bundle(["cat", "/proc/self/mountinfo"])
    mi = parse_mountinfo(run_ok(rt, b, cid))
    for p in DEFAULT_READONLY:
        if os.path.exists(p):
            m = mount_at(mi, p)
            assert m is not None and "ro" in opts(m), p


def test_rootfs_stays_unchanged_on_host(rt, bundle, cid):
    # a default run creates nothing in the rootfs beyond mount points it needs
    b = bundle(["true"])
    before = sorted(os.listdir(b.rootfs))
    run_ok(rt, b, cid)
    assert sorted(os.listdir(b.rootfs)) == before
    assert stat.S_ISDIR(os.lstat(os.path.join(b.rootfs, "proc")).st_mode)
