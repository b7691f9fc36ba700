"""linux.seccomp through the CLI: the filter the container (and its startContainer
hooks) run under, with and without noNewPrivileges."""

import os
import shutil
import subprocess

import pytest

from harness import unescape

X86 = ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"]

# A Docker-like allowlist (default ERRNO): what a shell, busybox applets, a static
# C program and the runtime's parked init use; no mount, namespace, module, bpf,
# keyring, ptrace, clock or reboot calls. Written for these tests, not copied.
ALLOWLIST = """
accept accept4 access alarm arch_prctl bind brk capget capset chdir chmod chown clock_getres
clock_gettime clock_nanosleep close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd eventfd2 execve
execveat exit exit_group faccessat faccessat2 fadvise64 fallocate fchdir fchmod fchmodat fchown
fchownat fcntl fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstatfs fsync
ftruncate futex getcpu getcwd getdents getdents64 getegid geteuid getgid getgroups getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresuid getrlimit
get_robust_list getrusage getsid getsockname getsockopt gettid gettimeofday getuid getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch ioctl kill lchown lgetxattr link
linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat madvise membarrier
memfd_create mincore mkdir mkdirat mknod mknodat mlock mmap mprotect mremap msync munlock munmap
nanosleep newfstatat open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 poll ppoll
prctl pread64 preadv preadv2 prlimit64 pselect6 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recvfrom recvmmsg recvmsg rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_tgsigqueueinfo sched_getaffinity sched_getparam sched_getscheduler sched_yield
seccomp select sendfile sendmmsg sendmsg sendto setfsgid setfsuid setgid setgroups setitimer
setpgid setpriority setregid setresgid setresuid setreuid setrlimit set_robust_list setsid
setsockopt set_tid_address setuid setxattr shutdown sigaltstack signalfd signalfd4 socket
socketpair splice stat statfs statx symlink symlinkat sync sync_file_range syncfs sysinfo tee
tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_settime timerfd_create
timerfd_gettime timerfd_settime times tkill truncate umask uname unlink unlinkat utime utimensat
utimes vfork wait4 waitid write writev
""".split()


def docker_like(**extra):
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": X86,
        "syscalls": [
            {"names": ALLOWLIST, "action": "SCMP_ACT_ALLOW"},
            # clone without namespace flags only; clone3 cannot be inspected, so
            # ENOSYS makes libc fall back to clone (as Docker's profile does)
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        ],
    }
    profile.update(extra)
    return profile


def deny(names, action="SCMP_ACT_ERRNO", **rule):
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": X86,
            "syscalls": [{"names": names, "action": action, **rule}]}


def run(rt, bundle, cid, args, seccomp, nnp=True, cwd=None):
    process = {"noNewPrivileges": nnp}
    if cwd is not None:
        process["cwd"] = cwd
    b = bundle(args, linux={"seccomp": seccomp}, process=process)
    return rt.run(cid, b)


@pytest.mark.parametrize("nnp", [True, False])
def test_errno_on_mkdir(rt, bundle, cid, nnp):
    proc = run(rt, bundle, cid, ["sh", "-c", "mkdir /tmp/x; echo rc=$?; grep ^Seccomp: /proc/self/status"],
               deny(["mkdir", "mkdirat"]), nnp=nnp)
    assert proc.returncode == 0, proc.stderr
    assert "Operation not permitted" in proc.stderr
    assert "rc=1" in proc.stdout
    assert "Seccomp:\t2" in proc.stdout


def test_explicit_errno_ret(rt, bundle, cid):
    proc = run(rt, bundle, cid, ["mkdir", "/tmp/x"], deny(["mkdir", "mkdirat"], errnoRet=100), nnp=False)
    assert proc.returncode != 0
    assert "Network is down" in proc.stderr


