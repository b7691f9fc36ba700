"""`kill ID [SIGNAL]`: signal the container's init (default SIGTERM)."""

from pyrunc import container
from pyrunc.signals import parse_signal


def run(inv):
    signal_number = parse_signal(inv.args[1] if len(inv.args) > 1 else "SIGTERM")
    container.kill(inv.globals.root, inv.args[0], signal_number, inv.flags.get("all", False))
    return 0
