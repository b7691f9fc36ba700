"""Module packs (pyrunc.modpack): each hot command's modules compiled into one file.

A pack must only ever be a faster way to the same code: these tests build packs
of a throw-away package and of pyrunc itself, and check that an edited source, a
pack from another Python, a missing or foreign file all fall back to the standard
import.
"""

import marshal
import os
import subprocess
import sys
import uuid

import pytest

from pyrunc import modpack
from pyrunc.cli import table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("argv, command", [
    (["state", "x"], "state"),
    (["--root", "/run/x", "--log", "/l.json", "--log-format", "json", "create", "-b", "b", "x"], "create"),
    (["--root=/run/x", "--debug", "kill", "x", "9"], "kill"),
    (["-root", "/run/pyrunc", "run", "x"], "run"),
    (["--rootless", "true", "--cgroup-manager", "disabled", "delete", "x"], "delete"),
    (["--systemd-cgroup", "exec", "x", "true"], "exec"),
    # A global option's value that looks like a command is not the command.
    (["--root", "state", "start", "x"], "start"),
    (["--debug"], None),
    ([], None),
])
def test_command_in(argv, command):
    assert modpack.command_in(argv) == command


def test_global_value_options_are_the_tables_string_globals():
    names = {flag[0][0] for flag in table.GLOBAL_FLAGS if flag[1] == table.STRING}
    assert modpack.GLOBAL_VALUE_OPTIONS == names


def test_every_packed_module_has_a_source():
    for command, names in modpack.PACKS.items():
        assert len(set(names)) == len(names), command
        for name in names:
            path, _ = modpack.source_of(name)
            assert os.path.isfile(path), (command, name, path)


def test_hot_commands_have_packs():
    # `exec` and the lifecycle commands: what engines call on every container.
    assert set(modpack.PACKS) == {"create", "run", "start", "state", "kill", "delete", "exec"}


