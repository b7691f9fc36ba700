"""Module packs: the pyrunc modules of one hot command, compiled into one file.

Every runtime call starts an interpreter and imports what it needs: 33 of
pyrunc's modules for `run`. Beyond running each module's code, the standard
import system costs some 25-40 µs per module here: a search of sys.path, a stat
of the source, opening, reading and checking its .pyc, a marshal.loads of its
own. A pack holds every module one command loads in a single marshal stream
(the names modules share are stored once): one read and one loads for all of
them. Measured against the standard import, paired: `run` 0.62 ms (3 %)
faster over 150 calls, `state` 0.10 ms over 300.

A pack is only a faster way to the same code:
  - each entry carries its source's mtime and size, as a .pyc does; an entry whose
    source changed since (a checkout being edited) is not used, and the module is
    imported the standard way, compiled from its source;
  - a pack written by another Python (magic number) is not read at all;
  - modules a command loads only for some configs (terminal, hooks, seccomp) and
    the cgroup backends (which one depends on the host) are not in the packs;
  - which pack is read is guessed from the command line (command_in); a wrong
    guess costs time, never correctness.

Packs are written at install (`python -m pyrunc.launcher`, see write_packs) into
the package's __pycache__, beside the .pyc files. test_hot_imports checks each
pack against what its command really loads.
"""

import marshal
import posix
import sys

# _frozen_importlib(_external) are the import system itself, loaded before any
# code runs; importlib.util re-exports the same two names but costs a load.
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER

# What each command imports on its common path, besides pyrunc itself and this
# module (the launcher loads both first), the cffi module and a cgroup backend.
_FRONT = ("pyrunc.main", "pyrunc.errors", "pyrunc.lean_os", "pyrunc.cli", "pyrunc.cli.parse",
          "pyrunc.cli.table", "pyrunc.state")
_LIFECYCLE = ("pyrunc.container", "pyrunc.signals")
_PROCESS = ("pyrunc.spec", "pyrunc.spec.fields", "pyrunc.spec.process", "pyrunc.spec.tables",
            "pyrunc.init", "pyrunc.capabilities", "pyrunc.flags", "pyrunc.syscalls",
            "pyrunc.stdio", "pyrunc.log", "pyrunc.signals", "pyrunc.cgroups")
_CREATE = _PROCESS + ("pyrunc.commands", "pyrunc.commands.create", "pyrunc.create", "pyrunc.sync",
                      "pyrunc.rootfs", "pyrunc.mountinfo", "pyrunc.spec.model",
                      "pyrunc.cgroups.layout", "pyrunc.jsonio")

PACKS = {
    "state": _FRONT + ("pyrunc.jsonio",),
    "start": _FRONT + _LIFECYCLE,
    "kill": _FRONT + _LIFECYCLE,
    "delete": _FRONT + _LIFECYCLE + ("pyrunc.cgroups",),
    "exec": _FRONT + _PROCESS + ("pyrunc.execute",),
    "create": _FRONT + _CREATE,
    "run": _FRONT + _CREATE + ("pyrunc.commands.run", "pyrunc.container"),
}

# The global options that take a value (cli.table's STRING globals; a unit test
# keeps the two in step). Their values are skipped when looking for the command.
GLOBAL_VALUE_OPTIONS = frozenset(("log", "log-format", "root", "rootless", "cgroup-manager"))

_PACKAGE_DIR = __file__.rpartition("/")[0]


def command_in(argv):
    """The command word of a runtime command line (without the program name): the
    first word that is neither an option nor the value of a global option."""
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word
        name = word.lstrip("-")
        if "=" not in name and name in GLOBAL_VALUE_OPTIONS:
            next(words, None)
    return None


def pack_path(command, directory=None):
    tag = sys.implementation.cache_tag
    return f"{directory or _PACKAGE_DIR + '/__pycache__'}/pack-{command}.{tag}.bin"


def install(argv, directory=None):
    """Serve the modules of argv's command from its pack, when there is a usable
    one. Returns the finder installed, or None."""
    command = command_in(argv)
    if command not in PACKS:
        return None
    try:
        with open(pack_path(command, directory), "rb") as f:
            magic, modules = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None  # no pack (not installed by the launcher), or not one of ours
    if magic != MAGIC_NUMBER:
        return None
    finder = PackFinder(modules)
    sys.meta_path.insert(0, finder)
    return finder


class PackFinder:
    """Finder and loader (importlib's meta path protocol) of one pack's modules:
    name -> (source path, is a package, source mtime_ns, source size, code)."""

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        entry = self.modules.get(name)
        if entry is None:
            return None
        origin, is_package, mtime_ns, size, _code = entry
        try:
            st = posix.stat(origin)
        except OSError:
            return None
        if st.st_mtime_ns != mtime_ns or st.st_size != size:
            return None  # edited since the pack was written: compiled from the source
        spec = ModuleSpec(name, self, origin=origin, is_package=is_package)
        spec.has_location = True  # __file__ is the source, as for a normal import
        if is_package:
            spec.submodule_search_locations = [origin.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        exec(self.modules[module.__name__][4], module.__dict__)


# -- writing packs (install time) ------------------------------------------------------


def source_of(name, package_dir=None):
    """(path of module `name`'s source, whether it is a package)."""
    base = "/".join([package_dir or _PACKAGE_DIR] + name.split(".")[1:])
    if posix.access(base + "/__init__.py", posix.F_OK):
        return base + "/__init__.py", True
    return base + ".py", False


def build(names, package_dir=None):
    """The bytes of a pack of the modules `names`."""
    modules = {}
    for name in names:
        path, is_package = source_of(name, package_dir)
        # Stat first: a source changed between the stat and the read leaves an
        # entry that no longer matches, and is not used.
        st = posix.stat(path)
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
        modules[name] = (path, is_package, st.st_mtime_ns, st.st_size, code)
    return marshal.dumps((MAGIC_NUMBER, modules))


def write_packs(package_dir=None, directory=None):
    """Write the pack of every command in PACKS; returns their paths."""
    import os

    package_dir = package_dir or _PACKAGE_DIR
    directory = directory or package_dir + "/__pycache__"
    os.makedirs(directory, exist_ok=True)
    written = []
    for command, names in PACKS.items():
        path = pack_path(command, directory)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(build(names, package_dir))
        os.replace(tmp, path)
        written.append(path)
    return written
