"""`pause ID`: freeze every process of the container (cgroup freezer).

runc: a running or created container can be paused; anything else is
"container not running".
"""

from pyrunc import state as st
from pyrunc.errors import RuntimeFailure


def run(inv):
    from pyrunc import cgroups

    container = st.Container.load(inv.globals.root, inv.args[0])
    container.lock()
    try:
        status = container.status()
        if status not in (st.RUNNING, st.CREATED):
            raise RuntimeFailure("container not running")
        cgroups.load(container.data.get("cgroup")).freeze()
    finally:
        container.unlock()
    return 0
