"""Compile an OCI `linux.seccomp` object into a classic BPF program.

runtime-spec config-linux.md (Seccomp) describes a filter: a default action,
the architectures it covers, and rules of syscall names, an action and optional
argument comparisons. The kernel wants a classic BPF program over
`struct seccomp_data` {int nr; u32 arch; u64 instruction_pointer; u64 args[6]}.
This module builds that program itself (no libseccomp); `Program.packed()` is
what `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)` loads
(`syscalls.LinuxSyscalls.load_seccomp`).

Semantics follow what runc 1.1 does with libseccomp, where the spec leaves room:

* Actions: SCMP_ACT_KILL and _KILL_THREAD kill the thread, _KILL_PROCESS the
  process; _ERRNO and _TRACE carry `errnoRet` (default EPERM, as runc);
  SCMP_ACT_NOTIFY hands the syscall to a seccomp agent (see "Seccomp agents").
* A rule whose action equals the default action is dropped (libseccomp refuses
  such rules; runc skips them).
* Unknown syscall names are skipped (a kernel or header set without them); a
  debug line lists them. Names are looked up per architecture, so `chown32` only
  matters for x86.
* Several args in one rule are ANDed; if two args name the same index, every arg
  becomes a rule of its own (ORed) - runc's rule for that case.
* Several rules for one syscall: the first unconditional rule wins over every
  conditional one (libseccomp's rule database does that); conditional rules are
  tried in config order and the first whose conditions all hold decides.
* Arguments are 64-bit on x86_64 and x32 (high and low words are compared
  separately, unsigned); on x86 (i386) only the low 32 bits exist.
* Architectures: an `arch` not in the filter gets SECCOMP_RET_KILL_THREAD
  (libseccomp's default bad-arch action). x32 shares AUDIT_ARCH_X86_64 and is
  told apart by __X32_SYSCALL_BIT in `nr`. No list means the native arch only.
  Names of other architectures are accepted: this x86_64 kernel never reports
  them.
* -ENOSYS for syscalls newer than the profile (runc's "enosys stub"): unless the
  default action allows (ALLOW, LOG, TRACE), a syscall number above the highest
  one the profile names for that arch returns ENOSYS instead of the default
  action, so that a program probing a new syscall falls back to an old one
  rather than failing with EPERM (seccomp.bats "ENOSYS handling").

The program is a balanced decision tree over syscall-number intervals per arch:
about log2(intervals) comparisons per syscall instead of a linear scan. Jumps
are assembled from labels; where a conditional jump would reach farther than 255
instructions (near the root of a large tree, to a later arch's section) the
generator sends it through an unconditional `ja` right behind it.

Seccomp agents (SCMP_ACT_NOTIFY, runtime-spec config-linux.md "Seccomp" and
runtime.md's ContainerProcessState; runc 1.1.5's behaviour):

* A notifying rule makes the filter load with SECCOMP_FILTER_FLAG_NEW_LISTENER;
  the kernel returns a listener fd on which the agent receives the notifications.
  NOTIFY may not be the default action, nor apply to `write` (runc refuses it
  there: its init would block talking to its parent), and linux.seccomp.listenerPath
  must name the agent's unix socket ("@name" is an abstract socket, as Go dials it).
* The runtime connects to the agent before forking (`connect_agent`, a clear error
  when nobody listens) and the forked process, right after loading the filter,
  sends one message: data = the ContainerProcessState JSON {"ociVersion", "fds":
  ["seccompFd"], "pid", "metadata" (listenerMetadata), "state"}, SCM_RIGHTS = the
  listener fd; then it closes the listener and the socket (`Agent`). Nothing but
  that sendmsg runs between the filter and the hand-over, so a rule that notifies
  read/close/execve cannot block the runtime on an agent that has no fd yet. Once
  every copy of the listener is closed (the agent died), notified syscalls fail
  with ENOSYS.

Import cost matters (this runs on `create` when the config has seccomp): only
builtins and the generated table module are imported (plus `_socket`, already
loaded by the runtime, when an agent is used).
"""

