"""Helpers for the real-container integration tests (runtime-agnostic).

Imported by tests/conftest.py (fixtures) and by the test modules. Nothing
here imports pyrunc: the tests drive whatever runc-compatible binary PYRUNC
names.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
ROOTFS_SCRIPT = REPO / "scripts" / "make-busybox-rootfs.sh"

# Name of the env var carrying the session token into every runtime call and
# every container: processes that carry it are ours.
TOKEN_VAR = "PYRUNC_TEST"

# seconds one runtime call may take (PYRUNC_TEST_TIMEOUT overrides)
DEFAULT_TIMEOUT = float(os.environ.get("PYRUNC_TEST_TIMEOUT", "30"))

# Scratch areas other sessions on this shared machine may mount things in;
# the leak guard ignores new mounts there unless they are under our own dirs.
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def is_under(path: str, prefixes) -> bool:
    """path is one of prefixes or inside one of them."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def runtime_path() -> str | None:
    name = os.environ.get("PYRUNC") or "pyrunc"
    found = shutil.which(name)
    return os.path.abspath(found) if found else None


def runtime_is_runc(path: str | None = None) -> bool:
    path = path if path is not None else runtime_path()
    return bool(path) and os.path.basename(path).startswith("runc")


# -- host inspection (used by the leak guard and by tests) ----------------------


