"""`create ID`: set the container up and leave its init waiting for `start`."""

from pyrunc import container


def options(inv):
    f = inv.flags
    return container.CreateOptions(
        bundle=f.get("bundle", ""), pid_file=f.get("pid_file", ""),
        console_socket=f.get("console_socket", ""), no_pivot=f.get("no_pivot", False),
        preserve_fds=f.get("preserve_fds", 0), no_new_keyring=f.get("no_new_keyring", False),
        globals_=inv.globals)


def run(inv):
    container.create(inv.globals.root, inv.args[0], options(inv), detached=True)
    return 0
