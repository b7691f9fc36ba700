"""`--systemd-cgroup`: cgroupsPath is "slice:prefix:name", the cgroup a systemd scope.

runc asks systemd over D-Bus to create a transient scope unit. pyrunc does not
speak D-Bus: on a host where systemd is PID 1 it computes the same cgroup path
runc's systemd driver would use (so engines and tests find it where they look)
and manages it with the cgroupfs backends, and says so in a warning. Without
systemd it fails exactly as runc does.
"""

from pyrunc.cgroups import CgroupError, clean_path
from pyrunc.cgroups.layout import systemd_running

DEFAULT_SLICE = "system.slice"
DEFAULT_PREFIX = "runc"


def expand_slice(slice_name):
    """systemd's slice nesting: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"."""
    suffix = ".slice"
    if not slice_name.endswith(suffix) or "/" in slice_name:
        raise CgroupError(f"invalid slice name: {slice_name}")
    if slice_name == "-.slice":
        return "/"
    stem = slice_name[:-len(suffix)]
    if not stem or stem.startswith("-") or stem.endswith("-") or "--" in stem:
        raise CgroupError(f"invalid slice name: {slice_name}")
    path = ""
    prefix = ""
    for part in stem.split("-"):
        prefix = prefix + "-" + part if prefix else part
        path += "/" + prefix + suffix
    return path


def parse_path(cgroups_path, container_id):
    """(slice, prefix, name) from "slice:prefix:name" (each part may be empty)."""
    if not cgroups_path:
        return DEFAULT_SLICE, DEFAULT_PREFIX, container_id
    parts = cgroups_path.split(":")
    if len(parts) != 3:
        raise CgroupError(f'expected cgroupsPath to be of format "slice:prefix:name" for systemd '
                          f'cgroups, got "{cgroups_path}" instead')
    return parts[0] or DEFAULT_SLICE, parts[1], parts[2] or container_id


def unit_name(prefix, name):
    """runc's getUnitName: a name ending in .slice is a slice itself, else a scope."""
    if name.endswith(".slice"):
        return name
    return f"{prefix}-{name}.scope" if prefix else f"{name}.scope"


def inner_path(config, container_id):
    """The absolute cgroup path for the config, after checking systemd runs here."""
    linux = config.linux
    slice_name, prefix, name = parse_path(linux.cgroups_path if linux is not None else "", container_id)
    if not systemd_running():
        raise CgroupError("systemd not running on this host, cannot use systemd cgroups manager")
    path = expand_slice(slice_name) + "/" + unit_name(prefix, name)
    from pyrunc import log

    log.warning("systemd cgroup manager: pyrunc creates " + path + " directly (cgroupfs) "
                "instead of asking systemd for a transient unit over D-Bus")
    return clean_path(path)
