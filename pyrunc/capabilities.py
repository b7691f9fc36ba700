"""The five capability sets of the container process.

runtime-spec config.md (capabilities, since 1.1): "If the runtime cannot map a
capability name to a kernel capability, or the kernel does not support the
capability, the runtime SHOULD log a warning ... and SHOULD NOT fail". pyrunc warns
and skips such names, and also the capabilities this host cannot grant (not in the
runtime's own bounding set, e.g. CAP_SYS_RESOURCE on machines without it).
"""

from pyrunc.flags import cap_name
from pyrunc.spec.tables import CAPABILITIES


class ResolvedCaps:
    """Bit masks for each set, restricted to what this host can grant."""

    __slots__ = ("bounding", "effective", "inheritable", "permitted", "ambient")


def resolve(sys, caps, warn):
    """Masks for each set; no capabilities object at all means no capabilities (as runc)."""
    available = sys.bounding_set()
    out = ResolvedCaps()
    skipped = []
    for set_name in ResolvedCaps.__slots__:
        names = getattr(caps, set_name) if caps is not None else []
        mask = 0
        for name in names or ():
            bit = 1 << CAPABILITIES[name]
            if available & bit:
                mask |= bit
            elif name not in skipped:
                skipped.append(name)
        setattr(out, set_name, mask if names is not None else None)
    if skipped:
        warn("ignoring capabilities this host cannot grant: " + ", ".join(skipped))
    return out


def drop_bounding(sys, bounding):
    """runtime-spec: bounding is "the capabilities bounding set for the process";
    everything else is dropped from it (needs CAP_SETPCAP, so done before capset)."""
    if bounding is None:
        return
    current = sys.bounding_set()
    for n in range(64):
        if current >> n & 1 and not bounding >> n & 1:
            sys.drop_bounding(n)


def apply_sets(sys, caps, warn):
    effective = caps.effective or 0
    permitted = caps.permitted or 0
    inheritable = caps.inheritable or 0
    sys.capset(effective, permitted, inheritable)
    ambient = caps.ambient or 0
    for n in range(64):
        if ambient >> n & 1:
            # The kernel refuses an ambient capability that is not both permitted and
            # inheritable; runc warns and continues, so does pyrunc.
            if not (permitted >> n & 1 and inheritable >> n & 1):
                warn(f"ambient capability {cap_name(n)} is not both permitted and inheritable, ignored")
                continue
            sys.raise_ambient(n)
