"""Cgroup managers: one interface, one backend per kind of host.

    layout.manager_for(config, container_id, globals) -> Manager   (create/run)
    load(state_dict) -> Manager                                     (every later command)

A Manager is made before the init is forked and does, in lifecycle order:

    create()            make the directories, apply linux.resources (before the
                        init exists, so it starts already limited)
    birth_dir()         the cgroup v2 directory a new process can be forked into
    join_self()         in the forked child, before anything else: move the
                        calling process into every other hierarchy
                        (Placement does both, for the init and exec's child;
                        join_targets() says where, for `plan` too)
    pids()              every process in the container's cgroup (None: unknown)
    freeze() / thaw() / frozen()
    apply(res, update)  `update`: write changed linux.resources values
    stats()             `events`: runc's stats object
    destroy()           `delete`: remove the directories it made, deepest first
    to_state() / load() recorded in the state file, so start/kill/delete/exec
                        recover the manager without the bundle or the flags

Backends: v1.py (cgroup v1), hybrid.py (v1 + the cgroup2 "unified" mount, where
runc also puts the container and where v2-only controllers such as hugetlb
live), v2.py (pure cgroup2), disabled.py (`--cgroup-manager disabled`, or no
cgroup mounts at all), systemd.py (`--systemd-cgroup`).

Which hierarchies the host has and where a new container's cgroup goes in
each is layout.py's business, needed only by create (and `plan`).

Hot path (create, start, kill, delete, state): this package and its backends
import only pyrunc.lean_os and errno; only create loads layout.py.
"""

import errno

from pyrunc import lean_os as os
from pyrunc.errors import RuntimeFailure

V1, HYBRID, V2, DISABLED = "v1", "hybrid", "v2", "disabled"


class CgroupError(RuntimeFailure):
    """A cgroup operation failed; the message names the file or the resource.
    `errno` is the kernel's answer when one was involved (0 otherwise)."""

    def __init__(self, message, err=0):
        super().__init__(message)
        self.errno = err


# -- small file helpers (shared by the backends) --------------------------------

def read_file(path):
    """The file's content without the trailing newline ("" if empty)."""
    return os.read_bytes(path).decode("utf-8", "replace").rstrip("\n")


def read_int(path, unlimited=None):
    """An integer file; "max" reads as `unlimited`."""
    text = read_file(path).strip()
    if text == "max":
        return unlimited
    return int(text)


def write_file(directory, name, value):
    """Write one value into a cgroup file, with runc's error texts:
    `failed to write "100": openat2 /…/cpu.shares: no such file or directory`."""
    with FileWriter(directory) as files:
        files.write(name, value)


class FileWriter:
    """Writes values into cgroup files of one directory, opening each file once:
    one value per write(2), as files such as devices.allow take one rule per write.
    A context manager; closes what it opened. Error texts as runc's (write_file)."""

    __slots__ = ("directory", "fds")

    def __init__(self, directory):
        self.directory = directory
        self.fds = {}

    def write(self, name, value):
        path = self.directory + "/" + name
        data = str(value)
        fd = self.fds.get(name)
        if fd is None:
            try:
                fd = self.fds[name] = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
            except OSError as e:
                raise CgroupError(f'failed to write "{data}": openat2 {path}: {_reason(e)}',
                                  e.errno) from None
        try:
            os.write(fd, data.encode())
        except OSError as e:
            raise CgroupError(f'failed to write "{data}": write {path}: {_reason(e)}', e.errno) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def _reason(e):
    return (e.strerror or str(e)).lower() if isinstance(e, OSError) else str(e)


def clean_path(path):
    """runc's CleanPath: a relative path is cleaned as if rooted at "/", so ".."
    can never climb above the directory it is joined to."""
    if not path:
        return ""
    if path.startswith("/"):
        return os.path.normpath(path).replace("//", "/")
    cleaned = os.path.normpath("/" + path).lstrip("/")
    return cleaned or "."


def join(base, inner):
    """base + inner (inner relative or ".")."""
    if inner in ("", "."):
        return base
    return base.rstrip("/") + "/" + inner.lstrip("/")


def is_under(path, root):
    """Whether `path` is `root` or below it."""
    return root == "/" or path == root or path.startswith(root.rstrip("/") + "/")