def _unescape_mount_path(s: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 4 <= len(s) and s[i + 1 : i + 4].isdigit():
            out.append(chr(int(s[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[dict]:
    """Parsed mountinfo lines: id, parent, root, mountpoint, options, fstype, source, super."""
    mounts = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, _, right = line.partition(" - ")
        lf = left.split(" ")
        rf = right.split(" ")
        mounts.append(
            {
                "id": int(lf[0]),
                "parent": int(lf[1]),
                "root": _unescape_mount_path(lf[3]),
                "mountpoint": _unescape_mount_path(lf[4]),
                "options": lf[5],
                "fstype": rf[0] if rf else "",
                "source": rf[1] if len(rf) > 1 else "",
                "super": rf[2] if len(rf) > 2 else "",
            }
        )
    return mounts


def read_mountinfo(pid: str | int = "self") -> list[dict]:
    with open(f"/proc/{pid}/mountinfo") as f:
        return parse_mountinfo(f.read())


def mount_at(mounts: list[dict], mountpoint: str) -> dict | None:
    """The topmost (last) mount at mountpoint, or None."""
    found = None
    for m in mounts:
        if m["mountpoint"] == mountpoint:
            found = m
    return found


def _ns_inode(pid: str, ns: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{ns}")
    except OSError:
        return None


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _proc_state(pid: str) -> str:
    data = _read_bytes(f"/proc/{pid}/stat")
    close = data.rfind(b")")
    if close < 0 or close + 2 >= len(data):
        return "?"
    return chr(data[close + 2])


def _all_pids() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit()]


def _ancestors() -> set[str]:
    out, pid = set(), os.getpid()
    while pid > 1:
        out.add(str(pid))
        data = _read_bytes(f"/proc/{pid}/stat")
        close = data.rfind(b")")
        if close < 0:
            break
        pid = int(data[close + 2 :].split()[1])
    return out


def namespace_snapshot() -> set[str]:
    seen = set()
    for pid in _all_pids():
        for ns in ("pid", "mnt"):
            link = _ns_inode(pid, ns)
            if link:
                seen.add(link)
    return seen


def find_our_processes(token: str, known_ns: set[str]) -> list[tuple[int, str]]:
    """Live (non-zombie) processes that belong to this test session.

    A process is ours if its command line or environment carries the session
    token (runtime calls and default container envs do), or if it sits in a
    pid or mount namespace that did not exist before the test and its mount
    table mentions the session directory (a container rooted in one of our
    bundles, whatever its environment).
    """
    tok = token.encode()
    skip = _ancestors()
    found = []
    for pid in _all_pids():
        if pid in skip:
            continue
        state = _proc_state(pid)
        if state in ("Z", "X", "?"):
            continue
        cmdline = _read_bytes(f"/proc/{pid}/cmdline")
        ours = tok in cmdline or tok in _read_bytes(f"/proc/{pid}/environ")
        if not ours:
            nss = {_ns_inode(pid, "pid"), _ns_inode(pid, "mnt")} - {None}
            if nss - known_ns:
                ours = tok in _read_bytes(f"/proc/{pid}/mountinfo")
        if ours:
            found.append((int(pid), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def cgroup_leaf_paths(relative: str) -> list[str]:
    """Where a relative cgroupsPath lands in every cgroup hierarchy of this host."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            own[ctrls] = path
    paths = []
    for m in read_mountinfo():
        if m["fstype"] == "cgroup2":
            key = ""
        elif m["fstype"] == "cgroup":
            opts = set(m["super"].split(","))
            key = None
            for ctrls in own:
                if ctrls and set(ctrls.split(",")) <= opts:
                    key = ctrls
                    break
            if key is None:
                continue
        else:
            continue
        if key not in own:
            continue
        paths.append(os.path.join(m["mountpoint"], own[key].lstrip("/"), relative))
    return paths


def remove_cgroup(path: str, timeout: float = 10.0) -> bool:
    """rmdir a cgroup directory (children first), retrying while it is busy."""
    deadline = time.monotonic() + timeout
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        while True:
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
    return not os.path.exists(path)


def _mounts_under(base: str) -> list[dict]:
    base = base.rstrip("/") + "/"
    return [m for m in read_mountinfo() if (m["mountpoint"] + "/").startswith(base)]


def lazy_umount(path: str) -> None:
    subprocess.run(["umount", "-l", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def safe_rmtree(path: str) -> bool:
    """Remove a test directory, but never descend into something mounted inside it."""
    if not os.path.lexists(path):
        return True
    mounts = _mounts_under(path)
    for m in sorted(mounts, key=lambda m: -len(m["mountpoint"])):
        lazy_umount(m["mountpoint"])
    if _mounts_under(path):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)


# -- the default configuration (what `pyrunc spec` writes: runc 1.5.1's) -------

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _host_is_pure_cgroup2() -> bool:
    for m in read_mountinfo():
        if m["mountpoint"] == "/sys/fs/cgroup":
            return m["fstype"] == "cgroup2"
    return False


def default_spec() -> dict:
    """runc 1.5.1's `spec` output (runtime-spec 1.3.0) as a dict, key order kept."""
    namespaces = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
    if _host_is_pure_cgroup2():
        namespaces.append({"type": "cgroup"})
    return {
        "ociVersion": "1.3.0",
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [DEFAULT_PATH, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPS),
                "effective": list(DEFAULT_CAPS),
                "permitted": list(DEFAULT_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": namespaces,
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


def deep_merge(base: dict, overrides: dict) -> dict:
    """Merge overrides into base in place: dicts merge, None deletes, anything else replaces."""
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


_counter = itertools.count(1)


def next_counter() -> int:
    return next(_counter)


def new_id(prefix: str = "t") -> str:
    """A container id unique on this machine while this process lives."""
    return f"{prefix}{os.getpid()}-{next(_counter)}"


def clone_rootfs(src: str, dst: str) -> None:
    """Copy a rootfs cheaply: the big busybox binary is hard-linked, the rest copied.

    Small files (like /etc/passwd) are real copies so that a container writing
    them never changes the session's rootfs or another bundle.
    """
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        target_dir = dst if rel == "." else os.path.join(dst, rel)
        st = os.lstat(dirpath)
        os.makedirs(target_dir, exist_ok=True)
        os.chmod(target_dir, st.st_mode & 0o7777)
        os.chown(target_dir, st.st_uid, st.st_gid)
        for name in dirnames + filenames:
            s = os.path.join(dirpath, name)
            d = os.path.join(target_dir, name)
            sst = os.lstat(s)
            if os.path.islink(s):
                os.symlink(os.readlink(s), d)
            elif name in dirnames:
                continue
            elif sst.st_size > 65536:
                os.link(s, d)
            else:
                shutil.copy2(s, d)
                os.chown(d, sst.st_uid, sst.st_gid)


class Bundle:
    """A bundle directory: ``path``, ``rootfs`` and the ``config`` dict (write() saves it)."""

    def __init__(self, path: str, config: dict, cgroup: str):
        self.path = path
        self.config = config
        self.cgroup = cgroup

    @property
    def rootfs(self) -> str:
        root = self.config.get("root", {}).get("path", "rootfs")
        return root if os.path.isabs(root) else os.path.join(self.path, root)

    @property
    def config_path(self) -> str:
        return os.path.join(self.path, "config.json")

    def write(self) -> "Bundle":
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.config, f, indent="\t")
        os.replace(tmp, self.config_path)
        return self

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


# -- the runtime driver --------------------------------------------------------


class Runtime:
    """Runs the binary under test as ``[binary, "--root", state_root, *args]``."""

    def __init__(self, binary: str, root: str, base: str, token: str):
        self.binary = binary
        self.root = root
        self.base = base
        self.token = token
        self.io_dir = os.path.join(base, "io")
        os.makedirs(self.io_dir, exist_ok=True)
        self.env = dict(os.environ)
        self.env[TOKEN_VAR] = token
        self._io: dict[str, tuple[str, str]] = {}

    @property
    def is_runc(self) -> bool:
        return runtime_is_runc(self.binary)

    def argv(self, *args) -> list[str]:
        return [self.binary, "--root", self.root, *[str(a) for a in args]]

    def __call__(self, *args, timeout=DEFAULT_TIMEOUT, input=None, stdin=None, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, cwd=None, pass_fds=(), env=None, fd3=None, restore_signals=True,
                 preexec_fn=None) -> subprocess.CompletedProcess:
        """Run the runtime; ``fd3=PATH`` starts it with PATH open read-only as fd 3
        (like a shim's inherited fd), the other keywords go to subprocess.run."""
        if stdin is None and input is None:
            stdin = subprocess.DEVNULL
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        argv = self.argv(*args)
        if fd3 is not None:
            full_env["PYRUNC_TEST_FD3"] = str(fd3)
            argv = ["/bin/sh", "-c", 'exec "$@" 3<"$PYRUNC_TEST_FD3"', "sh", *argv]
        return subprocess.run(
            argv,
            restore_signals=restore_signals,
            preexec_fn=preexec_fn,
            input=input,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            pass_fds=pass_fds,
            env=full_env,
            timeout=timeout,
            text=True,
        )

    # -- containers whose stdio goes to files ---------------------------------

    def io_paths(self, cid: str) -> tuple[str, str]:
        if cid not in self._io:
            stem = os.path.join(self.io_dir, f"io{os.getpid()}-{next(_counter)}")
            self._io[cid] = (stem + ".out", stem + ".err")
        return self._io[cid]

    def _with_files(self, cid, args, **kw) -> subprocess.CompletedProcess:
        out_path, err_path = self.io_paths(cid)
        with open(out_path, "a") as out, open(err_path, "a") as err:
            start_out, start_err = out.tell(), err.tell()
            proc = self(*args, stdout=out, stderr=err, **kw)
        with open(out_path) as f:
            f.seek(start_out)
            proc.stdout = f.read()
        with open(err_path) as f:
            f.seek(start_err)
            proc.stderr = f.read()
        return proc

    def create(self, cid, bundle, *flags, **kw) -> subprocess.CompletedProcess:
        """`create --bundle BUNDLE [flags] ID` with stdout/stderr going to per-container files.

        The container inherits those files as its stdio (read them with out()/err()).
        """
        return self._with_files(cid, ["create", "--bundle", str(bundle), *flags, cid], **kw)

    def run_detached(self, cid, bundle, *flags, **kw) -> subprocess.CompletedProcess:
        return self._with_files(cid, ["run", "-d", "--bundle", str(bundle), *flags, cid], **kw)

    def run(self, cid, bundle, *flags, **kw) -> subprocess.CompletedProcess:
        """Foreground `run`: the container's stdout/stderr are the CompletedProcess's."""
        return self("run", "--bundle", str(bundle), *flags, cid, **kw)

    def out(self, cid) -> str:
        with open(self.io_paths(cid)[0]) as f:
            return f.read()

    def err(self, cid) -> str:
        with open(self.io_paths(cid)[1]) as f:
            return f.read()

    # -- state ----------------------------------------------------------------

    def state(self, cid) -> dict:
        proc = self("state", cid)
        assert proc.returncode == 0, f"state {cid} failed ({proc.returncode}): {proc.stderr}"
        return json.loads(proc.stdout)

    def status(self, cid) -> str:
        return self.state(cid)["status"]

    def wait_status(self, cid, want: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            proc = self("state", cid)
            st = json.loads(proc.stdout) if proc.returncode == 0 else {"status": f"<state failed: {proc.stderr.strip()}>"}
            if st["status"] == want:
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"container {cid} stayed {st['status']!r}, wanted {want!r}")
            time.sleep(0.02)

    def wait_output(self, cid, needle: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.out(cid)
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared in the output of {cid}: {text!r} / {self.err(cid)!r}")
            time.sleep(0.02)

    def delete_force(self, cid) -> subprocess.CompletedProcess:
        return self("delete", "--force", cid)

    def list_ids(self) -> list[str]:
        try:
            return sorted(e for e in os.listdir(self.root) if not e.startswith("."))
        except FileNotFoundError:
            return []


def wait_exec(pid: int, argv0: str, timeout: float = 10.0) -> None:
    """Wait until process PID has exec'd a program whose argv[0] is argv0."""
    deadline = time.monotonic() + timeout
    while True:
        data = _read_bytes(f"/proc/{pid}/cmdline")
        if data.split(b"\0", 1)[0].decode(errors="replace") == argv0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} never exec'd {argv0!r} (cmdline {data!r})")
        time.sleep(0.01)


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and _proc_state(str(pid)) not in ("Z", "X", "?"):
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} still alive")
        time.sleep(0.01)




def unescape(stderr: str) -> str:
    """Error text with logfmt quoting undone (runc writes msg="unknown signal \\"FOO\\"")."""
    return stderr.replace('\\"', '"').replace("\\\\", "\\")


def status_fields(text: str) -> dict[str, str]:
    """`Key:\\tvalue` lines of a /proc/PID/status dump."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def cap_mask(names) -> int:
    return sum(1 << CAP_NUMBERS[n] for n in names)


CAP_NUMBERS = {
    name: i
    for i, name in enumerate(
        "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID "
        "CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW "
        "CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT "
        "CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD "
        "CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG "
        "CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE".split()
    )
}