import marshal

from pyrunc import lean_os as os
from pyrunc import SPEC_VERSION   # ContainerProcessState.ociVersion
from pyrunc.errors import RuntimeFailure

# linux/seccomp.h: filter return values.
RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
RET_DATA = 0x0000FFFF

# linux/audit.h
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000

EPERM = 1
ENOSYS = 38
BPF_MAXINSNS = 4096

# linux/bpf_common.h opcodes used here.
BPF_LD_W_ABS = 0x20
BPF_ALU_AND_K = 0x54
BPF_JA = 0x05
BPF_JEQ = 0x15
BPF_JGT = 0x25
BPF_JGE = 0x35
BPF_JSET = 0x45
BPF_RET_K = 0x06

# struct seccomp_data offsets (little-endian: an arg's low word comes first).
OFF_NR = 0
OFF_ARCH = 4
OFF_ARGS = 16

# runtime-spec names -> how the action is built.
ACTIONS = {
    "SCMP_ACT_KILL": RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": RET_TRAP,
    "SCMP_ACT_ERRNO": RET_ERRNO,
    "SCMP_ACT_TRACE": RET_TRACE,
    "SCMP_ACT_ALLOW": RET_ALLOW,
    "SCMP_ACT_LOG": RET_LOG,
    "SCMP_ACT_NOTIFY": RET_USER_NOTIF,
}
NOTIFY = "SCMP_ACT_NOTIFY"
_WITH_ERRNO = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")
# Default actions after which new syscalls need no -ENOSYS (runc: isAllowAction).
_PERMISSIVE = (RET_ALLOW, RET_LOG)

OPERATORS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
             "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")

# Filter architectures pyrunc builds rules for, and the ones it accepts and
# ignores (no x86_64 kernel reports them in seccomp_data.arch).
NATIVE_ARCHES = ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
FOREIGN_ARCHES = (
    "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
)
ARCHITECTURES = NATIVE_ARCHES + FOREIGN_ARCHES

# seccomp(2) filter flags. WAIT_KILLABLE_RECV only changes how a notify
# listener waits (runc 1.1.5 does not know it); accepted and ignored.
KNOWN_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 0,
}
SUPPORTED_FLAGS = ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW")

# Flags the compiler adds itself: the listener for an agent; TSYNC_ESRCH lets
# TSYNC coexist with NEW_LISTENER (the kernel refuses the pair otherwise;
# libseccomp adds it the same way).
FLAG_TSYNC = 1
FLAG_NEW_LISTENER = 8
FLAG_TSYNC_ESRCH = 16

# The name of the listener fd in ContainerProcessState.fds (specs-go SeccompFdName).
SECCOMP_FD_NAME = "seccompFd"


_M32 = 0xFFFFFFFF


class Program:
    """A compiled filter: `insns` [(code, jt, jf, k)], seccomp(2) `flags`, and what
    went into it (for plans, logs and tests)."""

    __slots__ = ("insns", "flags", "default", "arches", "rules", "skipped", "flag_names",
                 "notify", "agent", "_packed")

    def __init__(self, insns, flags, default, arches, rules, skipped, flag_names, notify=False):
        self.notify = notify   # a rule notifies: loading returns a listener fd for the agent
        self.agent = None      # the Agent that gets it, when the caller connected one
        self.insns = insns
        self.flags = flags
        self.default = default
        self.arches = arches
        self.rules = rules
        self.skipped = skipped
        self.flag_names = flag_names
        self._packed = None

    def packed(self):
        """The program as the kernel's `struct sock_filter` array (native endianness)."""
        if self._packed is None:
            out = bytearray()
            for code, jt, jf, k in self.insns:
                out += code.to_bytes(2, "little") + bytes((jt, jf)) + k.to_bytes(4, "little")
            self._packed = bytes(out)
        return self._packed

    # The program as bytes: create sends it to the init (sync.SECCOMP) and keeps it
    # in the container's directory (state.FILTER_FILE), where `exec` finds it.
    def to_wire(self):
        return marshal.dumps((self.packed(), self.flags, self.default, self.arches, self.rules,
                              self.skipped, self.flag_names, self.notify), 4)

    @classmethod
    def from_wire(cls, data):
        """The Program to_wire() described; its `insns` are not kept (None)."""
        try:
            packed, flags, default, arches, rules, skipped, flag_names, notify = marshal.loads(data)
        except (EOFError, ValueError, TypeError) as e:
            raise RuntimeFailure(f"seccomp: unreadable compiled filter: {e}") from None
        program = cls(None, flags, default, arches, rules, skipped, flag_names, notify)
        program._packed = packed
        return program

    def summary(self):
        text = (f"default {action_name(self.default)}, {self.rules} rules, "
                f"archs {','.join(self.arches)}, {len(self.packed()) // 8} BPF instructions")
        if self.flag_names:
            text += ", flags " + ",".join(self.flag_names)
        if self.notify:
            text += ", notify listener for the seccomp agent"
        if self.skipped:
            text += ", unknown syscalls skipped: " + ",".join(self.skipped)
        return text