def load(data):
    """The Manager recorded in the state file (`data` = the "cgroup" entry), or a disabled
    one for state written without cgroups."""
    if not data:
        from pyrunc.cgroups.disabled import DisabledManager

        return DisabledManager()
    kind = data.get("kind")
    if kind == V1:
        from pyrunc.cgroups.v1 import V1Manager as cls
    elif kind == HYBRID:
        from pyrunc.cgroups.hybrid import HybridManager as cls
    elif kind == V2:
        from pyrunc.cgroups.v2 import V2Manager as cls
    else:
        from pyrunc.cgroups.disabled import DisabledManager as cls
    return cls.from_state(data)


def remove(data):
    """`delete`: remove the cgroups create recorded in the state file. Every backend
    removes them the same way, so no backend module is loaded for it."""
    Manager.from_state(data or {}).destroy()


def parse_exec_cgroups(args):
    """`exec --cgroup [CTRL[,CTRL]:]PATH` (repeatable) as {controller or "": path},
    with runc's checks."""
    if not args:
        return None
    paths = {}
    for arg in args:
        parts = arg.split(":", 2)
        if len(parts) > 2:
            raise RuntimeFailure(f"invalid --cgroup argument: {arg}")
        if len(parts) == 1:
            if len(args) != 1:
                raise RuntimeFailure(f"invalid --cgroup argument: {arg} (missing <controller>: prefix)")
            paths[""] = arg
            continue
        for ctrl in parts[0].split(","):
            if not ctrl:
                raise RuntimeFailure(f"invalid --cgroup argument: {arg} (empty <controller> prefix)")
            if ctrl in paths:
                raise RuntimeFailure(f"invalid --cgroup argument(s): controller {ctrl} specified multiple times")
            paths[ctrl] = parts[1]
    return paths


class Placement:
    """How a new process of the container gets into its cgroups.

    Moving a process by writing its pid to cgroup.procs takes the kernel's
    threadgroup lock for writing, which waits for an RCU grace period: 7-15 ms
    on this kind of host, per container, longer than all of pyrunc's own setup.
    So the process is never moved that way when it can be avoided:

    - where the manager has a cgroup v2 directory (pure v2, and the "unified"
      one of hybrid hosts), the process is born in it (clone3 CLONE_INTO_CGROUP);
    - in each v1 hierarchy the child moves itself as a single thread (manager.
      join_self), which skips that lock.

    Each falls back to the slow way where the kernel refuses (an old kernel, a
    cgroup that cannot take processes), so it never changes where a process ends up.
    """

    __slots__ = ("manager", "sub", "init_pid", "born_in")

    def __init__(self, manager, sub=None, init_pid=0):
        self.manager = manager
        self.sub = sub
        self.init_pid = init_pid
        self.born_in = None

    def fork(self, sys):
        """os.fork(), the child born in the manager's cgroup v2 directory if it has one."""
        directory = self.manager.birth_dir(self.sub) if self.manager.enabled else None
        if directory is not None and _single_threaded():
            from pyrunc import log

            try:
                pid = sys.fork_into_cgroup(directory)
            except OSError as e:
                log.debug(f"clone3 into {directory}: {_reason(e)}; the child joins after fork")
            else:
                self.born_in = directory
                if pid:
                    log.debug(f"forked into cgroup {directory}")
                return pid
        return os.fork()

    def join(self):
        """In the child, before it joins or makes any namespace: the other hierarchies."""
        self.manager.join_self(self.sub, self.init_pid, self.born_in)


def _single_threaded():
    """clone3 skips what glibc's fork() does for threads (atfork handlers, resetting
    malloc locks); that is safe only with one thread. pyrunc starts none; this
    guards against a future change, and the caller then gets a plain fork."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def exec_placement(data, cgroup_args=(), init_pid=0):
    """For `exec`: the Placement in the container's cgroups (the manager from its
    state file's "cgroup" entry), or in its `--cgroup` sub-cgroups, checked now (in
    the runtime, so errors need no round trip). On v2, if the container made its
    top cgroup unusable (domain controllers enabled after moving its init below
    it) the child falls back to the init's cgroup, as runc does."""
    manager = Manager.from_state(data or {})  # placement needs no backend (see Manager)
    sub = parse_exec_cgroups(list(cgroup_args or ()))
    if sub:
        if not manager.enabled:
            raise RuntimeFailure("--cgroup: the container has no cgroups (cgroup manager disabled)")
        manager.check_sub(sub)
    return Placement(manager, sub, init_pid)


def sub_path(base, sub):
    """base joined with an exec --cgroup path, which must stay inside base."""
    target = os.path.normpath(join(base, sub.lstrip("/")) if sub not in ("", "/") else base)
    if target != base and not target.startswith(base.rstrip("/") + "/"):
        raise RuntimeFailure(f"invalid --cgroup argument: {sub} is not a sub cgroup path")
    return target


