"""The host's cgroup layout, and the Manager a new container gets on it.

Where a container's cgroup goes (runc's rules, kept because engines and tests
look there):
  - absolute cgroupsPath: from the root of each hierarchy;
  - relative cgroupsPath: under the runtime's own cgroup of each hierarchy, as
    /proc/self/cgroup says (pure v2: under its parent, as runc does, because a
    cgroup with processes cannot enable controllers for its children);
  - no cgroupsPath: relative, named after the container ID.

Only hierarchies that really are cgroup mounts (from /proc/self/mountinfo) are
used: on this host kind /sys/fs/cgroup is a writable tmpfs, and a mkdir there
for an unmounted controller would "succeed" and create a plain directory.

Only create (and `plan`) need this; every later command recovers its Manager
from the state file (pyrunc.cgroups.load).
"""

from pyrunc import lean_os as os
from pyrunc.cgroups import DISABLED, HYBRID, V1, V2, clean_path, is_under, join

# Mount options of v1 cgroup mounts that are not controller names.
_NOT_CONTROLLERS = frozenset(("rw", "ro", "xattr", "noprefix", "clone_children", "none",
                              "cpuset_v2_mode", "nsdelegate", "memory_recursiveprot",
                              "memory_localevents", "favordynmods", "relatime"))

# runc's systemd check: systemd creates this directory when it is PID 1.
_SYSTEMD_RUNNING_DIR = "/run/systemd/system"


class Hierarchy:
    """One cgroup mount: `controllers` (tuple; () for cgroup2), where it is mounted,
    and which cgroup of the hierarchy its mountpoint shows (`root`)."""

    __slots__ = ("controllers", "mountpoint", "root", "key")

    def __init__(self, controllers, mountpoint, root):
        self.controllers = controllers
        self.mountpoint = mountpoint
        self.root = root
        # The name runc uses in its path maps and that /proc/self/cgroup shows:
        # "cpu,cpuacct", "name=systemd"; "" for the cgroup2 hierarchy.
        self.key = ",".join(controllers)

    def __repr__(self):
        return f"Hierarchy({self.key!r}, {self.mountpoint!r}, {self.root!r})"


class Layout:
    """The cgroup mounts of this host: v1 hierarchies and the cgroup2 one (if any)."""

    __slots__ = ("v1", "unified")

    def __init__(self, v1, unified):
        self.v1 = v1
        self.unified = unified

    @property
    def mode(self):
        if self.v1:
            return HYBRID if self.unified is not None else V1
        return V2 if self.unified is not None else DISABLED


def parse_mountinfo(text, own=None):
    """The Layout described by a /proc/PID/mountinfo text.

    A hierarchy mounted more than once (bind mounts) is used through the mount
    whose root holds the runtime's own cgroup (`own`, from parse_proc_cgroup),
    else the first one.
    """
    from pyrunc import mountinfo

    v1 = {}
    unified = None
    for root, point, fstype, super_opts in mountinfo.entries(text, ("cgroup",)):
        if fstype != "cgroup" and fstype != "cgroup2":
            continue
        if fstype == "cgroup2":
            h = Hierarchy((), point, root)
            if unified is None or _better(h, unified, own):
                unified = h
            continue
        ctrls = tuple(o for o in super_opts.split(",")
                      if o and o not in _NOT_CONTROLLERS and not o.startswith("release_agent="))
        if not ctrls:
            continue
        h = Hierarchy(ctrls, point, root)
        old = v1.get(h.key)
        if old is None or _better(h, old, own):
            v1[h.key] = h
    return Layout(list(v1.values()), unified)


def _better(new, old, own):
    if own is None:
        return False
    path = own_path(own, new)
    if path is None:
        return False
    return not is_under(path, old.root) and is_under(path, new.root)


def parse_proc_cgroup(text):
    """/proc/PID/cgroup as {controllers key: path}; the cgroup2 line's key is ""."""
    out = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2]
    return out


def own_path(own, hierarchy):
    """The runtime's own cgroup in `hierarchy` (a path inside the hierarchy)."""
    path = own.get(hierarchy.key)
    if path is None and hierarchy.controllers:
        # Same controllers, maybe listed in another order.
        want = set(hierarchy.controllers)
        for key, p in own.items():
            if key and set(key.split(",")) == want:
                return p
    return path


def host_dir(hierarchy, cgroup_path):
    """The directory of `cgroup_path` (a path inside the hierarchy) on this mount."""
    root = hierarchy.root
    if root != "/" and is_under(cgroup_path, root):
        cgroup_path = cgroup_path[len(root.rstrip("/")):] or "/"
    return join(hierarchy.mountpoint, cgroup_path)


