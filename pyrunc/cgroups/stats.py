"""Statistics for `events`, shaped as runc's types.Stats (cli.md §6 "events").

Key order and omission follow Go's encoding/json on runc's structs: struct fields
in declaration order, `omitempty` fields left out when zero, maps sorted by key.
Only `events` imports this module.
"""

import os

from pyrunc.cgroups import read_file

_USER_HZ = 100  # clock ticks per second in cpuacct.stat (sysconf(_SC_CLK_TCK) on Linux)
_NS = 1_000_000_000
_MAX_U64 = 18446744073709551615


def _read(path, default=""):
    try:
        return read_file(path)
    except OSError:
        return default


def _int(text, default=0):
    text = text.strip()
    if text == "max":
        return _MAX_U64
    try:
        return int(text)
    except ValueError:
        return default


def _file_int(path, default=0):
    return _int(_read(path, ""), default)


def flat_keyed(text):
    """ "key value" lines as a dict of ints."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = _int(parts[1])
    return out


def cpu_list(text):
    """ "0-2,5" -> [0, 1, 2, 5]."""
    out = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            out.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            continue
    return out


def hugepage_sizes():
    """Page sizes as cgroup file names spell them: "2MB", "1GB", "64KB"."""
    try:
        names = os.listdir("/sys/kernel/mm/hugepages")
    except OSError:
        return []
    sizes = []
    for name in sorted(names):
        if not name.startswith("hugepages-") or not name.endswith("kB"):
            continue
        kb = int(name[len("hugepages-"):-2])
        for unit, div in (("GB", 1 << 20), ("MB", 1 << 10), ("KB", 1)):
            if kb % div == 0:
                sizes.append(f"{kb // div}{unit}")
                break
    return sizes


def _omit_zero(d):
    return {k: v for k, v in d.items() if v}


def _memory_entry(limit=0, usage=0, peak=0, failcnt=0):
    # types.MemoryEntry: limit and failcnt always, usage and max omitempty.
    out = {"limit": limit}
    if usage:
        out["usage"] = usage
    if peak:
        out["max"] = peak
    out["failcnt"] = failcnt
    return out


def _cpuset(d):
    if d is None:
        cpus, mems = [], []
        get = lambda name: 0  # noqa: E731
    else:
        cpus = cpu_list(_read(d + "/cpuset.cpus"))
        mems = cpu_list(_read(d + "/cpuset.mems"))
        get = lambda name: _file_int(d + "/cpuset." + name)  # noqa: E731
    out = {}
    if cpus:
        out["cpus"] = cpus
    out["cpu_exclusive"] = get("cpu_exclusive")
    if mems:
        out["mems"] = mems
    for name in ("mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                 "memory_spread_slab", "memory_pressure", "sched_load_balance",
                 "sched_relax_domain_level"):
        out[name] = get(name)
    return out


def _blkio_entries(text):
    """v1 "MAJ:MIN Op value" lines (the closing "Total N" is skipped)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        major, _, minor = parts[0].partition(":")
        entry = {}
        if int(major):
            entry["major"] = int(major)
        if int(minor):
            entry["minor"] = int(minor)
        entry["op"] = parts[1]
        v = _int(parts[2])
        if v:
            entry["value"] = v
        out.append(entry)
    return out


def _tail(cpu, cpuset, memory, pids, blkio, hugetlb):
    return {"cpu": cpu, "cpuset": cpuset, "memory": memory, "pids": pids, "blkio": blkio,
            "hugetlb": hugetlb, "intel_rdt": {}, "network_interfaces": None}


def v1_stats(mgr, unified=None):
    # cpu: cpuacct for usage, cpu for throttling.
    usage = {}
    acct = mgr.path("cpuacct")
    kernel = user = 0
    if acct is not None:
        total = _file_int(acct + "/cpuacct.usage")
        if total:
            usage["total"] = total
        percpu = [_int(x) for x in _read(acct + "/cpuacct.usage_percpu").split()]
        if percpu:
            usage["percpu"] = percpu
        per_kernel, per_user = [], []
        for line in _read(acct + "/cpuacct.usage_all").splitlines()[1:]:
            parts = line.split()
            if len(parts) == 3:
                per_user.append(_int(parts[1]))
                per_kernel.append(_int(parts[2]))
        if per_kernel:
            usage["percpu_kernel"] = per_kernel
        if per_user:
            usage["percpu_user"] = per_user
        st = flat_keyed(_read(acct + "/cpuacct.stat"))
        kernel = st.get("system", 0) * _NS // _USER_HZ
        user = st.get("user", 0) * _NS // _USER_HZ
    usage["kernel"] = kernel
    usage["user"] = user
    throttling = {}
    cpu_dir = mgr.path("cpu")
    if cpu_dir is not None:
        st = flat_keyed(_read(cpu_dir + "/cpu.stat"))
        throttling = _omit_zero({"periods": st.get("nr_periods", 0),
                                 "throttledPeriods": st.get("nr_throttled", 0),
                                 "throttledTime": st.get("throttled_time", 0)})
    cpu = {"usage": usage, "throttling": throttling}

    memory = {}
    mem = mgr.path("memory")
    if mem is not None:
        raw = flat_keyed(_read(mem + "/memory.stat"))
        cache = raw.get("total_cache", raw.get("cache", 0))
        if cache:
            memory["cache"] = cache

        def entry(prefix):
            base = mem + "/memory." + prefix
            return _memory_entry(_file_int(base + "limit_in_bytes"), _file_int(base + "usage_in_bytes"),
                                 _file_int(base + "max_usage_in_bytes"), _file_int(base + "failcnt"))

        memory["usage"] = entry("")
        memory["swap"] = entry("memsw.")
        memory["kernel"] = entry("kmem.")
        memory["kernelTCP"] = entry("kmem.tcp.")
        if raw:
            memory["raw"] = dict(sorted(raw.items()))
    else:
        memory = {"usage": _memory_entry(), "swap": _memory_entry(), "kernel": _memory_entry(),
                  "kernelTCP": _memory_entry()}

    pids = {}
    p = mgr.path("pids")
    if p is not None:
        limit = _read(p + "/pids.max").strip()
        pids = _omit_zero({"current": _file_int(p + "/pids.current"),
                           "limit": 0 if limit == "max" else _int(limit)})

    blkio = {}
    b = mgr.path("blkio")
    if b is not None:
        # bfq's statistics when present, else the throttle ones (what this host has).
        for prefix in ("blkio.bfq.", "blkio.throttle."):
            if os.path.exists(b + "/" + prefix + "io_service_bytes_recursive"):
                sb = _blkio_entries(_read(b + "/" + prefix + "io_service_bytes_recursive"))
                sv = _blkio_entries(_read(b + "/" + prefix + "io_serviced_recursive"))
                if sb:
                    blkio["ioServiceBytesRecursive"] = sb
                if sv:
                    blkio["ioServicedRecursive"] = sv
                break

    hugetlb = {}
    h = mgr.path("hugetlb")
    for size in hugepage_sizes():
        if h is not None:
            base = f"{h}/hugetlb.{size}."
            hugetlb[size] = _omit_zero({"usage": _file_int(base + "usage_in_bytes"),
                                        "max": _file_int(base + "max_usage_in_bytes")})
            hugetlb[size]["failcnt"] = _file_int(base + "failcnt")
        elif unified is not None and os.path.exists(f"{unified}/hugetlb.{size}.current"):
            hugetlb[size] = _v2_hugetlb(unified, size)
    return _tail(cpu, _cpuset(mgr.path("cpuset")), memory, pids, blkio, hugetlb)


