"""The import budget of the hot commands, measured on the installed launcher.

performance.md §4/§6.2: every stdlib package that pulls in re/enum/collections
costs milliseconds on each runtime call. This runs the launcher under
`python3 -X importtime -IS` (the launcher's own interpreter) for create, state,
start, kill, delete, run and exec against a real busybox bundle, collects every module that the runtime *and*
its forked init imported (both print importtime lines on the same stderr), and
fails on anything outside an explicit allowlist.

The pyrunc modules are listed one by one, not by prefix: putting a module on
the hot path should be a conscious change to this file. (`list` and `plan` are
not hot and are not checked.)
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from harness import next_counter, runtime_path

# Standard-library (and C) modules the hot path may use, beyond whatever the
# interpreter itself imports at start-up (measured below with `-c pass`).
STDLIB_ALLOWED = frozenset({
    # not `os` (about 1 ms with posixpath, stat and _collections_abc): pyrunc.lean_os
    "posix", "abc", "_abc", "codecs", "_codecs", "io", "_io", "sys", "builtins", "marshal", "_imp",
    "_thread", "_warnings", "_weakref", "zipimport", "_frozen_importlib",
    "_frozen_importlib_external", "__main__", "encodings", "encodings.aliases",
    "encodings.utf_8", "_locale", "_signal",
    # the small C modules the runtime uses (not _socket: its set-up costs ~0.2 ms;
    # the setup channel and the loopback socket come from pyrunc._native)
    "errno", "fcntl", "select", "_json", "_struct", "struct", "time", "resource",
    "_stat",  # not `stat`: a .py module re-exporting _stat
    "gc",
    # cffi's backend, for pyrunc._native
    "_cffi_backend",
})

# Every pyrunc module a hot command may load, runtime and forked init together.
PYRUNC_ALLOWED = frozenset({
    "pyrunc",
    "pyrunc.modpack",  # the launcher's module packs
    "pyrunc._native",
    "pyrunc.lean_os",
    "pyrunc.main",
    "pyrunc.errors",
    "pyrunc.log",
    "pyrunc.jsonio",
    "pyrunc.cli",
    "pyrunc.cli.parse",
    "pyrunc.cli.gonum",  # only with a number or duration flag
    "pyrunc.cli.table",
    "pyrunc.commands",
    "pyrunc.commands.create",
    "pyrunc.commands.run",
    "pyrunc.execute",
    "pyrunc.create",
    "pyrunc.stdio",
    "pyrunc.container",
    "pyrunc.state",
    "pyrunc.sync",
    "pyrunc.hooks",
    "pyrunc.signals",
    "pyrunc.flags",
    "pyrunc.syscalls",
    "pyrunc.spec",
    "pyrunc.spec.model",
    "pyrunc.spec.fields",
    "pyrunc.spec.process",
    "pyrunc.spec.tables",
    # the forked init
    "pyrunc.init",
    "pyrunc.rootfs",
    "pyrunc.mountinfo",
    "pyrunc.capabilities",
    # cgroups: the package and the backend this host needs
    "pyrunc.cgroups",
    "pyrunc.cgroups.layout",  # create only
    "pyrunc.cgroups.v1",
    "pyrunc.cgroups.hybrid",
    "pyrunc.cgroups.v2",
    "pyrunc.cgroups.disabled",
})

# Never on the hot path, whatever the allowlist above says (performance.md §4, §6).
FORBIDDEN = frozenset({
    "json", "re", "typing", "dataclasses", "enum", "pathlib", "argparse", "logging",
    "subprocess", "signal", "click", "jsonschema", "pyroute2", "collections", "functools",
    "socket", "ctypes", "cffi", "shutil", "tempfile", "traceback", "inspect", "threading",
    "pyrunc.cli.helptext", "pyrunc.cli.clickapp", "pyrunc.commands.validate", "pyrunc.plan",
    "pyrunc.recording",
    "pyrunc.commands.plan", "pyrunc.commands.list", "pyrunc.commands.spec", "pyrunc.launcher",
})

# Commands that never touch the kernel beyond reading state: no container
# machinery, no native module, no config parsing.
LIGHT = {"state"}
NOT_FOR_LIGHT = frozenset({"pyrunc.create", "pyrunc.container", "pyrunc.init", "pyrunc.rootfs", "pyrunc.spec.model",
                           "pyrunc._native", "pyrunc.syscalls", "pyrunc.hooks"})


# -- the launcher ------------------------------------------------------------------


def _launcher_path() -> str:
    path = runtime_path()
    if path is None:
        pytest.skip(f"no runtime: {os.environ.get('PYRUNC') or 'pyrunc'!r} not found")
    return path


def _shebang(path: str) -> str:
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError as e:
        pytest.skip(f"cannot read {path}: {e}")
    if not first.startswith(b"#!"):
        return ""
    return first[2:].decode("utf-8", "replace").strip()


@pytest.fixture(scope="module")
def launcher() -> tuple[str, str]:
    """(launcher path, its interpreter); skips when the runtime is not a Python launcher."""
    path = _launcher_path()
    line = _shebang(path)
    interp = line.split()[0] if line else ""
    if "python" not in os.path.basename(interp):
        pytest.skip(f"{path} is not a Python launcher (shebang {line!r}): nothing to measure")
    if not os.access(interp, os.X_OK):
        interp = "/usr/bin/python3"
    return path, interp


def test_launcher_shebang_runs_python_isolated_without_site(launcher):
    path, _ = launcher
    line = _shebang(path)
    flags = line.split()[1:]
    assert "-IS" in flags, f"{path}: shebang {line!r} lacks -IS (site and PYTHON* variables cost ~5 ms per call)"
    assert os.path.isabs(line.split()[0]), f"{path}: interpreter must be absolute (engines run with odd PATHs)"


@pytest.fixture(scope="module")
def startup_modules(launcher) -> frozenset:
    """What `python3 -X importtime -IS -c pass` imports: the interpreter's own cost."""
    _, interp = launcher
    proc = subprocess.run([interp, "-X", "importtime", "-IS", "-c", "pass"], capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    modules = parse_importtime(proc.stderr)
    assert "encodings" in modules, f"no importtime output from {interp}: {proc.stderr!r}"
    return frozenset(modules)


def parse_importtime(text: str) -> set[str]:
    """Module names from `-X importtime` lines: 'import time: SELF | CUMULATIVE | [indent]name'."""
    modules = set()
    for line in text.splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        if name and name != "imported package":
            modules.add(name)
    return modules


def test_parse_importtime():
    text = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   _io\n"
        "import time:        55 |        175 | encodings.utf_8\n"
        "container output line\n"
        "import time:         9 |          9 |     pyrunc._native\n"
    )
    assert parse_importtime(text) == {"_io", "encodings.utf_8", "pyrunc._native"}


