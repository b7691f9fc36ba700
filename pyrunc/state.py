"""Container state on disk: ROOT/ID/state, the exec FIFO, locking, status.

Layout of one container directory (mode 0700, under a 0700 root):

    ROOT/ID/state        what create recorded (written to a temp file, then renamed)
    ROOT/ID/exec.fifo    exists from create until start; the init waits on it
    ROOT/ID/seccomp      the container's compiled seccomp filter, if it has one

The state file is the runtime's own record, read by every later command, so it
is kept in `marshal` format: that serialiser is built into the interpreter and
already loaded at start-up, while a JSON reader would load `_json`, a shared
library costing about 0.3 ms, a third of what `state` or `kill` may spend on
top of the interpreter. What the file holds is plain data (dicts, lists, str,
int, bool, None). Only pyrunc writes it, in a directory only the runtime's
user can enter (mode 0700), which is what makes unmarshalling it safe. `pyrunc state ID` shows the
runtime-spec state; to read the whole record:

    python3 -c 'import marshal, pprint, sys; pprint.pprint(marshal.load(open(sys.argv[1], "rb")))' ROOT/ID/state

The directory is created with mkdir(2), which is atomic: of two racing creates of
one ID exactly one succeeds. Commands that change a container hold flock(2) on
its directory.
"""

import marshal
import time

from pyrunc import lean_os as os
from pyrunc.errors import RuntimeFailure

STATE_FILE = "state"
_OLD_STATE_FILE = "state.json"  # before marshal (see _load_json_state)
# marshal's format 4 (Python 3.4 on); every later interpreter reads it.
_MARSHAL_VERSION = 4
EXEC_FIFO = "exec.fifo"
START_ERROR = "start.err"   # a failed startContainer hook, told by the init to `start`
FILTER_FILE = "seccomp"     # the compiled seccomp filter (seccomp.Program.to_wire), for `exec`

CREATING, CREATED, RUNNING, PAUSED, STOPPED = "creating", "created", "running", "paused", "stopped"

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-")


def run_state(inv):
    """`state ID` (the command table names this as its handler): the runtime-spec
    state as pretty JSON, 2-space indent, no trailing newline, as runc prints it."""
    from pyrunc import jsonio

    c = Container.load(inv.globals.root, inv.args[0])
    os.write(1, jsonio.dumps(c.oci_state(), "  ").encode())
    return 0


def validate_id(container_id):
    """runc's rule: non-empty, only [A-Za-z0-9_+.-], and not "." or ".."."""
    if container_id == "":
        raise RuntimeFailure("container id cannot be empty")
    if not _ID_CHARS.issuperset(container_id) or container_id in (".", ".."):
        raise RuntimeFailure("invalid container ID format")


