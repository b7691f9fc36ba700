"""Module packs: the pyrunc modules of one hot command, compiled into one file.

Every runtime call starts an interpreter and imports what it needs: 33 of
pyrunc's modules for `run`. Beyond running each module's code, the standard
import system costs some 25-40 µs per module here: a search of sys.path, a stat
of the source, opening, reading and checking its .pyc, a marshal.loads of its
own. A pack holds every module one command loads in a single marshal stream
(the names modules share are stored once): one read and one loads for all of
them. Measured against the standard import, paired: `run` 0.62 ms (3 %)
faster over 150 calls, `state` 0.10 ms over 300.

A pack is only a faster way to the same code (less its docstrings and column
positions, see without_docstrings):
  - each entry carries its source's mtime and size, as a .pyc does; an entry whose
    source changed since (a checkout being edited) is not used, and the module is
    imported the standard way, compiled from its source;
  - a pack written by another Python (magic number) is not read at all;
  - which pack is read is guessed from the command line (command_in); a wrong
    guess costs time, never correctness.

Three kinds of entries:
  - the modules a command always loads (PACKS): their code is read with the pack;
  - modules loaded only for some configs or hosts (ON_DEMAND: the cgroup backends,
    but for create and run the one of the host the pack is written on, HOST_BACKENDS;
    hooks, seccomp, terminals): their code sits after that part of the file and is
    read when one is imported, from the same file (checked to be the one read at
    start);
  - the extension modules (EXTENSIONS): where the standard search would find them,
    as recorded at install. A search of sys.path lists four directories and
    tries each as a zip file first; they are the only modules of a `run` left to it.

The modules read at start are also run at start, one after the other (preload):
in an order worked out when the pack is written, each after its package and
after the modules its body imports, so that no import statement of theirs has
to go through the import system (a lock, a spec and attribute bookkeeping in
Python code: about 10 µs per module, 0.3 ms of a `run`). The interpreter's
built-in C modules they import (fcntl, select, time, ...) are made the same
way, for a few µs instead of about 35. Under -X importtime all of them are
imported the usual way instead, so that the report lists them.

Packs are written at install (`python -m pyrunc.launcher`, see write_packs) into
the package's __pycache__, beside the .pyc files. test_hot_imports checks each
pack against what its command really loads.
"""

import marshal
import posix
import sys

# _frozen_importlib(_external) are the import system itself, loaded before any
# code runs; importlib.util re-exports the same names but costs a load.
import _imp
from _frozen_importlib import BuiltinImporter, ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER, ExtensionFileLoader

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
    "run": _FRONT + _CREATE + ("pyrunc.commands.run",),
}

# Loaded only for some configs or hosts: a cgroup backend (which one depends on
# the host and the flags), hooks, seccomp, a terminal, a number or duration flag;
# by state, start, kill and delete the log module only when they log; by run,
# pyrunc.container only after the fork. (A command's own PACKS entry wins.)
ON_DEMAND = ("pyrunc.cgroups.v1", "pyrunc.cgroups.hybrid", "pyrunc.cgroups.v2",
             "pyrunc.cgroups.disabled", "pyrunc.cgroups.systemd", "pyrunc.cgroups.ebpf",
             "pyrunc.hooks", "pyrunc.seccomp", "pyrunc.seccomp_tables", "pyrunc.terminal",
             "pyrunc.cli.gonum", "pyrunc.log", "pyrunc.container")

# The extension modules of the hot commands (those outside the interpreter binary).
EXTENSIONS = ("pyrunc._native", "_cffi_backend", "_json")

# The cgroup backend create and run load, by the kind of host (pyrunc.cgroups.layout):
# packed with their modules for the host the packs are written on, at install the
# one that runs them. Read on demand, three backend modules cost `run` 0.2 ms; on
# another host kind they still are (wrong guess: time, not correctness).
HOST_BACKENDS = {
    "v1": ("pyrunc.cgroups.v1",),
    "hybrid": ("pyrunc.cgroups.v1", "pyrunc.cgroups.hybrid"),
    "v2": ("pyrunc.cgroups.v2",),
    "disabled": ("pyrunc.cgroups.disabled",),
}
_WITH_BACKEND = ("create", "run")

# A pack file: _TAG, the length of the part read at start (8 bytes, little
# endian), that part (marshal data: MAGIC_NUMBER, the modules, the preload
# order), then the ON_DEMAND modules' code.
_TAG = b"pyrunc-pack-v3\n\0"
_HEAD = len(_TAG) + 8

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
    path = pack_path(command, directory)
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None  # no pack (not installed by the launcher)
    try:
        head = posix.read(fd, _HEAD)
        if len(head) != _HEAD or not head.startswith(_TAG):
            return None  # not one of ours
        size = int.from_bytes(head[len(_TAG):], "little")
        data = posix.read(fd, size)
        identity = _identity(posix.fstat(fd))
    except OSError:
        return None
    finally:
        posix.close(fd)
    try:
        magic, modules, order = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if magic != MAGIC_NUMBER or len(data) != size:
        return None
    finder = PackFinder(modules, path, identity, _HEAD + size)
    sys.meta_path.insert(0, finder)
    if "importtime" not in sys._xoptions:
        finder.preload(order)
    return finder