def action_name(value):
    """A return value as the spec's action name: SCMP_ACT_ERRNO(1)."""
    kind = value & 0xFFFF0000
    data = value & RET_DATA
    for name, base in ACTIONS.items():   # SCMP_ACT_KILL comes before _KILL_THREAD
        if base == kind:
            if name in _WITH_ERRNO:
                return f"{name}({data})"
            return name
    return "%#x" % value


def _action(name, errno_ret, where):
    base = ACTIONS.get(name)
    if base is None:
        raise RuntimeFailure(f"{where}: invalid seccomp action {name!r}")
    if name in _WITH_ERRNO:
        errno = EPERM if errno_ret is None else errno_ret
        if not 0 <= errno <= RET_DATA:
            raise RuntimeFailure(f"{where}: errnoRet {errno} out of range")
        return base | errno
    return base


def _conditions(args, where):
    """[(index, op, value, value_two)] for one rule; validated."""
    out = []
    for n, arg in enumerate(args):
        index = arg["index"]
        op = arg["op"]
        if op not in OPERATORS:
            raise RuntimeFailure(f"{where}.args[{n}]: invalid seccomp operator {op!r}")
        if index > 5:
            raise RuntimeFailure(f"{where}.args[{n}]: index {index} out of range (0-5)")
        out.append((index, op, arg["value"], arg.get("valueTwo") or 0))
    return out


def uses_notify(seccomp):
    """True when a rule of the `linux.seccomp` dict notifies an agent; runc's checks
    (no NOTIFY default action, no NOTIFY for write) raise here."""
    if seccomp.get("defaultAction") == NOTIFY:
        raise RuntimeFailure("SCMP_ACT_NOTIFY cannot be used as default action")
    notify = False
    for entry in seccomp.get("syscalls") or ():
        if entry.get("action") == NOTIFY:
            notify = True
            if "write" in (entry.get("names") or ()):
                raise RuntimeFailure("SCMP_ACT_NOTIFY cannot be used for the write syscall")
    return notify