def test_allowlist_and_forbidden_list_do_not_overlap():
    assert not (STDLIB_ALLOWED | PYRUNC_ALLOWED) & FORBIDDEN


# -- running commands under -X importtime ------------------------------------------------


class Traced:
    """Runs `<interp> -X importtime -IS <launcher> --root R ...` with stdio in files.

    Files, not pipes: a created container's init inherits the runtime's stdout
    and stderr and keeps them open until it exits, and its own importtime lines
    arrive there after the runtime has returned.
    """

    def __init__(self, rt, launcher):
        self.rt = rt
        self.path, self.interp = launcher
        self.logs: dict[str, str] = {}

    def __call__(self, label, *args, timeout=30, check=True):
        """Run one command; returns (returncode, its stderr without the importtime lines)."""
        stem = os.path.join(self.rt.io_dir, f"imports{os.getpid()}-{next_counter()}")
        self.logs[label] = stem + ".err"
        argv = [self.interp, "-X", "importtime", "-IS", self.path, "--root", self.rt.root, *args]
        with open(stem + ".out", "w") as out, open(stem + ".err", "w") as err:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                  env=self.rt.env, timeout=timeout)
        with open(stem + ".err") as f:
            text = _not_importtime(f.read())
        if check:
            assert proc.returncode == 0, f"{label} ({' '.join(args)}) exited {proc.returncode}:\n{text}"
        return proc.returncode, text

    def modules(self, label) -> set[str]:
        with open(self.logs[label]) as f:
            return parse_importtime(f.read())