# -- a throw-away package ------------------------------------------------------------------


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `pkgN` with a submodule, importable from tmp_path; the modules and
    any finder installed are removed afterwards."""
    name = "modpack_probe_" + uuid.uuid4().hex[:8]
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("VALUE = 'package'\n")
    (pkg / "mod.py").write_text("VALUE = 'from the source v1'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = list(sys.meta_path)
    yield name, pkg
    sys.meta_path[:] = before
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def _pack(name, pkg, names=None, on_demand=(), extensions=None):
    return modpack.build(names or [name, name + ".mod"], package_dir=str(pkg),
                         on_demand=on_demand, extensions=extensions)


def _with_magic(data, magic):
    """The same pack, as if written by a Python whose MAGIC_NUMBER is `magic`."""
    size = int.from_bytes(data[len(modpack._TAG):modpack._HEAD], "little")
    _magic, modules, order = marshal.loads(data[modpack._HEAD:modpack._HEAD + size])
    head = marshal.dumps((magic, modules, order))
    return modpack._TAG + len(head).to_bytes(8, "little") + head + data[modpack._HEAD + size:]


def _install(data, tmp_path, magic=None):
    if magic is not None:
        data = _with_magic(data, magic)
    modpack.PACKS["probe"] = ()
    try:
        with open(modpack.pack_path("probe", str(tmp_path)), "wb") as f:
            f.write(data)
        return modpack.install(["probe"], directory=str(tmp_path))
    finally:
        del modpack.PACKS["probe"]


def test_pack_serves_its_modules(package, tmp_path):
    name, pkg = package
    finder = _install(_pack(name, pkg), tmp_path)
    assert isinstance(finder, modpack.PackFinder)
    mod = __import__(name + ".mod", fromlist=["VALUE"])
    assert mod.VALUE == "from the source v1"
    assert mod.__loader__ is finder
    assert mod.__file__ == str(pkg / "mod.py") and mod.__package__ == name
    parent = sys.modules[name]
    assert parent.__loader__ is finder and parent.__path__ == [str(pkg)]
    assert parent.__package__ == name and parent.mod is mod


def test_preload_runs_the_pack_in_import_order_at_install(package, tmp_path):
    """Each module after what its body imports; none of them through the import
    system (which would give it a __spec__)."""
    name, pkg = package
    (pkg / "first.py").write_text("import sys\nORDER = sys.modules[__package__].ORDER\n"
                                  "ORDER.append('first')\n")
    (pkg / "mod.py").write_text(f"from {name} import first\nfrom . import first as again\n"
                                "first.ORDER.append('mod')\n")
    (pkg / "__init__.py").write_text("ORDER = ['package']\n")
    _install(_pack(name, pkg, names=[name + ".mod", name, name + ".first"]), tmp_path)
    package_module = sys.modules[name]
    assert package_module.ORDER == ["package", "first", "mod"]
    for module in (name, name + ".first", name + ".mod"):
        assert sys.modules[module].__spec__ is None, module


def test_preload_leaves_the_pack_to_imports_under_importtime(package, tmp_path, monkeypatch):
    """-X importtime reports what the import system loads: then nothing is preloaded."""
    name, pkg = package
    monkeypatch.setitem(sys._xoptions, "importtime", True)
    finder = _install(_pack(name, pkg), tmp_path)
    assert name not in sys.modules
    mod = __import__(name + ".mod", fromlist=["VALUE"])
    assert mod.__spec__.loader is finder


def test_preload_of_a_failing_module_raises_and_leaves_no_half_module(package, tmp_path):
    name, pkg = package
    (pkg / "mod.py").write_text("raise RuntimeError('broken module')\n")
    with pytest.raises(RuntimeError, match="broken module"):
        _install(_pack(name, pkg), tmp_path)
    assert name in sys.modules and name + ".mod" not in sys.modules


def test_edited_source_is_imported_the_standard_way(package, tmp_path):
    name, pkg = package
    data = _pack(name, pkg)
    (pkg / "mod.py").write_text("VALUE = 'from the edited source, v2'\n")
    finder = _install(data, tmp_path)
    mod = __import__(name + ".mod", fromlist=["VALUE"])
    assert mod.VALUE == "from the edited source, v2"
    assert mod.__spec__.loader is not finder
    assert sys.modules[name].__loader__ is finder  # unchanged: still from the pack


def test_imported_at_load_lists_module_level_imports_in_order():
    import ast

    source = (
        "import os.path\n"
        "from . import sibling\n"
        "from .. import up\n"
        "from pkg.sub.mod import NAME as other\n"
        "try:\n    import optional\nexcept ImportError:\n    optional = None\n"
        "class C:\n    import in_class_body\n"
        "def f():\n    import only_when_called\n"
        "g = lambda: __import__('never')\n"
    )
    found = modpack.imported_at_load(ast.parse(source), "pkg.sub.mod", False)
    assert found == ["os.path", "pkg.sub", "pkg.sub.sibling", "pkg", "pkg.up", "pkg.sub.mod",
                     "pkg.sub.mod.NAME", "optional", "in_class_body"]
    # In a package's __init__, "." is the package itself.
    assert modpack.imported_at_load(ast.parse("from . import a\n"), "pkg", True) == ["pkg", "pkg.a"]


def test_import_order_puts_packages_and_imports_first():
    imports = {"p.b": ["os", "p.a"], "p": [], "p.a": ["p.c.d"], "p.c": [], "p.c.d": []}
    order = modpack.import_order(imports)
    assert sorted(order) == sorted(imports)
    for name, needs in imports.items():
        parents = [name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)]
        for other in parents + needs:
            if other in imports:
                assert order.index(other) < order.index(name), (other, name)


def test_import_order_puts_built_in_modules_before_their_importers():
    imports = {"p": [], "p.a": ["errno", "p.b", "os"], "p.b": ["errno", "time"]}
    order = modpack.import_order(imports, builtins={"errno", "time"})
    assert order == ["p", "errno", "time", "p.b", "p.a"]  # "os" is neither: left to imports


def test_preload_makes_built_in_modules_as_importlib_would(package, tmp_path):
    import importlib.machinery

    name, pkg = package
    builtin = "xxsubtype"  # a test module, compiled into some Pythons and loaded by nobody
    if builtin not in sys.builtin_module_names:
        pytest.skip(f"{builtin} is not built into this Python")
    (pkg / "mod.py").write_text(f"import {builtin}\n")
    saved = sys.modules.pop(builtin, None)
    try:
        _install(_pack(name, pkg), tmp_path)
        module = sys.modules[builtin]
        assert module.__spec__.loader is importlib.machinery.BuiltinImporter
        assert module.__spec__.origin == "built-in" and module.__package__ == ""
        assert module.__loader__ is importlib.machinery.BuiltinImporter
        assert sys.modules[name + ".mod"].xxsubtype is module
    finally:
        sys.modules.pop(builtin, None)
        if saved is not None:
            sys.modules[builtin] = saved


def test_import_order_refuses_a_cycle():
    with pytest.raises(ValueError, match="import cycle: p.a -> p.b -> p.a"):
        modpack.import_order({"p.a": ["p.b"], "p.b": ["p.a"]})


def test_same_size_edit_is_seen_through_the_mtime(package, tmp_path):
    name, pkg = package
    data = _pack(name, pkg)
    path = pkg / "mod.py"
    path.write_text("VALUE = 'from the source v2'\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    _install(data, tmp_path)
    assert __import__(name + ".mod", fromlist=["VALUE"]).VALUE == "from the source v2"


def test_pack_of_another_python_is_not_read(package, tmp_path):
    name, pkg = package
    assert _install(_pack(name, pkg), tmp_path, magic=b"\x00\x00\r\n") is None
    assert __import__(name + ".mod", fromlist=["VALUE"]).__spec__.loader.__class__.__name__ == \
        "SourceFileLoader"


def test_unreadable_pack_and_unknown_commands_install_nothing(tmp_path):
    before = list(sys.meta_path)
    assert _install(b"not marshal data", tmp_path) is None
    assert _install(modpack._TAG + (1000).to_bytes(8, "little") + b"cut short", tmp_path) is None
    assert modpack.install(["list"], directory=str(tmp_path)) is None
    assert modpack.install(["state", "x"], directory=str(tmp_path / "none")) is None
    assert sys.meta_path == before


def test_on_demand_module_is_read_only_when_imported(package, tmp_path):
    name, pkg = package
    (pkg / "extra.py").write_text("VALUE = 'on demand'\n")
    finder = _install(_pack(name, pkg, on_demand=[name + ".extra", name + ".mod"]), tmp_path)
    entry = finder.modules[name + ".extra"]
    assert isinstance(entry[4], tuple)  # (offset, length): not read at start
    assert not hasattr(finder.modules[name + ".mod"][4], "__len__")  # already a read one
    mod = __import__(name + ".extra", fromlist=["VALUE"])
    assert mod.VALUE == "on demand" and mod.__spec__.loader is finder
    assert mod.__file__ == str(pkg / "extra.py")


def test_on_demand_module_of_a_replaced_pack_file_is_imported_the_standard_way(package, tmp_path):
    """After a re-install during a run, the offsets read at start are another file's."""
    name, pkg = package
    extra = pkg / "extra.py"
    extra.write_text("VALUE = 'on demand!'\n")
    st = extra.stat()
    finder = _install(_pack(name, pkg, on_demand=[name + ".extra"]), tmp_path)
    # Another pack, same layout, other code at the same offset; the source is
    # then put back as it was, so only the pack file tells the two apart.
    extra.write_text("VALUE = 'WRONG CODE'\n")
    other = _pack(name, pkg, on_demand=[name + ".extra"])
    extra.write_text("VALUE = 'on demand!'\n")
    os.utime(extra, ns=(st.st_atime_ns, st.st_mtime_ns))
    path = modpack.pack_path("probe", str(tmp_path))
    os.unlink(path)
    with open(path, "wb") as f:
        f.write(other)
    mod = __import__(name + ".extra", fromlist=["VALUE"])
    assert mod.VALUE == "on demand!" and mod.__spec__.loader is not finder