def compile(seccomp):  # noqa: A001 - the module's verb
    """Build the Program for a `linux.seccomp` dict (shape already checked by the spec model)."""
    notify = uses_notify(seccomp)
    default = _action(seccomp["defaultAction"], seccomp.get("defaultErrnoRet"), "linux.seccomp")

    flags = 0
    flag_names = []
    for name in seccomp.get("flags") or ():
        if name not in KNOWN_FLAGS:
            raise RuntimeFailure(f"seccomp flag {name} is not known to pyrunc")
        if KNOWN_FLAGS[name] and name not in flag_names:
            flags |= KNOWN_FLAGS[name]
            flag_names.append(name)

    arch_names = []
    for name in seccomp.get("architectures") or ("SCMP_ARCH_X86_64",):
        if name not in ARCHITECTURES:
            raise RuntimeFailure(f"linux.seccomp.architectures: unknown architecture {name!r}")
        if name in NATIVE_ARCHES and name not in arch_names:
            arch_names.append(name)

    from pyrunc import seccomp_tables as T

    tables = {"SCMP_ARCH_X86_64": T.X86_64, "SCMP_ARCH_X32": T.X32, "SCMP_ARCH_X86": T.I386}
    # Per arch: {nr: [(conditions, action)]} in config order, and the highest nr named.
    per_arch = {a: {} for a in arch_names}
    highest = {a: None for a in arch_names}
    unknown = []
    rules = 0
    syscalls = seccomp.get("syscalls") or ()
    for n, entry in enumerate(syscalls):
        where = f"linux.seccomp.syscalls[{n}]"
        action = _action(entry["action"], entry.get("errnoRet"), where)
        conds = _conditions(entry.get("args") or (), where)
        if len({c[0] for c in conds}) < len(conds):
            # Two conditions on one argument: runc adds each as a rule of its own.
            alternatives = [(c,) for c in conds]
        else:
            alternatives = [tuple(conds)]
        handlers = [(alt, action) for alt in alternatives]
        names = entry["names"]
        known = set()
        for arch in arch_names:
            table = tables[arch]
            nrs = [table[name] for name in names if name in table]
            if not nrs:
                continue
            known.update(name for name in names if name in table)
            top = max(nrs)
            if highest[arch] is None or top > highest[arch]:
                highest[arch] = top
            if action == default:
                continue   # redundant (libseccomp would refuse it)
            per = per_arch[arch]
            for nr in nrs:
                per.setdefault(nr, []).extend(handlers)
        for name in names:
            if name not in known:
                if name not in unknown:
                    unknown.append(name)
            elif action != default:
                rules += 1

    enosys = default not in _PERMISSIVE and default != (RET_ERRNO | ENOSYS) \
        and (default & 0xFFFF0000) != RET_TRACE
    insns = _generate(arch_names, per_arch, highest if enosys else {}, default)
    if len(insns) > BPF_MAXINSNS:
        raise RuntimeFailure(f"seccomp filter too large: {len(insns)} BPF instructions "
                             f"(the kernel takes at most {BPF_MAXINSNS})")
    if notify:
        flags |= FLAG_NEW_LISTENER
        if flags & FLAG_TSYNC:
            flags |= FLAG_TSYNC_ESRCH
    short = {"SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X32": "x32", "SCMP_ARCH_X86": "x86"}
    return Program(insns, flags, default, [short[a] for a in arch_names], rules, unknown,
                   flag_names, notify)


# --------------------------------------------------------------------------
# Seccomp agents
# --------------------------------------------------------------------------


def listener_path(seccomp):
    """linux.seccomp.listenerPath when a rule notifies, else None."""
    if not uses_notify(seccomp):
        return None
    path = seccomp.get("listenerPath") or ""
    if not path:
        raise RuntimeFailure("listenerPath is not set: SCMP_ACT_NOTIFY needs "
                             "linux.seccomp.listenerPath (the seccomp agent's socket)")
    return path


def connect_agent(seccomp, state=None, status=None, pid=0):
    """An `Agent` connected to listenerPath, or None when no rule notifies.

    Done by the runtime before it forks, so a missing agent fails the operation
    before anything runs. `state` is the runtime-spec state sent along (read at
    `prepare`, so its pid may be filled in meanwhile; see `with_state`), `status`
    overrides its status; `pid` is the process's pid as the runtime sees it,
    0 = state["pid"].
    """
    path = listener_path(seccomp)
    if path is None:
        return None
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    # Go's net.Dial("unix", "@name") dials the abstract socket "\0name".
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        sock.connect(address)
    except OSError as e:
        sock.close()
        raise RuntimeFailure("failed to connect with seccomp agent specified in the seccomp "
                             f"profile: dial unix {path}: connect: "
                             f"{(e.strerror or str(e)).lower()}") from None
    return Agent(sock, path, seccomp.get("listenerMetadata") or "", state, status, pid)


