"""containerd 1.6 and its runc v2 shim, running containers through pyrunc
(`ctr run --runc-binary`).

The shim passes `--root`, `--log FILE --log-format json` on every call and keeps
the container's init as its child (it is the subreaper); each test checks what
the shim asked for arrived, what the container saw, and what containerd reports.
"""

import json
import os
import pty
import select
import subprocess
import time


def test_run_foreground_output_cgroup_and_status(containerd):
    cid = "ctr-run"
    proc = containerd.ctr(
        "run", "--rm", *containerd.run_args(cid), cid,
        "/bin/sh", "-c", "echo hello from ctr; cat /proc/self/cgroup; exit 3", check=False,
    )
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "hello from ctr"
    # the shim's cgroupsPath, in every hierarchy
    assert all(line.endswith(f"{containerd.sb.cgroup.path}/{cid}") for line in lines[1:]), lines
    calls = containerd.sb.calls()
    assert [c[0] for c in calls] == ["create", "start", "delete", "delete"]
    assert calls[0][:2] == ["create", "--bundle"] and "--pid-file" in calls[0]
    with open(containerd.sb.calls_log) as f:
        assert all("--log-format json" in line for line in f)


def test_task_exec_ps_pause_kill_delete(containerd):
    cid = "ctr-task"
    containerd.ctr("run", "-d", *containerd.run_args(cid), cid, "/bin/sleep", "1000")
    tasks = containerd.ctr("task", "ls").stdout
    assert cid in tasks and "RUNNING" in tasks

    out = containerd.ctr("task", "exec", "--exec-id", "e1", "--user", "1000", "--cwd", "/tmp", cid,
                         "/bin/sh", "-c", "id -u; pwd").stdout.split()
    assert out == ["1000", "/tmp"]

    # ctr task ps asks the runtime: `ps --format json ID`
    pids = containerd.ctr("task", "ps", cid).stdout.split()
    init_pid = pids[2]
    assert init_pid.isdigit()
    assert "sleep" in open(f"/proc/{init_pid}/cmdline").read()

    containerd.ctr("task", "pause", cid)
    assert "PAUSED" in containerd.ctr("task", "ls").stdout
    containerd.ctr("task", "resume", cid)
    assert "RUNNING" in containerd.ctr("task", "ls").stdout

    containerd.ctr("task", "kill", "--signal", "SIGKILL", cid)
    deadline = time.monotonic() + 10
    while "STOPPED" not in containerd.ctr("task", "ls").stdout:
        assert time.monotonic() < deadline, "the task did not stop"
        time.sleep(0.05)
    containerd.ctr("task", "delete", cid)
    containerd.ctr("container", "delete", cid)

    commands = containerd.sb.commands()
    assert {"create", "start", "exec", "ps", "pause", "resume", "kill", "delete"} <= commands
    ps = next(c for c in containerd.sb.calls() if c[0] == "ps")
    assert ps == ["ps", "--format", "json", cid]
    kill = next(c for c in containerd.sb.calls() if c[0] == "kill")
    assert kill[-2:] == [cid, "9"]


def test_terminal_through_the_console_socket(containerd):
    """ctr -t needs a terminal of its own: it runs on a pty here."""
    cid = "ctr-tty"
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            ["ctr", "--address", containerd.socket, "run", "--rm", "-t", *containerd.run_args(cid), cid,
             "/bin/sh", "-c", "tty; echo done"],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        slave = None
        output = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(30) == 0, output
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    lines = output.decode(errors="replace").replace("\r", "").split("\n")
    assert lines[0].startswith("/dev/pts/") and "done" in lines
    create = next(c for c in containerd.sb.calls() if c[0] == "create")
    assert "--console-socket" in create


def test_state_is_what_the_shim_reads(containerd):
    """The shim reads the pid file and `state`; both must name the same init."""
    cid = "ctr-state"
    containerd.ctr("run", "-d", *containerd.run_args(cid), cid, "/bin/sleep", "1000")
    pid = containerd.ctr("task", "ls").stdout.split("\n")[1].split()[1]
    state = json.loads(subprocess.run(
        [containerd.sb.wrapper, "state", cid], capture_output=True, text=True, check=True).stdout)
    assert state["status"] == "running" and str(state["pid"]) == pid
    containerd.ctr("task", "kill", "--signal", "SIGKILL", cid)
    containerd.ctr("task", "delete", "--force", cid, check=False)
    containerd.ctr("container", "delete", cid)
