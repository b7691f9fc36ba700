"""`start ID`: run the user process of a created container."""

from pyrunc import container


def run(inv):
    container.start(inv.globals.root, inv.args[0])
    return 0
