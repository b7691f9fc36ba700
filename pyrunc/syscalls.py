"""The syscall seam: every kernel operation that sets up a container goes through here.

Two implementations share one interface:

* `LinuxSyscalls` does the work, through the cffi module `pyrunc._native` and
  `os`. Each call is a thin checked wrapper: a failure raises `OSError` with
  errno, and the path or argument it was about.
* `RecordingSyscalls` (recording.py, kept off the runtime's path) performs
  nothing. It records each operation so that `pyrunc plan` can print what
  `create` would do and unit tests can assert on the plan without root.
  Questions that only read (does this path exist, is it a directory) are
  answered from the real file system, which is harmless and makes the
  recorded plan match what a real run would do.

Paths inside the container's rootfs are never joined as strings and handed to
the kernel: they are resolved to file descriptors with openat2(RESOLVE_IN_ROOT)
(see `rootfs.py`), and mounts target those descriptors. A `Target` carries
both the descriptor and the container path it stands for, so a plan stays
readable.
"""

import fcntl  # for set_link_up's ioctl; a built-in module, made with the pack (pyrunc.modpack)

from pyrunc import lean_os as os
from pyrunc import flags as F

# openat2(2) how.resolve bits and open flags, from linux/openat2.h and fcntl.h.
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
O_PATH = 0o10000000


class Target:
    """A resolved location: an fd (or None in a plan) plus the path it stands for."""

    __slots__ = ("fd", "path")

    def __init__(self, fd, path):
        self.fd = fd
        self.path = path

    def __repr__(self):
        return self.path


def _check(result, what):
    """Raise OSError(errno) for a -1 return of a cffi call, naming what failed."""
    if result < 0:
        errno = _ffi.errno
        raise OSError(errno, os.strerror(errno), what)
    return result


_ffi = _lib = None


def _load_native():
    global _ffi, _lib
    if _lib is None:
        from pyrunc._native import ffi, lib

        _ffi, _lib = ffi, lib
    return _lib