def test_default_errno_ret(rt, bundle, cid):
    # everything but what the shell needs to start and write fails with ENXIO
    profile = docker_like(defaultErrnoRet=6)
    profile["syscalls"][0]["names"] = [n for n in ALLOWLIST if n not in ("mkdir", "mkdirat")]
    proc = run(rt, bundle, cid, ["sh", "-c", "mkdir /tmp/x; echo rc=$?"], profile)
    assert proc.returncode == 0, proc.stderr
    assert "rc=1" in proc.stdout
    assert "No such device or address" in proc.stderr


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS"])
@pytest.mark.parametrize("nnp", [True, False])
def test_kill(rt, bundle, cid, action, nnp):
    proc = run(rt, bundle, cid, ["mkdir", "/tmp/x"], deny(["mkdir", "mkdirat"], action=action), nnp=nnp)
    # the kernel kills with SIGSYS: 128 + 31
    assert proc.returncode == 159, (proc.returncode, proc.stderr)


def test_argument_comparison(rt, bundle, cid):
    # kill(pid, SIGCONT) fails, kill(pid, 0) does not
    profile = deny(["kill"], errnoRet=100, args=[{"index": 1, "value": 18, "op": "SCMP_CMP_EQ"}])
    proc = run(rt, bundle, cid, ["sh", "-c", "kill -0 $$ && echo zero-ok; kill -CONT $$; echo rc=$?"], profile)
    assert proc.returncode == 0, proc.stderr
    assert "zero-ok" in proc.stdout and "rc=1" in proc.stdout
    assert "Network is down" in proc.stderr


def test_masked_and_64_bit_comparisons(rt, bundle, cid):
    # kill(pid, sig): sig & 0x10 == 0x10 (SIGCONT is 18) is refused; libc passes the
    # int pid -1 zero-extended (0x00000000ffffffff), which is EQ 0xffffffff but not
    # GT 0x100000000 - a compare of the low words alone would say it is.
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": X86, "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 110,
         "args": [{"index": 1, "value": 0x10, "valueTwo": 0x10, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 101,
         "args": [{"index": 0, "value": 0x100000000, "op": "SCMP_CMP_GT"}]},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100,
         "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}]}]}
    proc = run(rt, bundle, cid,
               ["sh", "-c", "kill -0 $$ && echo zero-ok; kill -CONT $$; echo cont=$?; kill -0 -1; echo all=$?"],
               profile)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["zero-ok", "cont=1", "all=1"], proc.stdout
    assert "Connection timed out" in proc.stderr and "Network is down" in proc.stderr, proc.stderr
    assert "unreachable" not in proc.stderr


def test_docker_like_allowlist_runs_a_shell(rt, bundle, cid):
    proc = run(rt, bundle, cid, ["sh", "-c", "true"], docker_like())
    assert proc.returncode == 0, proc.stderr
    proc = run(rt, bundle, cid + "b",
               ["sh", "-c", "ls / >/dev/null && echo ok; mount -t tmpfs t /mnt; echo mount=$?"], docker_like())
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout and "mount=1" in proc.stdout


@pytest.mark.parametrize("nnp", [True, pytest.param(False, marks=pytest.mark.pyrunc_only(
    reason="runc 1.1.5 verifies the cwd with getcwd after loading the filter"))])
def test_filter_that_forbids_getcwd_still_starts(rt, bundle, cid, nnp):
    # runtime-tools linux_seccomp: the runtime proves the cwd before the filter
    proc = run(rt, bundle, cid, ["sh", "-c", "echo started"], deny(["getcwd"]), nnp=nnp, cwd="/tmp")
    assert proc.returncode == 0, proc.stderr
    assert "started" in proc.stdout


def test_unknown_syscall_names_are_skipped(rt, bundle, cid, tmp_path):
    log = tmp_path / "log"
    b = bundle(["sh", "-c", "mkdir /tmp/x; echo rc=$?"],
               linux={"seccomp": deny(["mkdir", "mkdirat", "definitely_not_a_syscall"])})
    proc = rt("--debug", "--log", str(log), "run", "--bundle", str(b), cid)
    assert proc.returncode == 0, proc.stderr
    assert "rc=1" in proc.stdout
    text = log.read_text() if log.exists() else ""
    if not rt.is_runc:
        assert 'unknown seccomp syscall \\"definitely_not_a_syscall\\" ignored' in text, text


@pytest.mark.pyrunc_only(reason="runc 1.1.5: seccomp flags are not yet supported by runc")
def test_flags_are_accepted(rt, bundle, cid):
    profile = deny(["mkdir", "mkdirat"])
    profile["flags"] = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]
    proc = run(rt, bundle, cid, ["sh", "-c", "mkdir /tmp/x; echo rc=$?"], profile)
    assert proc.returncode == 0, proc.stderr
    assert "rc=1" in proc.stdout


