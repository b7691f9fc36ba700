"""The parent <-> init setup protocol.

`create` forks the container's init (no re-exec: the init is a copy of the
runtime). The two talk over one SOCK_SEQPACKET socketpair; each message is one
packet: a one-byte tag, then an optional UTF-8 payload.

    parent (pyrunc create)                     init (child, becomes pid 1)
    ----------------------                     ---------------------------
    make the v1 cgroups, apply limits          join/make namespaces (not cgroup)
                          --- CGROUPS ------>  (only when the parent made some
                                               after the fork: Manager.create_late)
                                               join the cgroups, cgroup namespace,
                                               mounts, /dev
                          <-- HOOKS ---------  "run prestart + createRuntime now"
    run prestart, createRuntime hooks          (only when there are hooks or a
    (state: creating, pid = init)              seccomp agent: stops_at_hooks_point)
                          --- HOOKS_DONE --->
                                               createContainer hooks, pivot_root,
                                               masked/readonly paths, identity,
                                               capabilities, cwd, fds
                          <-- READY ---------  parked on the exec FIFO
    write the state file, --pid-file; exit 0
                                   ...
    `start` writes the FIFO  --------------->  startContainer hooks, execve

The init is born in its cgroup v2 directory (if any) and moves itself into the
v1 hierarchies (cgroups.Placement) once they exist: on v1 and hybrid hosts the
parent makes them while the init makes its namespaces, then sends CGROUPS.

HOOKS_DONE carries the init's host pid, for the state given to the hooks the init
runs itself (createContainer, startContainer). At any point the init may send WARN
(logged by the parent), or ERROR with a message for the user and exit;
the parent then reports it and removes everything. If the parent dies, the
init reads EOF and exits (it also has PR_SET_PDEATHSIG until READY).
"""

from pyrunc import lean_os as os

CGROUPS = b"C"      # parent -> init: the cgroups made after the fork are ready to join
HOOKS = b"H"        # init -> parent: mounts done, run prestart/createRuntime hooks
HOOKS_DONE = b"D"   # parent -> init: hooks succeeded, continue
READY = b"R"        # init -> parent: setup finished, waiting for start
ERROR = b"E"        # init -> parent: payload = message for the user; init exits
WARN = b"W"         # init -> parent: payload = a warning for the log; setup goes on
DEBUG = b"G"        # init -> parent: payload = a debug line (sent only with --debug)

_NAMES = {CGROUPS: "CGROUPS", HOOKS: "HOOKS", HOOKS_DONE: "HOOKS_DONE", READY: "READY", ERROR: "ERROR", WARN: "WARN",
          DEBUG: "DEBUG"}
_MAX = 65536


class ProtocolError(Exception):
    """The peer vanished or sent something out of order."""


class Channel:
    """One end of the socketpair: a SOCK_SEQPACKET fd, so a write is one message."""

    __slots__ = ("fd",)

    def __init__(self, fd):
        self.fd = fd

    @classmethod
    def pair(cls, sys):
        """(parent end, child end), made through the syscall seam (`sys`)."""
        a, b = sys.seqpacket_pair()
        return cls(a), cls(b)

    def fileno(self):
        return self.fd

    def send(self, tag, payload=""):
        try:
            os.write(self.fd, tag + payload.encode("utf-8", "replace")[: _MAX - 1])
        except OSError as e:
            raise ProtocolError(f"peer gone while sending {_NAMES[tag]}: {e.strerror}") from None

    def recv(self):
        """(tag, payload); (None, "") on EOF."""
        try:
            data = os.read(self.fd, _MAX)
        except OSError as e:
            raise ProtocolError(f"receive failed: {e.strerror}") from None
        if not data:
            return None, ""
        return data[:1], data[1:].decode("utf-8", "replace")

    def expect(self, tag):
        got, payload = self.recv()
        if got == tag:
            return payload
        if got == ERROR:
            raise ProtocolError(payload)
        if got is None:
            raise ProtocolError(f"peer exited before {_NAMES[tag]}")
        raise ProtocolError(f"expected {_NAMES[tag]}, got {_NAMES.get(got, got)}")

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
