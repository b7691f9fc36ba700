"""The container's file system: root propagation, config mounts, /dev, masked and
read-only paths, pivot_root.

Threat: the rootfs is attacker-controlled. A path inside it is never joined to the
rootfs path and handed to the kernel (CVE-2021-30465, CVE-2024-45310,
CVE-2025-31133, CVE-2026-41579). Every destination is resolved with
openat2(RESOLVE_IN_ROOT), so symlinks in the image resolve as if the rootfs were
"/"; missing directories are made one component at a time relative to an
already resolved parent; mounts target the resolved descriptor.
"""

import _stat as stat  # the C module stat.py re-exports: no .py to load in the init

from pyrunc import lean_os as os
from pyrunc import flags as F, mountinfo
from pyrunc.errors import RuntimeFailure
from pyrunc.syscalls import Target

# mount options → (flags to set, flags to clear). runtime-spec: "options ... as
# in mount(8)"; the list is runc's, so configs mean the same thing to both.
MOUNT_OPTIONS = {
    "ro": (F.MS_RDONLY, 0), "rw": (0, F.MS_RDONLY),
    "nosuid": (F.MS_NOSUID, 0), "suid": (0, F.MS_NOSUID),
    "nodev": (F.MS_NODEV, 0), "dev": (0, F.MS_NODEV),
    "noexec": (F.MS_NOEXEC, 0), "exec": (0, F.MS_NOEXEC),
    "sync": (F.MS_SYNCHRONOUS, 0), "async": (0, F.MS_SYNCHRONOUS),
    "dirsync": (F.MS_DIRSYNC, 0),
    "remount": (F.MS_REMOUNT, 0),
    "mand": (F.MS_MANDLOCK, 0), "nomand": (0, F.MS_MANDLOCK),
    "noatime": (F.MS_NOATIME, 0), "atime": (0, F.MS_NOATIME),
    "nodiratime": (F.MS_NODIRATIME, 0), "diratime": (0, F.MS_NODIRATIME),
    "relatime": (F.MS_RELATIME, 0), "norelatime": (0, F.MS_RELATIME),
    "strictatime": (F.MS_STRICTATIME, 0), "nostrictatime": (0, F.MS_STRICTATIME),
    "lazytime": (F.MS_LAZYTIME, 0), "nolazytime": (0, F.MS_LAZYTIME),
    "nosymfollow": (F.MS_NOSYMFOLLOW, 0), "symfollow": (0, F.MS_NOSYMFOLLOW),
    "silent": (F.MS_SILENT, 0), "loud": (0, F.MS_SILENT),
    "bind": (F.MS_BIND, 0), "rbind": (F.MS_BIND | F.MS_REC, 0),
}
PROPAGATION_OPTIONS = {
    "private": F.MS_PRIVATE, "rprivate": F.MS_PRIVATE | F.MS_REC,
    "shared": F.MS_SHARED, "rshared": F.MS_SHARED | F.MS_REC,
    "slave": F.MS_SLAVE, "rslave": F.MS_SLAVE | F.MS_REC,
    "unbindable": F.MS_UNBINDABLE, "runbindable": F.MS_UNBINDABLE | F.MS_REC,
}
# Recursive attributes (mount_setattr with AT_RECURSIVE): "rro", "rnosuid", ...
RECURSIVE_ATTRS = {
    "rro": (F.MOUNT_ATTR_RDONLY, 0), "rrw": (0, F.MOUNT_ATTR_RDONLY),
    "rnosuid": (F.MOUNT_ATTR_NOSUID, 0), "rsuid": (0, F.MOUNT_ATTR_NOSUID),
    "rnodev": (F.MOUNT_ATTR_NODEV, 0), "rdev": (0, F.MOUNT_ATTR_NODEV),
    "rnoexec": (F.MOUNT_ATTR_NOEXEC, 0), "rexec": (0, F.MOUNT_ATTR_NOEXEC),
    "rnoatime": (F.MOUNT_ATTR_NOATIME, 0), "rnodiratime": (F.MOUNT_ATTR_NODIRATIME, 0),
    "rnosymfollow": (F.MOUNT_ATTR_NOSYMFOLLOW, 0), "rsymfollow": (0, F.MOUNT_ATTR_NOSYMFOLLOW),
}
# Options that only matter to other tools; accepted and not passed to the kernel.
IGNORED_OPTIONS = frozenset(("tmpcopyup", "idmap", "ridmap", "defaults"))  # idmap: refused earlier