def read_layout():
    """(Layout, own cgroups) of the calling process."""
    from pyrunc import mountinfo
    from pyrunc.cgroups import read_file

    own = parse_proc_cgroup(read_file("/proc/self/cgroup"))
    return parse_mountinfo(mountinfo.read(), own), own


def resolve(hierarchy, own, inner, parent_of_own=False):
    """Where the container's cgroup goes in one hierarchy (see the module docstring).

    `inner` is clean_path()'d; `parent_of_own` selects pure v2's rule for relative
    paths (runc: the runtime's own cgroup most likely has processes, so its parent
    is used)."""
    if inner.startswith("/"):
        return join(hierarchy.mountpoint, inner)
    mine = own_path(own, hierarchy)
    if mine is None:
        return None
    if parent_of_own:
        mine = os.path.dirname(mine.rstrip("/")) or "/"
    return join(host_dir(hierarchy, mine), inner)


def inner_path(config, container_id):
    """cgroupsPath, cleaned; the container ID (relative) when there is none."""
    linux = config.linux
    path = linux.cgroups_path if linux is not None else None
    if not path:
        return container_id
    return clean_path(path)


# -- choosing and recovering a manager ---------------------------------------------

def manager_name(globals_):
    """Which manager the global flags ask for: cgroupfs, systemd or disabled."""
    if globals_ is None:
        return "cgroupfs"
    chosen = getattr(globals_, "cgroup_manager", None)
    if chosen:
        return chosen
    if getattr(globals_, "systemd_cgroup", False):
        return "systemd"
    return "cgroupfs"


def systemd_running():
    """runc's test: systemd is PID 1 when /run/systemd/system is a directory."""
    try:
        return os.path.isdir(_SYSTEMD_RUNNING_DIR)
    except OSError:
        return False


def manager_for(config, container_id, globals_=None, layout=None, own=None):
    """The Manager for a new container (nothing is created yet)."""
    name = manager_name(globals_)
    linux = config.linux
    resources = linux.resources if linux is not None else None
    devices = linux.devices if linux is not None else ()
    if name == "disabled":
        from pyrunc.cgroups.disabled import DisabledManager

        return DisabledManager(resources=resources)
    if layout is None:
        layout, own = read_layout()
    if name == "systemd":
        from pyrunc.cgroups import systemd

        inner = systemd.inner_path(config, container_id)
    else:
        inner = inner_path(config, container_id)
    mode = layout.mode
    if mode == DISABLED:
        from pyrunc.cgroups.disabled import DisabledManager

        return DisabledManager(resources=resources, reason="no cgroup mounts on this host")
    rootless = _rootless(globals_)
    if mode == V2:
        from pyrunc.cgroups.v2 import V2Manager

        path = resolve(layout.unified, own, inner, parent_of_own=True)
        mgr = V2Manager({"": path}, {"": layout.unified.mountpoint}, resources=resources)
    else:
        paths = {}
        mounts = {}
        for h in layout.v1:
            path = resolve(h, own, inner)
            if path is not None:
                paths[h.key] = path
                mounts[h.key] = h.mountpoint
        if mode == HYBRID:
            from pyrunc.cgroups.hybrid import HybridManager as cls

            path = resolve(layout.unified, own, inner)
            if path is not None:
                paths[""] = path
                mounts[""] = layout.unified.mountpoint
        else:
            from pyrunc.cgroups.v1 import V1Manager as cls
        mgr = cls(paths, mounts=mounts, resources=resources)
    mgr.device_nodes = [(d.type, d.major, d.minor) for d in devices or ()]
    mgr.rootless = rootless
    # The caller's own cgroups and the hierarchy roots: a cgroupsPath resolving
    # to one of them ("/", ".") may be joined but must not get the container's
    # limits (on this host kind the caller's memory cgroup belongs to the
    # machine's supervisor).
    protected = set()
    for h in layout.v1 + ([layout.unified] if layout.unified is not None else []):
        protected.add(h.mountpoint)
        mine = own_path(own, h)
        if mine is not None:
            protected.add(host_dir(h, mine))
    mgr.protected = protected
    return mgr


def _rootless(globals_):
    """runc's --rootless: "auto" means "when not root"; it only decides whether
    cgroup permission errors are fatal."""
    value = getattr(globals_, "rootless", "auto") if globals_ is not None else "auto"
    if value == "true":
        return True
    if value == "false":
        return False
    return os.geteuid() != 0
