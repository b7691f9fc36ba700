"""Shared pytest configuration for pyrunc.

Everything here that touches real containers is only used by the tests under
tests/integration/. Those tests drive a runc-compatible binary through its
command line and do not import pyrunc, so they can be pointed at any runtime:

    PYRUNC=/usr/sbin/runc pytest tests/integration     # the reference
    PYRUNC=pyrunc pytest tests/integration             # the default

Tests marked ``pyrunc_only`` check behaviour where pyrunc deliberately differs
from runc 1.1.5 (following runtime-spec 1.3); they are skipped when the binary
under test is named ``runc*`` unless PYRUNC_RUN_ALL=1.

Every integration test runs inside a guard that checks, after the test, that
nothing leaked: no container left in the test's ``--root``, no process of
ours still alive (by session token, or in a new namespace rooted in our
files), no new mount (outside other sessions' scratch dirs), no cgroup
directory left, no new fd open in the test process. Leftovers are cleaned up
and reported as a test error (only when the test itself passed).

Environment: PYRUNC (runtime binary), PYRUNC_RUN_ALL=1 (run pyrunc_only tests
on runc too), PYRUNC_TEST_TIMEOUT (seconds per runtime call, default 30),
PYRUNC_TEST_TMPDIR (where bundles go; default /dev/shm when usable).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION_DIR = REPO_ROOT / "tests" / "integration"
ENGINES_DIR = REPO_ROOT / "tests" / "engines"
# unit tests import pyrunc from the work tree; integration tests import the
# helpers in tests/integration/harness.py (and never pyrunc); the engine tests
# also share tests/engines/probe.py
for _p in (str(REPO_ROOT), str(INTEGRATION_DIR), str(ENGINES_DIR)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from harness import (  # noqa: E402
    ROOTFS_SCRIPT,
    SCRATCH_DIRS,
    TOKEN_VAR,
    Bundle,
    Runtime,
    lazy_umount,
    namespace_snapshot,
    runtime_path,
    cgroup_leaf_paths,
    clone_rootfs,
    deep_merge,
    default_spec,
    find_our_processes,
    is_under,
    new_id,
    next_counter,
    read_mountinfo,
    remove_cgroup,
    runtime_is_runc,
    safe_rmtree,
    wait_gone,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "pyrunc_only(reason): pyrunc deliberately differs from runc 1.1.5 here; "
        "skipped when the runtime under test is named runc* (set PYRUNC_RUN_ALL=1 to run anyway)",
    )
    config.addinivalue_line(
        "markers", "integration: drives a real runtime binary as root (added automatically under tests/integration)"
    )


def _is_integration(item) -> bool:
    try:
        return INTEGRATION_DIR in Path(str(item.path)).resolve().parents
    except (OSError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_integration(item):
            item.add_marker(pytest.mark.integration)


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("pyrunc_only")
    if marker is None or os.environ.get("PYRUNC_RUN_ALL") == "1":
        return
    if runtime_is_runc():
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        pytest.skip(f"pyrunc_only (runc 1.1.5 differs): {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"_rep_{rep.when}", rep)


# ---------------------------------------------------------------------------
# session fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def runtime() -> str:
    """Absolute path of the runtime binary under test (env PYRUNC, else `pyrunc` on PATH)."""
    path = runtime_path()
    if path is None:
        want = os.environ.get("PYRUNC") or "pyrunc"
        pytest.skip(f"integration tests need a runtime: {want!r} not found (set PYRUNC=/path/to/runtime)")
    if os.geteuid() != 0:
        pytest.skip("integration tests need root")
    return path


def _tmp_parent() -> str | None:
    """Where the session directory goes: PYRUNC_TEST_TMPDIR, else /dev/shm when it
    is an exec-able tmpfs (creating a bundle there is ~30x faster than on a
    slow disk), else the default temp dir."""
    env = os.environ.get("PYRUNC_TEST_TMPDIR")
    if env:
        return env
    for m in read_mountinfo():
        if m["mountpoint"] == "/dev/shm" and m["fstype"] == "tmpfs":
            if "noexec" not in m["options"].split(",") and os.access("/dev/shm", os.W_OK | os.X_OK):
                return "/dev/shm"
    return None


@pytest.fixture(scope="session")
def session_base(runtime):
    base = tempfile.mkdtemp(prefix="pyrunc-it-", dir=_tmp_parent())
    os.chmod(base, 0o755)
    yield base
    if not safe_rmtree(base):
        print(f"\nWARNING: could not remove {base}: something is still mounted under it")


@pytest.fixture(scope="session")
def session_token(session_base) -> str:
    return os.path.basename(session_base)


@pytest.fixture(scope="session")
def busybox_rootfs(session_base) -> str:
    """A busybox rootfs built once per session with scripts/make-busybox-rootfs.sh."""
    dest = os.path.join(session_base, "rootfs-src")
    proc = subprocess.run(["/bin/sh", str(ROOTFS_SCRIPT), dest], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"building the busybox rootfs failed:\n{proc.stdout}\n{proc.stderr}")
    return dest


@pytest.fixture
def cid() -> str:
    """A container id unique on this machine."""
    return new_id()


@pytest.fixture
def bundle(session_base, busybox_rootfs, session_token, _leak_registry):
    """Factory: ``bundle(args=[...], edit=fn, **overrides)`` → Bundle.

    The config starts from the default spec with terminal false, the given
    args, the session token in the env, no ``linux.resources`` and a relative
    per-bundle ``linux.cgroupsPath``; ``overrides`` are deep-merged into it
    (None deletes a key) and ``edit(config)`` may change it further. Each
    bundle gets its own cheap copy of the busybox rootfs (``rootfs=False``
    skips it).
    """
    made = []

    def make(args=None, *, edit=None, rootfs=True, **overrides) -> Bundle:
        n = next_counter()
        path = os.path.join(session_base, "bundles", f"b{os.getpid()}-{n}")
        os.makedirs(path)
        if rootfs:
            clone_rootfs(busybox_rootfs, os.path.join(path, "rootfs"))
        cfg = default_spec()
        proc = cfg["process"]
        proc["terminal"] = False
        proc["args"] = list(args) if args is not None else ["sh", "-c", "echo hello from inside a pyrunc container"]
        proc["env"].append(f"{TOKEN_VAR}={session_token}")
        del cfg["linux"]["resources"]
        cgroup = f"pyrunc-test-{os.getpid()}-{n}"
        cfg["linux"]["cgroupsPath"] = cgroup
        deep_merge(cfg, overrides)
        if edit is not None:
            edit(cfg)
        b = Bundle(path, cfg, cgroup).write()
        made.append(b)
        _leak_registry["cgroups"].append(cgroup)
        return b

    yield make
    for b in made:
        _leak_registry["dirs"].append(b.path)


@pytest.fixture
def _leak_registry():
    return {"cgroups": [], "dirs": []}


@pytest.fixture
def state_root(session_base, runtime):
    """A fresh, private ``--root`` directory; it must hold no container after the test
    (the leak guard checks, force-deletes leftovers and removes the directory)."""
    path = tempfile.mkdtemp(prefix="state-", dir=session_base)
    os.chmod(path, 0o700)
    return path


@pytest.fixture
def rt(runtime, state_root, session_base, session_token) -> Runtime:
    """The runtime driver bound to this test's state root."""
    return Runtime(runtime, state_root, session_base, session_token)


