#!/usr/bin/python3
"""Paired latency and memory benchmark: pyrunc against runc and crun.

Run as root:

    /usr/bin/python3 benchmarks/bench.py [--quick] [--runtimes pyrunc,runc,crun]
        [--pyrunc PATH] [--pairs N] [--out FILE.md]

Every runtime is driven through its runc-compatible command line with its own
``--root`` in a temporary directory, on a busybox bundle built there.  Each
operation is timed as a whole process (posix_spawn + wait4, wall clock from
time.perf_counter_ns); setup and cleanup around it are not timed.  Runtimes
are alternated within each pair (order rotated every pair), one warm-up call
each comes first, every figure is a median and every ratio the median of the
per-pair ratios.  The first runtime in --runtimes is the numerator of the
ratios.  See benchmarks/README.md.
"""

import argparse
import copy
import errno
import gc
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

# --------------------------------------------------------------------------
# settings

FULL = {"pairs": 30, "seq_runs": 100, "seq_pairs": 5, "mem_samples": 9}
QUICK = {"pairs": 15, "seq_runs": 20, "seq_pairs": 2, "mem_samples": 3}

OPS = ["run", "create", "start", "state", "kill", "delete", "exec", "run_seccomp", "seq", "mem"]

# The seccomp profile engines pass (podman's and CRI-O's default, from Debian's
# containers-common), converted to linux.seccomp for `run_seccomp`.
ENGINE_PROFILE = "/usr/share/containers/seccomp.json"

OP_LABELS = {
    "run": "`run` (foreground, `true`)",
    "create": "`create` (init parked on the exec FIFO)",
    "start": "`start` (of a created container)",
    "state": "`state` (of a created container)",
    "kill": "`kill KILL` (of a running `sleep`)",
    "delete": "`delete` (of a stopped container)",
    "exec": "`exec true` (into a running `sleep`)",
    "run_seccomp": "`run` with the engines' default seccomp profile",
}

MEM_ROWS = [
    ("run_maxrss", "`run`: max RSS of runtime + waited children"),
    ("create_maxrss", "`create`: max RSS of runtime + waited children"),
    ("init_vmrss", "init waiting between create and start: VmRSS"),
    ("init_rssanon", "... of which RssAnon"),
]

UNIFIED = "/sys/fs/cgroup/unified"
# The crun workaround for hybrid hosts: hide the hybrid cgroup2 mount in
# a private mount namespace of crun's own, then exec the real command.
WRAP_SCRIPT = 'umount -l ' + UNIFIED + ' && exec "$@"'

DEFAULT_TIMEOUT = 60.0


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class OpError(Exception):
    pass


# --------------------------------------------------------------------------
# process spawning and timing

_current_pid = 0
_timed_out = False


def _on_alarm(signum, frame):
    global _timed_out
    if _current_pid:
        _timed_out = True
        try:
            os.kill(_current_pid, signal.SIGKILL)
        except OSError:
            pass


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


class Sample:
    __slots__ = ("wall_ns", "cpu_ns", "maxrss_kib")

    def __init__(self, wall_ns, cpu_ns, maxrss_kib):
        self.wall_ns = wall_ns
        self.cpu_ns = cpu_ns
        self.maxrss_kib = maxrss_kib