class Agent:
    """The connection to a seccomp agent, used by the forked process: `prepare()`
    before the filter is loaded, `send(listener)` right after."""

    __slots__ = ("sock", "path", "metadata", "state", "status", "pid", "message", "_socket",
                 "_jsonio")

    def __init__(self, sock, path, metadata, state=None, status=None, pid=0):
        # Imported here, in the runtime: the forked process may have pivoted into
        # the container's root by the time it prepares the message.
        import _socket

        from pyrunc import jsonio

        self._socket = _socket
        self._jsonio = jsonio
        self.sock = sock
        self.path = path
        self.metadata = metadata
        self.state = state if state is not None else {}
        self.status = status
        self.pid = pid
        self.message = None

    def fileno(self):
        return self.sock.fileno()

    def with_state(self, state):
        """Use `state` (a dict the caller keeps updating); returns self."""
        self.state = state
        return self

    def process_state(self):
        """runtime-spec ContainerProcessState (keys in specs-go's order)."""
        state = {"ociVersion": self.state.get("ociVersion") or SPEC_VERSION,
                 "id": self.state.get("id", ""),
                 "status": self.status or self.state.get("status", ""),
                 "pid": self.state.get("pid") or 0, "bundle": self.state.get("bundle", "")}
        if not state["pid"]:
            del state["pid"]   # omitempty
        if self.state.get("annotations"):
            state["annotations"] = dict(self.state["annotations"])
        out = {"ociVersion": SPEC_VERSION, "fds": [SECCOMP_FD_NAME],
               "pid": self.pid or self.state.get("pid") or 0}
        if self.metadata:
            out["metadata"] = self.metadata
        out["state"] = state
        return out

    def prepare(self):
        """Build the message now: after the filter only the sendmsg may run."""
        self.message = self._jsonio.dumps(self.process_state()).encode("utf-8")

    def send(self, listener):
        """Hand the listener to the agent, then close our copies of both fds."""
        _socket = self._socket
        if self.message is None:
            self.prepare()
        try:
            self.sock.sendmsg([self.message], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                                 listener.to_bytes(4, "little"))])
        except OSError as e:
            raise RuntimeFailure(f"cannot send seccomp fd to {self.path}: "
                                 f"{(e.strerror or str(e)).lower()}") from None
        finally:
            self.close()
            os.close(listener)

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------
# Code generation
# --------------------------------------------------------------------------


class _Label:
    __slots__ = ()


class _Asm:
    """Instructions with symbolic forward jumps: [code, jt, jf, k] where jt/jf are a
    _Label or None (= the next instruction) and, for BPF_JA, k is a _Label."""

    def __init__(self):
        self.items = []
        self.count = 0   # instructions so far (labels are not instructions)

    def place(self, label):
        self.items.append(label)

    def ld(self, offset):
        self.items.append([BPF_LD_W_ABS, None, None, offset])
        self.count += 1

    def and_(self, k):
        self.items.append([BPF_ALU_AND_K, None, None, k])
        self.count += 1

    def jump(self, op, k, jt=None, jf=None):
        self.items.append([op, jt, jf, k])
        self.count += 1

    def ret(self, k):
        self.items.append([BPF_RET_K, None, None, k])
        self.count += 1

    def via_ja(self, at, target):
        """Rewrite the conditional jump at items[at], whose true branch goes to
        `target`, so that it reaches `target` through a `ja` right behind it: a
        conditional jump's offset has 8 bits, an unconditional one's 32."""
        code, _, _, k = self.items[at]
        other = _Label()
        self.items[at:at + 1] = [[code, None, other, k], [BPF_JA, None, None, target], other]
        self.count += 1

    def assemble(self):
        """The instructions, jump labels resolved. Every conditional jump is within
        reach: the generator routes the far ones through via_ja() as it goes (the
        check in _emit guards that)."""
        return self._emit(self.items, _positions(self.items))

    @staticmethod
    def _emit(items, pos):
        insns = []
        for item in items:
            if type(item) is _Label:
                continue
            code, jt, jf, k = item
            here = len(insns) + 1
            if code == BPF_JA:
                insns.append((code, 0, 0, pos[k] - here))
            elif code in _UNCONDITIONAL:
                insns.append((code, 0, 0, k))
            else:
                t = 0 if jt is None else pos[jt] - here
                f = 0 if jf is None else pos[jf] - here
                if not (0 <= t <= _REACH and 0 <= f <= _REACH):
                    raise RuntimeFailure(f"seccomp: internal error, jump offsets {t}/{f}")
                insns.append((code, t, f, k & _M32))
        return insns