class LinuxSyscalls:
    """The real thing. Methods raise OSError with the path or argument they were given."""

    recording = False

    def __init__(self):
        self.lib = _load_native()
        self._bounding = None

    # -- namespaces ---------------------------------------------------------
    def unshare(self, clone_flags):
        _check(self.lib.unshare(clone_flags), "unshare " + F.clone_names(clone_flags))

    def setns(self, path, clone_flag):
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(self.lib.setns(fd, clone_flag), "setns " + path)
        finally:
            os.close(fd)

    def fork_into_cgroup(self, directory):
        """fork(2), the child born in the cgroup v2 `directory` (clone3
        CLONE_INTO_CGROUP). Returns like os.fork(); OSError if the kernel refuses."""
        fd = os.open(directory, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return _check(self.lib.pyrunc_fork_into_cgroup(fd), "clone3 into " + directory)
        finally:
            os.close(fd)

    def sethostname(self, name):
        data = name.encode()
        _check(self.lib.sethostname(data, len(data)), "sethostname " + name)

    def join_session_keyring(self, name):
        _check(self.lib.pyrunc_join_session_keyring(name.encode()), "join session keyring " + name)

    def setdomainname(self, name):
        data = name.encode()
        _check(self.lib.setdomainname(data, len(data)), "setdomainname " + name)

    def set_link_up(self, name):
        """ioctl(SIOCSIFFLAGS) IFF_UP|IFF_LOOPBACK|IFF_RUNNING on the interface `name`
        of this process's network namespace (only "lo" is ever asked for)."""
        flags = 0x1 | 0x8 | 0x40  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        ifreq = name.encode().ljust(16, b"\0") + flags.to_bytes(2, "little") + bytes(22)
        lib = self.lib
        fd = _check(lib.socket(lib.AF_INET, lib.SOCK_DGRAM | lib.SOCK_CLOEXEC, 0), "socket")
        try:
            fcntl.ioctl(fd, 0x8914, ifreq)  # SIOCSIFFLAGS
        finally:
            os.close(fd)

    def seqpacket_pair(self):
        """socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC): two fds; one write()
        is one message, one read() returns one whole message."""
        fds = _ffi.new("int[2]")
        lib = self.lib
        _check(lib.socketpair(lib.AF_UNIX, lib.SOCK_SEQPACKET | lib.SOCK_CLOEXEC, 0, fds),
               "socketpair")
        return fds[0], fds[1]

    # -- paths inside the rootfs --------------------------------------------
    def open_in_root(self, root_fd, path, root_path):
        """openat2(root_fd, path, O_PATH, RESOLVE_IN_ROOT): symlinks resolve as if root_fd were /."""
        fd = self.lib.pyrunc_openat2(
            root_fd, path.encode(), O_PATH | os.O_CLOEXEC, 0,
            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        _check(fd, root_path + path)
        return Target(fd, path)

    def open_beneath(self, dir_target, name):
        """Open one component below an already resolved directory without following it."""
        fd = os.open(name, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_target.fd)
        return Target(fd, os.path.join(dir_target.path, name))

    def mkdirat(self, dir_target, name, mode):
        os.mkdir(name, mode, dir_fd=dir_target.fd)

    def create_file_at(self, dir_target, name, mode):
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_WRONLY | os.O_CLOEXEC,
                     mode, dir_fd=dir_target.fd)
        os.close(fd)

    def mknodat(self, dir_target, name, mode, device):
        os.mknod(name, mode, device, dir_fd=dir_target.fd)

    def symlinkat(self, link_target, dir_target, name):
        os.symlink(link_target, name, dir_fd=dir_target.fd)

    def chown_target(self, target, uid, gid):
        os.chown(_fd_path(target), uid, gid)

    def chmod_target(self, target, mode):
        os.chmod(_fd_path(target), mode)

    def stat_target(self, target):
        return os.stat(_fd_path(target))

    def close(self, target):
        if target.fd is not None:
            os.close(target.fd)
            target.fd = None

    # -- mounts --------------------------------------------------------------
    def mount(self, source, target, fstype, mount_flags, data):
        """mount(2). `target` is a path or a Target (mounted through its /proc/self/fd link)."""
        where = _fd_path(target) if isinstance(target, Target) else target
        rc = self.lib.mount(
            source.encode() if source is not None else _ffi.NULL,
            where.encode(),
            fstype.encode() if fstype else _ffi.NULL,
            mount_flags,
            data.encode() if data else _ffi.NULL)
        _check(rc, f"mount {source or fstype} on {target!r}")

    def bind_tree(self, source, target, recursive, attr_set, attr_clr, propagation,
                  recursive_attrs=True):
        """Clone the tree at `source`, set its attributes while detached, attach it at `target`.

        Attributes are set before the mount becomes visible, so there is no moment
        where a read-only bind is writable, and no path is looked up twice. They reach
        the submounts of a recursive clone only with `recursive_attrs`; propagation is
        recursive when it carries MS_REC ("rprivate").
        """
        lib = self.lib
        tree_flags = lib.OPEN_TREE_CLONE | lib.OPEN_TREE_CLOEXEC
        if recursive:
            tree_flags |= lib.AT_RECURSIVE
        if isinstance(source, Target):
            tree = _check(lib.pyrunc_open_tree(source.fd, b"", tree_flags | lib.AT_EMPTY_PATH),
                          "open_tree " + source.path)
        else:
            tree = _check(lib.pyrunc_open_tree(-100, source.encode(), tree_flags),
                          "open_tree " + source)
        try:
            if attr_set or attr_clr:
                setattr_flags = lib.AT_EMPTY_PATH | (
                    lib.AT_RECURSIVE if recursive and recursive_attrs else 0)
                _check(lib.pyrunc_mount_setattr(tree, b"", setattr_flags, attr_set, attr_clr, 0),
                       f"mount_setattr {target!r}")
            if propagation & F.PROPAGATION_FLAGS:
                setattr_flags = lib.AT_EMPTY_PATH | (lib.AT_RECURSIVE if propagation & F.MS_REC else 0)
                _check(lib.pyrunc_mount_setattr(tree, b"", setattr_flags, 0, 0,
                                                propagation & F.PROPAGATION_FLAGS),
                       f"mount_setattr {target!r}")
            _check(lib.pyrunc_move_mount(tree, b"", target.fd, b"",
                                         lib.MOVE_MOUNT_F_EMPTY_PATH | lib.MOVE_MOUNT_T_EMPTY_PATH),
                   f"move_mount {source!r} to {target!r}")
        finally:
            os.close(tree)

    def mount_setattr(self, target, recursive, attr_set, attr_clr, propagation):
        lib = self.lib
        setattr_flags = lib.AT_EMPTY_PATH | (lib.AT_RECURSIVE if recursive else 0)
        _check(lib.pyrunc_mount_setattr(target.fd, b"", setattr_flags, attr_set, attr_clr,
                                        propagation),
               f"mount_setattr {target!r}")

    def umount(self, path, umount_flags):
        _check(self.lib.umount2(path.encode(), umount_flags), "umount " + path)

    def pivot_root(self, new_root, put_old):
        _check(self.lib.pyrunc_pivot_root(new_root.encode(), put_old.encode()),
               f"pivot_root {new_root}")

    def chdir(self, path):
        os.chdir(path)

    def fchdir(self, target):
        os.fchdir(target.fd)

    def chroot(self, path):
        os.chroot(path)

    # -- the process ---------------------------------------------------------
    def write_proc(self, path, value):
        """Write a procfs/sysfs file (oom_score_adj, sysctls)."""
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)

    def prctl(self, option, arg2=0, arg3=0):
        _check(self.lib.prctl(option, arg2, arg3, 0, 0), "prctl %d" % option)

    def setrlimit(self, resource_id, soft, hard):
        _check(self.lib.pyrunc_setrlimit(resource_id, soft, hard), "setrlimit %d" % resource_id)

    def setgroups(self, gids):
        os.setgroups(gids)

    def setresgid(self, gid):
        os.setresgid(gid, gid, gid)

    def setresuid(self, uid):
        os.setresuid(uid, uid, uid)

    def umask(self, mask):
        os.umask(mask)

    def bounding_set(self):
        """The runtime's bounding set as a mask (PR_CAPBSET_READ; no /proc needed).
        Read once: it only shrinks, and only through drop_bounding below."""
        if self._bounding is not None:
            return self._bounding
        lib = self.lib
        mask = 0
        for n in range(64):
            if lib.prctl(lib.PR_CAPBSET_READ, n, 0, 0, 0) != 1:
                if n > 40:
                    break
                continue
            mask |= 1 << n
        self._bounding = mask
        return mask

    def drop_bounding(self, cap):
        _check(self.lib.prctl(self.lib.PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability %d" % cap)
        if self._bounding is not None:
            self._bounding &= ~(1 << cap)

    def capset(self, effective, permitted, inheritable):
        m = 0xFFFFFFFF
        _check(self.lib.pyrunc_capset(effective & m, effective >> 32, permitted & m,
                                      permitted >> 32, inheritable & m, inheritable >> 32),
               "capset")

    def raise_ambient(self, cap):
        lib = self.lib
        _check(lib.prctl(lib.PR_CAP_AMBIENT, lib.PR_CAP_AMBIENT_RAISE, cap, 0, 0),
               "raise ambient capability %d" % cap)

    def close_fds_from(self, first, keep):
        """Close every fd >= first except those in `keep` (close_range around the keep-list)."""
        lo = first
        for fd in sorted(k for k in keep if k >= first):
            if fd > lo:
                _check(self.lib.pyrunc_close_range(lo, fd - 1, 0), "close_range")
            lo = fd + 1
        _check(self.lib.pyrunc_close_range(lo, 0xFFFFFFFF, 0), "close_range")

    def load_seccomp(self, program):
        """seccomp(SECCOMP_SET_MODE_FILTER, flags, program): a `seccomp.Program`.
        Returns the notify listener fd when the program asks for one, else 0."""
        data = program.packed()
        count = len(data) // 8
        filt = _ffi.new("struct sock_filter[]", count)
        _ffi.memmove(filt, data, len(data))
        return _check(self.lib.pyrunc_seccomp_set_filter(program.flags, filt, count),
                      "seccomp filter (%d instructions)" % count)

    def execve(self, path, args, env):
        os.execve(path, args, env)


def _fd_path(target):
    return "/proc/self/fd/%d" % target.fd
