"""Socket activation (LISTEN_FDS) and the session keyring, as runc does them."""

import subprocess


def test_listen_fds_are_passed_and_renumbered(rt, bundle, cid, tmp_path):
    b = bundle(["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd | sort -n | tr '\\n' ' '"])
    cmd = " ".join(rt.argv("run", "--bundle", str(b), cid))
    # LISTEN_PID must be the runtime's own pid: exec from the shell keeps $$.
    proc = subprocess.run(["sh", "-c", f"exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec {cmd}"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    first, fds = proc.stdout.splitlines()
    assert first == "1 1"
    assert fds.split()[:4] == ["0", "1", "2", "3"]


def test_listen_fds_for_another_pid_are_ignored(rt, bundle, cid):
    b = bundle(["sh", "-c", "echo [$LISTEN_FDS]"])
    proc = rt.run(cid, b, env={"LISTEN_FDS": "1", "LISTEN_PID": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def _keyrings():
    with open("/proc/keys") as f:
        return f.read()


def test_new_session_keyring_unless_asked(rt, bundle, cid):
    """runc gives each container a session keyring named _ses.<id> (visible to root in
    /proc/keys); --no-new-keyring keeps the caller's."""
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    assert f"_ses.{cid}:" in _keyrings()
    assert rt.delete_force(cid).returncode == 0
    other = cid + "-nk"
    assert rt.create(other, b, "--no-new-keyring").returncode == 0
    assert f"_ses.{other}:" not in _keyrings()
    assert rt.delete_force(other).returncode == 0
