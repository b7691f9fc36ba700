"""Real engines driving pyrunc as their runtime binary.

podman (through conmon) and containerd (through its runc v2 shim, driven with
`ctr`) are Debian 12 packages; docker's dockerd uses that same shim, and comes
unpacked from Debian's docker.io (scripts/docker-extract.sh: installing it would
start a system-wide daemon). scripts/test.sh provides all three, and these tests
are skipped where they are missing. Each engine gets private directories for
everything it keeps (storage, state, sockets, fifos), so nothing of the host's
engines is touched.

The runtime binary the engines exec is a small wrapper around the pyrunc under
test: it appends each call to a log (the tests check which commands the engine
really sent) and replaces the engine's `--root` by a private state root.

Cgroups: the engines want an absolute cgroup parent. The tests use one inside
this process's own cgroup in every hierarchy (as the relative paths of the other
tests do), and remove what was made there afterwards, including directories made
on the way to it.

After every test the guard checks that nothing leaked: no container in the state
root, no process in the test's cgroups or of the engine under the test's
directory, no new mount, no cgroup directory of a container.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from harness import clone_rootfs, is_under, read_mountinfo, remove_cgroup, safe_rmtree, SCRATCH_DIRS

ENGINE_TIMEOUT = 120


def cgroup_mountpoints() -> list[str]:
    return [m["mountpoint"] for m in read_mountinfo() if m["fstype"] in ("cgroup", "cgroup2")]


def own_cgroup_parent(name: str) -> str | None:
    """An absolute cgroup path inside this process's own cgroup in every hierarchy:
    the deepest own path (every other must be a prefix of it) plus `name`."""
    paths = set()
    with open("/proc/self/cgroup") as f:
        for line in f:
            paths.add(line.rstrip("\n").split(":", 2)[2])
    deepest = max(paths, key=len)
    for p in paths:
        if not (p == "/" or deepest == p or deepest.startswith(p.rstrip("/") + "/")):
            return None
    return deepest.rstrip("/") + "/" + name


class CgroupParent:
    """An absolute cgroup parent, and the directories to remove afterwards."""

    def __init__(self, path: str):
        self.path = path
        self.name = os.path.basename(path)
        self.made = []   # directories on the way to `path` that did not exist before
        for mount in cgroup_mountpoints():
            d = mount
            for part in path.strip("/").split("/"):
                d = os.path.join(d, part)
                if not os.path.isdir(d):
                    self.made.append(d)

    def dirs(self, below: str = "") -> list[str]:
        """`path` (or `path/below`) in every hierarchy where it exists."""
        found = []
        for mount in cgroup_mountpoints():
            d = os.path.join(mount, self.path.strip("/"), below)
            if os.path.isdir(d):
                found.append(d.rstrip("/"))
        return found

    def remove(self) -> list[str]:
        """Remove everything made; returns what could not be removed."""
        left = []
        for d in self.dirs():
            if not remove_cgroup(d):
                left.append(d)
        for d in sorted(self.made, key=len, reverse=True):
            try:
                os.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError:
                left.append(d)
        return left


def processes_in(cgroup_name: str, marker: str) -> list[str]:
    """Live processes whose cgroup path mentions cgroup_name or whose command line
    mentions marker (an engine's private directory)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            if stat[stat.rfind(b")") + 2:][:1] in (b"Z", b"X"):
                continue
            with open(f"/proc/{pid}/cgroup") as f:
                cgroups = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "/" + cgroup_name + "/" in cgroups or marker in cmdline:
            found.append(f"{pid}: {cmdline.strip()}")
    return found


class Sandbox:
    """Private directories, the wrapper binary and the cgroup parent for one engine."""

    def __init__(self, base: str, runtime: str, busybox_rootfs: str, name: str):
        self.base = base
        self.root = os.path.join(base, "state")
        self.calls_log = os.path.join(base, "calls.log")
        self.rootfs = os.path.join(base, "rootfs")
        os.makedirs(self.root)
        clone_rootfs(busybox_rootfs, self.rootfs)
        self.wrapper = os.path.join(base, "pyrunc-wrapper")
        with open(self.wrapper, "w") as f:
            f.write(
                "#!/bin/sh\n"
                f"printf '%s\\n' \"$*\" >> '{self.calls_log}'\n"
                'if [ "$1" = "--root" ]; then shift 2; fi\n'
                f"exec '{runtime}' --root '{self.root}' \"$@\"\n"
            )
        os.chmod(self.wrapper, 0o755)
        parent = own_cgroup_parent(f"pyrunc-{name}-{os.getpid()}")
        if parent is None:
            pytest.skip("no cgroup path lies inside this process's own cgroup in every hierarchy")
        self.cgroup = CgroupParent(parent)

    def calls(self) -> list[list[str]]:
        """The runtime calls so far, each as argv without the global flags."""
        try:
            with open(self.calls_log) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            words = line.split()
            while words and words[0].startswith("--"):
                flag = words.pop(0)
                if "=" not in flag and flag in ("--root", "--log", "--log-format", "--criu") and words:
                    words.pop(0)
            if words:  # not a call of global flags alone (`--version`)
                out.append(words)
        return out

    def commands(self) -> set[str]:
        return {c[0] for c in self.calls()}

    def check_clean(self, marker: str) -> list[str]:
        """What a finished test left behind (and cleans it up)."""
        problems = []
        deadline = time.monotonic() + 5
        procs = processes_in(self.cgroup.name, marker)
        while procs and time.monotonic() < deadline:
            time.sleep(0.05)
            procs = processes_in(self.cgroup.name, marker)
        if procs:
            problems.append(f"processes left: {procs}")
        leftovers = sorted(os.listdir(self.root))
        if leftovers:
            problems.append(f"containers left in pyrunc's state root: {leftovers}")
        for d in self.cgroup.dirs():
            kids = sorted(k for k in os.listdir(d) if os.path.isdir(os.path.join(d, k)) and k != "conmon")
            if kids:
                problems.append(f"container cgroups left in {d}: {kids}")
        return problems


@pytest.fixture
def engine_guard(request):
    """Runs a test with the mount table checked before and after."""
    before = {m["id"] for m in read_mountinfo()}
    yield
    new = [m for m in read_mountinfo() if m["id"] not in before]
    bad = [m["mountpoint"] for m in new if not is_under(m["mountpoint"], SCRATCH_DIRS)
           or "pyrunc-" in m["mountpoint"]]
    call = getattr(request.node, "_rep_call", None)
    if bad and call is not None and call.passed:
        pytest.fail(f"mounts left behind: {bad}", pytrace=False)


# -- podman ---------------------------------------------------------------------


class Podman:
    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox
        self.dir = os.path.join(sandbox.base, "p")   # short: see _engine()
        self.global_args = [
            "podman", "--root", os.path.join(self.dir, "s"), "--runroot", os.path.join(self.dir, "r"),
            "--tmpdir", os.path.join(self.dir, "t"), "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", sandbox.wrapper,
        ]
        # This host lacks CAP_SYS_RESOURCE: podman's default (nofile and nproc raised to
        # the maximum) fails there with every runtime (runc too), so both are set low.
        import resource

        nofile = min(1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        nproc = min(1024, resource.getrlimit(resource.RLIMIT_NPROC)[1])
        self.container_args = [
            "--network", "none", "--cgroup-parent", sandbox.cgroup.path,
            "--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}",
        ]

    def __call__(self, *args, check=True, timeout=ENGINE_TIMEOUT, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.global_args + list(args), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, **kw)
        if check and proc.returncode != 0:
            pytest.fail(f"podman {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}",
                        pytrace=False)
        return proc

    def run(self, *opts, cmd, **kw) -> subprocess.CompletedProcess:
        """`podman run OPTS` with the sandbox's container flags, running `cmd` in
        the sandbox's rootfs."""
        return self("run", *opts, *self.container_args, "--rootfs", self.sb.rootfs, *cmd, **kw)

    @property
    def marker(self) -> str:
        """In the command line of every process podman leaves (conmon)."""
        return self.dir

    def close(self):
        self("rm", "--all", "--force", "--time", "0", check=False)
        self("system", "reset", "--force", check=False, timeout=60)


@pytest.fixture
def podman(session_base, runtime, busybox_rootfs, engine_guard):
    yield from _engine(Podman, ("podman", "conmon"), session_base, runtime, busybox_rootfs)


# -- containerd -----------------------------------------------------------------


CONTAINERD_CONFIG = """version = 2
root = "{dir}/root"
state = "{dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{dir}/containerd.sock"
[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"""

# containerd 1.6 puts its shims' sockets under this directory, whatever its config says.
SHIM_SOCKET_DIR = "/run/containerd"


class _Daemon:
    """An engine daemon of the test's own: its log, its socket, and the shim
    directories to remove afterwards if it was the one to make them."""

    def _start(self, name: str, argv: list[str], socket: str, **popen):
        self.socket = socket
        self.made_run_dir = not os.path.exists(SHIM_SOCKET_DIR)
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.daemon = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                       stderr=subprocess.STDOUT, start_new_session=True, **popen)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{name} did not start:\n" + open(self.log.name).read()[-2000:],
                            pytrace=False)
            time.sleep(0.05)

    def stop(self):
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.log.close()
        if self.made_run_dir:
            # Only what the shims made, and only if they left nothing else there.
            for sub in ("s", "fifo", "runc/default", "runc", ""):
                try:
                    os.rmdir(os.path.join(SHIM_SOCKET_DIR, sub))
                except OSError:
                    pass


