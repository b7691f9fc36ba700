"""Container lifecycle through the CLI: create, start, state, kill, delete, run."""

import os
import signal
import subprocess

import pytest

from harness import new_id, unescape, wait_exec, wait_gone


def test_create_start_kill_delete(rt, bundle, cid, tmp_path):
    b = bundle(["sleep", "1000"])
    pid_file = tmp_path / "pid"
    proc = rt.create(cid, b, "--pid-file", pid_file)
    assert proc.returncode == 0, proc.stderr

    st = rt.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    raw = pid_file.read_text()
    assert raw == str(st["pid"]), "pid file must hold the decimal pid without a newline"
    assert st["pid"] > 0 and os.path.exists(f"/proc/{st['pid']}")

    proc = rt("start", cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    st = rt.state(cid)
    assert st["status"] == "running"
    pid = st["pid"]
    wait_exec(pid, "sleep")

    proc = rt("kill", cid, "KILL")
    assert proc.returncode == 0, proc.stderr
    st = rt.wait_status(cid, "stopped")
    assert st["pid"] == 0

    proc = rt("delete", cid)
    assert proc.returncode == 0, proc.stderr
    assert rt("state", cid).returncode != 0
    wait_gone(pid)


def test_create_does_not_run_process_until_start(rt, bundle, cid):
    b = bundle(["touch", "/marker"], root={"readonly": False})
    marker = os.path.join(b.rootfs, "marker")
    assert rt.create(cid, b).returncode == 0
    assert rt.status(cid) == "created"
    assert not os.path.exists(marker), "the user process ran before start"
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    assert os.path.exists(marker)
    assert rt("delete", cid).returncode == 0


@pytest.mark.parametrize("code", [0, 1, 42])
def test_run_foreground_exit_code(rt, bundle, cid, code):
    b = bundle(["sh", "-c", f"echo out; echo err >&2; exit {code}"])
    proc = rt.run(cid, b)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "out\n"
    assert "err\n" in proc.stderr
    # a foreground run deletes the container afterwards
    assert rt.list_ids() == []


def test_run_foreground_killed_by_signal(rt, bundle, cid):
    # pid 1 of a pid namespace cannot SIGKILL itself: kill it from outside
    b = bundle(["sleep", "1000"])
    run = subprocess.Popen(rt.argv("run", "--bundle", b.path, cid), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=rt.env)
    try:
        st = rt.wait_status(cid, "running")
        wait_exec(st["pid"], "sleep")
        assert rt("kill", cid, "KILL").returncode == 0
        out, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 128 + signal.SIGKILL, err
    assert rt.list_ids() == []


def test_run_keep(rt, bundle, cid):
    b = bundle(["true"])
    proc = rt.run(cid, b, "--keep")
    assert proc.returncode == 0, proc.stderr
    st = rt.state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0
    assert rt("delete", cid).returncode == 0
    assert rt.list_ids() == []


def test_run_detached(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    proc = rt.run_detached(cid, b)
    assert proc.returncode == 0, proc.stderr
    st = rt.state(cid)
    assert st["status"] == "running"
    wait_exec(st["pid"], "sleep")
    assert rt("kill", cid, "9").returncode == 0
    rt.wait_status(cid, "stopped")
    assert rt("delete", cid).returncode == 0


def test_delete_created_container(rt, bundle, cid):
    # runtime-spec says this MUST fail; runc kills and removes it instead, and
    # containerd relies on that. Either outcome is accepted, nothing may linger.
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    pid = rt.state(cid)["pid"]
    proc = rt("delete", cid)
    if proc.returncode == 0:
        assert rt("state", cid).returncode != 0
        wait_gone(pid)
    else:
        assert rt.status(cid) == "created"
        assert rt.delete_force(cid).returncode == 0


def test_delete_running_fails(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.run_detached(cid, b).returncode == 0
    proc = rt("delete", cid)
    assert proc.returncode != 0
    assert f"cannot delete container {cid} that is not stopped: running" in proc.stderr
    assert rt.status(cid) == "running"
    pid = rt.state(cid)["pid"]
    proc = rt("delete", "--force", cid)
    assert proc.returncode == 0, proc.stderr
    assert rt("state", cid).returncode != 0
    wait_gone(pid)


def test_delete_force_created(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    pid = rt.state(cid)["pid"]
    assert rt.delete_force(cid).returncode == 0
    wait_gone(pid)
    assert rt.list_ids() == []


def test_delete_force_missing_is_ok(rt, cid):
    proc = rt("delete", "--force", cid)
    assert proc.returncode == 0, proc.stderr


def test_kill_stopped(rt, bundle, cid):
    b = bundle(["true"])
    assert rt.create(cid, b).returncode == 0
    assert rt("start", cid).returncode == 0
    before = rt.wait_status(cid, "stopped")
    proc = rt("kill", cid, "KILL")
    assert proc.returncode != 0
    assert "container not running" in proc.stderr
    # kill has no effect on a stopped container
    assert rt.state(cid) == before
    proc = rt("kill", "--all", cid, "KILL")
    assert proc.returncode == 0, proc.stderr
    proc = rt("start", cid)
    assert proc.returncode != 0
    assert "cannot start a container that has stopped" in proc.stderr
    assert rt("delete", cid).returncode == 0


def test_start_running_fails(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.run_detached(cid, b).returncode == 0
    proc = rt("start", cid)
    assert proc.returncode != 0
    assert "cannot start an already running container" in proc.stderr
    assert rt.delete_force(cid).returncode == 0


def test_kill_created_container(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    assert rt("kill", cid, "KILL").returncode == 0
    st = rt.wait_status(cid, "stopped")
    assert st["pid"] == 0
    assert rt("delete", cid).returncode == 0


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "term", "15"])
def test_kill_signal_forms(rt, bundle, cid, sig):
    b = bundle(["sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"])
    assert rt.create(cid, b).returncode == 0
    assert rt("start", cid).returncode == 0
    rt.wait_output(cid, "ready")
    proc = rt("kill", cid, sig)
    assert proc.returncode == 0, proc.stderr
    rt.wait_status(cid, "stopped")
    assert "got-term" in rt.out(cid)
    assert rt("delete", cid).returncode == 0


def test_kill_default_signal_is_term(rt, bundle, cid):
    b = bundle(["sh", "-c", "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.05; done"])
    assert rt.run_detached(cid, b).returncode == 0
    rt.wait_output(cid, "ready")
    assert rt("kill", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    assert "got-term" in rt.out(cid)
    assert rt("delete", cid).returncode == 0


def test_kill_unknown_signal(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    proc = rt("kill", cid, "FOO")
    assert proc.returncode != 0
    assert 'unknown signal "FOO"' in unescape(proc.stderr)
    assert rt.status(cid) == "created"
    assert rt.delete_force(cid).returncode == 0


def test_duplicate_create_fails(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    pid = rt.state(cid)["pid"]
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert "container with given ID already exists" in proc.stderr
    # the first container is untouched
    st = rt.state(cid)
    assert st["status"] == "created" and st["pid"] == pid
    assert rt.delete_force(cid).returncode == 0


@pytest.mark.parametrize("bad", ["a/b", "..", ".", "a b", "x;y", "ü"])
def test_invalid_id(rt, bundle, bad):
    b = bundle(["true"])
    proc = rt.create(bad, b)
    assert proc.returncode != 0
    assert "invalid container ID format" in proc.stderr
    assert rt.list_ids() == []


@pytest.mark.parametrize("cmd", [["state"], ["start"], ["kill"], ["delete"], ["kill", "__ID__", "KILL"]])
def test_missing_container(rt, cid, cmd):
    args = [cid if a == "__ID__" else a for a in cmd]
    if args == cmd:
        args.append(cid)
    proc = rt(*args)
    assert proc.returncode != 0
    assert "container does not exist" in proc.stderr


@pytest.mark.parametrize("cmd", ["create", "start", "state", "delete", "kill"])
def test_missing_id_argument_fails(rt, bundle, cmd):
    b = bundle(["true"])
    args = [cmd, "--bundle", str(b)] if cmd == "create" else [cmd]
    proc = rt(*args)
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_pid_file_relative_to_cwd(rt, bundle, cid, tmp_path):
    b = bundle(["sleep", "1000"])
    proc = rt.create(cid, b, "--pid-file", "rel.pid", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / "rel.pid").read_text()
    assert raw == str(rt.state(cid)["pid"])
    assert not os.path.exists(os.path.join(b.path, "rel.pid"))
    assert rt.delete_force(cid).returncode == 0


def test_create_from_bundle_cwd(rt, bundle, cid):
    b = bundle(["true"])
    proc = rt("create", cid, cwd=b.path, stdout=None, stderr=None)
    assert proc.returncode == 0
    st = rt.state(cid)
    assert st["bundle"] == os.path.realpath(b.path)
    assert rt.delete_force(cid).returncode == 0


def test_two_roots_are_independent(rt, bundle, cid, session_base):
    import tempfile

    b = bundle(["sleep", "1000"])
    other = tempfile.mkdtemp(prefix="state-other-", dir=session_base)
    try:
        assert rt.create(cid, b).returncode == 0
        from harness import Runtime

        rt2 = Runtime(rt.binary, other, rt.base, rt.token)
        assert rt2("state", cid).returncode != 0
        proc = rt2("list", "-q")
        assert proc.returncode == 0 and proc.stdout == ""
        assert rt.delete_force(cid).returncode == 0
    finally:
        assert os.listdir(other) == []
        os.rmdir(other)


def test_many_sequential_ids_reuse(rt, bundle):
    # the same id can be reused once the first container is deleted
    b = bundle(["true"])
    cid = new_id()
    for _ in range(2):
        proc = rt.run(cid, b)
        assert proc.returncode == 0, proc.stderr
    assert rt.list_ids() == []
