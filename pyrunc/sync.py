"""The parent <-> init setup protocol.

`create` forks the container's init (no re-exec: the init is a copy of the
runtime). The two talk over one SOCK_SEQPACKET socketpair; each message is one
packet: a one-byte tag, then an optional payload (UTF-8 text; bytes for SECCOMP).

    parent (pyrunc create)                     init (child, becomes pid 1)
    ----------------------                     ---------------------------
    make the v1 cgroups, apply limits          join/make namespaces (not cgroup)
                          --- CGROUPS ------>  (only when the parent made some
                                               after the fork: Manager.create_late)
    compile linux.seccomp                      join the cgroups, cgroup namespace,
                                               mounts, /dev
                          <-- HOOKS ---------  "run prestart + createRuntime now"
    run prestart, createRuntime hooks          (only when there are hooks or a
    (state: creating, pid = init)              seccomp agent: stops_at_hooks_point)
                          --- HOOKS_DONE --->
                          --- SECCOMP ------>  (only with a filter; read where it
                                               is loaded, late in the setup)
                                               createContainer hooks, pivot_root,
                                               masked/readonly paths, identity,
                                               capabilities, cwd, fds
                          <-- READY ---------  parked on the exec FIFO
    write the state file, --pid-file; exit 0
                                   ...
    `start` writes the FIFO  --------------->  startContainer hooks, execve

(`run`, when no startContainer or poststart hook has to run in between, gives the
init no exec FIFO: it execs its process right after READY.)

The init is born in its cgroup v2 directory (if any) and moves itself into the
v1 hierarchies (cgroups.Placement) once they exist: on v1 and hybrid hosts the
parent makes them while the init makes its namespaces, then sends CGROUPS.

The parent compiles the seccomp filter while the init makes its namespaces and
mounts: for an engine's default profile that is a few milliseconds, which would
otherwise sit on the init's path. SECCOMP carries the program
(seccomp.Program.to_wire); a profile that does not compile fails the create
before READY, and everything is removed as for any other failure.

HOOKS_DONE carries the init's host pid, for the state given to the hooks the init
runs itself (createContainer, startContainer). At any point the init may send WARN
(logged by the parent), or ERROR with a message for the user and exit;
the parent then reports it and removes everything. If the parent dies, the
init reads EOF and exits (it also has PR_SET_PDEATHSIG until READY).
"""

from pyrunc import lean_os as os

CGROUPS = b"C"      # parent -> init: the cgroups made after the fork are ready to join
SECCOMP = b"S"      # parent -> init: payload = the compiled seccomp filter (bytes)
HOOKS = b"H"        # init -> parent: mounts done, run prestart/createRuntime hooks
HOOKS_DONE = b"D"   # parent -> init: hooks succeeded, continue
READY = b"R"        # init -> parent: setup finished, waiting for start
ERROR = b"E"        # init -> parent: payload = message for the user; init exits
WARN = b"W"         # init -> parent: payload = a warning for the log; setup goes on
DEBUG = b"G"        # init -> parent: payload = a debug line (sent only with --debug)

_NAMES = {CGROUPS: "CGROUPS", SECCOMP: "SECCOMP", HOOKS: "HOOKS", HOOKS_DONE: "HOOKS_DONE", READY: "READY", ERROR: "ERROR", WARN: "WARN",
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
        """One message; `payload` is text (cut to fit), or bytes sent whole."""
        if isinstance(payload, bytes):
            if len(payload) >= _MAX:  # a seccomp filter: at most 4096 instructions of 8 bytes
                raise ProtocolError(f"{_NAMES[tag]} payload too large ({len(payload)} bytes)")
        else:
            payload = payload.encode("utf-8", "replace")[: _MAX - 1]
        try:
            os.write(self.fd, tag + payload)
        except OSError as e:
            raise ProtocolError(f"peer gone while sending {_NAMES[tag]}: {e.strerror}") from None

    def recv(self, raw=False):
        """(tag, payload); (None, "") on EOF. The payload is text, or bytes when `raw`."""
        try:
            data = os.read(self.fd, _MAX)
        except OSError as e:
            raise ProtocolError(f"receive failed: {e.strerror}") from None
        if not data:
            return None, ""
        if raw:
            return data[:1], data[1:]
        return data[:1], data[1:].decode("utf-8", "replace")

    def expect(self, tag, raw=False):
        got, payload = self.recv(raw)
        if got == tag:
            return payload
        if raw and isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        if got == ERROR:
            raise ProtocolError(payload)
        if got is None:
            raise ProtocolError(f"peer exited before {_NAMES[tag]}")
        raise ProtocolError(f"expected {_NAMES[tag]}, got {_NAMES.get(got, got)}")

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
