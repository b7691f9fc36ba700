"""`ps [--format table|json] ID [PS ARGS...]`: the container's processes.

json: a compact array of host pids (what containerd and docker read), `null`
when there are none (runc encodes a nil Go slice). table: the host's `ps`
(default `-ef`, or the arguments after the ID), its header line, then only the
lines whose PID column is one of the container's processes.
"""

import os

from pyrunc import jsonio, state as st
from pyrunc.errors import RuntimeFailure

# Never looked up through PATH: podman's direct calls carry no PATH at all.
_PS = ("/bin/ps", "/usr/bin/ps")


def container_pids(container):
    """Host pids of the container's processes, from its cgroup when it has one."""
    from pyrunc import cgroups

    manager = cgroups.load(container.data.get("cgroup"))
    pids = manager.pids() if manager.enabled else None
    if pids is not None:
        return sorted(set(pids))
    return _pids_by_namespace(container)


def _pids_by_namespace(container):
    """Without cgroups: the processes in the init's pid namespace (own pid ns) or,
    sharing the host's, in its mount namespace."""
    if not container.init_alive():
        return []
    kind = "pid" if container.data.get("own_pid_ns") else "mnt"
    try:
        target = os.readlink("/proc/%d/ns/%s" % (container.pid, kind))
    except OSError:
        return []
    if target == os.readlink("/proc/self/ns/" + kind):
        return [container.pid]
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink("/proc/%s/ns/%s" % (entry, kind)) == target:
                    out.append(int(entry))
            except OSError:
                pass
    return sorted(out)


def run(inv):
    container = st.Container.load(inv.globals.root, inv.args[0])
    fmt = inv.flags.get("format", "table")
    if fmt not in ("table", "json"):
        raise RuntimeFailure("invalid format option")
    pids = container_pids(container)
    if fmt == "json":
        os.write(1, ((jsonio.dumps(pids) if pids else "null") + "\n").encode())
        return 0
    ps_args = list(inv.args[1:]) or ["-ef"]
    output = _run_ps(ps_args)
    lines = output.split("\n")
    header = lines[0]
    fields = header.split()
    if "PID" not in fields:
        raise RuntimeFailure("couldn't find PID field in ps output")
    index = fields.index("PID")
    wanted = set(pids)
    out = [header]
    for line in lines[1:]:
        if not line:
            continue
        cols = line.split()
        try:
            pid = int(cols[index])
        except (IndexError, ValueError):
            raise RuntimeFailure(f"unable to parse pid: {line}") from None
        if pid in wanted:
            out.append(line)
    os.write(1, ("\n".join(out) + "\n").encode())
    return 0


def _run_ps(args):
    import subprocess

    ps = next((p for p in _PS if os.access(p, os.X_OK)), None)
    if ps is None:
        raise RuntimeFailure('exec: "ps": executable file not found in $PATH')
    proc = subprocess.run([ps] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeFailure(f"exit status {proc.returncode}: {text}")
    return text