# runtime-spec config-linux.md "Default Devices": "the runtime MUST supply"
# /dev/null, zero, full, random, urandom, tty (and /dev/console, /dev/ptmx).
DEFAULT_DEVICES = (
    ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
    ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
)
# runtime-spec config-linux.md "Default Devices" and runc: the standard links in /dev.
DEFAULT_DEV_LINKS = (
    ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"),
)


class MountOptions:
    """One mount's options split the way the kernel wants them."""

    __slots__ = ("flags", "clear", "propagation", "rec_set", "rec_clr", "data")

    def __init__(self, options):
        self.flags = self.clear = self.propagation = self.rec_set = self.rec_clr = 0
        data = []
        for opt in options:
            if opt in MOUNT_OPTIONS:
                set_bits, clear_bits = MOUNT_OPTIONS[opt]
                self.flags = (self.flags | set_bits) & ~clear_bits
                self.clear = (self.clear | clear_bits) & ~set_bits
            elif opt in PROPAGATION_OPTIONS:
                self.propagation |= PROPAGATION_OPTIONS[opt]
            elif opt in RECURSIVE_ATTRS:
                set_bits, clear_bits = RECURSIVE_ATTRS[opt]
                self.rec_set |= set_bits
                self.rec_clr |= clear_bits
            elif opt not in IGNORED_OPTIONS:
                data.append(opt)
        self.data = ",".join(data)

    def attrs(self):
        """The mount_setattr attributes equivalent to this mount's flags (for binds)."""
        attr_set = attr_clr = 0
        for flag, attr in F.FLAG_TO_ATTR:
            if self.flags & flag:
                attr_set |= attr
            elif self.clear & flag:
                attr_clr |= attr
        if attr_set & F.MOUNT_ATTR__ATIME or attr_clr & F.MOUNT_ATTR__ATIME:
            # atime settings are one field: clearing the field is how one is chosen.
            attr_clr |= F.MOUNT_ATTR__ATIME
        return attr_set, attr_clr


