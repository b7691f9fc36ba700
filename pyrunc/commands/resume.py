"""`resume ID`: thaw a paused container ("container not paused" otherwise)."""

from pyrunc import state as st
from pyrunc.errors import RuntimeFailure


def run(inv):
    from pyrunc import cgroups

    container = st.Container.load(inv.globals.root, inv.args[0])
    container.lock()
    try:
        if container.status() != st.PAUSED:
            raise RuntimeFailure("container not paused")
        cgroups.load(container.data.get("cgroup")).thaw()
    finally:
        container.unlock()
    return 0
