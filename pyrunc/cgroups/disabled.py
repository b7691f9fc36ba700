"""No cgroups: `--cgroup-manager disabled`, or a host without cgroup mounts.

The container then runs in the caller's cgroups; limits cannot be applied and
processes cannot be listed through a cgroup (pids() returns None, and callers
fall back to namespaces). Pausing needs a freezer and fails.
"""

from pyrunc.cgroups import DISABLED, Manager, has_limits


class DisabledManager(Manager):
    kind = DISABLED
    __slots__ = ("reason",)

    def __init__(self, paths=None, mounts=None, created=None, resources=None, reason=""):
        super().__init__(None, None, None, resources)
        self.reason = reason or "the cgroup manager is disabled"

    def create(self):
        if has_limits(self.resources):
            from pyrunc import log

            log.warning(f"linux.resources ignored: {self.reason}")

    def to_state(self):
        return {"kind": DISABLED}

    def exists(self):
        return False
