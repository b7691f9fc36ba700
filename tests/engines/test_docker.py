"""docker 20.10 (dockerd, its containerd and the runc v2 shim) running containers
through pyrunc, its default runtime.

Every docker config.json has a prestart hook (dockerd's own binary, run as
`libnetwork-setkey`) through which dockerd learns the container's network
namespace. Each test checks what docker asked for arrived (the calls log), what
the container saw from inside, and what docker reports.
"""

import json
import os

import probe


def _state(docker, name):
    return json.loads(docker("inspect", name).stdout)[0]["State"]


def test_run_applies_dockers_config_and_returns_the_status(docker):
    proc = docker.run("--rm", *probe.FLAGS,
                      cmd=["/bin/sh", "-c", probe.SCRIPT + "; cat /proc/self/cgroup; exit 3"], check=False)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.split("\n")
    probe.check(lines)
    # In the cgroup parent docker was given (docker 20.10 shares the host's cgroup
    # namespace on v1 hosts), in every hierarchy.
    cgroup_lines = [line for line in lines[6:] if line]
    assert cgroup_lines and all(docker.sb.cgroup.path + "/" in line for line in cgroup_lines), cgroup_lines
    calls = docker.sb.calls()
    create = next(c for c in calls if c[0] == "create")
    # the shim's create: a bundle, a pid file, then the id
    assert "--bundle" in create and "--pid-file" in create
    assert {"create", "start", "delete"} <= docker.sb.commands()


def test_detached_container_exec_top_update_stop_rm(docker):
    docker.run("-d", "--name=dk-life", cmd=["/bin/sleep", "1000"])
    info = json.loads(docker("inspect", "dk-life").stdout)[0]
    assert info["State"]["Status"] == "running"
    # dockerd learns the container's network namespace from its prestart hook
    # (libnetwork-setkey) and binds it at the sandbox key: the hook ran, with the state.
    netns = os.stat(f"/proc/{info['State']['Pid']}/ns/net").st_ino
    assert os.stat(info["NetworkSettings"]["SandboxKey"]).st_ino == netns

    out = docker("exec", "--user=1000:1000", "--workdir=/tmp", "--env=FOO=bar", "dk-life",
                 "/bin/sh", "-c", 'id -u; pwd; echo "$FOO"').stdout.split()
    assert out == ["1000", "/tmp", "bar"]
    assert "sleep 1000" in docker("top", "dk-life").stdout

    # docker update sends the new limits on stdin (update --resources -).
    docker("update", "--memory=96m", "--memory-swap=192m", "--pids-limit=100", "dk-life")
    limits = {}
    for d in docker.sb.cgroup.dirs(info["Id"]):
        for name in ("memory.limit_in_bytes", "memory.max", "pids.max"):
            if os.path.exists(os.path.join(d, name)):
                with open(os.path.join(d, name)) as f:
                    limits[name] = f.read().strip()
    assert limits.get("memory.limit_in_bytes", limits.get("memory.max")) == str(96 << 20)
    assert limits["pids.max"] == "100"

    # The sleep is pid 1 and ignores SIGTERM: docker stop falls back to SIGKILL.
    docker("stop", "--time=1", "dk-life")
    state = _state(docker, "dk-life")
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    docker("rm", "dk-life")

    assert {"create", "start", "exec", "ps", "update", "kill", "delete"} <= docker.sb.commands()
    execs = [c for c in docker.sb.calls() if c[0] == "exec"]
    # the shim runs exec with a process file, detached, with a pid file
    assert all("--process" in c and "--detach" in c and "--pid-file" in c for c in execs)


def test_terminal_through_the_console_socket(docker):
    out = docker.run("--rm", "-t", cmd=["/bin/sh", "-c", "tty; echo done"]).stdout
    assert out.replace("\r", "").split("\n")[:2] == ["/dev/pts/0", "done"]
    consoles = [c for c in docker.sb.calls() if "--console-socket" in c]
    assert [c[0] for c in consoles] == ["create"]


def test_a_failing_container_start_is_dockers_error(docker):
    proc = docker.run("--rm", cmd=["/no/such/program"], check=False)
    # docker's texts around the runtime's: exit 127 for a missing program
    assert proc.returncode == 127, (proc.returncode, proc.stderr)
    assert "OCI runtime create failed" in proc.stderr
    assert "/no/such/program" in proc.stderr