def test_redundant_rule(rt, bundle, cid):
    proc = run(rt, bundle, cid, ["true"], {"defaultAction": "SCMP_ACT_ALLOW",
                                           "syscalls": [{"names": ["bdflush"], "action": "SCMP_ACT_ALLOW"}]})
    assert proc.returncode == 0, proc.stderr


# -- SCMP_ACT_NOTIFY: a tiny seccomp agent ------------------------------------

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100   # _IOWR('!', 0, struct seccomp_notif)  (80 bytes)
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101   # _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes)
ENOMEDIUM = 123


class Agent:
    """Listens on a unix socket like runc's contrib/cmd/seccompagent: each connection
    brings the ContainerProcessState JSON and the listener fd (SCM_RIGHTS); every
    notification is answered with -ENOMEDIUM. Received states are kept."""

    def __init__(self, path):
        import socket
        import threading

        self.path = str(path)
        self.states = []
        self.notified = []   # (pid, nr)
        self.errors = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(8)
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import select

        listeners = []
        try:
            while True:
                ready, _, _ = select.select([self.server, self.stop_r] + listeners, [], [], 30)
                if not ready or self.stop_r in ready:
                    return
                for fd in ready:
                    if fd is self.server:
                        listener = self._accept()
                        if listener is not None:
                            listeners.append(listener)
                    elif not self._answer(fd):
                        listeners.remove(fd)
                        os.close(fd)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(e))
        finally:
            for fd in listeners:
                os.close(fd)

    def _accept(self):
        import array
        import json
        import socket

        conn, _ = self.server.accept()
        with conn:
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        state = json.loads(msg)
        self.states.append(state)
        if len(fds) != 1 or state.get("fds") != ["seccompFd"]:
            self.errors.append(f"bad message {state!r} with fds {list(fds)}")
            for fd in fds:
                os.close(fd)
            return None
        return fds[0]

    def _answer(self, listener):
        """One notification; False once the listener is dead (its filters are gone)."""
        import fcntl
        import struct

        req = bytearray(80)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req)
        except OSError:
            return False
        notif_id, pid, _, nr = struct.unpack_from("<QIIi", req)
        self.notified.append((pid, nr))
        resp = bytearray(struct.pack("<QqiI", notif_id, 0, -ENOMEDIUM, 0))
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp)
        except OSError:
            pass   # the task went away meanwhile (ENOENT)
        return True

    def close(self):
        os.write(self.stop_w, b"x")
        self.thread.join(10)
        self.server.close()
        os.close(self.stop_r)
        os.close(self.stop_w)
        assert not self.errors, self.errors


@pytest.fixture
def agent(tmp_path):
    a = Agent(tmp_path / "agent.sock")
    yield a
    a.close()


def notify(names, agent_path, metadata="meta"):
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": X86,
            "listenerPath": str(agent_path), "listenerMetadata": metadata,
            "syscalls": [{"names": names, "action": "SCMP_ACT_NOTIFY"}]}


@pytest.mark.parametrize("nnp", [True, False])
def test_notify_agent_answers_for_the_container(rt, bundle, cid, agent, nnp):
    # seccomp-notify.bats: the agent decides what mkdir returns
    b = bundle(["sh", "-c", "mkdir /tmp/x; echo rc=$?; test -d /tmp/x || echo absent"],
               linux={"seccomp": notify(["mkdir", "mkdirat"], agent.path)},
               process={"noNewPrivileges": nnp})
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert "No medium found" in proc.stderr
    assert proc.stdout.split() == ["rc=1", "absent"]
    assert len(agent.states) == 1 and agent.notified
    got = agent.states[0]
    assert got["fds"] == ["seccompFd"] and got["metadata"] == "meta"
    assert got["state"]["id"] == cid and got["state"]["status"] == "creating"
    assert got["state"]["bundle"] == str(b)
    # the pid the runtime sees: the init's host pid
    assert got["pid"] == got["state"]["pid"] > 1


