"""`pyrunc spec [--bundle DIR] [--rootless]`: write a starter config.json.

The content is runc 1.5.1's example spec (cli.md §6 "spec") with this
runtime's spec version: runc's bats suite builds every bundle from this file
and edits it with jq, so fields, order and values must match. Keys are in the
order of the runtime-spec Go structs, which is the order runc writes them.
"""

import os

import pyrunc
from pyrunc.errors import RuntimeFailure

CONFIG_NAME = "config.json"

# Both sets since the CVE-2022-29162 fix: no inheritable and no ambient
# capabilities, so an unprivileged exec cannot gain them.
_DEFAULT_CAPS = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")

_MASKED_PATHS = (
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi",
)
_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


def cgroup2_unified(mountpoint="/sys/fs/cgroup"):
    """Whether the host runs cgroup v2 only (runc adds a cgroup namespace then).

    cgroup.controllers exists only at the root of a cgroup2 mount; on a v1 or
    hybrid host /sys/fs/cgroup is a tmpfs holding the per-controller mounts.
    """
    return os.path.exists(mountpoint + "/cgroup.controllers")


def _mount(destination, mtype, source, options=None):
    m = {"destination": destination, "type": mtype, "source": source}
    if options is not None:
        m["options"] = list(options)
    return m


def default_config(rootless=False, unified=None, euid=None, egid=None):
    """The config dict `spec` writes; `unified` (cgroup v2 host) and the ids default to this host's."""
    if unified is None:
        unified = cgroup2_unified()
    namespaces = ["pid", "network", "ipc", "uts", "mount"]
    if unified:
        namespaces.append("cgroup")
    config = {
        "ociVersion": pyrunc.SPEC_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": list(_DEFAULT_CAPS),
                "effective": list(_DEFAULT_CAPS),
                "permitted": list(_DEFAULT_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            _mount("/proc", "proc", "proc"),
            _mount("/dev", "tmpfs", "tmpfs",
                   ("nosuid", "strictatime", "mode=755", "size=65536k")),
            _mount("/dev/pts", "devpts", "devpts",
                   ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
            _mount("/dev/shm", "tmpfs", "shm",
                   ("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
            _mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
            _mount("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
            _mount("/sys/fs/cgroup", "cgroup", "cgroup",
                   ("nosuid", "noexec", "nodev", "relatime", "ro")),
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in namespaces],
            "maskedPaths": list(_MASKED_PATHS),
            "readonlyPaths": list(_READONLY_PATHS),
        },
    }
    if rootless:
        _to_rootless(config,
                     os.geteuid() if euid is None else euid,
                     os.getegid() if egid is None else egid)
    return config


def _to_rootless(config, euid, egid):
    """runc's ToRootless: a user namespace mapping the caller to root, no
    network namespace, /sys bound from the host (sysfs cannot be mounted
    without owning the network namespace), no uid=/gid= mount options (those
    ids are not mapped) and no cgroup settings (an unprivileged caller may not
    write them)."""
    linux = config["linux"]
    namespaces = [ns for ns in linux["namespaces"] if ns["type"] not in ("network", "user")]
    namespaces.append({"type": "user"})
    rebuilt = {
        "uidMappings": [{"containerID": 0, "hostID": euid, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": egid, "size": 1}],
        "namespaces": namespaces,
    }
    # Rebuild so the keys keep the Go struct order: uidMappings and
    # gidMappings come before namespaces; resources is dropped.
    for key, value in linux.items():
        if key not in ("resources", "namespaces"):
            rebuilt[key] = value
    config["linux"] = rebuilt

    mounts = []
    for m in config["mounts"]:
        if os.path.normpath(m["destination"]) == "/sys":
            mounts.append(_mount("/sys", "none", "/sys",
                                 ("rbind", "nosuid", "noexec", "nodev", "ro")))
            continue
        if "options" in m:
            m["options"] = [o for o in m["options"]
                            if not o.startswith("uid=") and not o.startswith("gid=")]
        mounts.append(m)
    config["mounts"] = mounts


def _reason(err):
    return err.strerror.lower() if err.strerror else str(err)


def run(inv):
    """Write config.json into --bundle (default: the cwd); refuse to overwrite one."""
    from pyrunc import jsonio

    bundle = inv.flags.get("bundle") or ""
    if bundle:
        # runc chdirs into the bundle; report a bad one the way it would.
        try:
            st = os.stat(bundle)
        except OSError as e:
            raise RuntimeFailure("chdir %s: %s" % (bundle, _reason(e))) from None
        if (st.st_mode & 0o170000) != 0o040000:
            raise RuntimeFailure("chdir %s: not a directory" % bundle)
    path = os.path.join(bundle, CONFIG_NAME) if bundle else CONFIG_NAME
    try:
        os.stat(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise RuntimeFailure("stat %s: %s" % (CONFIG_NAME, _reason(e))) from None
    else:
        raise RuntimeFailure("File %s exists. Remove it first" % CONFIG_NAME)

    data = jsonio.dumps(default_config(rootless=inv.flags.get("rootless", False)), "\t")
    try:
        # 0666 before umask and truncate-on-open, like Go's os.WriteFile.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    except OSError as e:
        raise RuntimeFailure("open %s: %s" % (CONFIG_NAME, _reason(e))) from None
    try:
        payload = data.encode("utf-8")
        while payload:
            n = os.write(fd, payload)
            payload = payload[n:]
    except OSError as e:
        raise RuntimeFailure("write %s: %s" % (CONFIG_NAME, _reason(e))) from None
    finally:
        os.close(fd)
    return 0
