"""The stdio the runtime hands to a process it starts (create's init, exec's process):
runc's terminal rules, the console socket or the runtime's own end of the pty,
systemd socket activation (LISTEN_FDS) and --preserve-fds.
"""

from pyrunc import lean_os as os
from pyrunc.errors import RuntimeFailure


def check_terminal(terminal, console_socket, detached):
    """runc's terminal sanity rules, with its texts."""
    if console_socket and not terminal:
        raise RuntimeFailure("cannot use console socket if runc will not detach or allocate tty")
    if terminal and detached and not console_socket:
        raise RuntimeFailure(
            "cannot allocate tty if runc will detach without setting console socket")


def open_console(terminal, console_socket):
    """(socket the init sends the pty master on, our end or None). Without a console
    socket a foreground runtime receives the master itself over a socketpair."""
    if not terminal:
        return None, None
    from pyrunc import terminal as term

    if console_socket:
        return term.connect_console_socket(console_socket), None
    ours, theirs = term.console_socketpair()
    return theirs, ours


def socket_activation_fds():
    """systemd socket activation: "if LISTEN_FDS is set and LISTEN_PID is the runtime's
    own pid, fds 3.. are passed" (runc), ahead of --preserve-fds."""
    try:
        if int(os.environ.get("LISTEN_PID", "0")) == os.getpid():
            return max(0, int(os.environ.get("LISTEN_FDS", "0")))
    except ValueError:
        pass
    return 0


def check_preserved_fds(count):
    """--preserve-fds N (and LISTEN_FDS): fds 3 to 3+N-1 must be open; they are
    passed on to the process, so they are made inheritable."""
    for fd in range(3, 3 + count):
        try:
            os.fstat(fd)
        except OSError as e:
            raise RuntimeFailure(f"unable to stat preserved-fd {fd - 3} (of {count}): "
                                 f"{e.strerror.lower()}") from None
        os.set_inheritable(fd, True)