def test_notify_state_pid_is_the_pid_the_kernel_reports(rt, bundle, cid, agent):
    proc = run(rt, bundle, cid, ["mkdir", "/tmp/x"], notify(["mkdir", "mkdirat"], agent.path))
    assert proc.returncode != 0 and "No medium found" in proc.stderr
    assert agent.notified[0][0] == agent.states[0]["pid"]


def test_notify_agent_gets_exec_processes_too(rt, bundle, cid, agent):
    b = bundle(["sleep", "100"], linux={"seccomp": notify(["mkdir", "mkdirat"], agent.path)})
    proc = rt.run_detached(cid, b)
    assert proc.returncode == 0, proc.stderr
    try:
        init_pid = rt.state(cid)["pid"]
        proc = rt("exec", cid, "sh", "-c", "mkdir /tmp/y; echo rc=$?")
        assert proc.returncode == 0, proc.stderr
        assert "rc=1" in proc.stdout and "No medium found" in proc.stderr
        assert len(agent.states) == 2
        got = agent.states[1]
        assert got["state"]["id"] == cid and got["state"]["status"] == "running"
        assert got["state"]["pid"] == init_pid
        # the exec'd process's own pid, as seen from the host (the notification's pid)
        assert got["pid"] != init_pid and got["pid"] > 1
        # the exec'd process's own pid as the host sees it: the one the kernel names
        # in the notification when that process itself calls mkdir
        del agent.notified[:]
        proc = rt("exec", cid, "mkdir", "/tmp/z")
        assert proc.returncode != 0 and "No medium found" in proc.stderr
        assert agent.notified and agent.notified[0][0] == agent.states[2]["pid"]
    finally:
        rt.delete_force(cid)


def test_notify_without_an_agent_fails_clearly(rt, bundle, cid, tmp_path):
    proc = run(rt, bundle, cid, ["true"], notify(["mkdir"], tmp_path / "nobody.sock"))
    assert proc.returncode != 0
    assert "failed to connect with seccomp agent" in unescape(proc.stderr)
    assert rt.list_ids() == []


@pytest.mark.parametrize("names,message", [
    (["write"], "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
])
def test_notify_refused_for_write(rt, bundle, cid, agent, names, message):
    proc = run(rt, bundle, cid, ["true"], notify(names, agent.path))
    assert proc.returncode != 0
    assert message in unescape(proc.stderr)
    assert rt.list_ids() == []


def test_notify_needs_a_listener_path(rt, bundle, cid):
    profile = notify(["mkdir"], "")
    proc = run(rt, bundle, cid, ["true"], profile)
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_listener_path_without_notify_rules_is_ignored(rt, bundle, cid, tmp_path):
    profile = deny(["mkdir", "mkdirat"])
    profile["listenerPath"] = str(tmp_path / "nobody.sock")
    proc = run(rt, bundle, cid, ["sh", "-c", "mkdir /tmp/x; echo rc=$?"], profile)
    assert proc.returncode == 0, proc.stderr
    assert "rc=1" in proc.stdout


def test_invalid_profile_is_refused(rt, bundle, cid):
    proc = run(rt, bundle, cid, ["true"], deny(["mkdir"], action="SCMP_ACT_BOGUS"))
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_invalid_profile_fails_create_with_the_init_set_up_and_leaves_nothing(rt, bundle, cid):
    """The runtime compiles the filter while the init sets up (sync.SECCOMP): a
    profile that does not compile still fails create with its reason, with no
    container, cgroup or process left (the leak guard checks the last two)."""
    b = bundle(["true"], linux={"seccomp": deny(["mkdir"], action="SCMP_ACT_BOGUS")})
    proc = rt("create", "--bundle", b.path, cid)
    assert proc.returncode != 0 and "SCMP_ACT_BOGUS" in proc.stderr
    assert rt.list_ids() == []


def test_exec_uses_the_filter_create_kept_and_compiles_one_when_it_is_missing(rt, bundle, cid):
    b = bundle(["sleep", "1000"], linux={"seccomp": deny(["mkdir", "mkdirat"])},
               process={"noNewPrivileges": True})
    assert rt.run_detached(cid, b).returncode == 0, rt.err(cid)
    try:
        kept = os.path.join(rt.root, cid, "seccomp")
        assert rt.is_runc or os.path.getsize(kept) > 0
        # With the kept program, then without it, as for a container made before
        # pyrunc kept one: exec compiles the filter from the state then.
        for kept_there in (True, False):
            if not kept_there and not rt.is_runc:
                os.unlink(kept)
            proc = rt("exec", cid, "sh", "-c", "mkdir /tmp/x; echo rc=$?; grep ^Seccomp: /proc/self/status")
            assert proc.returncode == 0, proc.stderr
            assert "rc=1" in proc.stdout and "Seccomp:\t2" in proc.stdout
            assert "Operation not permitted" in proc.stderr
    finally:
        rt.delete_force(cid)


def test_start_container_hook_runs_under_the_filter(rt, bundle, cid, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "grep ^Seccomp: /proc/self/status > /out/hook; "
                                                    "mkdir /tmp/h 2>>/out/hook; echo rc=$? >> /out/hook"]}
    b = bundle(["true"], linux={"seccomp": deny(["mkdir", "mkdirat"])},
               hooks={"startContainer": [hook]},
               edit=lambda c: c["mounts"].append({"destination": "/out", "type": "bind",
                                                  "source": str(out), "options": ["rbind"]}))
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    text = (out / "hook").read_text()
    assert "Seccomp:\t2" in text and "rc=1" in text, text


