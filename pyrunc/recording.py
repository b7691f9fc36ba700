"""The recording side of the syscall seam (syscalls.py has the interface and the
real one): `RecordingSyscalls` performs nothing and records each operation as
(name, description), for `pyrunc plan` and for unit tests without root.
"""

from pyrunc import lean_os as os
from pyrunc import flags as F
from pyrunc.syscalls import LinuxSyscalls, Target


class RecordingSyscalls:
    """Performs nothing; records each operation as (name, description) for plans and tests."""

    recording = True

    def __init__(self):
        self.ops = []
        self.created = set()   # container paths the plan has made
        self.mounted = {}      # container mount point -> (fstype, host path behind it)

    def _record(self, name, text):
        self.ops.append((name, text))

    def unshare(self, clone_flags):
        self._record("unshare", F.clone_names(clone_flags))

    def setns(self, path, clone_flag):
        self._record("setns", f"{F.clone_names(clone_flag)} {path}")

    def sethostname(self, name):
        self._record("sethostname", name)

    def join_session_keyring(self, name):
        self._record("keyctl", "join session keyring " + name)

    def set_link_up(self, name):
        self._record("ioctl", f"SIOCSIFFLAGS {name} up")

    def setdomainname(self, name):
        self._record("setdomainname", name)

    def open_in_root(self, root_fd, path, root_path):
        # Resolution only reads; answer from the real tree so the plan shows the
        # directories and files create would have to make.
        if not self.exists(root_path, path):
            raise FileNotFoundError(2, "No such file or directory", path)
        return Target(None, os.path.normpath("/" + path.lstrip("/")))

    def exists(self, root_path, path):
        path = os.path.normpath("/" + path.lstrip("/"))
        return (path in self.created or path in self.mounted
                or os.path.lexists(self._host_path(root_path, path)))

    def is_dir(self, root_path, path):
        path = os.path.normpath("/" + path.lstrip("/"))
        if path in self.mounted and self.mounted[path][1] is None:
            return True  # the root of a fresh tmpfs, devpts, ...: an empty directory
        return os.path.isdir(self._host_path(root_path, path))

    def _host_path(self, root_path, path):
        """Where a container path's content would come from: the deepest mount above it
        (proc and sysfs show the host's, a bind its source) or the rootfs."""
        best = ""
        for point in self.mounted:
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best = point
        if best:
            fstype, host = self.mounted[best]
            if host is None:
                return "/nonexistent" + path
            rest = path[len(best.rstrip("/")):].lstrip("/")
            return os.path.join(host, rest) if rest else host
        return os.path.join(root_path, path.lstrip("/"))

    def open_beneath(self, dir_target, name):
        return Target(None, os.path.join(dir_target.path, name))

    def mkdirat(self, dir_target, name, mode):
        self.created.add(os.path.join(dir_target.path, name))
        self._record("mkdir", "%s mode %o" % (os.path.join(dir_target.path, name), mode))

    def create_file_at(self, dir_target, name, mode):
        self.created.add(os.path.join(dir_target.path, name))
        self._record("create", "%s mode %o" % (os.path.join(dir_target.path, name), mode))

    def mknodat(self, dir_target, name, mode, device):
        self._record("mknod", "%s %s %d:%d mode %o" % (
            os.path.join(dir_target.path, name), F.node_kind(mode),
            os.major(device), os.minor(device), mode & 0o7777))

    def symlinkat(self, link_target, dir_target, name):
        self._record("symlink", f"{os.path.join(dir_target.path, name)} -> {link_target}")

    def chown_target(self, target, uid, gid):
        self._record("chown", f"{target.path} {uid}:{gid}")

    def chmod_target(self, target, mode):
        self._record("chmod", "%s %o" % (target.path, mode))

    def stat_target(self, target):
        return None

    def close(self, target):
        pass

    def mount(self, source, target, fstype, mount_flags, data):
        where = target.path if isinstance(target, Target) else target
        if isinstance(target, Target) and fstype:
            host = {"proc": "/proc", "sysfs": "/sys"}.get(fstype)
            self.mounted[where] = (fstype, host)
        text = f"{fstype or 'none'} {source or 'none'} on {where}"
        names = F.mount_names(mount_flags)
        if names:
            text += " " + names
        if data:
            text += f' "{data}"'
        self._record("mount", text)

    def bind_tree(self, source, target, recursive, attr_set, attr_clr, propagation,
                  recursive_attrs=True):
        src = source.path if isinstance(source, Target) else source
        if not isinstance(source, Target):
            self.mounted[target.path] = ("bind", source)
        text = f"{'rbind' if recursive else 'bind'} {src} on {target.path}"
        attrs = F.attr_names(attr_set)
        if attrs:
            text += " " + attrs
        if propagation & F.PROPAGATION_FLAGS:
            text += " " + F.mount_names(propagation & F.PROPAGATION_FLAGS)
        self._record("mount", text)

    def mount_setattr(self, target, recursive, attr_set, attr_clr, propagation):
        text = target.path
        if attr_set:
            text += " set " + F.attr_names(attr_set)
        if attr_clr:
            text += " clear " + F.attr_names(attr_clr)
        if propagation:
            text += " " + F.mount_names(propagation)
        self._record("mount_setattr", text + (" recursive" if recursive else ""))

    def umount(self, path, umount_flags):
        self._record("umount", path + (" detach" if umount_flags else ""))

    def pivot_root(self, new_root, put_old):
        self._record("pivot_root", f"{new_root} (old root at {put_old})")

    def chdir(self, path):
        self._record("chdir", path)

    def fchdir(self, target):
        self._record("chdir", target.path)

    def chroot(self, path):
        self._record("chroot", path)

    def write_proc(self, path, value):
        self._record("write", f"{path} = {value}")

    def prctl(self, option, arg2=0, arg3=0):
        self._record("prctl", F.prctl_name(option, arg2))

    def setrlimit(self, resource_id, soft, hard):
        self._record("setrlimit", f"{F.rlimit_name(resource_id)} soft={soft} hard={hard}")

    def setgroups(self, gids):
        self._record("setgroups", ",".join(str(g) for g in gids) or "(none)")

    def setresgid(self, gid):
        self._record("setresgid", str(gid))

    def setresuid(self, uid):
        self._record("setresuid", str(uid))

    def umask(self, mask):
        self._record("umask", "%04o" % mask)

    def bounding_set(self):
        # Read-only: a plan shows what this host would really grant.
        return LinuxSyscalls().bounding_set()

    def drop_bounding(self, cap):
        self._record("capbset_drop", F.cap_name(cap))

    def capset(self, effective, permitted, inheritable):
        self._record("capset", "effective=[%s] permitted=[%s] inheritable=[%s]" % (
            F.cap_list(effective), F.cap_list(permitted), F.cap_list(inheritable)))

    def raise_ambient(self, cap):
        self._record("ambient_raise", F.cap_name(cap))

    def close_fds_from(self, first, keep):
        kept = sorted(k for k in keep if k >= first)
        self._record("close_range", f"{first}.. keep {kept}" if kept else f"{first}..")

    def load_seccomp(self, program):
        self._record("seccomp", program.summary())
        if program.notify:
            self._record("sendmsg", "the listener fd and the container process state "
                                    "to the seccomp agent (linux.seccomp.listenerPath)")
        return None

    def execve(self, path, args, env):
        self._record("execve", f"{path} {args!r}")