def _v2_hugetlb(d, size):
    out = {}
    usage = _file_int(f"{d}/hugetlb.{size}.current")
    if usage:
        out["usage"] = usage
    out["failcnt"] = flat_keyed(_read(f"{d}/hugetlb.{size}.events")).get("max", 0)
    return out


def _psi(path):
    """cpu.pressure & co.: {"some": {...}, "full": {...}} or None."""
    text = _read(path)
    if not text:
        return None
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("some", "full"):
            continue
        vals = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        out[parts[0]] = {"avg10": float(vals.get("avg10", 0)), "avg60": float(vals.get("avg60", 0)),
                         "avg300": float(vals.get("avg300", 0)), "total": int(vals.get("total", 0))}
    return out or None


def v2_stats(d):
    st = flat_keyed(_read(d + "/cpu.stat"))
    usage = _omit_zero({"total": st.get("usage_usec", 0) * 1000})
    usage["kernel"] = st.get("system_usec", 0) * 1000
    usage["user"] = st.get("user_usec", 0) * 1000
    cpu = {"usage": usage,
           "throttling": _omit_zero({"periods": st.get("nr_periods", 0),
                                     "throttledPeriods": st.get("nr_throttled", 0),
                                     "throttledTime": st.get("throttled_usec", 0) * 1000})}
    psi = _psi(d + "/cpu.pressure")
    if psi:
        cpu["psi"] = psi

    raw = flat_keyed(_read(d + "/memory.stat"))
    memory = {}
    if raw.get("file"):
        memory["cache"] = raw["file"]
    events = flat_keyed(_read(d + "/memory.events"))
    memory["usage"] = _memory_entry(_file_int(d + "/memory.max"), _file_int(d + "/memory.current"),
                                    _file_int(d + "/memory.peak"), events.get("max", 0))
    memory["swap"] = _memory_entry(_file_int(d + "/memory.swap.max"),
                                   _file_int(d + "/memory.swap.current"),
                                   _file_int(d + "/memory.swap.peak"), 0)
    memory["kernel"] = _memory_entry()
    memory["kernelTCP"] = _memory_entry()
    if raw:
        memory["raw"] = dict(sorted(raw.items()))
    psi = _psi(d + "/memory.pressure")
    if psi:
        memory["psi"] = psi

    limit = _read(d + "/pids.max").strip()
    pids = _omit_zero({"current": _file_int(d + "/pids.current"),
                       "limit": 0 if limit in ("max", "") else _int(limit)})

    read_bytes, serviced = [], []
    for line in _read(d + "/io.stat").splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        major, _, minor = parts[0].partition(":")
        vals = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        dev = {}
        if int(major):
            dev["major"] = int(major)
        if int(minor):
            dev["minor"] = int(minor)
        for key, op, out in (("rbytes", "Read", read_bytes), ("wbytes", "Write", read_bytes),
                             ("rios", "Read", serviced), ("wios", "Write", serviced)):
            e = dict(dev)
            e["op"] = op
            v = _int(vals.get(key, "0"))
            if v:
                e["value"] = v
            out.append(e)
    blkio = {}
    if read_bytes:
        blkio["ioServiceBytesRecursive"] = read_bytes
    if serviced:
        blkio["ioServicedRecursive"] = serviced
    psi = _psi(d + "/io.pressure")
    if psi:
        blkio["psi"] = psi

    hugetlb = {}
    for size in hugepage_sizes():
        if os.path.exists(f"{d}/hugetlb.{size}.current"):
            hugetlb[size] = _v2_hugetlb(d, size)
    cpuset = _cpuset(d if os.path.exists(d + "/cpuset.cpus") else None)
    return _tail(cpu, cpuset, memory, pids, blkio, hugetlb)