def rfc3339_nano(ns):
    """UTC RFC 3339 with nanoseconds, trailing zeros trimmed (Go's time.RFC3339Nano)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        base += ("." + "%09d" % frac).rstrip("0")
    return base + "Z"


def namespace_id(pid, ns_type):
    """The /proc/PID/ns link of a process ("mnt:[4026531841]"), "" if it is gone."""
    try:
        return os.readlink("/proc/%d/ns/%s" % (pid, ns_type))
    except OSError:
        return ""


def process_start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks since boot), or None if there is no such
    process or it is a zombie. Comparing it with the value recorded at create tells a
    live init from a dead one whose pid was reused."""
    try:
        data = os.read_bytes("/proc/%d/stat" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class Container:
    """One container's directory and recorded state."""

    __slots__ = ("root", "id", "dir", "data", "_lock_fd")

    def __init__(self, root, container_id, data=None):
        self.root = root
        self.id = container_id
        self.dir = os.path.join(root, container_id)
        self.data = data
        self._lock_fd = None

    # -- loading and saving -------------------------------------------------
    @classmethod
    def load(cls, root, container_id):
        validate_id(container_id)
        c = cls(root, container_id)
        try:
            raw = os.read_bytes(os.path.join(c.dir, STATE_FILE))
        except (FileNotFoundError, NotADirectoryError):
            data = _load_json_state(c.dir)
        else:
            try:
                data = marshal.loads(raw)
            except (EOFError, ValueError, TypeError) as e:
                data = e
        if not isinstance(data, dict):
            reason = data if isinstance(data, Exception) else f"holds a {type(data).__name__}"
            raise RuntimeFailure(f"container {container_id}: state file is corrupt: {reason}")
        c.data = data
        return c

    @classmethod
    def claim(cls, root, container_id):
        """Create the container's directory; fails if the ID is taken (atomic)."""
        validate_id(container_id)
        make_root(root)
        c = cls(root, container_id)
        try:
            os.mkdir(c.dir, 0o700)
        except FileExistsError:
            raise RuntimeFailure("container with given ID already exists") from None
        return c

    def save(self):
        tmp = os.path.join(self.dir, "." + STATE_FILE)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, marshal.dumps(self.data, _MARSHAL_VERSION))
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(self.dir, STATE_FILE))

    def remove(self):
        """Remove the directory and everything in it (flat: pyrunc puts no subdirectories here)."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return
        for name in names:
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.dir)
        except FileNotFoundError:
            pass

    def lock(self):
        """Exclusive flock on the container directory, held until the process exits or unlock()."""
        import fcntl  # not for `state`, which never locks

        fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd = fd

    def unlock(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- status -------------------------------------------------------------
    @property
    def pid(self):
        return self.data.get("pid", 0)

    @property
    def fifo_path(self):
        return os.path.join(self.dir, EXEC_FIFO)

    def wake_init(self):
        """The init waits reading the exec FIFO; one byte lets it exec the process."""
        try:
            fd = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            raise RuntimeFailure("cannot start a container that has stopped") from None
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
        os.unlink(self.fifo_path)

    def init_alive(self):
        pid = self.pid
        if pid <= 0:
            return False
        return process_start_time(pid) == self.data.get("init_start_time")

    def status(self):
        """runtime-spec: "stopped: the container process has exited"; "created": create
        finished and the user program has not been started; otherwise running."""
        if not self.init_alive():
            return STOPPED
        # Frozen wins over created, as in runc (a created
        # container can be paused, and resume returns it to created).
        if self._frozen():
            return PAUSED
        if os.path.exists(self.fifo_path):
            return CREATED
        return RUNNING

    def _frozen(self):
        freezer = self.data.get("freezer_state_file")
        if not freezer:
            return False
        try:
            return os.read_bytes(freezer).strip() in (b"FROZEN", b"1")
        except OSError:
            return False

    def oci_state(self, status=None, owner=""):
        """The runtime-spec state object, keys in runc's order; pid 0 once stopped."""
        status = status or self.status()
        d = self.data
        out = {
            "ociVersion": d.get("ociVersion", ""),
            "id": self.id,
            "pid": 0 if status == STOPPED else d.get("pid", 0),
            "status": status,
            "bundle": d.get("bundle", ""),
            "rootfs": d.get("rootfs", ""),
            "created": d.get("created", ""),
        }
        if d.get("annotations"):
            out["annotations"] = d["annotations"]
        out["owner"] = owner
        return out


def _load_json_state(directory):
    """A container created by pyrunc 0.1.0 before the state file became marshal
    data kept its state in state.json; such containers can still be managed.
    Returns what the file holds, or the parse error."""
    try:
        with open(os.path.join(directory, _OLD_STATE_FILE), "rb") as f:
            raw = f.read()
    except (FileNotFoundError, NotADirectoryError):
        raise RuntimeFailure("container does not exist") from None
    from pyrunc import jsonio  # only now: a missing container is the common case

    try:
        return jsonio.loads(raw)
    except ValueError as e:
        return e


def make_root(root):
    try:
        os.makedirs(root, 0o700, exist_ok=True)
    except OSError as e:
        raise RuntimeFailure(f"cannot create state directory {root}: {e.strerror.lower()}") from None


def list_ids(root):
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.isdir(os.path.join(root, n)))


def write_pid_file(path, pid):
    """Engines read this with a strict atoi: digits, no newline. Temp file + rename so a
    reader never sees a partial file."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, "." + name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)
