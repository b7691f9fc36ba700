"""podman 4.3 with conmon, running containers through pyrunc (`podman --runtime`).

podman calls the runtime itself for kill/pause/resume/delete and through conmon
for create and exec; each test checks what podman asked for arrived (the calls
log), what the container saw from inside, and what podman reports.
"""

import json
import time

import probe


def test_run_applies_podmans_config_and_returns_the_status(podman):
    proc = podman.run("--rm", *probe.FLAGS, cmd=["/bin/sh", "-c", probe.SCRIPT + "; exit 3"], check=False)
    assert proc.returncode == 3, proc.stderr
    probe.check(proc.stdout.split("\n"))
    calls = podman.sb.calls()
    create = next(c for c in calls if c[0] == "create")
    # conmon's create: a bundle, a pid file, then the id
    assert "--bundle" in create and "--pid-file" in create
    assert {"create", "start", "delete"} <= podman.sb.commands()


def test_detached_container_exec_pause_stop_start_rm(podman):
    cid = podman.run("-d", "--name=pm-life", cmd=["/bin/sleep", "1000"]).stdout.strip()
    assert podman("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "running"

    out = podman("exec", "--user=1000:1000", "--workdir=/tmp", "--env=FOO=bar", cid,
                 "/bin/sh", "-c", 'id -u; pwd; echo "$FOO"').stdout.split()
    assert out == ["1000", "/tmp", "bar"]
    podman("exec", "--detach", cid, "/bin/sleep", "30")
    top = podman("top", cid, "pid", "args").stdout
    assert "sleep 1000" in top and "sleep 30" in top

    podman("pause", cid)
    assert podman("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "paused"
    podman("unpause", cid)
    assert podman("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "running"

    # The sleep is pid 1 and ignores SIGTERM: podman stop falls back to SIGKILL.
    podman("stop", "--time=1", cid)
    state = json.loads(podman("inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 137

    podman("start", cid)
    assert podman("exec", cid, "/bin/echo", "again").stdout.strip() == "again"
    podman("rm", "--force", "--time=0", cid)

    assert {"create", "start", "exec", "pause", "resume", "kill", "delete"} <= podman.sb.commands()
    execs = [c for c in podman.sb.calls() if c[0] == "exec"]
    # conmon runs exec with a process file, detached, with a pid file
    assert all("--process" in c and "--detach" in c and "--pid-file" in c for c in execs)


def test_resource_limits_reach_the_cgroups(podman):
    script = (
        "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
        "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; "
        "cut -d' ' -f1 /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"
    )
    out = podman.run("--rm", "--memory=64m", "--pids-limit=50", "--cpus=0.5", cmd=["/bin/sh", "-c", script]).stdout
    assert out.split() == [str(64 << 20), "50", "50000"]


def test_terminal_through_the_console_socket(podman):
    out = podman.run("--rm", "-t", cmd=["/bin/sh", "-c", "tty; echo done"]).stdout
    assert out.replace("\r", "").split("\n")[:2] == ["/dev/pts/0", "done"]
    cid = podman.run("-d", cmd=["/bin/sleep", "1000"]).stdout.strip()
    out = podman("exec", "-t", cid, "/bin/sh", "-c", "tty").stdout
    assert out.strip().startswith("/dev/pts/")
    podman("rm", "--force", "--time=0", cid)
    consoles = [c for c in podman.sb.calls() if "--console-socket" in c]
    assert {c[0] for c in consoles} == {"create", "exec"}


def test_kill_delivers_signals(podman):
    # SIGKILL ends pid 1; another signal reaches the handler the container set.
    cid = podman.run("-d", cmd=["/bin/sleep", "1000"]).stdout.strip()
    podman("kill", "--signal=KILL", cid)
    assert podman("wait", cid).stdout.strip() == "137"
    podman("rm", cid)

    cid = podman.run("-d", cmd=["/bin/sh", "-c", 'trap "exit 42" USR1; echo ready; '
                                "while true; do sleep 0.05; done"]).stdout.strip()
    deadline = time.monotonic() + 30
    while "ready" not in podman("logs", cid).stdout:
        assert time.monotonic() < deadline, "the container never got ready"
        time.sleep(0.05)
    podman("kill", "--signal=USR1", cid)
    assert podman("wait", cid).stdout.strip() == "42"
    podman("rm", cid)
    kills = [c for c in podman.sb.calls() if c[0] == "kill"]
    assert [c[-1] for c in kills] == ["9", "10"]