class Spawner:
    """posix_spawn + wait4 with stdin/stdout on /dev/null and stderr to a file."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.env = dict(os.environ)

    def spawn(self, argv, errpath):
        """Run argv; return (exit code, Sample).  Raises OpError on timeout."""
        global _current_pid, _timed_out
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, errpath,
             os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        _timed_out = False
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            t0 = time.perf_counter_ns()
            pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions)
            _current_pid = pid
            _, status, ru = os.wait4(pid, 0)
            t1 = time.perf_counter_ns()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _current_pid = 0
        if _timed_out:
            raise OpError("timed out after %gs (killed): %s" % (
                self.timeout, " ".join(os.path.basename(x) if x.startswith("/") else x
                                       for x in argv)))
        cpu_ns = int((ru.ru_utime + ru.ru_stime) * 1e9)
        return os.waitstatus_to_exitcode(status), Sample(t1 - t0, cpu_ns, ru.ru_maxrss)

    def capture(self, argv, cwd=None):
        """Untimed call with captured output: (exit code, stdout, stderr)."""
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=self.timeout, env=self.env, cwd=cwd)
        except subprocess.TimeoutExpired:
            return -1, b"", b"timed out"
        return p.returncode, p.stdout, p.stderr


# --------------------------------------------------------------------------
# host helpers

def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def mountinfo():
    """List of (mount point, root, fstype, super options) of this mount namespace."""
    out = []
    for line in read_text("/proc/self/mountinfo").splitlines():
        pre, _, post = line.partition(" - ")
        f = pre.split()
        g = post.split()
        if len(f) < 5 or len(g) < 3:
            continue
        unesc = lambda s: s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
        out.append((unesc(f[4]), unesc(f[3]), g[0], g[2].split(",")))
    return out


def is_hybrid_cgroup_host():
    for mnt, _root, fstype, _opts in mountinfo():
        if mnt == UNIFIED and fstype == "cgroup2":
            return bool(read_text(os.path.join(UNIFIED, "cgroup.controllers")).strip())
    return False


def is_static_elf(path):
    """True when path is an ELF executable without a PT_INTERP program header."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            endian = "<" if head[5] == 1 else ">"
            phoff, = struct.unpack_from(endian + "Q", head, 32)
            phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        p_type, = struct.unpack_from(endian + "I", table, i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def find_gnu_time(spawner):
    """Path of GNU time, or None.

    Max RSS must come from a small intermediate process: a child spawned by
    this (large) Python process starts with the driver's address space, and
    Linux charges that to the child's ru_maxrss when it execs (a vfork'd
    posix_spawn child shares it outright), so wait4() here would report the
    driver's ~16 MB for every runtime.  GNU time forks from a ~1 MB process.
    (busybox's `time` applet reports %M four times too large.)
    """
    for cand in (shutil.which("time"),):
        if cand and os.access(cand, os.X_OK):
            rc, out, err = spawner.capture([cand, "--version"])
            if rc == 0 and b"GNU" in out + err:
                return cand
    return None


def proc_status_kib(pid, key):
    for line in read_text("/proc/%d/status" % pid).splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def proc_stat(pid):
    """(state letter, start time in ticks) of pid, or None when it is gone."""
    s = read_text("/proc/%d/stat" % pid)
    if not s:
        return None
    rest = s[s.rfind(")") + 2:].split()
    return rest[0], int(rest[19])


def host_info():
    cpu = "unknown"
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "kernel": os.uname().release,
        "cpu": "%s x %d" % (cpu, os.cpu_count() or 0),
        "python": "%s (%s)" % (sys.version.split()[0], sys.executable),
        "hybrid": is_hybrid_cgroup_host(),
    }


def loadavg():
    return " ".join(read_text("/proc/loadavg").split()[:3])


# --------------------------------------------------------------------------
# cgroups created by runtimes under the relative cgroupsPath

def own_cgroups():
    """{controller set (frozenset) or "": path} from /proc/self/cgroup."""
    res = {}
    for line in read_text("/proc/self/cgroup").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            ctrls = frozenset(c for c in parts[1].split(",") if c)
            res[ctrls] = parts[2]
    return res


def cgroup_candidate_dirs(parent):
    """Every directory where a runtime may have created <parent>/<id>."""
    own = own_cgroups()
    dirs = []
    for mnt, root, fstype, opts in mountinfo():
        if fstype not in ("cgroup", "cgroup2"):
            continue
        path = None
        if fstype == "cgroup2":
            path = own.get(frozenset())
        else:
            optset = set(opts)
            for ctrls, p in own.items():
                if ctrls and ctrls <= optset:
                    path = p
                    break
        cands = [os.path.join(mnt, parent)]
        if path is not None:
            rel = path
            if root != "/" and rel.startswith(root):
                rel = rel[len(root):]
            cands.append(os.path.join(mnt, rel.lstrip("/"), parent))
        for c in cands:
            if c not in dirs:
                dirs.append(c)
    return dirs


def remove_cgroup_tree(top, notes):
    """rmdir a cgroup directory tree bottom-up; SIGKILL what still lives in it."""
    if not os.path.isdir(top):
        return
    for attempt in range(30):
        left = False
        for dirpath, _dirnames, _files in os.walk(top, topdown=False):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError as e:
                left = True
                if e.errno == errno.EBUSY:
                    for pid in read_text(os.path.join(dirpath, "cgroup.procs")).split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except (OSError, ValueError):
                            pass
        if not left:
            return
        time.sleep(0.1)
    notes.append("could not remove cgroup directory %s" % top)


# --------------------------------------------------------------------------
# bundles

