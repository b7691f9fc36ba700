"""The runtime-spec operations on an existing container: start, kill, delete.

runtime-spec runtime.md "Lifecycle" is the outline; each function quotes the step
it implements. Creating one is in create.py; the container's own side (what the
forked init does) is in init.py.
"""

import select
import time

from pyrunc import lean_os as os
from pyrunc import state as st
from pyrunc.errors import RuntimeFailure
from pyrunc.signals import SIGKILL, parse_signal
from pyrunc.state import START_ERROR, Container


# -- the commands (the command table names these as their handlers) --------------

def run_start(inv):
    """`start ID`: run the user process of a created container."""
    start(inv.globals.root, inv.args[0])
    return 0


def run_kill(inv):
    """`kill [--all] ID [SIGNAL]`: signal the container's init (default SIGTERM)."""
    signal_number = parse_signal(inv.args[1] if len(inv.args) > 1 else "SIGTERM")
    kill(inv.globals.root, inv.args[0], signal_number, inv.flags.get("all", False))
    return 0


def run_delete(inv):
    """`delete [--force] ID`: remove a stopped (or, with --force, any) container."""
    delete(inv.globals.root, inv.args[0], inv.flags.get("force", False))
    return 0


# -- start --------------------------------------------------------------------

def start(root, container_id):
    """runtime-spec "start": "This operation MUST generate an error if it is not provided
    the container ID. Attempting to start a container that is not created MUST have no
    effect on the container and MUST generate an error." """
    container = Container.load(root, container_id)
    container.lock()
    try:
        _start_locked(container)
    finally:
        container.unlock()
    return container


def _start_locked(container):
    status = container.status()
    if status == st.STOPPED:
        raise RuntimeFailure("cannot start a container that has stopped")
    if status == st.RUNNING:
        raise RuntimeFailure("cannot start an already running container")
    if status != st.CREATED:
        raise RuntimeFailure(f"cannot start a container in the {status} state")
    if not container.data.get("has_process"):
        # runtime-spec: "If the process property is absent ... start MUST generate an error."
        raise RuntimeFailure("cannot start a container without a process: "
                             "config.json has no process property")
    container.wake_init()
    if (container.data.get("hooks") or {}).get("startContainer"):
        # runtime-spec: "If any startContainer hook fails, the runtime MUST generate an
        # error, stop the container". The init tells so in START_ERROR.
        _wait_exec(container.pid)
        try:
            failure = os.read_bytes(os.path.join(container.dir, START_ERROR)).decode(
                "utf-8", "replace").strip()
        except FileNotFoundError:
            failure = ""
        if failure:
            _signal_quietly(container, SIGKILL)
            raise RuntimeFailure(failure)
    if (container.data.get("hooks") or {}).get("poststart"):
        from pyrunc import hooks  # only when there are hooks: start stays light

        poststart = hooks.stored(container.data["hooks"], "poststart")
        _wait_exec(container.pid)
        try:
            hooks.run_hooks("poststart", poststart, container.oci_state(st.RUNNING))
        except RuntimeFailure:
            # runtime-spec 1.3: a failing poststart hook is an error and the
            # container is stopped.
            _signal(container, SIGKILL)
            raise


def _signal_quietly(container, signal_number):
    try:
        _signal(container, signal_number)
    except RuntimeFailure:
        pass


def _wait_exec(pid, timeout=10.0):
    """Until the init has replaced itself with the user process (or died)."""
    own = os.readlink("/proc/self/exe")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.readlink("/proc/%d/exe" % pid) != own:
                return
        except OSError:
            return
        time.sleep(0.001)


# -- kill -----------------------------------------------------------------------

def kill(root, container_id, signal_number, all_processes=False):
    """runtime-spec "kill": "Attempting to send a signal to a container that is neither
    created nor running MUST have no effect on the container and MUST generate an error." """
    container = Container.load(root, container_id)
    status = container.status()
    if status == st.STOPPED:
        if all_processes:
            _signal_others(container, signal_number)
            return
        raise RuntimeFailure("container not running")
    if all_processes:
        _signal_others(container, signal_number)
    try:
        _signal(container, signal_number)
    except RuntimeFailure:
        # --all may have signalled the init already
        # (it is in the container's cgroup); runc's --all does not fail then.
        if not all_processes:
            raise


def _signal_others(container, signal_number):
    """Every process of a container that shares the host's pid namespace.

    With its own pid namespace, killing pid 1 ends all of them; without one, they
    are the processes in the init's mount namespace (cgroups, later, say it too).
    """
    if container.data.get("own_pid_ns"):
        return
    # The container's cgroup lists its processes.
    if _signal_cgroup(container, signal_number):
        return
    mnt_ns = container.data.get("mnt_ns")
    if not mnt_ns or mnt_ns == st.namespace_id(os.getpid(), "mnt"):
        return
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        if st.namespace_id(int(entry), "mnt") == mnt_ns:
            try:
                os.kill(int(entry), signal_number)
            except ProcessLookupError:
                pass


