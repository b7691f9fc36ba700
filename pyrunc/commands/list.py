"""`list`: the containers under --root, as runc prints them (table, json or -q)."""

import os

from pyrunc import jsonio, log, state as st
from pyrunc.errors import RuntimeFailure


def _owner(path):
    uid = os.stat(path).st_uid
    try:
        with open("/etc/passwd", "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                fields = line.split(":")
                if len(fields) > 2 and fields[2] == str(uid):
                    return fields[0]
    except OSError:
        pass
    return "#%d" % uid


def _states(root):
    out = []
    for cid in st.list_ids(root):
        try:
            c = st.Container.load(root, cid)
            out.append(c.oci_state(owner=_owner(c.dir)))
        except (RuntimeFailure, OSError) as e:
            log.warning(f"{cid}: {e}")
    return out


def tabulate(rows):
    """Go's tabwriter as runc configures it: min width 12, padding 3, last cell unpadded."""
    widths = [max(12, max(len(r[i]) for r in rows) + 3) for i in range(len(rows[0]) - 1)]
    return "".join("".join(cell.ljust(w) for cell, w in zip(r, widths)) + r[-1] + "\n"
                   for r in rows)


def run(inv):
    states = _states(inv.globals.root)
    if inv.flags.get("quiet"):
        text = "".join(s["id"] + "\n" for s in states)
    elif inv.flags.get("format", "table") == "json":
        text = (jsonio.dumps(states) if states else "null") + "\n"
    elif inv.flags.get("format", "table") == "table":
        rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        rows += [[s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"]]
                 for s in states]
        text = tabulate(rows)
    else:
        raise RuntimeFailure("invalid format option")
    os.write(1, text.encode())
    return 0
