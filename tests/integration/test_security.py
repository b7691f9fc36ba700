"""Attacks from a hostile rootfs or a leaky caller (security.md §4)."""

import os

import pytest

from harness import unescape


@pytest.mark.parametrize("n", range(3, 9))
def test_cwd_through_proc_self_fd(rt, bundle, cid, tmp_path, n):
    # CVE-2024-21626: the runtime holds host fds; cwd=/proc/self/fd/N must
    # never give the container a host cwd. The runtime is started with fd 3
    # open on a host directory holding a marker file, as a leaky shim would.
    (tmp_path / "HOST-MARKER").write_text("x")
    b = bundle(["sh", "-c", "pwd; ls -a; ls -a ..; cat ../../../../HOST-MARKER 2>/dev/null"],
               process={"cwd": f"/proc/self/fd/{n}"})
    proc = rt.run(cid, b, fd3=tmp_path)
    assert "HOST-MARKER" not in proc.stdout, "the container reached a host directory"
    if proc.returncode == 0:
        assert proc.stdout.startswith("/"), proc.stdout
    assert rt.list_ids() == []


@pytest.mark.parametrize("n", range(3, 6))
def test_cwd_through_proc_self_fd_with_preserved_fd(rt, bundle, cid, tmp_path, n):
    # even when fd 3 is passed on on purpose, a cwd through it must not escape
    (tmp_path / "HOST-MARKER").write_text("x")
    b = bundle(["sh", "-c", "pwd; ls -a"], process={"cwd": f"/proc/self/fd/{n}"})
    proc = rt.run(cid, b, "--preserve-fds", "1", fd3=tmp_path)
    assert "HOST-MARKER" not in proc.stdout
    assert rt.list_ids() == []


@pytest.mark.parametrize("which", ["proc", "sys"])
def test_rootfs_proc_or_sys_symlink_refused(rt, bundle, cid, tmp_path, which):
    target = tmp_path / "elsewhere"
    target.mkdir()
    b = bundle(["true"])
    d = os.path.join(b.rootfs, which)
    os.rmdir(d)
    os.symlink(str(target), d)
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert "must be mounted on ordinary directory" in unescape(proc.stderr)
    assert os.listdir(target) == []
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only(reason="runc 1.1.5 is vulnerable (CVE-2026-41579): it creates /dev links in the host dir")
def test_rootfs_dev_symlink_to_host_dir(rt, bundle, cid, tmp_path):
    # an image whose /dev is a symlink to a host directory: create fails or
    # keeps everything inside the rootfs; the host directory stays untouched
    host = tmp_path / "hostdev"
    host.mkdir()
    (host / "ptmx").write_text("host file\n")
    b = bundle(["sh", "-c", "ls -la /dev/"])
    os.rmdir(os.path.join(b.rootfs, "dev"))
    os.symlink(str(host), os.path.join(b.rootfs, "dev"))
    proc = rt.run(cid, b)
    assert sorted(os.listdir(host)) == ["ptmx"], proc.stderr
    assert (host / "ptmx").read_text() == "host file\n"
    assert rt.list_ids() == []


def test_rootfs_dev_symlink_relative(rt, bundle, cid):
    # a relative symlink stays inside the rootfs: the runtime may follow it
    b = bundle(["sh", "-c", "test -c /dev/null && echo ok"])
    os.rmdir(os.path.join(b.rootfs, "dev"))
    os.makedirs(os.path.join(b.rootfs, "realdev"))
    os.symlink("realdev", os.path.join(b.rootfs, "dev"))
    proc = rt.run(cid, b)
    if proc.returncode == 0:
        assert proc.stdout == "ok\n"
    assert os.listdir(os.path.join(b.rootfs, "realdev")) == []
    assert rt.list_ids() == []


def test_mount_destination_dotdot_stays_inside(rt, bundle, cid, tmp_path):
    # "../.." in a destination is resolved within the rootfs
    host = tmp_path / "src"
    host.mkdir()
    (host / "f").write_text("inside\n")
    b = bundle(["cat", "/escaped/f"], edit=lambda c: c["mounts"].append(
        {"destination": "/../../../escaped", "type": "bind", "source": str(host), "options": ["bind", "ro"]}))
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "inside\n"


# CVE-2025-31133: masking binds "/dev/null" over masked paths; an image can
# make its /dev/null a symlink to a procfs file. The symlink here points at
# /proc/version, which nobody can write, so a vulnerable runtime cannot harm
# the host (a writable target such as core_pattern would be rewritten by a
# runtime that also reopens /dev/null for stdio: never use one here).
PROC_TARGET = "/proc/version"


def _masked_shows_target(out: str) -> bool:
    with open(PROC_TARGET) as f:
        target = f.read().strip()
    return target[:40] in out


def test_masked_path_with_image_dev_null_symlink(rt, bundle, cid):
    # /dev is a fresh tmpfs in the default config: the image's /dev/null is hidden
    b = bundle(["sh", "-c", "cat /proc/timer_list; echo END; ls -l /dev/null"],
               linux={"maskedPaths": ["/proc/timer_list"]})
    os.symlink(PROC_TARGET, os.path.join(b.rootfs, "dev", "null"))
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert not _masked_shows_target(proc.stdout)
    head, _, tail = proc.stdout.partition("END\n")
    assert head.strip() == ""
    assert tail.startswith("c")


@pytest.mark.pyrunc_only(reason="runc 1.1.5 is vulnerable (CVE-2025-31133): it binds the symlink's target")
def test_masked_path_with_image_dev_null_symlink_no_dev_mount(rt, bundle, cid):
    # without a /dev mount the image's own /dev is used, symlinked /dev/null
    # included. The container writes what it sees to a file of its rootfs
    # (its stdio may itself have been reopened through the symlink).
    def edit(cfg):
        cfg["mounts"] = [m for m in cfg["mounts"] if not m["destination"].startswith("/dev")]
        cfg["linux"]["maskedPaths"] = ["/proc/timer_list"]

    script = "{ readlink /proc/self/fd/0; cat /proc/timer_list; echo END; } > /seen 2>&1"
    b = bundle(["sh", "-c", script], root={"readonly": False}, edit=edit)
    os.symlink(PROC_TARGET, os.path.join(b.rootfs, "dev", "null"))
    rt.run(cid, b)
    seen_path = os.path.join(b.rootfs, "seen")
    if os.path.exists(seen_path):
        with open(seen_path) as f:
            seen = f.read()
        assert not _masked_shows_target(seen), seen
        assert PROC_TARGET not in seen, seen
    assert rt.list_ids() == []


def test_container_cannot_see_runtime_state(rt, bundle, cid):
    # the state root is not reachable from inside the container
    b = bundle(["sh", "-c", f"ls {rt.root} 2>&1; echo rc=$?"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert "rc=0" not in proc.stdout


def test_no_inheritable_capabilities_by_default(rt, bundle, cid):
    # CVE-2022-29162: the default spec gives no inheritable capabilities
    b = bundle(["grep", "-E", "CapInh|CapAmb", "/proc/self/status"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CapInh:", "0000000000000000", "CapAmb:", "0000000000000000"]

