"""cgroup v1: one directory per mounted hierarchy.

Controllers are written in runc's order (cpuset, devices, memory, cpu, pids,
blkio, hugetlb, net_cls, net_prio, rdma), each only for the values the config
sets (0 or absent = leave the kernel's value). Limits are applied before the
init joins, so the container never runs unlimited.
"""

import errno

from pyrunc import lean_os as os
from pyrunc.cgroups import (
    V1, CgroupError, FileWriter, Manager, canonical_keys, procs_of, read_file, read_int,
    write_file)

# runc's default device rules (runc 1.5 specconv.AllowedDevices), appended after
# the config's own rules: mknod of anything, the standard character devices, ptys.
DEFAULT_DEVICE_RULES = (
    (True, "c", None, None, "m"),
    (True, "b", None, None, "m"),
    (True, "c", 1, 3, "rwm"),     # /dev/null
    (True, "c", 1, 8, "rwm"),     # /dev/random
    (True, "c", 1, 7, "rwm"),     # /dev/full
    (True, "c", 5, 0, "rwm"),     # /dev/tty
    (True, "c", 1, 5, "rwm"),     # /dev/zero
    (True, "c", 1, 9, "rwm"),     # /dev/urandom
    (True, "c", 136, None, "rwm"),  # /dev/pts/*
    (True, "c", 5, 2, "rwm"),     # /dev/ptmx
)

# Which hierarchy pids() and the "not empty" check read, best first.
_PRIMARY = ("freezer", "pids", "devices", "memory", "cpu", "cpuacct", "cpuset", "blkio", "name=systemd")

_MAX_SHARES_ERR = "the maximum allowed cpu-shares is %d"
_MIN_SHARES_ERR = "the minimum allowed cpu-shares is %d"


def device_rules(resource_devices, device_nodes):
    """(allow, type, major, minor, access) in the order they are written: the config's
    rules exactly as listed (runtime-spec: "The runtime MUST apply entries in the listed
    order"), then runc's defaults."""
    rules = []
    for d in resource_devices or ():
        rules.append((bool(d.get("allow")), d.get("type") or "a", d.get("major"), d.get("minor"),
                      device_access(d.get("access"))))
    if not rules and not device_nodes:
        return rules  # nothing asked: the cgroup keeps what it inherits
    rules.extend(DEFAULT_DEVICE_RULES)
    # linux.devices nodes get no allow rule of their own: as in runc, a node the
    # config creates but its resources.devices deny stays unusable (dev.bats).
    return rules


def device_access(access):
    """runtime-spec: access is "r", "w" and/or "m"; as runc, other letters are dropped
    (the kernel refuses "rwa"), and an absent value means all three."""
    if not access:
        return "rwm"
    return "".join(c for c in "rwm" if c in access) or "rwm"


def device_rule_text(rule):
    """A rule as devices.allow/devices.deny take it: "c 1:3 rwm", "a"."""
    _, dtype, major, minor, access = rule
    if dtype == "a":
        return "a"
    ma = "*" if major is None or major < 0 else str(major)
    mi = "*" if minor is None or minor < 0 else str(minor)
    return f"{dtype} {ma}:{mi} {access}"


_CPUSET_FILES = ("cpuset.cpus", "cpuset.mems")