def test_start_container_hook_killed_by_the_filter_fails_the_start(rt, bundle, cid):
    # seccomp.bats "startContainer hook": the hook's mkdir is killed with SIGSYS
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "mkdir /dev/shm/foo"]}
    b = bundle(["true"], linux={"seccomp": deny(["mkdir", "mkdirat"], action="SCMP_ACT_KILL")},
               hooks={"startContainer": [hook]})
    proc = rt.run(cid, b)
    assert proc.returncode != 0
    assert rt.list_ids() == []


ENOSYS_PROGRAM = r"""
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
    long r1 = syscall(1000, 1, 2, 3);
    int e1 = errno;
    long r2 = syscall(SYS_getcwd, (char *)0, 0);
    int e2 = errno;
    printf("new=%ld/%d old=%ld/%d\n", r1, e1, r2, e2);
    return 0;
}
"""


def test_enosys_for_syscalls_newer_than_the_profile(rt, bundle, cid, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc (with static glibc) for the test program")
    src = tmp_path / "t.c"
    src.write_text(ENOSYS_PROGRAM)
    b = bundle(["/enosys-test"], linux={"seccomp": docker_like()})
    built = subprocess.run(["gcc", "-static", "-o", os.path.join(b.rootfs, "enosys-test"), str(src)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip("cannot build a static test program: " + built.stderr[-200:])
    profile = docker_like()
    profile["syscalls"][0]["names"] = [n for n in ALLOWLIST if n != "getcwd"]
    b.config["linux"]["seccomp"] = profile
    b.write()
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    # 1000 is above every syscall the profile names: ENOSYS (38); getcwd is known
    # and not allowed: the default errno (EPERM)
    assert proc.stdout.strip() == "new=-1/38 old=-1/1", proc.stdout


I386_PROGRAM = r"""
#include <stdio.h>
static char path[] = "/tmp/i386dir";
int main(void) {
    long ret;
    /* mkdir(path, 0755) through the i386 entry: seccomp_data.arch is AUDIT_ARCH_I386 */
    __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(39), "b"(path), "c"(0755) : "memory");
    printf("i386 mkdir=%ld\n", ret);
    return 0;
}
"""


@pytest.mark.parametrize("archs,want", [
    (["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "errno"),
    (["SCMP_ARCH_X86_64"], "killed"),
])
def test_i386_syscalls_from_a_64_bit_process(rt, bundle, cid, tmp_path, archs, want):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc (with static glibc) for the test program")
    src = tmp_path / "i386.c"
    src.write_text(I386_PROGRAM)
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": archs,
               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}]}
    b = bundle(["/i386test"], linux={"seccomp": profile})
    built = subprocess.run(["gcc", "-static", "-o", os.path.join(b.rootfs, "i386test"), str(src)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip("cannot build a static test program: " + built.stderr[-200:])
    proc = rt.run(cid, b)
    if want == "errno":
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "i386 mkdir=-77"
    else:
        # an architecture the filter does not list: killed (libseccomp's bad-arch action)
        assert proc.returncode == 159, (proc.returncode, proc.stdout, proc.stderr)
