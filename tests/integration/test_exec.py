"""`exec`: a second process inside a running (or created) container."""

import json
import os

from harness import unescape, wait_exec


def _sleeper(rt, bundle, cid, start=True, **overrides):
    b = bundle(["sleep", "1000"], **overrides)
    proc = rt.create(cid, b)
    assert proc.returncode == 0, proc.stderr
    if start:
        assert rt("start", cid).returncode == 0
        wait_exec(rt.state(cid)["pid"], "sleep")
    return b


def test_exec_runs_in_the_container_namespaces(rt, bundle, cid):
    _sleeper(rt, bundle, cid)
    init = rt.state(cid)["pid"]
    proc = rt("exec", cid, "sh", "-c", "hostname; for n in net mnt pid; do readlink /proc/self/ns/$n; done")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[0] == "runc"
    assert lines[1:] == [os.readlink(f"/proc/{init}/ns/{ns}") for ns in ("net", "mnt", "pid")]
    assert rt.delete_force(cid).returncode == 0


def test_exec_exit_status_and_failures(rt, bundle, cid):
    _sleeper(rt, bundle, cid)
    assert rt("exec", cid, "sh", "-c", "exit 42").returncode == 42
    missing = rt("exec", cid, "/no/such/binary")
    assert missing.returncode == 255
    assert "no such file or directory" in missing.stderr
    notfound = rt("exec", cid, "no-such-command")
    assert notfound.returncode == 255
    assert "executable file not found in $PATH" in notfound.stderr
    assert rt.delete_force(cid).returncode == 0


def test_exec_overrides_user_cwd_env(rt, bundle, cid):
    _sleeper(rt, bundle, cid)
    proc = rt("exec", "--user", "1000:1000", "--additional-gids", "5", "--cwd", "/tmp",
              "--env", "FOO=bar", cid, "sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO")
    assert proc.returncode == 0, proc.stderr
    uid, gid, groups, cwd, foo = proc.stdout.splitlines()
    assert (uid, gid, cwd, foo) == ("1000", "1000", "/tmp", "bar")
    assert "5" in groups.split()
    assert rt.delete_force(cid).returncode == 0


def test_exec_process_file_and_pid_file(rt, bundle, cid, tmp_path):
    _sleeper(rt, bundle, cid)
    spec = {"args": ["sh", "-c", "echo from-file $X"], "cwd": "/", "env": ["X=1", "PATH=/bin"],
            "user": {"uid": 0, "gid": 0}}
    (tmp_path / "p.json").write_text(json.dumps(spec))
    proc = rt("exec", "--process", str(tmp_path / "p.json"), "--pid-file", str(tmp_path / "pid"), cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from-file 1\n"
    assert (tmp_path / "pid").read_text().isdigit()
    assert rt.delete_force(cid).returncode == 0


def test_exec_into_created_and_stopped(rt, bundle, cid):
    _sleeper(rt, bundle, cid, start=False)
    proc = rt("exec", cid, "echo", "early")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "early\n"
    assert rt("kill", cid, "KILL").returncode == 0
    rt.wait_status(cid, "stopped")
    stopped = rt("exec", cid, "true")
    assert stopped.returncode == 255
    assert "cannot exec in a stopped container" in stopped.stderr
    assert rt("delete", cid).returncode == 0


def test_exec_sees_only_stdio_and_preserved_fds(rt, bundle, cid):
    _sleeper(rt, bundle, cid)
    with open("/dev/null") as extra:
        fd = extra.fileno()
        os.set_inheritable(fd, True)
        proc = rt("exec", cid, "ls", "/proc/self/fd", pass_fds=(fd,))
    assert proc.returncode == 0, proc.stderr
    # 3 is ls's own directory fd
    assert sorted(int(x) for x in proc.stdout.split()) == [0, 1, 2, 3]
    assert rt.delete_force(cid).returncode == 0


def test_exec_gets_the_containers_seccomp_filter(rt, bundle, cid):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    _sleeper(rt, bundle, cid, linux={"seccomp": profile})
    proc = rt("exec", cid, "mkdir", "/tmp/blocked")
    assert proc.returncode != 0
    assert "not permitted" in proc.stderr.lower()
    assert rt("exec", cid, "true").returncode == 0
    assert rt.delete_force(cid).returncode == 0


def test_exec_failures_read_as_runcs(rt, bundle, cid):
    """runc's texts, which engines show as they are (podman maps the endings to its
    exit codes): "exec failed: unable to start container process: ...", Go quoting."""

    _sleeper(rt, bundle, cid)
    cases = [
        (["missing-command"], 'exec: "missing-command": executable file not found in $PATH'),
        (["/etc/passwd"], 'exec: "/etc/passwd": permission denied'),
        (["--cwd", "/nowhere", cid, "true"],
         'chdir to cwd ("/nowhere") set in config.json failed: no such file or directory'),
    ]
    for args, text in cases:
        argv = args if cid in args else [cid, *args]
        proc = rt("exec", *argv)
        assert proc.returncode == 255
        assert unescape(proc.stderr).endswith(
            f'msg="exec failed: unable to start container process: {text}"\n'), proc.stderr
    assert rt.delete_force(cid).returncode == 0
