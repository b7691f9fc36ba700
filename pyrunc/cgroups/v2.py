"""cgroup v2 (unified hierarchy): one directory for every controller.

Values follow runc's conversions from the v1-shaped runtime-spec fields:
  cpu.shares -> cpu.weight   1 + ((shares - 2) * 9999) / 262142
  blkio weight -> io.weight  1 + ((weight - 10) * 9999) / 990 (io.bfq.weight takes it as is)
  memory.swap (memory+swap) -> memory.swap.max = swap - limit
  quota/period -> cpu.max "QUOTA PERIOD" ("max" for no quota)
`linux.resources.unified` is written last, as given, so it overrides the above.
Device rules need an eBPF program (ebpf.py).
"""

import errno

from pyrunc import lean_os as os
from pyrunc.cgroups import (
    V2, CgroupError, Manager, canonical_keys, procs_of, read_file, read_int,
    write_file)


def shares_to_weight(shares):
    """runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000]; 0 = unset."""
    if not shares:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_weight_to_io_weight(weight):
    """runc's ConvertBlkIOToIOWeightValue: [10, 1000] onto [1, 10000]; 0 = unset."""
    if not weight:
        return 0
    return 1 + ((weight - 10) * 9999) // 990


def swap_to_v2(swap, limit):
    """runtime-spec memory.swap is memory+swap (v1 memsw); v2's memory.swap.max is swap
    alone. Returns the value for memory.swap.max: None = leave as is, -1 = "max"."""
    # Unlimited memory without a swap setting means both unlimited (as on v1).
    if limit == -1 and swap == 0:
        return -1
    if swap == 0:
        return None
    if swap == -1:
        return -1
    if limit in (0, -1):
        raise CgroupError("unable to set swap limit without memory limit")
    if limit < 0:
        raise CgroupError(f"invalid memory value: {limit}")
    if swap < limit:
        raise CgroupError("memory+swap limit should be >= memory limit")
    return swap - limit


def num(value):
    """A limit as v2 files take it: -1 is "max"."""
    return "max" if value == -1 else str(value)


def controllers_of(directory):
    try:
        return read_file(directory + "/cgroup.controllers").split()
    except OSError:
        return []


def enable_controllers(mount, leaf, wanted=None):
    """Enable controllers in cgroup.subtree_control of every level from the mount down
    to leaf's parent, so leaf gets their files. wanted=None: all available (runc does
    this); otherwise only those, and it is an error if one is missing."""
    if leaf == mount or not leaf.startswith(mount.rstrip("/") + "/"):
        return
    levels = []
    p = os.path.dirname(leaf)
    while True:
        levels.append(p)
        if p == mount or not p.startswith(mount + "/"):
            break
        p = os.path.dirname(p)
    for d in reversed(levels):
        available = controllers_of(d)
        if wanted is not None:
            missing = [c for c in wanted if c not in available]
            if missing:
                raise CgroupError(f"cannot set {missing[0]} limit: controller {missing[0]} "
                                  f"is not available in {d}")
        try:
            have = set(read_file(d + "/cgroup.subtree_control").split())
        except OSError:
            have = set()
        todo = [c for c in (available if wanted is None else wanted) if c not in have]
        if not todo:
            continue
        try:
            write_file(d, "cgroup.subtree_control", " ".join("+" + c for c in todo))
        except CgroupError:
            if wanted is not None and len(todo) == 1:
                raise
            # One at a time: some (e.g. a threaded-only one) may be refused; the
            # others are still worth having.
            for c in todo:
                try:
                    write_file(d, "cgroup.subtree_control", "+" + c)
                except CgroupError:
                    if wanted is not None:
                        raise


