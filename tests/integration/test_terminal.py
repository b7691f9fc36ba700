"""process.terminal: the pty master over --console-socket, and foreground run/exec."""

import array
import os
import socket
import subprocess
import threading

import pytest


class ConsoleReceiver:
    """A minimal console socket server (what conmon and recvtty do): accepts one
    connection and takes the pty master out of its single message."""

    def __init__(self, path):
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.name = None
        self.master = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        conn, _ = self.server.accept()
        with conn:
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            self.name = msg.decode()
            self.master = fds[0] if fds else None

    def read_until(self, needle, timeout=10):
        self.thread.join(timeout)
        assert self.master is not None, "no pty master received"
        out = b""
        import select
        import time

        deadline = time.monotonic() + timeout
        while needle.encode() not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    out += os.read(self.master, 4096)
                except OSError:
                    break
        return out.decode(errors="replace")

    def close(self):
        self.server.close()
        if self.master is not None:
            os.close(self.master)


def test_console_socket_gets_the_master(rt, bundle, cid, tmp_path):
    recv = ConsoleReceiver(str(tmp_path / "console.sock"))
    try:
        b = bundle(["sh", "-c", "tty; stat -c %u:%g $(tty); ls -l /dev/console; echo done; sleep 1000"],
                   process={"terminal": True, "user": {"uid": 1000, "gid": 100}})
        proc = rt("run", "-d", "--console-socket", recv.path, "--bundle", str(b), cid)
        assert proc.returncode == 0, proc.stderr
        out = recv.read_until("done")
        assert recv.name.startswith("/dev/pts/")
        lines = [l.strip() for l in out.splitlines()]
        assert lines[0].startswith("/dev/pts/")
        assert lines[1] == "1000:5"   # the uid's, group tty (devpts gid=5)
        assert lines[2].startswith("c")
    finally:
        rt.delete_force(cid)
        recv.close()


def test_terminal_without_socket_when_detached_is_refused(rt, bundle, cid):
    b = bundle(["true"], process={"terminal": True})
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert "cannot allocate tty if runc will detach without setting console socket" in proc.stderr
    assert rt.list_ids() == []


def test_console_socket_without_terminal_is_refused(rt, bundle, cid, tmp_path):
    b = bundle(["true"])
    proc = rt.create(cid, b, "--console-socket", str(tmp_path / "nope.sock"))
    assert proc.returncode != 0
    assert "cannot use console socket if runc will not detach or allocate tty" in proc.stderr


@pytest.mark.skipif(not os.path.exists("/usr/bin/script"), reason="needs script(1)")
def test_foreground_run_and_exec_with_a_terminal(rt, bundle, cid):
    b = bundle(["sh", "-c", "for f in 0 1 2; do readlink /proc/self/fd/$f; done; exit 7"],
               process={"terminal": True})
    cmd = " ".join(rt.argv("run", "--bundle", str(b), cid))
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert proc.stdout.count("/dev/pts/") == 3