_REACH = 255   # the farthest a conditional jump goes (8-bit offsets)
_UNCONDITIONAL = (BPF_JA, BPF_LD_W_ABS, BPF_ALU_AND_K, BPF_RET_K)


def _positions(items):
    pos = {}
    n = 0
    for item in items:
        if type(item) is _Label:
            pos[item] = n
        else:
            n += 1
    return pos


def _generate(arch_names, per_arch, highest, default):
    """The whole program: dispatch on arch, then a decision tree on nr per arch."""
    bad_arch = ("ret", RET_KILL_THREAD)
    sections = []   # (audit arch, intervals, 64-bit args)
    has_64 = "SCMP_ARCH_X86_64" in arch_names
    has_x32 = "SCMP_ARCH_X32" in arch_names
    if has_64 or has_x32:
        if has_64:
            low = _intervals(0, X32_SYSCALL_BIT, per_arch["SCMP_ARCH_X86_64"], default,
                             highest.get("SCMP_ARCH_X86_64"))
        else:
            low = [(0, bad_arch)]
        if has_x32:
            high = _intervals(X32_SYSCALL_BIT, 1 << 32, per_arch["SCMP_ARCH_X32"], default,
                              highest.get("SCMP_ARCH_X32"))
        else:
            high = [(X32_SYSCALL_BIT, bad_arch)]
        sections.append((AUDIT_ARCH_X86_64, _merge(low + high), True))
    if "SCMP_ARCH_X86" in arch_names:
        sections.append((AUDIT_ARCH_I386, _intervals(0, 1 << 32, per_arch["SCMP_ARCH_X86"],
                                                     default, highest.get("SCMP_ARCH_X86")),
                         False))

    asm = _Asm()
    asm.ld(OFF_ARCH)
    labels = []
    for n, (audit_arch, _, _) in enumerate(sections):
        label = _Label()
        labels.append(label)
        asm.jump(BPF_JEQ, audit_arch, label, None)
        if n:
            # Behind the first arch's whole section: through a `ja`.
            asm.via_ja(len(asm.items) - 1, label)
    asm.ret(RET_KILL_THREAD)
    for label, (_, intervals, wide) in zip(labels, sections):
        asm.place(label)
        if len(intervals) > 1:
            asm.ld(OFF_NR)
        _tree(asm, intervals, default, wide)
    return asm.assemble()


def _intervals(lo, hi, handlers, default, highest):
    """Cover [lo, hi) with (start, handler) in order; gaps get the default action,
    numbers above `highest` (when given) -ENOSYS."""
    out = []
    cur = lo
    dflt = ("ret", default)
    for nr in sorted(handlers):
        if nr > cur:
            out.append((cur, dflt))
        out.append((nr, _handler(handlers[nr])))
        cur = nr + 1
    if highest is not None:
        if cur <= highest:
            out.append((cur, dflt))
            cur = highest + 1
        if cur < hi:
            out.append((cur, ("ret", RET_ERRNO | ENOSYS)))
    elif cur < hi:
        out.append((cur, dflt))
    return out


def _handler(rules):
    for conds, action in rules:
        if not conds:
            return ("ret", action)
    return ("rules", tuple(rules))


def _merge(intervals):
    out = []
    for start, handler in intervals:
        if out and out[-1][1] == handler:
            continue
        out.append((start, handler))
    return out