class RootFS:
    """The rootfs directory, opened once; every path below it is resolved through it."""

    __slots__ = ("sys", "host_path", "fd")

    def __init__(self, sys, host_path):
        self.sys = sys
        self.host_path = host_path
        self.fd = None if sys.recording else os.open(
            host_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def resolve(self, path, create=None):
        """Resolve `path` inside the rootfs; with create="dir"/"file", make what is missing."""
        sys = self.sys
        try:
            return sys.open_in_root(self.fd, path, self.host_path)
        except FileNotFoundError:
            if create is None:
                raise
        parent_path, name = os.path.split(os.path.normpath("/" + path.lstrip("/")))
        if not name:
            raise RuntimeFailure(f"cannot create {path} in the rootfs")
        parent = self.resolve(parent_path, "dir")
        try:
            if create == "dir":
                sys.mkdirat(parent, name, 0o755)
            else:
                sys.create_file_at(parent, name, 0o644)
        except FileExistsError:
            pass  # a racing creator or a dangling symlink: the resolve below decides
        finally:
            sys.close(parent)
        return sys.open_in_root(self.fd, path, self.host_path)

    def is_symlink(self, path):
        """lstat of the last component, relative to its resolved parent."""
        parent_path, name = os.path.split(os.path.normpath("/" + path.lstrip("/")))
        if self.sys.recording:
            return os.path.islink(os.path.join(self.host_path, path.lstrip("/")))
        try:
            parent = self.sys.open_in_root(self.fd, parent_path, self.host_path)
        except FileNotFoundError:
            return False
        try:
            st = os.stat(name, dir_fd=parent.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        finally:
            self.sys.close(parent)
        return stat.S_ISLNK(st.st_mode)


def prepare_root(sys, rootfs_path, rootfs_propagation):
    """Stop mount events leaking to the host, then make the rootfs a mount point.

    "/" is made recursively slave (runc's default: host mounts still arrive, nothing
    the container mounts goes back out), or private when rootfsPropagation says so.
    Never shared at this point: pivot_root(2) refuses a shared parent mount or
    put_old, and a shared rootfs bind would carry the setup's mounts elsewhere. A
    "shared" or "unbindable" root is made so after the pivot (set_root_propagation).
    """
    flags = F.MS_PRIVATE if rootfs_propagation == "private" else F.MS_SLAVE
    sys.mount(None, "/", None, flags | F.MS_REC, None)
    sys.mount(rootfs_path, rootfs_path, "bind", F.MS_BIND | F.MS_REC, None)


def set_root_propagation(sys, rootfs_propagation):
    """runtime-spec: rootfsPropagation "sets the rootfs's mount propagation" (shared,
    slave, private or unbindable); the last two need nothing after prepare_root()."""
    if rootfs_propagation in ("shared", "unbindable"):
        sys.mount(None, "/", None, PROPAGATION_OPTIONS[rootfs_propagation], None)


def mount_all(root, mounts, bundle, cgroup_binds):
    """Apply config.json mounts in order. runtime-spec: "The runtime MUST mount entries in the listed order." """
    for m in mounts:
        mount_one(root, m, bundle, cgroup_binds)


def mount_one(root, m, bundle, cgroup_binds):
    sys = root.sys
    opts = MountOptions(m.options)
    dest = m.destination if m.destination.startswith("/") else "/" + m.destination
    is_bind = bool(opts.flags & F.MS_BIND) or m.type == "bind"
    if m.type in ("proc", "sysfs") and root.is_symlink(dest):
        # A symlinked /proc could point the kernel's procfs anywhere in the host.
        raise RuntimeFailure(f"{dest} cannot be mounted because it is not a directory: "
                             "must be mounted on ordinary directory")
    if is_bind:
        source = m.source or ""
        if not source.startswith("/"):
            source = os.path.join(bundle, source)
        try:
            src_is_dir = os.path.isdir(source)
            os.stat(source)
        except OSError as e:
            raise RuntimeFailure(f"mount {source} to {dest}: {e.strerror.lower()}") from None
        target = root.resolve(dest, "dir" if src_is_dir else "file")
        try:
            attr_set, attr_clr = opts.attrs()
            # Plain options (ro, nosuid, ...) apply to the top mount of an rbind, as in
            # runc; the r-prefixed ones (rro, ...) reach every submount.
            sys.bind_tree(source, target, bool(opts.flags & F.MS_REC), attr_set, attr_clr,
                          opts.propagation, recursive_attrs=False)
            if opts.rec_set or opts.rec_clr:
                _apply_recursive_attrs(root, dest, opts)
        finally:
            sys.close(target)
        return
    flags = opts.flags & ~F.MS_REMOUNT
    if os.path.normpath(dest) == "/dev":
        # /dev gets its nodes, links, pts and console first; make_dev_readonly_if_asked
        # applies "ro" at the end (runc does the same).
        flags &= ~F.MS_RDONLY
    target = root.resolve(dest, "dir")
    try:
        if m.type == "cgroup":
            _mount_cgroup_v1_view(root, target, dest, opts, cgroup_binds)
        else:
            sys.mount(m.source or m.type, target, m.type, flags, opts.data)
    finally:
        sys.close(target)
    if opts.propagation or opts.rec_set or opts.rec_clr:
        _apply_recursive_attrs(root, dest, opts)


def _apply_recursive_attrs(root, dest, opts):
    # Resolving again crosses into the mount just made; the container has not run
    # yet, so nothing of its can race this second lookup.
    mounted = root.resolve(dest)
    try:
        if opts.propagation:
            root.sys.mount_setattr(mounted, bool(opts.propagation & F.MS_REC), 0, 0,
                                   opts.propagation & F.PROPAGATION_FLAGS)
        if opts.rec_set or opts.rec_clr:
            root.sys.mount_setattr(mounted, True, opts.rec_set, opts.rec_clr, 0)
    finally:
        root.sys.close(mounted)


def _mount_cgroup_v1_view(root, target, dest, opts, cgroup_binds):
    """Mount a "cgroup" entry.

    On a cgroup v2 host this is one cgroup2 mount. On v1/hybrid hosts, as runc
    does: a tmpfs holding one bind of the container's cgroup per hierarchy, so
    the container sees its own cgroups at the usual places; read-only if asked.
    """
    sys = root.sys
    if cgroup_binds is None:
        sys.mount("cgroup2", target, "cgroup2", opts.flags, opts.data)
        return
    sys.mount("tmpfs", target, "tmpfs", (opts.flags & ~F.MS_RDONLY) | F.MS_NOSUID | F.MS_NODEV
              | F.MS_NOEXEC, "mode=755")
    # Each bind gets the entry's own flags (ro, nosuid, nodev, noexec...), as runc's do.
    attr_set, attr_clr = opts.attrs()
    top = root.resolve(dest)
    try:
        for name, host_dir in cgroup_binds:
            # The tmpfs is this init's own and empty, so its directories are made and
            # opened below it directly (no symlink can be there to resolve).
            try:
                sys.mkdirat(top, name, 0o755)
            except FileExistsError:
                pass  # two hierarchies mounted under one name: the later bind wins
            sub = sys.open_beneath(top, name)
            try:
                sys.bind_tree(host_dir, sub, True, attr_set, attr_clr, 0)
            finally:
                sys.close(sub)
        if opts.flags & F.MS_RDONLY:
            sys.mount_setattr(top, False, F.MOUNT_ATTR_RDONLY, 0, 0)
    finally:
        sys.close(top)


def make_dev_readonly_if_asked(root, mounts):
    """The "ro" of a (non-bind) /dev mount, applied once /dev is complete."""
    for m in mounts:
        if os.path.normpath(m.destination) == "/dev" and m.type != "bind" and "ro" in m.options \
                and "bind" not in m.options and "rbind" not in m.options:
            dev = root.resolve("/dev")
            try:
                root.sys.mount_setattr(dev, False, F.MOUNT_ATTR_RDONLY, 0, 0)
            finally:
                root.sys.close(dev)


def create_devices(root, devices, dev_is_bind):
    """Default devices, linux.devices and the /dev links, all relative to /dev's fd.

    Threat (CVE-2026-41579): an image whose /dev is a symlink must not make the
    runtime create or delete files on the host; resolving /dev in the root keeps
    every node inside the rootfs.
    """
    sys = root.sys
    configured = {d.path for d in devices}
    if not dev_is_bind:
        for path, major, minor in DEFAULT_DEVICES:
            if path not in configured:
                _make_node(root, path, stat.S_IFCHR | 0o666, major, minor, 0, 0)
    for d in devices:
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[d.type]
        mode = d.file_mode if d.file_mode is not None else 0o666
        _make_node(root, d.path, kind | (mode & 0o7777), d.major or 0, d.minor or 0,
                   d.uid or 0, d.gid or 0)
    if dev_is_bind:
        return
    dev = root.resolve("/dev", "dir")
    try:
        for name, link in DEFAULT_DEV_LINKS:
            try:
                sys.symlinkat(link, dev, name)
            except FileExistsError:
                pass
        if os.path.exists("/proc/kcore"):
            try:
                sys.symlinkat("/proc/kcore", dev, "core")
            except FileExistsError:
                pass
    finally:
        sys.close(dev)


def _make_node(root, path, mode, major, minor, uid, gid):
    sys = root.sys
    parent_path, name = os.path.split(path)
    parent = root.resolve(parent_path, "dir")
    try:
        try:
            sys.mknodat(parent, name, mode, os.makedev(major, minor))
        except FileExistsError:
            return
        node = sys.open_beneath(parent, name)
        try:
            # mknod is subject to the umask; the configured mode is what counts.
            sys.chmod_target(node, mode & 0o7777)
            if uid or gid:
                sys.chown_target(node, uid, gid)
        finally:
            sys.close(node)
    finally:
        sys.close(parent)


def open_verified_devnull(sys):
    """The host's /dev/null, checked to really be the 1:3 char device.

    Threat (CVE-2025-31133): masking by binding the *container's* /dev/null lets an
    image swap it for a symlink to a procfs file, which then gets bind-mounted
    read-write. pyrunc masks with this fd instead.
    """
    if sys.recording:
        return Target(None, "/dev/null (host, verified)")
    fd = os.open("/dev/null", os.O_PATH | os.O_CLOEXEC)
    st = os.fstat(fd)
    if not stat.S_ISCHR(st.st_mode) or st.st_rdev != os.makedev(1, 3):
        os.close(fd)
        raise RuntimeFailure("/dev/null on the host is not the null device")
    return Target(fd, "/dev/null")


def mask_paths(root, paths, devnull):
    """runtime-spec maskedPaths: "mask over the provided paths ... so that they cannot be read"."""
    for path, target in _existing(root, paths):
        if _is_dir(root, target, path):
            root.sys.mount("tmpfs", target, "tmpfs", F.MS_RDONLY, None)
        else:
            root.sys.bind_tree(devnull, target, False, 0, 0, 0)


def readonly_paths(root, paths):
    """runtime-spec readonlyPaths: "set the provided paths as readonly"."""
    for path, target in _existing(root, paths):
        root.sys.bind_tree(target, target, True, F.MOUNT_ATTR_RDONLY, 0, 0)


def _existing(root, paths):
    """(path, resolved target) for each path that exists in the rootfs; closed after use.
    Paths that do not exist are skipped, as the spec lists them for every image."""
    for path in paths:
        try:
            target = root.resolve(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            yield path, target
        finally:
            root.sys.close(target)


def _is_dir(root, target, path):
    if root.sys.recording:
        return root.sys.is_dir(root.host_path, path)
    return stat.S_ISDIR(os.stat("/proc/self/fd/%d" % target.fd).st_mode)


def pivot(sys, rootfs_path):
    """Make the rootfs "/", and detach the host's tree from this mount namespace.

    pivot_root(".", ".") stacks the old root on top of the new one; unmounting "."
    then removes it without needing a directory for it inside the container.
    """
    sys.chdir(rootfs_path)
    sys.pivot_root(".", ".")
    # Slave first so the lazy unmount cannot propagate back to the host.
    sys.mount(None, ".", None, F.MS_SLAVE | F.MS_REC, None)
    sys.umount(".", F.MNT_DETACH)
    sys.chdir("/")


def move_root(sys, rootfs_path):
    """--no-pivot: move the rootfs over "/" and chroot (for ramfs roots where pivot_root fails).

    Threat: the host's procfs and sysfs would stay mounted, hidden, in the container's
    mount namespace, and the kernel lets a user namespace inside mount a fresh,
    unmasked /proc when a full one is already visible there (mount_too_revealing).
    They are detached first, or covered with an empty tmpfs where that is refused.
    """
    for point in _host_proc_and_sys_mounts(rootfs_path) if not sys.recording else ():
        try:
            sys.mount(None, point, None, F.MS_SLAVE | F.MS_REC, None)
        except FileNotFoundError:
            continue
        try:
            sys.umount(point, F.MNT_DETACH)
        except OSError:
            sys.mount("tmpfs", point, "tmpfs", 0, None)
    sys.chdir(rootfs_path)
    sys.mount(rootfs_path, "/", None, F.MS_MOVE, None)
    sys.chroot(".")
    sys.chdir("/")


def _host_proc_and_sys_mounts(rootfs_path):
    """proc and sysfs mounts of the whole filesystem, outside the rootfs, deepest first."""
    points = [point for root, point, fstype, _ in mountinfo.entries(mountinfo.read())
              if fstype in ("proc", "sysfs") and root == "/" and not (
                  point == rootfs_path or point.startswith(rootfs_path.rstrip("/") + "/"))]
    return sorted(points, key=len, reverse=True)


def make_root_readonly(sys):
    """runtime-spec root.readonly: "the root filesystem MUST be read-only inside the container"."""
    sys.mount(None, "/", None, F.MS_BIND | F.MS_REMOUNT | F.MS_RDONLY, None)
