"""Kernel constants and their names (Linux UAPI values, the same on every architecture
pyrunc runs on). Kept as plain numbers so that planning a container needs no native code."""

# clone(2) / unshare(2) namespace flags, keyed by runtime-spec namespace type.
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

NAMESPACE_FLAGS = {
    "mount": CLONE_NEWNS,
    "uts": CLONE_NEWUTS,
    "ipc": CLONE_NEWIPC,
    "user": CLONE_NEWUSER,
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "cgroup": CLONE_NEWCGROUP,
    "time": CLONE_NEWTIME,
}
# The names of the same namespaces under /proc/PID/ns/.
NAMESPACE_PROC_NAMES = {
    "mount": "mnt", "uts": "uts", "ipc": "ipc", "user": "user", "pid": "pid",
    "network": "net", "cgroup": "cgroup", "time": "time",
}

# mount(2) flags
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25
MNT_DETACH = 2

PROPAGATION_FLAGS = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE

# mount_setattr(2) attributes
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000

# The mount flags that have a mount_setattr equivalent, for bind mounts.
FLAG_TO_ATTR = (
    (MS_RDONLY, MOUNT_ATTR_RDONLY),
    (MS_NOSUID, MOUNT_ATTR_NOSUID),
    (MS_NODEV, MOUNT_ATTR_NODEV),
    (MS_NOEXEC, MOUNT_ATTR_NOEXEC),
    (MS_NOATIME, MOUNT_ATTR_NOATIME),
    (MS_STRICTATIME, MOUNT_ATTR_STRICTATIME),
    (MS_NODIRATIME, MOUNT_ATTR_NODIRATIME),
    (MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW),
)

# prctl(2) options used by pyrunc
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_MOUNT_NAMES = (
    (MS_RDONLY, "ro"), (MS_NOSUID, "nosuid"), (MS_NODEV, "nodev"), (MS_NOEXEC, "noexec"),
    (MS_SYNCHRONOUS, "sync"), (MS_REMOUNT, "remount"), (MS_MANDLOCK, "mand"),
    (MS_DIRSYNC, "dirsync"), (MS_NOSYMFOLLOW, "nosymfollow"), (MS_NOATIME, "noatime"),
    (MS_NODIRATIME, "nodiratime"), (MS_BIND, "bind"), (MS_MOVE, "move"), (MS_REC, "rec"),
    (MS_UNBINDABLE, "unbindable"), (MS_PRIVATE, "private"), (MS_SLAVE, "slave"),
    (MS_SHARED, "shared"), (MS_RELATIME, "relatime"), (MS_STRICTATIME, "strictatime"),
    (MS_LAZYTIME, "lazytime"),
)
_ATTR_NAMES = (
    (MOUNT_ATTR_RDONLY, "ro"), (MOUNT_ATTR_NOSUID, "nosuid"), (MOUNT_ATTR_NODEV, "nodev"),
    (MOUNT_ATTR_NOEXEC, "noexec"), (MOUNT_ATTR_NOATIME, "noatime"),
    (MOUNT_ATTR_STRICTATIME, "strictatime"), (MOUNT_ATTR_NODIRATIME, "nodiratime"),
    (MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow"),
)
_PRCTL_NAMES = {
    PR_SET_PDEATHSIG: "PR_SET_PDEATHSIG", PR_SET_DUMPABLE: "PR_SET_DUMPABLE",
    PR_SET_KEEPCAPS: "PR_SET_KEEPCAPS", PR_SET_CHILD_SUBREAPER: "PR_SET_CHILD_SUBREAPER",
    PR_SET_NO_NEW_PRIVS: "PR_SET_NO_NEW_PRIVS",
}


def _names(value, table):
    return ",".join(name for bit, name in table if value & bit)


def mount_names(value):
    return _names(value, _MOUNT_NAMES)


def attr_names(value):
    return _names(value, _ATTR_NAMES)


def clone_names(value):
    return "|".join("CLONE_NEW" + ("NET" if t == "network" else "NS" if t == "mount" else t.upper())
                    for t, bit in NAMESPACE_FLAGS.items() if value & bit)


def prctl_name(option, arg):
    return f"{_PRCTL_NAMES.get(option, option)} {arg}"


def node_kind(mode):
    kind = mode & 0o170000
    return {0o020000: "char", 0o060000: "block", 0o010000: "fifo"}.get(kind, "file")


def _cap_names_by_number():
    # Imported here: flags must stay importable without the spec package.
    from pyrunc.spec.tables import CAPABILITIES

    return {number: name for name, number in CAPABILITIES.items()}


def cap_name(number):
    return _cap_names_by_number().get(number, "cap%d" % number)


def cap_list(mask):
    names = _cap_names_by_number()
    return ",".join(names.get(n, "cap%d" % n) for n in range(64) if mask >> n & 1)


def rlimit_name(resource_id):
    from pyrunc.spec.tables import RLIMITS

    for name, number in RLIMITS.items():
        if number == resource_id:
            return name
    return str(resource_id)
