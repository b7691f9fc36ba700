"""The container's terminal (process.terminal: true).

Modes, as in runc (docs/terminals.md there):

* with --console-socket PATH: the runtime connects to PATH before forking; the
  container process makes a pty in the container's devpts, sends the master over
  the socket (one message: data = the pty's name, SCM_RIGHTS = the master fd)
  and uses the slave as its stdio and controlling terminal;
* foreground `run`/`exec` without a socket: the runtime makes a socketpair,
  receives the master itself, and copies bytes between its own stdio and the
  master until the process exits.
"""

import _socket
import array  # its first import loads collections.abc: done here, before any pivot or setns

from pyrunc import lean_os as os
from pyrunc.errors import RuntimeFailure

_O_NOCTTY = os.O_NOCTTY
_TTY_GID_MODE = None  # the devpts mount's gid=/mode= options decide the slave's group


def connect_console_socket(path):
    """The engine's console socket (conmon, containerd's shim, recvtty)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise RuntimeFailure(f"failed to connect to console socket {path}: "
                             f"{(e.strerror or str(e)).lower()}") from None
    return sock


def console_socketpair():
    """(ours, theirs) for a foreground runtime that receives the master itself."""
    return _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)


def open_pty(lib, ptmx_path):
    """(master fd, slave fd, pty number) from the ptmx at `ptmx_path`."""
    master = os.open(ptmx_path, os.O_RDWR | _O_NOCTTY | os.O_CLOEXEC)
    try:
        if lib.pyrunc_pty_unlock(master) < 0:
            raise OSError(_errno(), "unlockpt", ptmx_path)
        number = lib.pyrunc_pty_number(master)
        if number < 0:
            raise OSError(_errno(), "ptsname", ptmx_path)
        # Threat (CVE-2025-52565): the slave is opened from the master, never by name.
        slave = lib.pyrunc_pty_peer(master, os.O_RDWR | _O_NOCTTY | os.O_CLOEXEC)
        if slave < 0:
            raise OSError(_errno(), "open pty peer", ptmx_path)
    except BaseException:
        os.close(master)
        raise
    return master, slave, number


def _errno():
    from pyrunc.syscalls import _ffi

    return _ffi.errno


def set_size(lib, fd, size):
    if size is not None:
        lib.pyrunc_set_winsize(fd, size.height, size.width)


def send_master(sock_fd, master, number):
    """One message: data = the pty's name, SCM_RIGHTS = the master."""
    sock = _socket.socket(fileno=os.dup(sock_fd))
    try:
        sock.sendmsg([b"/dev/pts/%d" % number],
                     [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", [master]))])
    finally:
        sock.close()


def become_session_leader(lib, slave):
    """The slave as stdio and controlling terminal of a new session."""
    os.setsid()
    if lib.pyrunc_set_ctty(slave) < 0:
        raise OSError(_errno(), "set controlling terminal")
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def receive_master(sock):
    """The master fd sent by the container process (foreground mode)."""
    fds = array.array("i")
    msg, ancdata, flags, addr = sock.recvmsg(4096, _socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if not fds:
        raise RuntimeFailure("container did not send its terminal")
    return fds[0]


def copy_size(from_fd, master):
    """Give the pty the caller's window size when the caller is on a terminal."""
    if not os.isatty(from_fd):
        return
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(from_fd, termios.TIOCGWINSZ, bytes(8))
        fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def proxy(master, pid):
    """Copy stdin -> master and master -> stdout until the process exits; (pid, status)."""
    import select

    saved = _make_raw(0)
    try:
        inputs = [0, master]
        wpid = status = 0
        while True:
            if not wpid:
                wpid, status = os.waitpid(pid, os.WNOHANG)
            try:
                ready, _, _ = select.select(inputs, [], [], 0.05)
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if data:
                    _write_all(1, data)
                elif wpid:
                    return status
            elif wpid:
                return status
            if 0 in ready:
                data = os.read(0, 65536)
                if data:
                    _write_all(master, data)
                else:
                    inputs.remove(0)
    finally:
        _restore(0, saved)


def _write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _make_raw(fd):
    if not os.isatty(fd):
        return None
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    return saved


def _restore(fd, saved):
    if saved is not None:
        import termios

        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