# -- the interface ------------------------------------------------------------------

class Manager:
    """What every backend provides (the disabled one does nothing)."""

    kind = ""
    __slots__ = ("paths", "mounts", "created", "resources", "device_nodes", "rootless", "protected")

    def __init__(self, paths=None, mounts=None, created=None, resources=None):
        self.paths = paths or {}
        self.mounts = mounts or {}
        self.created = list(created or ())
        self.resources = resources
        self.device_nodes = []
        self.rootless = False
        self.protected = ()

    # -- the state file ------------------------------------------------------
    def to_state(self):
        d = {"kind": self.kind, "paths": self.paths, "mounts": self.mounts, "created": self.created}
        if self.resources:
            d["resources"] = self.resources
        return d

    @classmethod
    def from_state(cls, data):
        return cls(data.get("paths"), data.get("mounts"), data.get("created"), data.get("resources"))

    # -- queries -----------------------------------------------------------------
    @property
    def enabled(self):
        return bool(self.paths)

    def freezer_state_file(self):
        """The file state.py reads to tell "paused" ("FROZEN" or "1" = frozen), or None."""
        return None

    def exists(self):
        return any(os.path.isdir(p) for p in self.paths.values())

    def pids(self):
        return None

    def mount_binds(self):
        """[(name, host dir)] for a "cgroup" mount inside the container (v1 views), or None."""
        return None

    # -- changes -----------------------------------------------------------------
    def create(self):
        """Make the container's cgroups and apply linux.resources (all at once)."""

    # `create` does the same in two parts around the fork of the init: a v1 host
    # has a directory to make in each of about ten hierarchies, and that
    # millisecond of mkdirs and limit writes then overlaps the init making its
    # namespaces. The init joins the cgroups only when the runtime says they are
    # ready (sync.CGROUPS), so what it runs in is unchanged; what does change is
    # that the kernel memory of its new namespaces is charged to the runtime's
    # cgroup, as with crun, which makes namespaces before moving its child.
    def defers_creation(self):
        """Whether create_late() has anything left to do after create_early()."""
        return False

    def create_early(self):
        """Before the init is forked: at least what it is born into (birth_dir());
        everything unless defers_creation()."""
        self.create()

    def create_late(self):
        """After the fork, while the init makes its namespaces: the rest. On failure
        nothing is removed here: the caller kills the init (which may already be in
        a directory made early), then calls destroy()."""

    # -- placing a new process ------------------------------------------------------
    # The same for every backend, from the recorded paths alone: key "" is a cgroup2
    # directory (pure v2, or the "unified" one of a hybrid host), every other key a
    # v1 hierarchy. So `exec` places its process without loading a backend.
    def birth_dir(self, sub=None):
        """The cgroup2 directory a new process should be born in, or None."""
        return self._join_paths(sub).get("")

    def join_targets(self, sub=None, born_in=None):
        """[(cgroup directory, file)] join_self() writes "0" into, in order: every
        hierarchy, and the cgroup2 one unless the process was born there.

        A v1 hierarchy gets "0" in `tasks`, not in cgroup.procs: a thread moving
        itself alone skips the threadgroup lock (see Placement), and as the caller
        is a freshly forked child, its only thread, the whole process moves. cgroup2
        moves no thread alone out of its domain: it needs cgroup.procs."""
        targets = []
        for key, path in self._join_paths(sub).items():
            if key != "":
                targets.append((path, "tasks"))
            elif path != born_in:
                targets.append((path, "cgroup.procs"))
        return targets

    def join_self(self, sub=None, init_pid=0, born_in=None):
        """Move the calling, single-threaded process into the container's cgroups
        (or exec --cgroup sub-cgroups), except the one it was born in.

        If the container moved its init into a sub-cgroup and enabled a domain
        controller, its cgroup2 directory takes no processes any more (EBUSY, "no
        internal processes"); as runc does, the process then goes to the init's
        cgroup, unless --cgroup named a target explicitly."""
        for path, name in self.join_targets(sub, born_in):
            try:
                move_self(path, name)
            except CgroupError as e:
                if name == "tasks":
                    # Whatever went wrong, cgroup.procs is the canonical way and
                    # gives the error users and runc's tests expect.
                    move_self(path)
                    continue
                if sub or e.errno != errno.EBUSY or not init_pid:
                    raise
                fallback = self._cgroup2_of(init_pid)
                if fallback is None or fallback == path:
                    raise
                move_self(fallback)

    def check_sub(self, sub):
        """Raise if exec --cgroup names an unknown controller or leaves the container."""
        self._join_paths(sub)

    def _join_paths(self, sub):
        """The recorded paths, or with exec --cgroup {controller or "": path} the
        sub-cgroups it names below them."""
        if not sub:
            return self.paths
        if list(self.paths) == [""] and set(sub) - {""}:
            raise RuntimeFailure(f"unknown controller {sorted(set(sub) - {''})[0]} in --cgroup "
                                 "(cgroup v2 takes a path without a controller)")
        if "" in sub and len(sub) == 1:
            return {k: sub_path(p, sub[""]) for k, p in self.paths.items()}
        paths = dict(self.paths)
        for ctrl, rel in sub.items():
            keys = [k for k in self.paths if k and ctrl in k.split(",")]
            if not keys:
                raise RuntimeFailure(f"unknown controller {ctrl} in --cgroup")
            for k in keys:
                paths[k] = sub_path(self.paths[k], rel)
        return paths

    def _cgroup2_of(self, pid):
        """The cgroup2 directory of process `pid` if it is inside the container's, else None."""
        d = self.paths.get("")
        mount = self.mounts.get("")
        if d is None or mount is None:
            return None
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                text = f.read()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("0::"):
                candidate = mount.rstrip("/") + line[3:]
                if candidate == d or candidate.startswith(d + "/"):
                    return candidate
        return None

    def apply(self, resources, update=False):
        pass

    def freeze(self):
        raise CgroupError("cannot pause: the container has no freezer cgroup")

    def thaw(self):
        raise CgroupError("cannot resume: the container has no freezer cgroup")

    def frozen(self):
        return False

    def stats(self):
        return None

    def destroy(self):
        """Remove the directories create() made (nothing else); warn about what stays.
        It needs only what the state file recorded, so `delete` runs it on this base
        class without loading the backend (see remove())."""
        problems = self._remove_created()
        if problems:
            from pyrunc import log

            log.warning("unable to remove cgroup paths: " + ", ".join(problems))

    # -- shared helpers for the filesystem backends ------------------------------
    def check_protected(self, resources):
        """Refuse to put limits on a cgroup that is not the container's own."""
        if not resources:
            return
        for path in self.paths.values():
            if path in self.protected and path not in self.created:
                raise CgroupError(f"refusing to apply linux.resources to {path}: cgroupsPath resolves to "
                                  "the runtime's own cgroup or a hierarchy root")

    def _make_dirs(self, path, mount):
        """mkdir -p below `mount`, recording each directory this call made; returns
        them. mkdir comes first: in the usual case, only the leaf missing, that is
        the one call. Never creates `mount` itself or anything outside it."""
        if path == mount:
            return []
        if not is_under(path, mount):
            raise CgroupError(f"cgroup path {path} is outside the cgroup mount {mount}")
        made = []
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            return made  # there before, or made by someone else meanwhile: not ours
        except FileNotFoundError:
            made = self._make_dirs(os.dirname(path), mount)
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                return made
            except OSError as e:
                raise _mkdir_error(path, e) from None
        except OSError as e:
            raise _mkdir_error(path, e) from None
        self.created.append(path)
        made.append(path)
        return made

    def adopt_shared_leaves(self):
        """A leaf that already holds processes is another container's cgroup being
        shared (runc warns "container's cgroup is not empty"). Both containers own
        it then, so whichever is deleted last removes it; an EMPTY pre-existing
        leaf was made by someone else and is never removed."""
        for path in self.paths.values():
            if path not in self.created and procs_of(path, recursive=False):
                self.created.append(path)

    def _remove_created(self):
        """rmdir what create() made, deepest first. A leaf may hold sub-cgroups the
        container made (runc removes those too); an intermediate directory another
        container still uses is left alone, as is a leaf other processes are in."""
        problems = []
        leaves = set(self.paths.values())
        wait = 0.5  # spent once: the first leaf shows whether others are in use
        for d in sorted(set(self.created), key=len, reverse=True):
            if d in leaves:
                # The common case first: an empty leaf goes with one rmdir. The
                # kernel refuses (EBUSY) one with processes or sub-cgroups.
                if _rmdir(d, retries=0) == 0:
                    continue
                if _still_in_use(d, wait):
                    wait = 0.0
                    continue  # a shared cgroup: its last user removes it
                err = remove_tree(d)
            else:
                err = _rmdir(d, retries=0)
                if err in (errno.EBUSY, errno.ENOTEMPTY):
                    err = 0
            if err:
                problems.append(f"{d}: {os.strerror(err).lower()}")
        self.created = []
        return problems


