"""`exec ID CMD [ARG...]` / `exec -p FILE ID`: run another process in the container."""

from pyrunc import execute


def run(inv):
    return execute.run(inv.globals.root, inv.args[0], inv.flags, inv.args[1:])