def _identity(st):
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


def _unchanged(source, mtime_ns, size):
    """Whether a pack entry's source is still the one it was compiled from."""
    try:
        st = posix.stat(source)
    except OSError:
        return False
    return st.st_mtime_ns == mtime_ns and st.st_size == size


class PackFinder:
    """Finder and loader (importlib's meta path protocol) of one pack's modules:
    name -> (path, is a package, its mtime_ns, its size, code), where code is a
    code object, (offset, length) of an ON_DEMAND module's code in the pack file
    (from `later`, where that part begins), or None for an extension module (path
    is then the shared library)."""

    def __init__(self, modules, path=None, identity=None, later=0):
        self.modules = modules
        self.path = path
        self.identity = identity
        self.later = later

    def find_spec(self, name, path=None, target=None):
        entry = self.modules.get(name)
        if entry is None:
            return None
        origin, is_package, mtime_ns, size, code = entry
        if not _unchanged(origin, mtime_ns, size):
            return None  # edited (or rebuilt) since the pack was written: the standard way
        if code is None:
            spec = ModuleSpec(name, ExtensionFileLoader(name, origin), origin=origin)
            spec.has_location = True
            return spec
        if type(code) is tuple:
            code = self._read(*code)
            if code is None:
                return None
        spec = ModuleSpec(name, self, origin=origin, is_package=is_package)
        spec.has_location = True  # __file__ is the source, as for a normal import
        spec.loader_state = code
        if is_package:
            spec.submodule_search_locations = [origin.rpartition("/")[0]]
        return spec

    def _read(self, offset, length):
        """An ON_DEMAND module's code, from the pack file read at start (not a
        newer one written since: its offsets would be another file's)."""
        if self.path is None:
            return None
        try:
            fd = posix.open(self.path, posix.O_RDONLY | posix.O_CLOEXEC)
        except OSError:
            return None
        try:
            if _identity(posix.fstat(fd)) != self.identity:
                return None
            data = posix.pread(fd, length, self.later + offset)
        except OSError:
            return None
        finally:
            posix.close(fd)
        try:
            return marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        exec(module.__spec__.loader_state, module.__dict__)

    def preload(self, order):
        """Run the modules `order` names (code read at start), as importing each in
        turn would: module object, sys.modules, its code, then bound as an attribute
        of its package. The order (see import_order) puts each after everything its
        code imports. Stops at the first module whose source changed: it and the
        rest are left to the import system (find_spec declines the changed one)."""
        modules = sys.modules
        new_module = type(sys)
        for name in order:
            if name in modules:
                continue
            entry = self.modules.get(name)
            if entry is None:
                _load_builtin(name, modules)
                continue
            origin, is_package, mtime_ns, size, code = entry
            if not _unchanged(origin, mtime_ns, size):
                return
            module = new_module(name)
            module.__file__ = origin
            module.__loader__ = self
            package, _, last = name.rpartition(".")
            if is_package:
                module.__path__ = [origin.rpartition("/")[0]]
                module.__package__ = name
            else:
                module.__package__ = package
            modules[name] = module
            try:
                exec(code, module.__dict__)
            except BaseException:
                del modules[name]
                raise
            if package:
                setattr(modules[package], last, module)


def _load_builtin(name, modules):
    """A module compiled into the interpreter, made as importlib's BuiltinImporter
    makes it (same spec, loader and attributes), without the import system's
    search and locking around it."""
    spec = ModuleSpec(name, BuiltinImporter, origin="built-in")
    module = _imp.create_builtin(spec)
    module.__spec__ = spec
    module.__loader__ = BuiltinImporter
    module.__package__ = ""
    modules[name] = module
    try:
        _imp.exec_builtin(module)
    except BaseException:
        del modules[name]
        raise


# -- writing packs (install time) ------------------------------------------------------


def source_of(name, package_dir=None):
    """(path of module `name`'s source, whether it is a package)."""
    base = "/".join([package_dir or _PACKAGE_DIR] + name.split(".")[1:])
    if posix.access(base + "/__init__.py", posix.F_OK):
        return base + "/__init__.py", True
    return base + ".py", False


def _compiled(name, package_dir):
    """(source path, is a package, its stat, code, modules its body imports)."""
    path, is_package = source_of(name, package_dir)
    # Stat first: a source changed between the stat and the read leaves an
    # entry that no longer matches, and is not used.
    st = posix.stat(path)
    with open(path, "rb") as f:
        source = f.read()
    tree = without_docstrings(source, path)
    imports = imported_at_load(tree, name, is_package)
    code = compile(tree, path, "exec", dont_inherit=True)
    return path, is_package, st, code, imports