class V1Manager(Manager):
    kind = V1
    __slots__ = ()

    # -- where things are ---------------------------------------------------------
    def path(self, controller):
        """The directory of the hierarchy holding `controller`, or None if it is not mounted."""
        p = self.paths.get(controller)
        if p is not None:
            return p
        for key, p in self.paths.items():
            if key and controller in key.split(","):
                return p
        return None

    def _dir(self, controller):
        p = self.path(controller)
        if p is None:
            # runc's text; e.g. hugetlb is not a v1 mount on this host kind.
            raise CgroupError(f"cannot set {controller} limit: container could not join or create cgroup")
        return p

    def _mount_of(self, path):
        for key, p in self.paths.items():
            if p == path:
                return self.mounts.get(key)
        return None

    def primary(self):
        for ctrl in _PRIMARY:
            p = self.path(ctrl)
            if p is not None:
                return p
        return next(iter(self.paths.values()), None)

    def freezer_state_file(self):
        p = self.path("freezer")
        return p + "/freezer.state" if p else None

    def mount_binds(self):
        return [(os.path.basename(self.mounts[key]), path) for key, path in self.paths.items()
                if key in self.mounts]

    # -- create / join / destroy ----------------------------------------------------
    def create(self):
        try:
            self.create_early()
            if self.defers_creation():
                self.create_late()
        except BaseException:
            self.destroy()
            raise

    def defers_creation(self):
        # A rootless run may lose its cgroups altogether (see _rootless_fallback);
        # the init must know that before it looks for them, so all is done first.
        return not self.rootless

    def create_early(self):
        res = self.resources or {}
        self.check_config(res)
        if not self.defers_creation():
            self._make_all(self.paths.items(), res)
            if self.paths:
                self._configure(res)
            return
        birth = self.birth_dir()
        if birth is not None:
            self._make_all([("", birth)], res)

    def create_late(self):
        res = self.resources or {}
        self._make_all([(key, path) for key, path in self.paths.items() if key != ""], res)
        self._configure(res)

    def _make_all(self, items, res):
        try:
            for key, path in items:
                self._make_dirs(path, self.mounts[key])
        except CgroupError as e:
            if self.rootless and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                self.destroy()
                self._rootless_fallback(res)
                return
            raise

    def _configure(self, res):
        self.check_protected(res)
        self._cpuset_inherit()
        self.check_not_frozen()
        self.warn_if_not_empty()
        self.adopt_shared_leaves()
        self.apply(res)

    def check_config(self, res):
        if res.get("unified"):
            # runc: cgroups.ErrV1NoUnified.
            raise CgroupError("invalid configuration: cannot use unified on cgroup v1")

    def _rootless_fallback(self, res):
        from pyrunc.cgroups import has_limits

        if has_limits(res):
            raise CgroupError("rootless needs no limits + no cgrouppath when no permission is "
                              "granted for cgroups")
        self.paths = {}
        self.mounts = {}

    def check_not_frozen(self):
        """A container must not start in a cgroup someone froze (runc's bats checks the text)."""
        if self.frozen():
            raise CgroupError("container's cgroup unexpectedly frozen")

    def warn_if_not_empty(self):
        p = self.primary()
        if p is None or p in self.created:
            return
        n = len(procs_of(p, recursive=False))
        if n:
            from pyrunc import log

            log.warning(f"container's cgroup is not empty: {n} process(es) found")

    def _cpuset_inherit(self):
        """A new cpuset cgroup starts with empty cpuset.cpus/mems, and a process cannot
        join it until they are set: copy them down from the parent, level by level.
        A level this manager made is known to be empty; only older ones are read."""
        path = self.path("cpuset")
        if path is None:
            return
        mount = self._mount_of(path) or ""
        levels = []
        p = path
        while p != mount and p.startswith(mount + "/"):
            levels.append(p)
            p = os.path.dirname(p)
        above = None  # the values of the level above, once read
        for d in reversed(levels):
            parent = os.path.dirname(d)
            values = {} if d in self.created else {
                name: read_file(d + "/" + name).strip() for name in _CPUSET_FILES}
            for name in _CPUSET_FILES:
                if not values.get(name):
                    if above is None:
                        above = {n: read_file(parent + "/" + n).strip() for n in _CPUSET_FILES}
                    write_file(d, name, above[name])
                    values[name] = above[name]
            above = values

    def pids(self):
        p = self.primary()
        if p is None:
            return None
        return procs_of(p)

    # -- freezer ------------------------------------------------------------------
    def frozen(self):
        p = self.path("freezer")
        if p is None:
            return False
        try:
            return read_file(p + "/freezer.state").strip() == "FROZEN"
        except OSError:
            return False

    def freeze(self):
        """FROZEN can take a moment (FREEZING); a task stuck in an uninterruptible
        sleep can keep it there, so re-ask with pauses, thaw and fail after ~2 s."""
        import time

        p = self.path("freezer")
        if p is None:
            raise CgroupError("cannot pause: the container has no freezer cgroup")
        deadline = time.monotonic() + 2.0
        delay = 0.0005
        while True:
            write_file(p, "freezer.state", "FROZEN")
            state = read_file(p + "/freezer.state").strip()
            if state == "FROZEN":
                return
            if state != "FREEZING":
                raise CgroupError(f"unexpected freezer state {state} after writing FROZEN")
            if time.monotonic() > deadline:
                write_file(p, "freezer.state", "THAWED")
                raise CgroupError("unable to freeze")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def thaw(self):
        p = self.path("freezer")
        if p is None:
            raise CgroupError("cannot resume: the container has no freezer cgroup")
        write_file(p, "freezer.state", "THAWED")

    # -- resources ------------------------------------------------------------------
    def apply(self, resources, update=False):
        """Write linux.resources. `update`: device rules are left alone (runc's update
        does not change them, and rewriting them would open a window where even
        /dev/null is denied)."""
        res = canonical_keys(resources) or {}
        self.check_config(res)
        self.set_cpuset(res)
        if not update:
            self.set_devices(res)
        self.set_memory(res)
        self.set_cpu(res)
        self.set_pids(res)
        self.set_blkio(res)
        self.set_hugetlb(res)
        self.set_network(res)
        self.set_rdma(res)

    def set_cpuset(self, res):
        cpu = res.get("cpu") or {}
        if not cpu.get("cpus") and not cpu.get("mems"):
            return
        d = self._dir("cpuset")
        if cpu.get("cpus"):
            write_file(d, "cpuset.cpus", cpu["cpus"])
        if cpu.get("mems"):
            write_file(d, "cpuset.mems", cpu["mems"])

    def set_devices(self, res):
        rules = device_rules(res.get("devices"), self.device_nodes)
        if not rules:
            return
        # Each file opened once: ten rules are the common case, written on every create.
        with FileWriter(self._dir("devices")) as files:
            for rule in rules:
                files.write("devices.allow" if rule[0] else "devices.deny", device_rule_text(rule))

    def set_memory(self, res):
        mem = res.get("memory") or {}
        if not mem:
            return
        limit = mem.get("limit") or 0
        swap = mem.get("swap") or 0
        reservation = mem.get("reservation") or 0
        swappiness = mem.get("swappiness")
        if mem.get("kernel") or mem.get("kernelTCP"):
            from pyrunc import log

            # host.md: kmem limit writes are no-ops on this kernel; runc >= 1.2 ignores them.
            log.warning("kernel memory settings (linux.resources.memory.kernel, kernelTCP) "
                        "are ignored and will be removed")
        if not (limit or swap or reservation or swappiness is not None or mem.get("disableOOMKiller")):
            return
        d = self._dir("memory")
        # An unlimited memory with no swap setting means "both unlimited".
        if limit == -1 and swap == 0:
            swap = -1
        if limit and swap:
            # memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every
            # step: raise swap first when growing, the limit first when shrinking.
            current = read_int(d + "/memory.limit_in_bytes", -1)
            if swap == -1 or current < swap:
                write_file(d, "memory.memsw.limit_in_bytes", swap)
                self._set_memory_limit(d, limit)
                swap = 0
                limit = 0
        if limit:
            self._set_memory_limit(d, limit)
        if swap:
            write_file(d, "memory.memsw.limit_in_bytes", swap)
        if reservation:
            write_file(d, "memory.soft_limit_in_bytes", reservation)
        if swappiness is not None:
            if swappiness > 100:
                raise CgroupError(f"invalid value:{swappiness}. valid memory swappiness range is 0-100")
            write_file(d, "memory.swappiness", swappiness)
        if mem.get("disableOOMKiller"):
            write_file(d, "memory.oom_control", 1)

    @staticmethod
    def _set_memory_limit(d, limit):
        try:
            write_file(d, "memory.limit_in_bytes", limit)
        except CgroupError as e:
            if e.errno != errno.EBUSY:
                raise
            usage = read_file(d + "/memory.usage_in_bytes").strip()
            peak = read_file(d + "/memory.max_usage_in_bytes").strip()
            raise CgroupError(f"unable to set memory limit to {limit} (current usage: {usage}, "
                              f"peak usage: {peak})") from None

    def set_cpu(self, res):
        cpu = res.get("cpu") or {}
        shares = cpu.get("shares") or 0
        period = cpu.get("period") or 0
        quota = cpu.get("quota") or 0
        rt_period = cpu.get("realtimePeriod") or 0
        rt_runtime = cpu.get("realtimeRuntime") or 0
        burst = cpu.get("burst")
        idle = cpu.get("idle")
        if not (shares or period or quota or rt_period or rt_runtime or burst is not None
                or idle is not None):
            return
        d = self._dir("cpu")
        # Realtime first: a process already under SCHED_RR cannot join a group
        # without RT bandwidth.
        if rt_period:
            write_file(d, "cpu.rt_period_us", rt_period)
        if rt_runtime:
            write_file(d, "cpu.rt_runtime_us", rt_runtime)
        if shares:
            write_file(d, "cpu.shares", shares)
            got = read_int(d + "/cpu.shares", 0)
            if shares > got:
                raise CgroupError(_MAX_SHARES_ERR % got)
            if shares < got:
                raise CgroupError(_MIN_SHARES_ERR % got)
        pending_period = 0
        if period:
            try:
                write_file(d, "cpu.cfs_period_us", period)
            except CgroupError as e:
                # A shorter period can exceed the parent's limit with the old quota
                # (EINVAL); if a quota comes too, retry once it is in place.
                if e.errno != errno.EINVAL or not quota:
                    raise
                pending_period = period
        if quota:
            write_file(d, "cpu.cfs_quota_us", quota)
            if pending_period:
                write_file(d, "cpu.cfs_period_us", pending_period)
        if burst is not None:
            write_file(d, "cpu.cfs_burst_us", burst)
        if idle is not None:
            write_file(d, "cpu.idle", idle)

    def set_pids(self, res):
        limit = (res.get("pids") or {}).get("limit") or 0
        if not limit:
            return
        write_file(self._dir("pids"), "pids.max", limit if limit > 0 else "max")

    def set_blkio(self, res):
        bio = res.get("blockIO") or {}
        if not bio:
            return
        weight = bio.get("weight") or 0
        leaf = bio.get("leafWeight") or 0
        devices = bio.get("weightDevice") or ()
        throttles = [(key, bio.get(key) or ()) for key in
                     ("throttleReadBpsDevice", "throttleWriteBpsDevice",
                      "throttleReadIOPSDevice", "throttleWriteIOPSDevice")]
        if not (weight or leaf or devices or any(t for _, t in throttles)):
            return
        d = self._dir("blkio")
        # bfq's files when the bfq scheduler provides them, else CFQ's.
        if os.path.exists(d + "/blkio.bfq.weight"):
            weight_file, device_file = "blkio.bfq.weight", "blkio.bfq.weight_device"
        else:
            weight_file, device_file = "blkio.weight", "blkio.weight_device"
        if weight:
            write_file(d, weight_file, weight)
        if leaf:
            write_file(d, "blkio.leaf_weight", leaf)
        for wd in devices:
            dev = f"{wd.get('major')}:{wd.get('minor')}"
            if wd.get("weight"):
                write_file(d, device_file, f"{dev} {wd['weight']}")
            if wd.get("leafWeight"):
                write_file(d, "blkio.leaf_weight_device", f"{dev} {wd['leafWeight']}")
        files = {"throttleReadBpsDevice": "blkio.throttle.read_bps_device",
                 "throttleWriteBpsDevice": "blkio.throttle.write_bps_device",
                 "throttleReadIOPSDevice": "blkio.throttle.read_iops_device",
                 "throttleWriteIOPSDevice": "blkio.throttle.write_iops_device"}
        for key, entries in throttles:
            for td in entries:
                write_file(d, files[key], f"{td.get('major')}:{td.get('minor')} {td.get('rate', 0)}")

    def set_hugetlb(self, res):
        limits = res.get("hugepageLimits") or ()
        if not limits:
            return
        d = self._dir("hugetlb")
        for h in limits:
            size = h["pageSize"]
            write_file(d, f"hugetlb.{size}.limit_in_bytes", h["limit"])
            if os.path.exists(f"{d}/hugetlb.{size}.rsvd.limit_in_bytes"):
                write_file(d, f"hugetlb.{size}.rsvd.limit_in_bytes", h["limit"])

    def set_network(self, res):
        net = res.get("network") or {}
        if net.get("classID"):
            write_file(self._dir("net_cls"), "net_cls.classid", net["classID"])
        prios = net.get("priorities") or ()
        if prios:
            d = self._dir("net_prio")
            for p in prios:
                write_file(d, "net_prio.ifpriomap", f"{p['name']} {p['priority']}")

    def set_rdma(self, res):
        rdma = res.get("rdma") or {}
        if not rdma:
            return
        d = self._dir("rdma")
        for dev, lim in rdma.items():
            write_file(d, "rdma.max", rdma_line(dev, lim))

    # -- stats --------------------------------------------------------------------------
    def stats(self):
        """runc's stats object (types.Stats) from the v1 files."""
        from pyrunc.cgroups import stats as S

        return S.v1_stats(self)


def rdma_line(dev, lim):
    parts = [dev]
    if lim.get("hcaHandles") is not None:
        parts.append(f"hca_handle={lim['hcaHandles']}")
    if lim.get("hcaObjects") is not None:
        parts.append(f"hca_object={lim['hcaObjects']}")
    return " ".join(parts)