@pytest.fixture
def run_rt(rt):
    """``run_rt(*args, **kw)`` → CompletedProcess of ``[runtime, "--root", state_root, *args]`` (30 s timeout)."""
    return rt


# ---------------------------------------------------------------------------
# the leak guard
# ---------------------------------------------------------------------------


def _open_fds() -> dict[str, str]:
    """fd -> target of this process's open fds (the fd used to list them is gone by then)."""
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return fds


@pytest.fixture(autouse=True)
def _integration_guard(request, tmp_path_factory):
    if not _is_integration(request.node):
        yield
        return
    fds_before = _open_fds()
    mounts_before = {m["id"] for m in read_mountinfo()}
    ns_before = namespace_snapshot()
    cgroup_top_before = set(os.listdir("/sys/fs/cgroup")) if os.path.isdir("/sys/fs/cgroup") else set()
    registry = request.getfixturevalue("_leak_registry")
    base = request.getfixturevalue("session_base")
    token = request.getfixturevalue("session_token")
    root = request.getfixturevalue("state_root")
    binary = request.getfixturevalue("runtime")
    yield
    problems = []

    # containers left in the state root: report, then force-delete them
    leftovers = sorted(e for e in os.listdir(root) if not e.startswith("."))
    if leftovers:
        problems.append(f"containers left in the state root: {leftovers}")
        for c in leftovers:
            try:
                subprocess.run([binary, "--root", root, "delete", "--force", c], capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                problems.append(f"delete --force {c} timed out")
    registry["dirs"].append(root)

    # processes: give exiting ones a moment, then kill what is left
    deadline = time.monotonic() + 2.0
    procs = find_our_processes(token, ns_before)
    while procs and time.monotonic() < deadline:
        time.sleep(0.02)
        procs = find_our_processes(token, ns_before)
    if procs:
        problems.append(f"processes left running: {procs}")
        for pid, _ in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, _ in procs:
            try:
                wait_gone(pid, 5)
            except AssertionError:
                pass

    # mounts: anything new in the host's mount table, except in scratch
    # directories that are not ours (other sessions share this machine)
    ours = (base, str(tmp_path_factory.getbasetemp()))
    new_mounts = [m for m in read_mountinfo() if m["id"] not in mounts_before]
    bad = [m for m in new_mounts if is_under(m["mountpoint"], ours) or not is_under(m["mountpoint"], SCRATCH_DIRS)]
    if bad:
        problems.append("mounts left behind: " + ", ".join(f"{m['mountpoint']} ({m['fstype']})" for m in bad))
        for m in sorted(bad, key=lambda m: -len(m["mountpoint"])):
            if is_under(m["mountpoint"], ours):
                lazy_umount(m["mountpoint"])

    # cgroups (a killed process blocks rmdir until it is reaped, which this
    # host's init does lazily: retry for a while)
    for cg in registry["cgroups"]:
        for p in cgroup_leaf_paths(cg):
            if os.path.isdir(p):
                problems.append(f"cgroup left behind: {p}")
                if not remove_cgroup(p):
                    problems.append(f"could not remove cgroup {p}")
    if os.path.isdir("/sys/fs/cgroup"):
        new_top = set(os.listdir("/sys/fs/cgroup")) - cgroup_top_before
        if new_top:
            problems.append(f"new entries in /sys/fs/cgroup: {sorted(new_top)}")

    # fds of the test process
    fds_after = _open_fds()
    new_fds = [f"{fd}->{target}" for fd, target in sorted(fds_after.items()) if fds_before.get(fd) != target]
    if new_fds:
        problems.append(f"fds left open in the test process: {new_fds}")

    for d in registry["dirs"]:
        if not safe_rmtree(d):
            problems.append(f"could not remove {d}: still mounted")

    call = getattr(request.node, "_rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check failed:\n  " + "\n  ".join(problems), pytrace=False)