def _rmdir(path, retries=6):
    """0 on success (or already gone), else the errno. EBUSY right after the last
    process exited is retried with a short backoff (runc: 5 tries from 10 ms)."""
    delay = 0.01
    while True:
        try:
            os.rmdir(path)
            return 0
        except FileNotFoundError:
            return 0
        except OSError as e:
            if e.errno != errno.EBUSY or retries <= 0:
                return e.errno
            if procs_of(path, recursive=False):
                return e.errno  # live processes: waiting will not help
        retries -= 1
        import time

        time.sleep(delay)
        delay *= 2


def _still_in_use(path, wait=0.5):
    """Whether processes stay in path's cgroup: killed ones may need a moment to
    leave it, so only those still there after `wait` seconds count."""
    import time

    deadline = time.monotonic() + wait
    while procs_of(path):
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.01)
    return False


def _mkdir_error(path, e):
    return CgroupError(f"unable to apply cgroup configuration: mkdir {path}: {_reason(e)}", e.errno)


def remove_tree(path):
    """Remove a cgroup directory and its sub-cgroups (cgroupfs rmdir removes the
    control files; only directories need walking), deepest first. rmdir comes
    first: a leaf, the usual case, needs no listing of its many control files."""
    err = _rmdir(path, retries=0)
    if err not in (errno.EBUSY, errno.ENOTEMPTY):
        return err
    try:
        entries = os.scandir(path)
    except FileNotFoundError:
        return 0
    except OSError as e:
        return e.errno
    with entries:
        subdirs = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    for sub in subdirs:
        err = remove_tree(sub)
        if err:
            return err
    return _rmdir(path)