def test_extension_module_is_loaded_from_the_recorded_path(package, tmp_path):
    """An extension module is loaded from where the pack says, unless that file
    changed since; then the standard search finds it."""
    import importlib.machinery
    import shutil

    name, pkg = package
    standard = importlib.machinery.PathFinder.find_spec("mmap")
    if standard is None or not isinstance(standard.loader, importlib.machinery.ExtensionFileLoader):
        pytest.skip("mmap is not a separate extension module in this Python")
    copy = tmp_path / "copy" / os.path.basename(standard.origin)
    copy.parent.mkdir()
    shutil.copy2(standard.origin, copy)
    saved = sys.modules.pop("mmap", None)
    try:
        finder = _install(_pack(name, pkg, extensions={"mmap": str(copy)}), tmp_path)
        mod = __import__("mmap")
        assert mod.__spec__.origin == str(copy) and mod.PAGESIZE > 0
        assert isinstance(mod.__spec__.loader, importlib.machinery.ExtensionFileLoader)
        del sys.modules["mmap"]
        st = copy.stat()
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert finder.find_spec("mmap") is None
    finally:
        sys.modules.pop("mmap", None)
        if saved is not None:
            sys.modules["mmap"] = saved


def test_extension_paths_are_where_the_standard_search_finds_them():
    import importlib.machinery

    found = modpack.extension_paths(sys.path)
    native = found["pyrunc._native"]  # in the package, whatever sys.path says
    assert os.path.dirname(native) == os.path.dirname(modpack.__file__)
    assert os.path.basename(native).startswith("_native.")
    for name in ("_cffi_backend", "_json"):
        spec = importlib.machinery.PathFinder.find_spec(name, sys.path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            assert name not in found  # built into the interpreter
        else:
            assert found[name] == spec.origin
    assert set(found) <= set(modpack.EXTENSIONS)


def test_written_packs_run_pyrunc(tmp_path):
    """The real packs, in a fresh interpreter started like the launcher starts one:
    every module of the pack comes from it, and the command works."""
    written = modpack.write_packs(directory=str(tmp_path), search_path=[REPO] + sys.path)
    assert sorted(os.path.basename(p).split("-")[1].split(".")[0] for p in written) == \
        sorted(modpack.PACKS)
    script = (
        "import sys\n"
        f"sys.path.insert(0, {REPO!r})\n"
        "from pyrunc import modpack\n"
        f"finder = modpack.install(['--root', '/nonexistent', 'state', 'x'], directory={str(tmp_path)!r})\n"
        "from pyrunc.main import execute\n"
        "status = execute(['--version'])\n"
        "names = modpack.PACKS['state']\n"
        "loaded = [n for n in names if n in sys.modules]\n"
        "import pyrunc.cgroups.v1\n"  # an on-demand module
        "loaded.append('pyrunc.cgroups.v1')\n"
        "print(status, len(loaded), all(sys.modules[n].__loader__ is finder for n in loaded))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status, count, from_pack = out.stdout.split()[-3:]
    assert (status, from_pack) == ("0", "True") and int(count) >= 5, out.stdout


# -- the collector during set-up (the launcher turns it off; pyrunc.main) -----------------


@pytest.fixture
def collector_off():
    import gc

    gc.disable()
    yield gc
    gc.enable()


def test_commands_that_set_up_and_exit_leave_the_collector_off(collector_off, tmp_path):
    from pyrunc.main import execute

    assert execute(["--root", str(tmp_path), "state", "no-such-container"]) == 1
    assert not collector_off.isenabled()


def test_other_commands_turn_the_collector_back_on(collector_off, tmp_path, capsys):
    from pyrunc.main import execute

    assert execute(["--root", str(tmp_path), "list", "-q"]) == 0
    assert collector_off.isenabled()


def test_turning_the_collector_on_freezes_what_set_up_made(collector_off):
    from pyrunc.main import collect_garbage

    made = [[n] for n in range(5000)]  # tracked objects, as reading a pack makes
    try:
        collect_garbage()
        assert collector_off.isenabled()
        # Frozen: the first collection walks none of them (nor anything older).
        assert collector_off.get_freeze_count() >= len(made)
        assert collector_off.get_count()[0] < 100
    finally:
        collector_off.unfreeze()


def test_launcher_turns_the_collector_off_before_reading_the_pack():
    from pyrunc import launcher

    text = launcher.TEMPLATE
    assert text.index("gc.disable()") < text.index("install(sys.argv[1:])")


def test_packed_code_has_no_docstrings_but_keeps_asserts_and_lines(package, tmp_path):
    name, pkg = package
    (pkg / "mod.py").write_text('"""Module doc."""\n\n\ndef f(x):\n    """Function doc."""\n'
                                '    assert x, "x must be true"\n    return x\n\n\n'
                                'class C:\n    """Only a docstring."""\n')
    _install(_pack(name, pkg), tmp_path)
    mod = __import__(name + ".mod", fromlist=["f"])
    assert mod.__doc__ is None and mod.f.__doc__ is None and mod.C.__doc__ is None
    assert mod.f(3) == 3
    with pytest.raises(AssertionError) as info:
        mod.f(0)
    assert info.traceback[-1].lineno + 1 == 6  # pytest counts from 0


def test_create_and_run_packs_carry_the_hosts_cgroup_backend(tmp_path):
    """create and run read the backend the packs were written for with their
    modules; other commands, and other backends, read it on demand."""
    modpack.write_packs(directory=str(tmp_path), search_path=[REPO] + sys.path,
                        backends=modpack.HOST_BACKENDS["hybrid"])

    def entries(command):
        with open(modpack.pack_path(command, str(tmp_path)), "rb") as f:
            data = f.read()
        size = int.from_bytes(data[len(modpack._TAG):modpack._HEAD], "little")
        _magic, modules, order = marshal.loads(data[modpack._HEAD:modpack._HEAD + size])
        return modules, order

    for command in ("create", "run"):
        modules, order = entries(command)
        for name in ("pyrunc.cgroups.v1", "pyrunc.cgroups.hybrid"):
            assert not isinstance(modules[name][4], tuple), (command, name)  # read at start
        assert order.index("pyrunc.cgroups.v1") < order.index("pyrunc.cgroups.hybrid")
        assert isinstance(modules["pyrunc.cgroups.v2"][4], tuple)  # on demand
    modules, order = entries("state")
    assert isinstance(modules["pyrunc.cgroups.v1"][4], tuple) and "pyrunc.cgroups.v1" not in order


def test_host_backends_names_a_known_backend():
    assert modpack.host_backends() in set(modpack.HOST_BACKENDS.values()) | {()}
    for names in modpack.HOST_BACKENDS.values():
        for name in names:
            assert name in modpack.ON_DEMAND and os.path.isfile(modpack.source_of(name)[0])
