"""`update [flags] ID` / `update -r FILE|- ID`: change a container's resource limits.

runc's rules (callers.md §1, cli.md §9): a zero value means "leave unchanged"
(docker sends {"memory": {"reservation": 0, "kernel": 0}, "cpu": {"shares": 0}, ...}),
`-1` means unlimited for memory, swap and pids, sizes take docker's units
(`50M`), and with `-r` every other flag is ignored. Only the fields runc's
update copies are taken from the JSON (memory, cpu, blockIO.weight, pids,
unified); device rules are never rewritten by an update.

The merged resources are recorded in the state file: cgroup v2's cpu.max needs quota
and period together, and a later update given only one of them keeps the other
(as runc does).
"""

import os

from pyrunc import log, state as st
from pyrunc.errors import RuntimeFailure

_UINT_FLAGS = (("cpu_period", "cpu-period", "period"), ("cpu_rt_period", "cpu-rt-period", "realtimePeriod"),
               ("cpu_share", "cpu-share", "shares"), ("cpu_burst", "cpu-burst", "burst"))
_INT_FLAGS = (("cpu_quota", "cpu-quota", "quota"), ("cpu_rt_runtime", "cpu-rt-runtime", "realtimeRuntime"))
_SIZE_FLAGS = (("memory", "memory", "limit"), ("memory_swap", "memory-swap", "swap"),
               ("kernel_memory", "kernel-memory", "kernel"),
               ("kernel_memory_tcp", "kernel-memory-tcp", "kernelTCP"),
               ("memory_reservation", "memory-reservation", "reservation"))

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text):
    """docker/go-units RAMInBytes: "64", "50M", "1.5g", "30MiB", "10 kb" (binary units)."""
    s = text.strip()
    low = s.lower()
    for suffix in ("ib", "b", "i"):
        if low.endswith(suffix) and len(low) > len(suffix):
            low = low[:-len(suffix)]
            break
    unit = ""
    if low and low[-1] in "kmgtp":
        unit = low[-1]
        low = low[:-1]
    number = low.rstrip(" ")
    if number != low.rstrip() or not number or number.startswith(".") or number.endswith("."):
        raise ValueError(f"invalid size: '{text}'")
    if not all(part.isdigit() and part.isascii() for part in number.split(".")):
        raise ValueError(f"invalid size: '{text}'")
    return int(float(number) * _UNITS[unit])


def _parse_uint(value, name):
    if value.isascii() and value.isdigit():
        v = int(value)
        if v < 1 << 64:
            return v
        raise RuntimeFailure(f'invalid value for {name}: strconv.ParseUint: parsing "{value}": '
                             "value out of range")
    raise RuntimeFailure(f'invalid value for {name}: strconv.ParseUint: parsing "{value}": '
                         "invalid syntax")


def _parse_int(value, name):
    body = value[1:] if value[:1] in "+-" else value
    if body.isascii() and body.isdigit():
        v = int(value)
        if -(1 << 63) <= v < 1 << 63:
            return v
        raise RuntimeFailure(f'invalid value for {name}: strconv.ParseInt: parsing "{value}": '
                             "value out of range")
    raise RuntimeFailure(f'invalid value for {name}: strconv.ParseInt: parsing "{value}": '
                         "invalid syntax")


def from_flags(flags):
    """The LinuxResources a flag-only update asks for (zero = unchanged)."""
    mem, cpu = {}, {}
    r = {"memory": mem, "cpu": cpu, "blockIO": {}, "pids": {}}
    if flags.get("blkio_weight"):
        r["blockIO"]["weight"] = flags["blkio_weight"]
    if flags.get("cpuset_cpus"):
        cpu["cpus"] = flags["cpuset_cpus"]
    if flags.get("cpuset_mems"):
        cpu["mems"] = flags["cpuset_mems"]
    if flags.get("cpu_idle"):
        cpu["idle"] = _parse_int(flags["cpu_idle"], "cpu-idle")
    for key, name, field in _UINT_FLAGS:
        if flags.get(key):
            cpu[field] = _parse_uint(flags[key], name)
    for key, name, field in _INT_FLAGS:
        if flags.get(key):
            cpu[field] = _parse_int(flags[key], name)
    for key, name, field in _SIZE_FLAGS:
        value = flags.get(key)
        if value:
            if value == "-1":
                mem[field] = -1
            else:
                try:
                    mem[field] = ram_in_bytes(value)
                except ValueError as e:
                    raise RuntimeFailure(f"invalid value for {name}: {e}") from None
    if flags.get("pids_limit"):
        r["pids"]["limit"] = flags["pids_limit"]
    return r