def build_rootfs(dest, busybox):
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    shutil.copy2(busybox, os.path.join(dest, "bin", "busybox"))
    for applet in ("sh", "true", "sleep"):
        os.symlink("busybox", os.path.join(dest, "bin", applet))
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(dest, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")


def engine_seccomp(path=ENGINE_PROFILE):
    """The engines' default profile (Docker's format: archMap, includes/excludes)
    as an OCI linux.seccomp for x86_64 without extra capabilities, or None."""
    try:
        with open(path) as f:
            prof = json.load(f)
    except (OSError, ValueError):
        return None
    rules = []
    for entry in prof.get("syscalls") or ():
        inc = entry.get("includes") or {}
        if inc.get("caps") or (inc.get("arches") and "amd64" not in inc["arches"]):
            continue  # granted only with a capability, or for another arch
        rule = {"names": entry["names"], "action": entry["action"]}
        for key in ("args", "errnoRet"):
            if entry.get(key) is not None:
                rule[key] = entry[key]
        rules.append(rule)
    out = {"defaultAction": prof["defaultAction"],
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
           "syscalls": rules}
    if prof.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = prof["defaultErrnoRet"]
    return out


def base_spec(spawner, tmp, generators):
    """config.json written by the first of generators (paths) whose `spec` works."""
    for exe in generators:
        d = tempfile.mkdtemp(prefix="spec-", dir=tmp)
        try:
            rc, _out, _err = spawner.capture([exe, "spec"], cwd=d)
            if rc == 0:
                with open(os.path.join(d, "config.json")) as f:
                    return json.load(f), exe
        finally:
            shutil.rmtree(d, ignore_errors=True)
    raise SystemExit("bench: no runtime could generate a spec (`runc spec`)")


# --------------------------------------------------------------------------
# runtimes

class Runtime:
    def __init__(self, name, exe, tmp, wrap=None):
        self.name = name
        self.exe = exe
        self.root = os.path.join(tmp, "root-" + name)
        self.errfile = os.path.join(tmp, "stderr-" + name + ".log")
        self.pidfile = os.path.join(tmp, "pid-" + name)
        self.wrap = wrap  # argv prefix executing the rest in crun's mount namespace
        extra = ["--cgroup-manager=disabled"] if name == "crun" else []
        self.prefix = (wrap or []) + [exe] + extra + ["--root", self.root]
        if not self.prefix[0].startswith("/"):
            raise SystemExit("bench: runtime path must be absolute: " + self.prefix[0])
        self.bundles = {}
        self.templates = {}
        self.version = ""
        self.note = ""
        self.errors = {}
        self.fail_counts = {}
        self.known_inits = []  # (pid, start time) of container inits seen

    def argv(self, *args):
        return self.prefix + list(args)


class Bench:
    def __init__(self, args):
        self.args = args
        self.spawner = Spawner(args.timeout)
        self.notes = []
        self.counter = 0
        self.cg_parent = "pyrunc-bench-%d" % os.getpid()
        self.tmp = None
        self.runtimes = []      # usable runtimes, in --runtimes order
        self.runtimes_all = []  # every runtime set up (all are cleaned up)
        self.results = {}   # op -> {"samples": {name: [Sample]}, "pairs": [{name: Sample}]}
        self.mem = {}       # row -> {name: [kib]}
        self.mem_rounds = []  # [{row: {name: kib}}]
        self.wrapper_overhead = None
        self.gnu_time = None
        self.rss_file = None

    # ---- ids, configs ----------------------------------------------------

    def new_id(self):
        self.counter += 1
        return "pb%d-%d" % (os.getpid(), self.counter)

    def write_config(self, rt, kind, cid):
        cfg = rt.templates[kind]
        cfg["linux"]["cgroupsPath"] = self.cg_parent + "/" + cid
        with open(os.path.join(rt.bundles[kind], "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)

    # ---- primitive calls -------------------------------------------------

    def call(self, rt, *args, rss=False):
        """One runtime call; returns Sample, raises OpError on failure.

        With rss=True the call goes through GNU time and the Sample carries
        its %M (max RSS of the runtime and the children it waited for); the
        wall and cpu figures then include GNU time and are not used.
        """
        argv = rt.argv(*args)
        if rss:
            argv = [self.gnu_time, "-f", "%M", "-o", self.rss_file] + argv
        rc, sample = self.spawner.spawn(argv, rt.errfile)
        if rss and rc == 0:
            lines = read_text(self.rss_file).split()
            sample.maxrss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else None
        if rc != 0:
            err = read_text(rt.errfile).strip().splitlines()
            raise OpError("`%s %s` exited %d: %s" % (
                rt.name, " ".join(args[:1]), rc, err[-1] if err else "(no stderr)"))
        return sample

    def quiet(self, rt, *args):
        """Untimed call whose failure does not matter (cleanup)."""
        try:
            self.spawner.spawn(rt.argv(*args), rt.errfile)
        except OpError:
            pass

    def container_exists(self, rt, cid):
        return os.path.exists(os.path.join(rt.root, cid))

    def remove(self, rt, cid):
        if self.container_exists(rt, cid):
            self.quiet(rt, "delete", "--force", cid)

    def create(self, rt, kind, cid, rss=False):
        self.write_config(rt, kind, cid)
        try:
            os.unlink(rt.pidfile)
        except FileNotFoundError:
            pass
        s = self.call(rt, "create", "--bundle", rt.bundles[kind],
                      "--pid-file", rt.pidfile, cid, rss=rss)
        pid = self.init_pid(rt)
        if pid:
            st = proc_stat(pid)
            if st:
                rt.known_inits.append((pid, st[1]))
        return s

    def init_pid(self, rt):
        try:
            return int(read_text(rt.pidfile).strip() or 0)
        except ValueError:
            return 0

    def wait_stopped(self, rt, pid, limit=10.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            st = proc_stat(pid)
            if st is None or st[0] in "ZX":
                return
            time.sleep(0.002)
        raise OpError("container init %d still running after %gs" % (pid, limit))

    # ---- operations: each returns the timed Sample -----------------------

    def op_run_seccomp(self, rt):
        cid = self.new_id()
        try:
            self.write_config(rt, "seccomp", cid)
            return self.call(rt, "run", "--bundle", rt.bundles["seccomp"], cid)
        finally:
            self.remove(rt, cid)

    def op_run(self, rt):
        cid = self.new_id()
        self.write_config(rt, "true", cid)
        try:
            return self.call(rt, "run", "--bundle", rt.bundles["true"], cid)
        finally:
            self.remove(rt, cid)

    def op_create(self, rt):
        cid = self.new_id()
        try:
            return self.create(rt, "true", cid)
        finally:
            self.remove(rt, cid)

    def op_start(self, rt):
        cid = self.new_id()
        try:
            self.create(rt, "true", cid)
            return self.call(rt, "start", cid)
        finally:
            self.remove(rt, cid)

    def op_state(self, rt):
        cid = self.new_id()
        try:
            self.create(rt, "true", cid)
            return self.call(rt, "state", cid)
        finally:
            self.remove(rt, cid)

    def op_kill(self, rt):
        cid = self.new_id()
        try:
            self.create(rt, "sleep", cid)
            self.call(rt, "start", cid)
            return self.call(rt, "kill", cid, "KILL")
        finally:
            self.remove(rt, cid)

    def op_delete(self, rt):
        cid = self.new_id()
        try:
            self.create(rt, "true", cid)
            pid = self.init_pid(rt)
            self.call(rt, "start", cid)
            if pid:
                self.wait_stopped(rt, pid)
            return self.call(rt, "delete", cid)
        finally:
            self.remove(rt, cid)

    def op_exec(self, rt):
        cid = self.new_id()
        try:
            self.create(rt, "sleep", cid)
            self.call(rt, "start", cid)
            return self.call(rt, "exec", cid, "true")
        finally:
            self.remove(rt, cid)

    def op_seq(self, rt):
        """N sequential foreground runs; the sum of the N timed calls."""
        wall = cpu = 0
        for _ in range(self.args.seq_runs):
            s = self.op_run(rt)
            wall += s.wall_ns
            cpu += s.cpu_ns
        return Sample(wall, cpu, 0)

    # ---- paired measurement ----------------------------------------------

    def measure(self, op, pairs):
        fn = getattr(self, "op_" + op)
        active = []
        warm = self.op_run if op == "seq" else fn
        for rt in self.runtimes:  # warm-up, one each; a failure disables the op
            try:
                warm(rt)
                active.append(rt)
            except OpError as e:
                rt.errors[op] = str(e)
        samples = {rt.name: [] for rt in active}
        per_pair = []
        fails = {rt.name: 0 for rt in active}
        t_start = time.monotonic()
        for i in range(pairs):
            k = i % len(active) if active else 0
            order = active[k:] + active[:k]
            pair = {}
            for rt in order:
                try:
                    s = fn(rt)
                except OpError as e:
                    fails[rt.name] += 1
                    rt.errors[op + "#last"] = str(e)
                    continue
                pair[rt.name] = s
                samples[rt.name].append(s)
            per_pair.append(pair)
        for rt in active:
            n = fails[rt.name]
            if n:
                rt.fail_counts[op] = n
                if n * 2 > pairs:
                    rt.errors[op] = rt.errors.get(op + "#last", "failed")
        self.results[op] = {"samples": samples, "pairs": per_pair}
        log("  %-7s %5.1fs  %s" % (op, time.monotonic() - t_start, "  ".join(
            "%s=%s" % (n, fmt_ms(med([s.wall_ns for s in v])) if v else "-")
            for n, v in samples.items())))

    def measure_memory(self, samples):
        rows = {key: {} for key, _ in MEM_ROWS}
        for rt in self.runtimes:  # warm-up
            try:
                self.mem_round(rt)
            except OpError as e:
                rt.errors["mem"] = str(e)
        active = [rt for rt in self.runtimes if "mem" not in rt.errors]
        for i in range(samples):
            k = i % len(active) if active else 0
            rnd = {key: {} for key, _ in MEM_ROWS}
            for rt in active[k:] + active[:k]:
                try:
                    vals = self.mem_round(rt)
                except OpError as e:
                    rt.fail_counts["mem"] = rt.fail_counts.get("mem", 0) + 1
                    rt.errors["mem#last"] = str(e)
                    continue
                for key, v in vals.items():
                    if v is not None:
                        rnd[key][rt.name] = v
                        rows[key].setdefault(rt.name, []).append(v)
            self.mem_rounds.append(rnd)
        self.mem = rows
        log("  mem     %s" % "  ".join(
            "%s=%s KiB" % (rt.name, med(rows["init_vmrss"].get(rt.name, [])))
            for rt in active))

    def mem_round(self, rt):
        rss = self.gnu_time is not None
        cid = self.new_id()
        self.write_config(rt, "true", cid)
        try:
            run = self.call(rt, "run", "--bundle", rt.bundles["true"], cid, rss=rss)
        finally:
            self.remove(rt, cid)
        cid = self.new_id()
        try:
            create = self.create(rt, "true", cid, rss=rss)
            pid = self.init_pid(rt)
            vmrss = proc_status_kib(pid, "VmRSS") if pid else None
            anon = proc_status_kib(pid, "RssAnon") if pid else None
        finally:
            self.remove(rt, cid)
        return {"run_maxrss": run.maxrss_kib, "create_maxrss": create.maxrss_kib,
                "init_vmrss": vmrss, "init_rssanon": anon}

    def measure_wrapper(self, rt, n):
        """Cost of the crun wrapper alone: the same wrapper exec'ing /bin/true."""
        true = shutil.which("true") or "/bin/true"
        argv = rt.wrap + [true]
        vals = []
        for _ in range(n + 1):
            rc, s = self.spawner.spawn(argv, rt.errfile)
            if rc == 0:
                vals.append(s.wall_ns)
        if len(vals) > 1:
            self.wrapper_overhead = med(vals[1:])

    # ---- setup and cleanup -----------------------------------------------

    def setup(self):
        a = self.args
        self.tmp = tempfile.mkdtemp(prefix="pyrunc-bench-")
        self.rss_file = os.path.join(self.tmp, "maxrss")
        self.gnu_time = find_gnu_time(self.spawner)
        if self.gnu_time is None and "mem" in a.ops:
            self.notes.append("GNU time (Debian package `time`) not found: the max-RSS "
                              "rows are not measured.")
        paths = {"pyrunc": a.pyrunc, "runc": a.runc, "crun": a.crun}
        hybrid = is_hybrid_cgroup_host()
        for name in a.runtimes:
            exe = paths.get(name)
            if exe is None:
                exe = shutil.which(name)
            elif "/" not in exe:
                exe = shutil.which(exe)
            else:
                exe = os.path.abspath(exe)
            if not exe or not os.access(exe, os.X_OK):
                self.notes.append("%s: not found, skipped." % name)
                continue
            wrap = None
            if name == "crun" and hybrid:
                unshare = shutil.which("unshare")
                sh = shutil.which("sh")
                if not unshare or not sh:
                    self.notes.append("crun: hybrid cgroup host but no unshare/sh "
                                      "for the workaround, skipped.")
                    continue
                wrap = [unshare, "-m", "--propagation", "private", sh, "-c",
                        WRAP_SCRIPT, "crun-wrapper"]
            rt = Runtime(name, exe, self.tmp, wrap)
            self.runtimes_all.append(rt)
            rc, out, err = self.spawner.capture([exe, "--version"])
            lines = (out or err).decode(errors="replace").strip().splitlines()
            rt.version = lines[0] if lines else "(no --version output)"
            try:
                with open(exe, "rb") as f:
                    first = f.readline(200)
                if first.startswith(b"#!"):
                    rt.note = "interpreter `%s`" % first[2:].decode(errors="replace").strip()
            except OSError:
                pass
            self.runtimes.append(rt)
        if not self.runtimes:
            raise SystemExit("bench: no runtime available: " + " ".join(self.notes))

        # rootfs shared by every bundle (config root.path is absolute)
        if a.rootfs:
            rootfs = os.path.abspath(a.rootfs)
            if not os.path.isfile(os.path.join(rootfs, "bin", "true")) and \
                    not os.path.islink(os.path.join(rootfs, "bin", "true")):
                raise SystemExit("bench: %s has no bin/true" % rootfs)
        else:
            bb = a.busybox or shutil.which("busybox")
            if not bb or not is_static_elf(bb):
                raise SystemExit("bench: need a static busybox (apt-get install "
                                 "busybox-static) or --busybox PATH / --rootfs DIR")
            rootfs = os.path.join(self.tmp, "rootfs")
            build_rootfs(rootfs, bb)

        # The example bundle's config comes from `pyrunc spec` (runc 1.5's default);
        # Debian's runc 1.1.5 `spec` also lists ambient capabilities without
        # inheritable ones, which current runtimes (pyrunc, runc >= 1.2) warn about.
        gens = [rt.exe for rt in self.runtimes if rt.name == "pyrunc"]
        gens += [rt.exe for rt in self.runtimes if rt.name == "runc"]
        gens += [rt.exe for rt in self.runtimes if rt.name not in ("pyrunc", "runc")]
        if shutil.which("runc") and shutil.which("runc") not in gens:
            gens.append(shutil.which("runc"))
        spec, gen = base_spec(self.spawner, self.tmp, gens)
        self.spec_source = gen
        spec.setdefault("process", {})["terminal"] = False
        spec["root"] = {"path": rootfs, "readonly": True}
        spec.setdefault("linux", {}).pop("resources", None)
        profile = engine_seccomp() if "run_seccomp" in a.ops else None
        if "run_seccomp" in a.ops and profile is None:
            a.ops.remove("run_seccomp")
            self.notes.append("`run_seccomp` skipped: no %s (Debian's containers-common)"
                              % ENGINE_PROFILE)
        for rt in self.runtimes:
            kinds = [("true", ["true"]), ("sleep", ["sleep", "1000"])]
            if profile is not None:
                kinds.append(("seccomp", ["true"]))
            for kind, argv in kinds:
                cfg = copy.deepcopy(spec)
                cfg["process"]["args"] = argv
                if kind == "seccomp":
                    cfg["linux"]["seccomp"] = profile
                if rt.name == "crun":
                    cfg["ociVersion"] = "1.0.2"  # crun 1.8.1 rejects >= 1.2.0
                d = os.path.join(self.tmp, "bundle-%s-%s" % (rt.name, kind))
                os.mkdir(d)
                rt.bundles[kind] = d
                rt.templates[kind] = cfg
            os.mkdir(rt.root, 0o700)

        # probe: one foreground run each; a runtime that cannot run is dropped
        usable = []
        for rt in self.runtimes:
            try:
                self.op_run(rt)
                usable.append(rt)
            except OpError as e:
                self.notes.append("%s: probe `run` failed, skipped: %s" % (rt.name, e))
        self.runtimes = usable
        if not self.runtimes:
            raise SystemExit("bench: no runtime could run a container:\n  "
                             + "\n  ".join(self.notes))

    def cleanup(self):
        if self.tmp is None:
            return
        leaked = []
        for rt in self.runtimes_all:
            ids = set()
            try:
                rc, out, _ = self.spawner.capture(rt.argv("list", "-q"))
                if rc == 0:
                    ids.update(out.decode(errors="replace").split())
            except OSError:
                pass
            if os.path.isdir(rt.root):
                for e in os.listdir(rt.root):
                    if os.path.isdir(os.path.join(rt.root, e)) and e.startswith("pb"):
                        ids.add(e)
            for cid in sorted(ids):
                leaked.append("%s:%s" % (rt.name, cid))
                self.quiet(rt, "delete", "--force", cid)
            # container inits that survived (e.g. no cgroup to kill them by)
            for pid, start in rt.known_inits:
                st = proc_stat(pid)
                if st and st[1] == start and st[0] not in "ZX":
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        if leaked:
            self.notes.append("containers left behind and force-deleted at the end: %s"
                              % ", ".join(leaked[:10]) + (" ..." if len(leaked) > 10 else ""))
        for d in cgroup_candidate_dirs(self.cg_parent):
            remove_cgroup_tree(d, self.notes)
        busy = [m for m, _r, _t, _o in mountinfo()
                if m == self.tmp or m.startswith(self.tmp + "/")]
        if busy:
            self.notes.append("mounts left under %s, not removed: %s" % (self.tmp, busy))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    # ---- driver ----------------------------------------------------------

    def run(self):
        a = self.args
        self.info = host_info()
        self.info["load_start"] = loadavg()
        try:
            self.setup()
            log("bench: %s; pairs=%d, seq=%dx%d runs, mem=%d" % (
                ", ".join("%s=%s" % (rt.name, rt.exe) for rt in self.runtimes),
                a.pairs, a.seq_pairs, a.seq_runs, a.mem_samples))
            gc.disable()
            for rt in self.runtimes:
                if rt.wrap:
                    self.measure_wrapper(rt, max(a.pairs, 5))
            for op in a.ops:
                if op == "mem":
                    self.measure_memory(a.mem_samples)
                elif op == "seq":
                    self.measure("seq", a.seq_pairs)
                else:
                    self.measure(op, a.pairs)
        finally:
            gc.enable()
            self.cleanup()
        self.info["load_end"] = loadavg()
        return self.report()

    # ---- report ----------------------------------------------------------

    def report(self):
        a = self.args
        rts = self.runtimes
        base = rts[0]
        others = rts[1:]
        out = []
        w = out.append
        w("# pyrunc paired benchmark")
        w("")
        w("- date: %s" % self.info["date"])
        w("- kernel: %s; cgroups: %s" % (self.info["kernel"],
                                          "hybrid (v1 + cgroup2 at %s)" % UNIFIED
                                          if self.info["hybrid"] else "not hybrid"))
        w("- CPU: %s; load average at start %s, at end %s" % (
            self.info["cpu"], self.info["load_start"], self.info["load_end"]))
        w("- benchmark driver python: %s" % self.info["python"])
        for rt in rts:
            extra = [rt.note] if rt.note else []
            if rt.wrap:
                extra.append("via the unshare wrapper, `--cgroup-manager=disabled`")
            w("- %s: `%s` — %s%s" % (rt.name, rt.exe, rt.version,
                                     (" (" + "; ".join(extra) + ")") if extra else ""))
        w("- config: `%s spec`, `terminal: false`, shared read-only rootfs, no "
          "`linux.resources`" % self.spec_source)
        w("- method: %d pairs per operation (runtimes alternated, order rotated per pair, "
          "1 warm-up each), sequential runs %d pairs x %d runs, memory %d rounds; "
          "wall ms median [cpu ms median of the runtime process and the children it "
          "waited for]; ratio = median of per-pair ratios" % (
              a.pairs, a.seq_pairs, a.seq_runs, a.mem_samples))
        w("")
        head = ["operation"] + [rt.name + " ms" for rt in rts] + \
               ["%s/%s" % (base.name, o.name) for o in others]
        w("| " + " | ".join(head) + " |")
        w("|" + "---|" * len(head))
        for op in a.ops:
            if op == "mem":
                continue
            label = OP_LABELS.get(op) or "%d sequential `run`s of `true` (total)" % a.seq_runs
            row = [label]
            res = self.results.get(op)
            for rt in rts:
                row.append(self.cell(rt, op, res))
            for o in others:
                row.append(fmt_ratio(self.ratio(res, base, o, lambda s: s.wall_ns)))
            w("| " + " | ".join(row) + " |")
        if "mem" in a.ops:
            w("")
            head = ["memory (KiB, median)"] + [rt.name for rt in rts] + \
                   ["%s/%s" % (base.name, o.name) for o in others]
            w("| " + " | ".join(head) + " |")
            w("|" + "---|" * len(head))
            for key, label in MEM_ROWS:
                row = [label]
                for rt in rts:
                    vals = self.mem.get(key, {}).get(rt.name, [])
                    if "mem" in rt.errors:
                        row.append("error")
                    else:
                        row.append(str(int(med(vals))) if vals else "n/a")
                for o in others:
                    rs = [r[key][base.name] / r[key][o.name] for r in self.mem_rounds
                          if r[key].get(base.name) and r[key].get(o.name)]
                    row.append(fmt_ratio(med(rs) if rs else None))
                w("| " + " | ".join(row) + " |")
        notes = list(self.notes)
        for rt in rts:
            if rt.wrap:
                ov = (" The wrapper alone (same unshare + sh + umount, exec'ing `true`) "
                      "takes %s ms median, included in every crun figure above." %
                      fmt_ms(self.wrapper_overhead)) if self.wrapper_overhead else ""
                notes.append(
                    "%s runs as `unshare -m --propagation private sh -c '%s' crun-wrapper "
                    "%s --cgroup-manager=disabled ...` (crun 1.8.1 refuses hybrid cgroup hosts: "
                    "'cgroups in hybrid mode not supported'), so it does no cgroup work, while the other runtimes get a "
                    "relative cgroupsPath (runc 1.1 creates and joins a cgroup in every "
                    "hierarchy for it).%s Its max-RSS rows are the max "
                    "over unshare, sh, umount and crun." % (rt.name, WRAP_SCRIPT, rt.name, ov))
        for rt in rts:
            for op, msg in sorted(rt.errors.items()):
                if op.endswith("#last"):
                    base_op = op[:-5]
                    if base_op in rt.errors or base_op not in rt.fail_counts:
                        continue
                    notes.append("%s `%s`: %d of the timed calls failed (excluded); last: %s"
                                 % (rt.name, base_op, rt.fail_counts[base_op], msg))
                else:
                    notes.append("%s `%s`: not measured: %s" % (rt.name, op, msg))
        notes.append("On a shared, noisy machine compare the ratios, not absolute "
                     "ms; ratios within about +-15 % of 1 are noise.")
        w("")
        w("Notes:")
        w("")
        for n in notes:
            w("- " + n)
        return "\n".join(out) + "\n"

    def cell(self, rt, op, res):
        if op in rt.errors:
            return "error" if op != "exec" else "n/a (exec failed)"
        if not res or not res["samples"].get(rt.name):
            return "n/a"
        ss = res["samples"][rt.name]
        return "%s [%s]" % (fmt_ms(med([s.wall_ns for s in ss])),
                            fmt_ms(med([s.cpu_ns for s in ss])))

    def ratio(self, res, a, b, key):
        if not res:
            return None
        rs = [key(p[a.name]) / key(p[b.name]) for p in res["pairs"]
              if a.name in p and b.name in p and key(p[b.name])]
        return med(rs) if rs else None


def med(xs):
    return statistics.median(xs) if xs else None


def fmt_ms(ns):
    if ns is None:
        return "-"
    ms = ns / 1e6
    return "%.0f" % ms if ms >= 1000 else "%.1f" % ms


def fmt_ratio(r):
    return "%.2f" % r if r is not None else "-"


# --------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Paired benchmark of pyrunc against runc and crun (run as root).")
    p.add_argument("--quick", action="store_true",
                   help="short run for CI (%(q)s)" % {"q": ", ".join(
                       "%s=%s" % kv for kv in QUICK.items())})
    p.add_argument("--runtimes", default="pyrunc,runc,crun",
                   help="comma list; the first is the numerator of the ratios "
                        "(default: %(default)s)")
    p.add_argument("--pyrunc", help="pyrunc executable (default: `pyrunc` on PATH)")
    p.add_argument("--runc", help="runc executable (default: `runc` on PATH)")
    p.add_argument("--crun", help="crun executable (default: `crun` on PATH)")
    p.add_argument("--pairs", type=int, help="pairs per operation (default 30, quick 15)")
    p.add_argument("--seq-runs", type=int, help="runs per sequential batch (default 100, quick 20)")
    p.add_argument("--seq-pairs", type=int, help="pairs of sequential batches (default 5, quick 2)")
    p.add_argument("--mem-samples", type=int, help="memory rounds (default 9, quick 3)")
    p.add_argument("--ops", default=",".join(OPS),
                   help="comma list of operations (default: %(default)s)")
    p.add_argument("--busybox", help="static busybox for the rootfs (default: `busybox` on PATH)")
    p.add_argument("--rootfs", help="use this existing rootfs instead of building one")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds before a single runtime call is killed (default: %(default)s)")
    p.add_argument("--out", help="also write the Markdown report to this file")
    a = p.parse_args(argv)
    preset = QUICK if a.quick else FULL
    for k, v in preset.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    for k in preset:
        if getattr(a, k) < 1:
            p.error("--%s must be >= 1" % k.replace("_", "-"))
    a.runtimes = [r.strip() for r in a.runtimes.split(",") if r.strip()]
    unknown = [r for r in a.runtimes if r not in ("pyrunc", "runc", "crun")]
    if unknown or len(set(a.runtimes)) != len(a.runtimes):
        p.error("--runtimes: names are pyrunc, runc, crun, each once")
    a.ops = [o.strip() for o in a.ops.split(",") if o.strip()]
    bad = [o for o in a.ops if o not in OPS]
    if bad:
        p.error("--ops: unknown %s (known: %s)" % (", ".join(bad), ", ".join(OPS)))
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        raise SystemExit("bench: must run as root")
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    report = Bench(args).run()
    sys.stdout.write(report)
    sys.stdout.flush()
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
