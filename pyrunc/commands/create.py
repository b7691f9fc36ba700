"""`create ID`: set the container up and leave its init waiting for `start`."""

from pyrunc import create
from pyrunc.errors import RuntimeFailure

# runc 1.1 puts this before every message of a failing create (and "runc run
# failed: " before run's); engines show the whole text to their users.
FAILED = "runc create failed: "


def options(inv):
    f = inv.flags
    return create.CreateOptions(
        bundle=f.get("bundle", ""), pid_file=f.get("pid_file", ""),
        console_socket=f.get("console_socket", ""), no_pivot=f.get("no_pivot", False),
        preserve_fds=f.get("preserve_fds", 0), no_new_keyring=f.get("no_new_keyring", False),
        globals_=inv.globals)


def run(inv):
    try:
        create.create(inv.globals.root, inv.args[0], options(inv), detached=True)
    except RuntimeFailure as e:
        raise e.prefixed(FAILED) from None
    return 0
