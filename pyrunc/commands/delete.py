"""`delete [--force] ID`: remove a stopped (or, with --force, any) container."""

from pyrunc import container


def run(inv):
    container.delete(inv.globals.root, inv.args[0], inv.flags.get("force", False))
    return 0