class Containerd(_Daemon):
    """A private containerd daemon, driven with ctr."""

    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox
        self.dir = os.path.join(sandbox.base, "containerd")
        os.makedirs(self.dir)
        self.fifo_dir = os.path.join(self.dir, "fifo")
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            f.write(CONTAINERD_CONFIG.format(dir=self.dir))
        self._start("containerd", ["containerd", "--config", config],
                    os.path.join(self.dir, "containerd.sock"))

    def ctr(self, *args, check=True, timeout=ENGINE_TIMEOUT, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("stdin", subprocess.DEVNULL)
        if "stdout" not in kw:
            kw["capture_output"] = True
        proc = subprocess.run(["ctr", "--address", self.socket, *args], text=True, timeout=timeout, **kw)
        if check and proc.returncode != 0:
            pytest.fail(f"ctr {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}",
                        pytrace=False)
        return proc

    def run_args(self, cid: str) -> list[str]:
        """ctr run's flags for a container of the sandbox: pyrunc as the runc binary,
        the rootfs directory, a cgroup in the sandbox's parent, private fifos."""
        return ["--runc-binary", self.sb.wrapper, "--cgroup", f"{self.sb.cgroup.path}/{cid}",
                "--fifo-dir", self.fifo_dir, "--rootfs", self.sb.rootfs]

    @property
    def marker(self) -> str:
        """In the command line of every shim of this daemon."""
        return self.socket

    def close(self):
        tasks = self.ctr("task", "ls", "-q", check=False).stdout.split()
        for t in tasks:
            self.ctr("task", "kill", "-s", "SIGKILL", t, check=False)
            self.ctr("task", "delete", "-f", t, check=False)
        for c in self.ctr("container", "ls", "-q", check=False).stdout.split():
            self.ctr("container", "delete", c, check=False)
        self.stop()


@pytest.fixture
def containerd(session_base, runtime, busybox_rootfs, engine_guard):
    yield from _engine(Containerd, ("containerd", "ctr"), session_base, runtime, busybox_rootfs)


# -- docker ---------------------------------------------------------------------


# Where scripts/docker-extract.sh puts dockerd and the client.
DOCKER_DIR = os.environ.get("PYRUNC_DOCKER_DIR", "/opt/pyrunc-engines/docker")


class Docker(_Daemon):
    """A private dockerd (it starts its own containerd), driven with the docker client.

    pyrunc is its default runtime. Networking is off (`--bridge=none`, no iptables):
    every container runs with `--network none`, as the host's network is not ours."""

    extra_path = DOCKER_DIR
    image = "localhost/bb"

    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox
        self.dir = os.path.join(sandbox.base, "d")   # short: containerd's socket lives below it
        os.makedirs(self.dir)
        config = os.path.join(self.dir, "daemon.json")
        with open(config, "w") as f:
            json.dump({
                "runtimes": {"pyrunc": {"path": sandbox.wrapper}},
                "default-runtime": "pyrunc",
                "cgroup-parent": sandbox.cgroup.path,
                # Else dockerd 20.10 writes its identity key to /etc/docker/key.json.
                "deprecated-key-path": os.path.join(self.dir, "key.json"),
            }, f)
        self.env = dict(os.environ, PATH=DOCKER_DIR + os.pathsep + os.environ.get("PATH", ""),
                        DOCKER_CONFIG=os.path.join(self.dir, "client"))
        socket = os.path.join(self.dir, "docker.sock")
        self._start("dockerd", [
            os.path.join(DOCKER_DIR, "dockerd"), "--config-file", config,
            "--data-root", os.path.join(self.dir, "data"), "--exec-root", os.path.join(self.dir, "x"),
            "--pidfile", os.path.join(self.dir, "dockerd.pid"), "-H", "unix://" + socket,
            "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none",
            "--userland-proxy=false", "--storage-driver", "vfs",
            "--exec-opt", "native.cgroupdriver=cgroupfs"],
            socket, env=self.env)
        tar = subprocess.Popen(["tar", "-C", sandbox.rootfs, "-c", "."], stdout=subprocess.PIPE)
        self("import", "--change", 'CMD ["/bin/sh"]', "-", self.image + ":latest", stdin=tar.stdout)
        tar.wait()

    def __call__(self, *args, check=True, timeout=ENGINE_TIMEOUT, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.run([os.path.join(DOCKER_DIR, "docker"), "-H", "unix://" + self.socket, *args],
                              capture_output=True, text=True, timeout=timeout, env=self.env, **kw)
        if check and proc.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}",
                        pytrace=False)
        return proc

    def run(self, *opts, cmd, **kw) -> subprocess.CompletedProcess:
        """`docker run OPTS` of the sandbox's image, without a network."""
        return self("run", "--network", "none", *opts, self.image, *cmd, **kw)

    @property
    def marker(self) -> str:
        """In the command line of every shim of the daemon's containerd."""
        return os.path.join(self.dir, "x", "containerd", "containerd.sock")

    def close(self):
        ids = self("ps", "-aq", check=False).stdout.split()
        if ids:
            self("rm", "--force", *ids, check=False)
        self.stop()


