"""`run ID`: create + start, then (unless --detach) wait for the container and delete it.

The foreground runtime is a subreaper (unless --no-subreaper) so processes the
container orphans come back to it and are reaped, and it forwards the signals it
receives to the container's init. It exits with the container's status: the exit
code, or 128+N when the process was killed by signal N.
"""

from pyrunc import lean_os as os
from pyrunc import create, log, signals
from pyrunc.commands.create import options
from pyrunc.errors import RuntimeFailure

# As runc 1.1: every failure of `run` reads "runc run failed: ..." (see create.FAILED).
FAILED = "runc run failed: "


def run(inv):
    try:
        return _run(inv)
    except RuntimeFailure as e:
        raise e.prefixed(FAILED) from None


def _run(inv):
    root = inv.globals.root
    cid = inv.args[0]
    detach = inv.flags.get("detach", False)
    if not detach and not inv.flags.get("no_subreaper", False):
        from pyrunc.flags import PR_SET_CHILD_SUBREAPER
        from pyrunc.syscalls import LinuxSyscalls

        LinuxSyscalls().prctl(PR_SET_CHILD_SUBREAPER, 1)
    c, pid, console, started = create.create(root, cid, options(inv), detached=detach,
                                             start=True)
    # Loaded only now, while the container's process starts: start, delete.
    from pyrunc import container

    try:
        master = _receive_terminal(console)
        if not started:
            container.start(root, cid)
    except RuntimeFailure:
        _cleanup(root, cid)
        raise
    if detach:
        return 0
    from pyrunc.main import collect_garbage

    collect_garbage()  # waiting, maybe for days
    signals.forward_to(pid)
    if master is not None:
        from pyrunc import terminal

        status = signals.exit_status(terminal.proxy(master, pid))
    else:
        status = _wait_for(pid)
    if not inv.flags.get("keep", False):
        try:
            container.delete(root, cid, force=True)
        except RuntimeFailure as e:
            log.warning(str(e))
    return status


def _receive_terminal(console):
    """The pty master the container sent us (foreground run with a terminal)."""
    if console is None:
        return None
    from pyrunc import terminal

    try:
        master = terminal.receive_master(console)
    finally:
        console.close()
    terminal.copy_size(0, master)
    return master


def _cleanup(root, cid):
    from pyrunc import container

    try:
        container.delete(root, cid, force=True)
    except RuntimeFailure:
        pass


def _wait_for(pid):
    """Reap children until the init exits; return its status as a shell would."""
    while True:
        try:
            wpid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255
        if wpid == pid:
            return signals.exit_status(status)
