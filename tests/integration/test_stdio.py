"""Stdio and fd inheritance between the caller, the runtime and the container."""

import os
import signal
import subprocess
import time

import pytest

from harness import wait_exec


def test_create_container_inherits_stdio_files(rt, bundle, cid):
    b = bundle(["sh", "-c", "echo to-stdout; echo to-stderr >&2; cat; echo stdin-done"])
    proc = rt.create(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    # stdin of create was /dev/null: cat sees EOF at once
    assert rt.out(cid) == "to-stdout\nstdin-done\n"
    assert "to-stderr\n" in rt.err(cid)
    assert rt("delete", cid).returncode == 0


def test_run_foreground_passes_stdin(rt, bundle, cid):
    b = bundle(["sh", "-c", "tr a-z A-Z"])
    proc = rt.run(cid, b, input="hello\nworld\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "HELLO\nWORLD\n"


def test_run_detached_does_not_hold_caller_pipes(rt, bundle, cid):
    # The container drops the inherited stdio at once; after that nothing of
    # the runtime may still hold the caller's pipes (engines wait for EOF).
    b = bundle(["sh", "-c", "exec >/dev/null 2>&1 </dev/null; exec sleep 1000"])
    p = subprocess.Popen(rt.argv("run", "-d", "--bundle", b.path, cid), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=rt.env)
    try:
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    assert rt.status(cid) == "running"
    assert rt.delete_force(cid).returncode == 0


def _pipe_holders(fd):
    """pids of the processes (other than us) with an fd open on the same pipe as fd."""
    target = os.readlink(f"/proc/self/fd/{fd}")
    holders = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            for f in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{f}") == target:
                        holders.add(int(pid))
                        break
                except OSError:
                    pass
        except OSError:
            pass
    return holders


def test_create_leaves_caller_pipe_only_to_the_container(rt, bundle, cid):
    # create with stdout/stderr on a pipe: once it returns, the only process
    # holding the pipe may be the container's own (parked) process
    b = bundle(["sh", "-c", "echo from-container"])
    r, w = os.pipe()
    try:
        p = subprocess.Popen(rt.argv("create", "--bundle", b.path, cid), stdin=subprocess.DEVNULL,
                             stdout=w, stderr=w, env=rt.env)
        try:
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        os.close(w)
        w = None
        assert p.returncode == 0
        pid = rt.state(cid)["pid"]
        assert _pipe_holders(r) == {pid}
        assert rt("start", cid).returncode == 0
        rt.wait_status(cid, "stopped")
        # the container exited: nobody holds the write end any more
        os.set_blocking(r, False)
        deadline = time.monotonic() + 10
        data = b""
        while True:
            try:
                chunk = os.read(r, 4096)
            except BlockingIOError:
                assert time.monotonic() < deadline, "no EOF on the caller's pipe"
                time.sleep(0.02)
                continue
            if not chunk:
                break
            data += chunk
        assert data == b"from-container\n"
    finally:
        os.close(r)
        if w is not None:
            os.close(w)
    assert rt("delete", cid).returncode == 0


def test_lifecycle_commands_do_not_hold_caller_pipes(rt, bundle, cid):
    # runtime-tools runs start/state/kill/delete with Go's cmd.Output(), which
    # waits for EOF on stdout: no helper may linger holding the pipe.
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    for args in (["start", cid], ["state", cid], ["kill", cid, "KILL"], ["delete", "--force", cid]):
        t0 = time.monotonic()
        p = subprocess.Popen(rt.argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=rt.env)
        try:
            out, err = p.communicate(timeout=15)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        assert p.returncode == 0, (args, err)
        assert time.monotonic() - t0 < 10
    assert rt("state", cid).returncode != 0


def _fd_table(pid):
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def test_container_sees_only_stdio(rt, bundle, cid, tmp_path):
    # the runtime is started with an extra inheritable fd 3 (a host
    # directory, as a shim would leak): the container must not get it
    (tmp_path / "HOST-MARKER").write_text("x")
    b = bundle(["sleep", "1000"])
    proc = rt.create(cid, b, fd3=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert rt("start", cid).returncode == 0
    pid = rt.state(cid)["pid"]
    wait_exec(pid, "sleep")
    fds = _fd_table(pid)
    assert sorted(fds) == [0, 1, 2], fds
    assert rt.delete_force(cid).returncode == 0


def test_container_sees_only_stdio_inside(rt, bundle, cid, tmp_path):
    b = bundle(["ls", "-l", "/proc/self/fd/"])
    proc = rt.run(cid, b, fd3=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fds = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if "->" in parts:
            i = parts.index("->")
            fds[parts[i - 1]] = parts[i + 1] if len(parts) > i + 1 else ""
    # ls itself holds the directory it lists open: that is the only extra fd
    extra = {fd: t for fd, t in fds.items() if fd not in ("0", "1", "2") and not t.startswith("/proc/")}
    assert extra == {}, proc.stdout
    assert {"0", "1", "2"} <= set(fds)


def test_preserve_fds(rt, bundle, cid, tmp_path):
    (tmp_path / "HOST-MARKER").write_text("x")
    b = bundle(["sleep", "1000"])
    proc = rt.create(cid, b, "--preserve-fds", "1", fd3=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert rt("start", cid).returncode == 0
    pid = rt.state(cid)["pid"]
    wait_exec(pid, "sleep")
    fds = _fd_table(pid)
    assert sorted(fds) == [0, 1, 2, 3], fds
    assert os.path.samefile(f"/proc/{pid}/fd/3", tmp_path)
    assert rt.delete_force(cid).returncode == 0


def test_preserve_fds_visible_inside(rt, bundle, cid, tmp_path):
    (tmp_path / "HOST-MARKER").write_text("x")
    b = bundle(["ls", "/proc/self/fd/3/"])
    proc = rt.run(cid, b, "--preserve-fds", "1", fd3=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["HOST-MARKER"]


def _ignore_signals():
    # what a Python caller hands down: CPython ignores SIGPIPE and SIGXFSZ
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)


def _block_signals():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGHUP})


def _sig_lines(text):
    return {k: v for k, v in (line.split(":\t", 1) for line in text.splitlines() if line.startswith("Sig") and ":\t" in line)}


def test_signal_state_reset_in_container(rt, bundle, cid):
    b = bundle(["cat", "/proc/self/status"])
    assert rt.create(cid, b).returncode == 0
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    sig = _sig_lines(rt.out(cid))
    assert sig["SigIgn"] == "0000000000000000"
    assert sig["SigBlk"] == "0000000000000000"
    assert rt("delete", cid).returncode == 0


def test_signal_state_reset_even_if_caller_ignores(rt, bundle, cid):
    b = bundle(["cat", "/proc/self/status"])
    proc = rt.run(cid, b, restore_signals=False, preexec_fn=_ignore_signals)
    assert proc.returncode == 0, proc.stderr
    sig = _sig_lines(proc.stdout)
    assert sig["SigIgn"] == "0000000000000000"
    assert sig["SigBlk"] == "0000000000000000"
    assert sig["SigCgt"] == "0000000000000000"


@pytest.mark.pyrunc_only(reason="runc 1.1.5 passes a signal mask blocked by its caller on (SIGUSR1 stays blocked)")
def test_signal_mask_reset_even_if_caller_blocks(rt, bundle, cid):
    b = bundle(["cat", "/proc/self/status"])
    proc = rt.run(cid, b, restore_signals=False, preexec_fn=_block_signals)
    assert proc.returncode == 0, proc.stderr
    sig = _sig_lines(proc.stdout)
    assert sig["SigBlk"] == "0000000000000000"
    assert sig["SigIgn"] == "0000000000000000"
