"""`state ID`: the runtime-spec state as pretty JSON (2-space indent, no trailing newline)."""

from pyrunc import lean_os as os
from pyrunc import jsonio
from pyrunc.state import Container


def run(inv):
    c = Container.load(inv.globals.root, inv.args[0])
    os.write(1, jsonio.dumps(c.oci_state(), "  ").encode())
    return 0
