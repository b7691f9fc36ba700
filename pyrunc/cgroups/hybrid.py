"""Hybrid hosts: cgroup v1 controllers plus a cgroup2 mount ("unified") beside them.

Everything is the v1 backend's, plus the unified hierarchy as one more path
(key ""): the container gets a directory there too, every process of it joins
it (runc's bats "cgroup v1+hybrid" test requires an exec'd process to land in
the init's unified cgroup), and controllers that exist only in cgroup2 on such
a host (hugetlb on this host kind) are set there.

`linux.resources.unified` is still refused, as runc refuses it on any host it
manages through v1.
"""

from pyrunc.cgroups import HYBRID, CgroupError
from pyrunc.cgroups.v1 import V1Manager


class HybridManager(V1Manager):
    kind = HYBRID
    __slots__ = ()

    def set_hugetlb(self, res):
        limits = res.get("hugepageLimits") or ()
        if not limits:
            return
        if self.path("hugetlb") is not None:
            # A host with a v1 hugetlb mount: use it, as on pure v1.
            return V1Manager.set_hugetlb(self, res)
        d = self.paths.get("")
        mount = self.mounts.get("")
        if d is None or mount is None:
            raise CgroupError("cannot set hugetlb limit: container could not join or create cgroup")
        from pyrunc.cgroups.v2 import V2Manager, enable_controllers

        # The unified hierarchy has no controller enabled below its root by
        # default; hugetlb must be switched on along the path to the container.
        enable_controllers(mount, d, ("hugetlb",))
        V2Manager.set_hugetlb(d, res)

    def stats(self):
        from pyrunc.cgroups import stats as S

        return S.v1_stats(self, unified=self.paths.get(""))