def _signal_cgroup(container, signal_number):
    """Signal every process in the container's cgroup, frozen
    meanwhile so none can fork past the list (runc does the same). False when the
    container has no cgroup to ask (disabled manager): callers fall back."""
    from pyrunc import cgroups

    manager = cgroups.load(container.data.get("cgroup"))
    if not manager.enabled or not manager.exists():
        return False
    froze = False
    if manager.freezer_state_file() and not manager.frozen():
        try:
            manager.freeze()
            froze = True
        except RuntimeFailure as e:
            from pyrunc import log

            log.warning(str(e))
    try:
        me = os.getpid()
        for pid in manager.pids() or ():
            if pid != me:
                try:
                    os.kill(pid, signal_number)
                except ProcessLookupError:
                    pass
    finally:
        if froze:
            manager.thaw()
    return True


def _thaw_if_frozen(container):
    """A SIGKILLed task in a frozen v1 cgroup dies only once
    thawed (delete --force of a paused container)."""
    if not container.data.get("freezer_state_file"):
        return
    from pyrunc import cgroups

    manager = cgroups.load(container.data.get("cgroup"))
    if manager.frozen():
        manager.thaw()


def _open_pidfd(pid):
    """A pidfd for the init, or None if it is gone. CPython has pidfd_open and
    pidfd_send_signal in C (os, _signal): kill and delete need no cffi module."""
    try:
        return os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return None


def _signal(container, signal_number):
    """Signal the init through a pidfd, checked against the recorded start time, so a
    reused pid can never receive it."""
    import _signal

    pidfd = _open_pidfd(container.pid)
    if pidfd is None:
        raise RuntimeFailure("container not running")
    try:
        if not container.init_alive():
            raise RuntimeFailure("container not running")
        try:
            _signal.pidfd_send_signal(pidfd, signal_number)
        except ProcessLookupError:
            raise RuntimeFailure("container not running") from None
    finally:
        os.close(pidfd)


def wait_gone(container, timeout):
    """Wait for the init to exit (a pidfd turns readable then). True if it did."""
    pidfd = _open_pidfd(container.pid)
    if pidfd is None:
        return True
    try:
        if not container.init_alive():
            return True
        ready, _, _ = select.select([pidfd], [], [], timeout)
        return bool(ready) or not container.init_alive()
    finally:
        os.close(pidfd)


# -- delete -------------------------------------------------------------------

def delete(root, container_id, force=False):
    """runtime-spec "delete": "Deleting a container whose process is still running MUST
    generate an error"; pyrunc, like runc, also deletes a created container (killing its
    waiting init) because containerd's shim relies on that."""
    try:
        container = Container.load(root, container_id)
    except RuntimeFailure:
        if not force:
            raise
        _remove_stale(root, container_id)
        return
    container.lock()
    try:
        _delete_locked(container, force)
    finally:
        container.unlock()


def _delete_locked(container, force):
    status = container.status()
    if status == st.CREATED or container.data.get("creating"):
        _kill_and_wait(container)
    elif status in (st.RUNNING, st.PAUSED):
        if not force:
            raise RuntimeFailure(
                f"cannot delete container {container.id} that is not stopped: {status}")
        _kill_and_wait(container)
    destroy(container)


def _kill_and_wait(container):
    _signal_others(container, SIGKILL)
    try:
        _signal(container, SIGKILL)
    except RuntimeFailure:
        return
    _thaw_if_frozen(container)
    if not wait_gone(container, 10.0):
        raise RuntimeFailure("container init still running")


def destroy(container):
    """Remove what create made, then run poststop hooks.

    runtime-spec: poststop hooks "MUST be called after the container is deleted but
    before the delete operation returns"; a failing one "MUST log a warning" and the
    remaining hooks and lifecycle continue.
    """
    poststop = (container.data.get("hooks") or {}).get("poststop")
    state = container.oci_state(st.STOPPED)
    if container.data.get("cgroup"):
        # The init is gone; without its own pid namespace
        # its children may not be (runc kills what is left in the cgroup too).
        # Then remove the cgroups create made.
        from pyrunc import cgroups

        if not container.data.get("own_pid_ns"):
            _signal_cgroup(container, SIGKILL)
        cgroups.remove(container.data["cgroup"])
    container.remove()
    if poststop:
        from pyrunc import hooks, log  # only when there are hooks: delete stays light

        hooks.run_hooks_warn("poststop", hooks.stored(container.data["hooks"], "poststop"),
                             state, log.warning)


def _remove_stale(root, container_id):
    st.validate_id(container_id)
    Container(root, container_id).remove()