def imported_at_load(tree, name, is_package):
    """The modules a module's code imports while it loads (not those imported
    inside functions), in the order its statements name them. `from P import N`
    names P and also P.N, which is a module when N is a submodule."""
    import ast

    package = name if is_package else name.rpartition(".")[0]
    found = []
    pending = list(reversed(tree.body))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue  # runs later, if ever
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def import_order(imports, builtins=()):
    """The modules of `imports` ({name: the modules its body imports}) in an order
    they can be run one after the other, found by a depth-first walk as Python's
    own imports go: each after its packages and after those of its imports that
    are in `imports` or in `builtins`, the modules compiled into the interpreter
    (which import nothing). Raises ValueError on an import cycle: run in a row,
    the modules of a cycle would find each other half made."""
    order = []
    state = {}  # name -> "busy" while its imports are walked, then "done"

    def visit(name, via):
        if state.get(name) == "done":
            return
        if name in builtins:
            state[name] = "done"
            order.append(name)
            return
        if name not in imports:
            return
        if state.get(name) == "busy":
            raise ValueError(f"import cycle: {' -> '.join(via + [name])}")
        state[name] = "busy"
        parts = name.split(".")
        needs = [".".join(parts[:i]) for i in range(1, len(parts))] + imports[name]
        for other in needs:
            visit(other, via + [name])
        state[name] = "done"
        order.append(name)

    for name in imports:
        visit(name, [])
    return order


def without_docstrings(source, path):
    """The module's syntax tree without its docstrings, as `python -OO` compiles it
    but keeping asserts: nothing reads __doc__ on the hot paths, and they are a
    seventh of what a pack would hold. (The launcher also writes packs with -X
    no_debug_ranges: tracebacks keep their lines, not the column markers.)"""
    import ast

    tree = ast.parse(source, path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                body[0:1] = [] if len(body) > 1 else [ast.copy_location(ast.Pass(), first)]
    return tree


def extension_paths(search_path, package_dir=None):
    """{name: shared library} of the EXTENSIONS, found as the standard import would
    find them with sys.path = search_path (pyrunc's own in its package directory)."""
    from importlib.machinery import PathFinder

    found = {}
    for name in EXTENSIONS:
        package, _, last = name.rpartition(".")
        where = [package_dir or _PACKAGE_DIR] if package == "pyrunc" else list(search_path)
        spec = PathFinder.find_spec(last if package else name, where)
        if spec is not None and isinstance(spec.loader, ExtensionFileLoader):
            found[name] = spec.origin
    return found


def build(names, package_dir=None, on_demand=(), extensions=None):
    """The bytes of a pack: the modules `names`, read at start; `on_demand`
    (except those among names), read when imported; `extensions` {name: path}."""
    modules = {}
    imports = {}
    for name in names:
        path, is_package, st, code, imports[name] = _compiled(name, package_dir)
        modules[name] = (path, is_package, st.st_mtime_ns, st.st_size, code)
    for name, path in (extensions or {}).items():
        st = posix.stat(path)
        modules[name] = (path, False, st.st_mtime_ns, st.st_size, None)
    later = []
    offset = 0  # from the end of the part read at start
    for name in on_demand:
        if name not in modules:
            path, is_package, st, code, _ = _compiled(name, package_dir)
            blob = marshal.dumps(code)
            modules[name] = (path, is_package, st.st_mtime_ns, st.st_size, (offset, len(blob)))
            later.append(blob)
            offset += len(blob)
    order = import_order(imports, frozenset(sys.builtin_module_names))
    head = marshal.dumps((MAGIC_NUMBER, modules, order))
    return b"".join([_TAG, len(head).to_bytes(8, "little"), head] + later)


def host_backends():
    """HOST_BACKENDS for this host's cgroup layout; () if it cannot be read."""
    try:
        from pyrunc.cgroups.layout import read_layout

        mode = read_layout()[0].mode
    except Exception:  # noqa: BLE001 - only a guess for speed
        return ()
    return HOST_BACKENDS.get(mode, ())


def write_packs(package_dir=None, directory=None, search_path=None, backends=None):
    """Write the pack of every command in PACKS; returns their paths. search_path:
    the sys.path the launcher's interpreter runs with (for EXTENSIONS; default:
    this one's); backends: the cgroup backend modules to pack with create and run
    (default: host_backends())."""
    import os

    package_dir = package_dir or _PACKAGE_DIR
    directory = directory or package_dir + "/__pycache__"
    os.makedirs(directory, exist_ok=True)
    extensions = extension_paths(sys.path if search_path is None else search_path, package_dir)
    if backends is None:
        backends = host_backends()
    written = []
    for command, names in PACKS.items():
        if command in _WITH_BACKEND:
            names = names + tuple(backends)
        path = pack_path(command, directory)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(build(names, package_dir, ON_DEMAND, extensions))
        os.replace(tmp, path)
        written.append(path)
    return written