def _tree(asm, intervals, default, wide):
    """A balanced binary search over the interval starts; the accumulator holds nr."""
    if len(intervals) == 1:
        kind, data = intervals[0][1]
        if kind == "ret":
            asm.ret(data)
        else:
            _rules(asm, data, default, wide)
        return
    mid = len(intervals) // 2
    right = _Label()
    asm.jump(BPF_JGE, intervals[mid][0], right, None)
    at, before = len(asm.items) - 1, asm.count
    _tree(asm, intervals[:mid], default, wide)
    if asm.count - before > _REACH:
        # The right half starts beyond a conditional jump's reach (near the root
        # of a large tree): through a `ja`, decided here and now rather than by
        # another assembler pass.
        asm.via_ja(at, right)
    asm.place(right)
    _tree(asm, intervals[mid:], default, wide)


def _rules(asm, rules, default, wide):
    for conds, action in rules:
        fail = _Label()
        for cond in conds:
            _condition(asm, cond, fail, wide)
        asm.ret(action)
        asm.place(fail)
    asm.ret(default)


def _condition(asm, cond, fail, wide):
    """Fall through when the condition holds, jump to `fail` when it does not."""
    index, op, value, value_two = cond
    lo_off = OFF_ARGS + 8 * index
    hi_off = lo_off + 4
    if not wide:
        v = value & _M32
        asm.ld(lo_off)
        if op == "SCMP_CMP_EQ":
            asm.jump(BPF_JEQ, v, None, fail)
        elif op == "SCMP_CMP_NE":
            asm.jump(BPF_JEQ, v, fail, None)
        elif op == "SCMP_CMP_GT":
            asm.jump(BPF_JGT, v, None, fail)
        elif op == "SCMP_CMP_GE":
            asm.jump(BPF_JGE, v, None, fail)
        elif op == "SCMP_CMP_LT":
            asm.jump(BPF_JGE, v, fail, None)
        elif op == "SCMP_CMP_LE":
            asm.jump(BPF_JGT, v, fail, None)
        else:  # SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo
            asm.and_(v)
            asm.jump(BPF_JEQ, value_two & _M32, None, fail)
        return
    vh, vl = value >> 32, value & _M32
    ok = _Label()
    asm.ld(hi_off)
    if op == "SCMP_CMP_EQ":
        asm.jump(BPF_JEQ, vh, None, fail)
        asm.ld(lo_off)
        asm.jump(BPF_JEQ, vl, None, fail)
    elif op == "SCMP_CMP_NE":
        asm.jump(BPF_JEQ, vh, None, ok)
        asm.ld(lo_off)
        asm.jump(BPF_JEQ, vl, fail, None)
    elif op == "SCMP_CMP_GT":
        asm.jump(BPF_JGT, vh, ok, None)
        asm.jump(BPF_JEQ, vh, None, fail)
        asm.ld(lo_off)
        asm.jump(BPF_JGT, vl, None, fail)
    elif op == "SCMP_CMP_GE":
        asm.jump(BPF_JGT, vh, ok, None)
        asm.jump(BPF_JEQ, vh, None, fail)
        asm.ld(lo_off)
        asm.jump(BPF_JGE, vl, None, fail)
    elif op == "SCMP_CMP_LT":
        asm.jump(BPF_JGT, vh, fail, None)
        asm.jump(BPF_JEQ, vh, None, ok)
        asm.ld(lo_off)
        asm.jump(BPF_JGE, vl, fail, None)
    elif op == "SCMP_CMP_LE":
        asm.jump(BPF_JGT, vh, fail, None)
        asm.jump(BPF_JEQ, vh, None, ok)
        asm.ld(lo_off)
        asm.jump(BPF_JGT, vl, fail, None)
    else:  # SCMP_CMP_MASKED_EQ
        asm.and_(vh)
        asm.jump(BPF_JEQ, value_two >> 32, None, fail)
        asm.ld(lo_off)
        asm.and_(vl)
        asm.jump(BPF_JEQ, value_two & _M32, None, fail)
    asm.place(ok)