@pytest.fixture
def docker(session_base, runtime, busybox_rootfs, engine_guard):
    yield from _engine(Docker, ("dockerd", "docker", "containerd", "containerd-shim-runc-v2"),
                       session_base, runtime, busybox_rootfs)


def _engine(engine_class, programs, session_base, runtime, busybox_rootfs):
    """An engine in a fresh Sandbox; afterwards, its leftovers are a test failure."""
    search = os.pathsep.join(filter(None, (getattr(engine_class, "extra_path", ""),
                                           os.environ.get("PATH", ""))))
    missing = [p for p in programs if shutil.which(p, path=search) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/test.sh installs them)")
    name = engine_class.__name__.lower()
    # short: podman refuses a runroot path over 50 characters
    base = tempfile.mkdtemp(prefix=name[:2] + "-", dir=session_base)
    sandbox = engine = None
    problems = []
    try:
        sandbox = Sandbox(base, runtime, busybox_rootfs, name)
        engine = engine_class(sandbox)
        yield engine
        problems = sandbox.check_clean(engine.marker)
    finally:
        if engine is not None:
            engine.close()
        if sandbox is not None:
            left = sandbox.cgroup.remove()
            if left:
                problems.append(f"cgroups that could not be removed: {left}")
        safe_rmtree(base)
    if problems:
        pytest.fail(f"the {name} test left things behind:\n  " + "\n  ".join(problems), pytrace=False)