class V2Manager(Manager):
    kind = V2
    __slots__ = ()

    @property
    def dir(self):
        return self.paths.get("")

    def freezer_state_file(self):
        d = self.dir
        return d + "/cgroup.freeze" if d else None

    def primary(self):
        return self.dir

    def create(self):
        res = self.resources or {}
        d = self.dir
        mount = self.mounts.get("")
        try:
            self._make_dirs(d, mount)
        except CgroupError as e:
            self.destroy()
            if self.rootless and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                from pyrunc.cgroups import has_limits

                if has_limits(res):
                    raise CgroupError("rootless needs no limits + no cgrouppath when no "
                                      "permission is granted for cgroups") from None
                self.paths, self.mounts = {}, {}
                return
            raise
        try:
            self.check_protected(res)
            enable_controllers(mount, d)
            if self.frozen():
                raise CgroupError("container's cgroup unexpectedly frozen")
            if d not in self.created:
                n = len(procs_of(d, recursive=False))
                if n:
                    from pyrunc import log

                    log.warning(f"container's cgroup is not empty: {n} process(es) found")
            self.adopt_shared_leaves()
            self.apply(res)
        except BaseException:
            self.destroy()
            raise

    def pids(self):
        d = self.dir
        return procs_of(d) if d else None

    # -- freezer ------------------------------------------------------------------
    def frozen(self):
        d = self.dir
        if d is None:
            return False
        try:
            return read_file(d + "/cgroup.freeze").strip() == "1"
        except OSError:
            return False

    def freeze(self):
        import time

        d = self.dir
        if d is None or not os.path.exists(d + "/cgroup.freeze"):
            raise CgroupError("cannot pause: cgroup.freeze is not available (kernel < 5.2?)")
        write_file(d, "cgroup.freeze", "1")
        # Freezing completes asynchronously; cgroup.events says when.
        deadline = time.monotonic() + 2.0
        delay = 0.0005
        while "frozen 1" not in read_file(d + "/cgroup.events"):
            if time.monotonic() > deadline:
                write_file(d, "cgroup.freeze", "0")
                raise CgroupError("unable to freeze")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def thaw(self):
        d = self.dir
        if d is None:
            raise CgroupError("cannot resume: the container has no cgroup")
        write_file(d, "cgroup.freeze", "0")

    # -- resources ------------------------------------------------------------------
    def apply(self, resources, update=False):
        res = canonical_keys(resources) or {}
        d = self.dir
        if d is None:
            return
        self.set_pids(d, res)
        self.set_memory(d, res)
        self.set_io(d, res)
        self.set_cpu(d, res)
        if not update:
            self.set_devices(d, res)
        self.set_cpuset(d, res)
        self.set_hugetlb(d, res)
        self.set_rdma(d, res)
        self.set_unified(d, res)

    @staticmethod
    def set_pids(d, res):
        limit = (res.get("pids") or {}).get("limit") or 0
        if limit:
            write_file(d, "pids.max", limit if limit > 0 else "max")

    @staticmethod
    def set_memory(d, res):
        mem = res.get("memory") or {}
        if not mem:
            return
        from pyrunc import log

        limit = mem.get("limit") or 0
        swap = swap_to_v2(mem.get("swap") or 0, limit)
        if mem.get("kernel") or mem.get("kernelTCP"):
            log.warning("kernel memory settings (linux.resources.memory.kernel, kernelTCP) "
                        "are ignored and will be removed")
        if mem.get("swappiness") is not None:
            log.warning("linux.resources.memory.swappiness is not supported on cgroup v2; ignored")
        if mem.get("disableOOMKiller"):
            log.warning("linux.resources.memory.disableOOMKiller is not supported on cgroup v2; "
                        "ignored")
        if limit > 0 and mem.get("checkBeforeUpdate"):
            current = read_int(d + "/memory.current", 0)
            if current > limit:
                raise CgroupError(f"rejecting memory limit {limit} below the current usage "
                                  f"{current} (memory.checkBeforeUpdate)")
        if swap is not None:
            try:
                write_file(d, "memory.swap.max", num(swap))
            except CgroupError as e:
                # No swap accounting: asking for "unlimited" or "none" is no change.
                if not (e.errno == errno.ENOENT and swap in (-1, 0)):
                    raise
        if limit:
            write_file(d, "memory.max", num(limit))
        if mem.get("reservation"):
            write_file(d, "memory.low", num(mem["reservation"]))

    @staticmethod
    def set_io(d, res):
        bio = res.get("blockIO") or {}
        if not bio:
            return
        bfq = os.path.exists(d + "/io.bfq.weight")
        weight = bio.get("weight") or 0
        if weight:
            if bfq:
                write_file(d, "io.bfq.weight", weight)
            else:
                write_file(d, "io.weight", blkio_weight_to_io_weight(weight))
        if bio.get("leafWeight"):
            from pyrunc import log

            log.warning("linux.resources.blockIO.leafWeight is not supported on cgroup v2; ignored")
        for wd in bio.get("weightDevice") or ():
            if wd.get("weight"):
                if bfq:
                    write_file(d, "io.bfq.weight", f"{wd['major']}:{wd['minor']} {wd['weight']}")
                else:
                    write_file(d, "io.weight", f"{wd['major']}:{wd['minor']} "
                               f"{blkio_weight_to_io_weight(wd['weight'])}")
        for key, name in (("throttleReadBpsDevice", "rbps"), ("throttleWriteBpsDevice", "wbps"),
                          ("throttleReadIOPSDevice", "riops"), ("throttleWriteIOPSDevice", "wiops")):
            for td in bio.get(key) or ():
                rate = td.get("rate") or 0
                # v1 takes 0 as "no limit"; v2 spells that "max".
                write_file(d, "io.max", f"{td['major']}:{td['minor']} {name}={rate if rate else 'max'}")

    @staticmethod
    def set_cpu(d, res):
        cpu = res.get("cpu") or {}
        if not cpu:
            return
        if cpu.get("realtimePeriod") or cpu.get("realtimeRuntime"):
            from pyrunc import log

            log.warning("linux.resources.cpu.realtimePeriod/realtimeRuntime are not supported "
                        "on cgroup v2; ignored")
        idle = cpu.get("idle")
        if idle is not None:
            write_file(d, "cpu.idle", idle)
        weight = shares_to_weight(cpu.get("shares") or 0)
        # An idle group has no weight of its own.
        if weight and not idle:
            write_file(d, "cpu.weight", weight)
        quota = cpu.get("quota") or 0
        period = cpu.get("period") or 0
        if quota or period:
            value = str(quota) if quota > 0 else "max"
            if period:
                value += f" {period}"
            write_file(d, "cpu.max", value)
        if cpu.get("burst") is not None:
            write_file(d, "cpu.max.burst", cpu["burst"])

    def set_devices(self, d, res):
        from pyrunc.cgroups.v1 import device_rules

        rules = device_rules(res.get("devices"), self.device_nodes)
        if not rules:
            return
        from pyrunc.cgroups import ebpf

        ebpf.apply_device_rules(d, rules)

    @staticmethod
    def set_cpuset(d, res):
        cpu = res.get("cpu") or {}
        if cpu.get("cpus"):
            write_file(d, "cpuset.cpus", cpu["cpus"])
        if cpu.get("mems"):
            write_file(d, "cpuset.mems", cpu["mems"])

    @staticmethod
    def set_hugetlb(d, res):
        for h in res.get("hugepageLimits") or ():
            size = h["pageSize"]
            if os.path.exists(f"{d}/hugetlb.{size}.rsvd.max"):
                write_file(d, f"hugetlb.{size}.rsvd.max", h["limit"])
            write_file(d, f"hugetlb.{size}.max", h["limit"])

    @staticmethod
    def set_rdma(d, res):
        from pyrunc.cgroups.v1 import rdma_line

        for dev, lim in (res.get("rdma") or {}).items():
            write_file(d, "rdma.max", rdma_line(dev, lim))

    @staticmethod
    def set_unified(d, res):
        """runtime-spec (config-linux.md, Unified): "Each key in the map refers to a file
        in the cgroup unified hierarchy." "Configuration unknown to the runtime MUST
        still be written to the relevant file." "The runtime MUST generate an error when
        the configuration refers to a cgroup controller that is not present or that
        cannot be enabled." (create() has enabled every available controller on the
        way down: "The OCI runtime MUST ensure that the needed cgroup controllers are
        enabled for the cgroup.")"""
        for key, value in (res.get("unified") or {}).items():
            if "/" in key or key in ("", ".", ".."):
                raise CgroupError(f'unified resource "{key}" must be a file name (no slashes)')
            try:
                write_file(d, key, value)
            except CgroupError as e:
                if e.errno == errno.ENOENT:
                    ctrl = key.split(".", 1)[0]
                    if ctrl not in controllers_of(d) and ctrl != "cgroup":
                        raise CgroupError(f'unified resource "{key}" can\'t be set: controller '
                                          f'"{ctrl}" not available') from None
                raise

    def stats(self):
        from pyrunc.cgroups import stats as S

        return S.v2_stats(self.dir)