def from_json(source):
    """The LinuxResources of `-r FILE` or `-r -` (stdin), checked like config.json's."""
    from pyrunc import cgroups, jsonio
    from pyrunc.spec.model import check_resources

    try:
        if source == "-":
            chunks = []
            while True:
                chunk = os.read(0, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            data = b"".join(chunks)
        else:
            with open(source, "rb") as f:
                data = f.read()
    except OSError as e:
        raise RuntimeFailure(f"open {source}: {(e.strerror or str(e)).lower()}") from None
    try:
        value = jsonio.loads(data)
    except ValueError as e:
        raise RuntimeFailure(f"unable to decode resources: {e}") from None
    if not isinstance(value, dict):
        raise RuntimeFailure("unable to decode resources: expected a JSON object")
    value = cgroups.canonical_keys(value)
    check_resources(value, "resources")
    # Only what runc's update takes over; the rest of LinuxResources is ignored.
    mem = value.get("memory") or {}
    cpu = value.get("cpu") or {}
    r = {
        "memory": {k: mem[k] for k in ("limit", "reservation", "swap", "kernel", "kernelTCP",
                                       "checkBeforeUpdate") if mem.get(k)},
        "cpu": {k: cpu[k] for k in ("shares", "quota", "burst", "period", "realtimeRuntime",
                                    "realtimePeriod", "cpus", "mems") if cpu.get(k)},
        "blockIO": {"weight": value["blockIO"]["weight"]}
        if (value.get("blockIO") or {}).get("weight") else {},
        "pids": {"limit": value["pids"]["limit"]} if (value.get("pids") or {}).get("limit") else {},
    }
    if cpu.get("idle") is not None:
        r["cpu"]["idle"] = cpu["idle"]
    if value.get("unified"):
        r["unified"] = value["unified"]
    return r


def merge(stored, delta):
    """stored resources updated with the non-empty values of delta (a new dict)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in (stored or {}).items()}
    for section, values in delta.items():
        if isinstance(values, dict):
            if values:
                out.setdefault(section, {})
                if not isinstance(out[section], dict):
                    out[section] = {}
                out[section].update(values)
        elif values:
            out[section] = values
    return out


def run(inv):
    from pyrunc import cgroups

    flags = inv.flags
    if flags.get("l3_cache_schema"):
        raise RuntimeFailure("Intel RDT/CAT: l3 cache schema is not enabled")
    if flags.get("mem_bw_schema"):
        raise RuntimeFailure("Intel RDT/MBA: memory bandwidth schema is not enabled")
    container = st.Container.load(inv.globals.root, inv.args[0])
    delta = from_json(flags["resources"]) if flags.get("resources") else from_flags(flags)
    mem = delta.get("memory") or {}
    if mem.get("kernel") or mem.get("kernelTCP"):
        log.warning("kernel memory settings are ignored and will be removed")
        mem.pop("kernel", None)
        mem.pop("kernelTCP", None)
    container.lock()
    try:
        if container.status() == st.STOPPED:
            raise RuntimeFailure("container not running")
        state = container.data.get("cgroup") or {}
        manager = cgroups.load(state)
        if not manager.enabled:
            raise RuntimeFailure("cannot update resources: the container has no cgroups "
                                 "(cgroup manager disabled)")
        stored = state.get("resources") or {}
        cpu = delta.get("cpu") or {}
        # Quota and period go together (cgroup v2 writes them as one value); one
        # given alone keeps the other at its recorded value.
        old_cpu = stored.get("cpu") or {}
        if ("quota" in cpu) != ("period" in cpu):
            for key in ("quota", "period"):
                if key not in cpu and old_cpu.get(key):
                    cpu[key] = old_cpu[key]
        manager.apply(delta, update=True)
        state["resources"] = merge(stored, delta)
        container.data["cgroup"] = state
        container.save()
    finally:
        container.unlock()
    return 0
