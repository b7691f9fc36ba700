"""`features`: what this runtime implements, as runc 1.5 reports it (4-space JSON).

Built from the tables the code itself uses (mount options from rootfs.py,
capabilities and namespaces from spec/tables.py, seccomp from seccomp.py), so
it cannot claim what pyrunc does not do.
"""

import os

from pyrunc import __version__, jsonio, rootfs, seccomp
from pyrunc.create import _UNSUPPORTED_NAMESPACES
from pyrunc.spec import tables

# Namespaces pyrunc can make or join; create refuses the others.
_NAMESPACES = tuple(t for t in tables.NAMESPACE_TYPES if t not in _UNSUPPORTED_NAMESPACES)


def features():
    mount_options = sorted(set(rootfs.MOUNT_OPTIONS) | set(rootfs.PROPAGATION_OPTIONS)
                           | set(rootfs.RECURSIVE_ATTRS) | {"tmpcopyup"})
    return {
        "ociVersionMin": tables.SPEC_VERSION_MIN,
        "ociVersionMax": tables.SPEC_VERSION_MAX,
        "hooks": list(tables.HOOK_NAMES),
        "mountOptions": mount_options,
        "linux": {
            "namespaces": list(_NAMESPACES),
            "capabilities": sorted(tables.CAPABILITIES, key=tables.CAPABILITIES.get),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False,
                       "rdma": False},
            "seccomp": {
                "enabled": True,
                "actions": sorted(seccomp.ACTIONS),
                "operators": list(seccomp.OPERATORS),
                "archs": list(seccomp.ARCHITECTURES),
                "knownFlags": sorted(seccomp.KNOWN_FLAGS),
                "supportedFlags": list(seccomp.SUPPORTED_FLAGS),
            },
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "org.opencontainers.runc.version": "pyrunc " + __version__,
        },
        "potentiallyUnsafeConfigAnnotations": ["bundle", "org.systemd.property.", "org.criu.config"],
    }


def run(inv):
    os.write(1, (jsonio.dumps(features(), "    ") + "\n").encode())
    return 0