def procs_of(path, recursive=True):
    """The pids in cgroup.procs of path (and of its sub-cgroups)."""
    out = []
    try:
        text = read_file(path + "/cgroup.procs")
    except FileNotFoundError:
        return out
    except OSError as e:
        # cgroup v2 (cgroup-v2.rst): "in a threaded cgroup, reading this file fails
        # with EOPNOTSUPP as all the processes belong to the thread root", whose
        # cgroup.procs lists them. Its own sub-cgroups are still walked.
        if e.errno != errno.EOPNOTSUPP:
            raise
        text = ""
    out.extend(int(x) for x in text.split())
    if recursive:
        try:
            entries = os.scandir(path)
        except OSError:
            return out
        with entries:
            subdirs = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
        for sub in subdirs:
            out.extend(procs_of(sub))
    return out


def move_self(path, name="cgroup.procs"):
    """Move the calling process into path's cgroup by writing "0" to `name`
    (runc's error text on failure)."""
    try:
        write_file(path, name, 0)
    except CgroupError as e:
        # The pid as the host sees it (the caller may be in a pid namespace already).
        raise CgroupError(f"adding pid {_host_pid()} to cgroups: {e.message}", e.errno) from None


def _host_pid():
    try:
        return int(os.readlink("/proc/self"))
    except (OSError, ValueError):
        return os.getpid()


def has_limits(resources):
    """Whether linux.resources asks for anything beyond device rules."""
    if not resources:
        return False
    return any(v for k, v in resources.items() if k != "devices")


# The keys of LinuxResources as Go spells them: encoding/json matches field names
# case-insensitively, so runc accepts {"CPU": {"Cpus": "1"}} from `update -r` too.
_RESOURCE_KEYS = {
    "": ("devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "rdma", "unified"),
    "memory": ("limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
               "useHierarchy", "checkBeforeUpdate"),
    "cpu": ("shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems", "idle"),
    "pids": ("limit",),
    "blockIO": ("weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                "throttleReadIOPSDevice", "throttleWriteIOPSDevice"),
}


def canonical_keys(resources):
    """A copy of a LinuxResources dict with keys spelled as the spec does (see above)."""
    if not isinstance(resources, dict):
        return resources
    return _canon(resources, "")


def _canon(d, section):
    names = {k.lower(): k for k in _RESOURCE_KEYS.get(section, ())}
    out = {}
    for k, v in d.items():
        key = names.get(k.lower(), k) if names else k
        if key in _RESOURCE_KEYS and isinstance(v, dict) and key != "":
            v = _canon(v, key)
        out[key] = v
    return out