def _not_importtime(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("import time:"))


def _check(label, loaded, startup):
    """Failure text for one command's modules, or ''."""
    allowed = startup | STDLIB_ALLOWED | PYRUNC_ALLOWED
    problems = []
    forbidden = sorted(loaded & FORBIDDEN)
    if forbidden:
        problems.append(f"forbidden: {forbidden}")
    extra = sorted(m for m in loaded - allowed if m not in FORBIDDEN)
    if extra:
        problems.append(f"not in the allowlist: {extra}")
    if label.split()[0] in LIGHT:
        heavy = sorted(loaded & NOT_FOR_LIGHT)
        if heavy:
            problems.append(f"a light command loads container machinery: {heavy}")
    return f"{label}: " + "; ".join(problems) if problems else ""


# Loaded by every command before its pack is read; and the cffi module, an
# extension module (its pack entry is a path, not code).
NOT_PACKED = frozenset({"pyrunc", "pyrunc.modpack", "pyrunc._native"})


@pytest.fixture(scope="module")
def packs(launcher) -> dict:
    """pyrunc.modpack.PACKS of the package the launcher runs (read by its own
    interpreter with its own sys.path lines: these tests never import pyrunc),
    with ON_DEMAND under the key "on demand"."""
    path, interp = launcher
    with open(path) as f:
        text = f.read()
    assert "pyrunc.modpack" in text, f"{path} does not read module packs (pyrunc.modpack)"
    setup = text.split("from pyrunc", 1)[0]
    code = setup + ("import json\nfrom pyrunc.modpack import ON_DEMAND, PACKS\n"
                    "print(json.dumps(dict(PACKS, **{'on demand': ON_DEMAND})))\n")
    proc = subprocess.run([interp, "-IS", "-c", code], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _assert_packs_match(packs, traced, labels):
    """Each command's module pack (pyrunc.modpack.PACKS) holds exactly the pyrunc
    modules it loaded here, besides those read on demand (ON_DEMAND): a missing one
    is imported the slow way, an extra one is read for nothing."""
    problems = []
    on_demand = set(packs["on demand"])
    for label in labels:
        loaded = {m for m in traced.modules(label) if m.startswith("pyrunc")} - NOT_PACKED
        packed = set(packs[label.split()[0]])
        if loaded - on_demand != packed - on_demand or not packed <= loaded:
            problems.append(f"{label}: not packed {sorted(loaded - packed - on_demand)}, "
                            f"packed but not loaded {sorted(packed - loaded)}")
    assert not problems, "pyrunc.modpack.PACKS is out of step:\n  " + "\n  ".join(problems)


def _assert_all_within_budget(traced, startup, labels):
    failures = [msg for msg in (_check(label, traced.modules(label), startup) for label in labels) if msg]
    assert not failures, "hot-path imports outside the budget (performance.md §6.2):\n  " + "\n  ".join(failures)


# -- the tests ------------------------------------------------------------------------------


def test_lifecycle_commands_stay_within_the_import_allowlist(rt, bundle, cid, launcher, startup_modules,
                                                             packs):
    traced = Traced(rt, launcher)
    b = bundle(["sleep", "30"])
    created = False
    try:
        traced("create", "create", "--bundle", b.path, cid)
        created = True
        traced("state created", "state", cid)
        traced("start", "start", cid)
        rt.wait_status(cid, "running")
        traced("state running", "state", cid)
        traced("kill", "kill", cid, "KILL")
        rt.wait_status(cid, "stopped")
        traced("delete", "delete", cid)
        created = False
    finally:
        if created:
            rt.delete_force(cid)

    # The forked init's lines are in create's log: it imported the init's modules.
    create_modules = traced.modules("create")
    assert {"pyrunc.create", "pyrunc.init", "pyrunc.rootfs"} <= create_modules, sorted(create_modules)
    # Operations on a created container load none of the creating machinery.
    for name in ("start", "kill", "delete"):
        assert not {"pyrunc.create", "pyrunc.sync", "pyrunc.init", "pyrunc.cgroups.layout"} & traced.modules(name), name
    # The light lifecycle commands go straight to their handlers (no commands
    # package), parse no JSON (the state file is marshal data, and loading _json
    # alone costs about 0.3 ms), and load the log module only to log something.
    for label in ("state created", "start", "state running", "kill", "delete"):
        assert not {"_json", "pyrunc.commands", "pyrunc.log"} & traced.modules(label), label
    _assert_all_within_budget(traced, startup_modules, list(traced.logs))
    _assert_packs_match(packs, traced, list(traced.logs))


def test_foreground_run_stays_within_the_import_allowlist(rt, bundle, cid, launcher, startup_modules,
                                                          packs):
    traced = Traced(rt, launcher)
    b = bundle(["true"])
    try:
        traced("run", "run", "--bundle", b.path, cid)
    finally:
        if cid in rt.list_ids():
            rt.delete_force(cid)
    assert "pyrunc.init" in traced.modules("run")
    _assert_all_within_budget(traced, startup_modules, ["run"])
    _assert_packs_match(packs, traced, ["run"])


def test_detached_run_and_forced_delete_stay_within_the_import_allowlist(rt, bundle, cid, launcher,
                                                                         startup_modules):
    traced = Traced(rt, launcher)
    b = bundle(["sleep", "30"])
    try:
        traced("run -d", "run", "-d", "--bundle", b.path, cid)
        rt.wait_status(cid, "running")
        traced("kill --all", "kill", "--all", cid, "TERM")
        traced("delete --force", "delete", "--force", cid)
    finally:
        if cid in rt.list_ids():
            rt.delete_force(cid)
    _assert_all_within_budget(traced, startup_modules, list(traced.logs))


def test_failing_create_stays_within_the_import_allowlist(rt, bundle, cid, launcher, startup_modules):
    """An error path that engines hit often (bad args[0]): still no json/re/logging."""
    traced = Traced(rt, launcher)
    b = bundle(["/no/such/binary"])
    try:
        rc, text = traced("failing create", "create", "--bundle", b.path, cid, check=False)
    finally:
        if cid in rt.list_ids():
            rt.delete_force(cid)
    assert rc != 0 and "/no/such/binary" in text, text
    _assert_all_within_budget(traced, startup_modules, ["failing create"])


def test_exec_stays_within_the_import_allowlist(rt, bundle, cid, launcher, startup_modules, packs):
    """`exec` is on performance.md §6.2's list of hot commands too."""
    traced = Traced(rt, launcher)
    b = bundle(["sleep", "30"])
    try:
        run_d = rt.run_detached(cid, b)
        assert run_d.returncode == 0, run_d.stderr
        rt.wait_status(cid, "running")
        rc, text = traced("exec", "exec", cid, "true", check=False)
    finally:
        if cid in rt.list_ids():
            rt.delete_force(cid)
    if rc != 0 and "not supported" in text:
        pytest.skip("exec is not implemented by this runtime yet")
    assert rc == 0, f"exec exited {rc}:\n{text}"
    _assert_all_within_budget(traced, startup_modules, ["exec"])
    _assert_packs_match(packs, traced, ["exec"])
    # exec joins a container: none of the machinery that creates one, and no cgroup
    # backend (the base Manager places a process from the state alone).
    assert not {"pyrunc.create", "pyrunc.sync", "pyrunc.rootfs"} & traced.modules("exec")
    assert not {"pyrunc.cgroups.layout", "pyrunc.cgroups.v1", "pyrunc.cgroups.hybrid",
                "pyrunc.cgroups.v2"} & traced.modules("exec")
    # Nor the commands package (the table names execute.run_exec), nor the whole
    # config model: only its process part.
    assert "pyrunc.commands" not in traced.modules("exec")
    assert "pyrunc.spec.process" in traced.modules("exec")
    assert "pyrunc.spec.model" not in traced.modules("exec")
