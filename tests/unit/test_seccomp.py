"""pyrunc.seccomp: OCI linux.seccomp -> classic BPF, checked by running the program.

A small classic-BPF interpreter below evaluates the generated program against
synthetic `struct seccomp_data` the way the kernel would; a reference model of
the rule semantics (written independently of the compiler) says what the
answer should be. Jump-offset and long-jump bugs show up as wrong answers.
"""

import itertools
import os
import random
import struct
import subprocess
import sys

import pytest

from pyrunc import seccomp, seccomp_tables as T
from pyrunc.errors import RuntimeFailure
from pyrunc.recording import RecordingSyscalls

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

X86_64, I386 = seccomp.AUDIT_ARCH_X86_64, seccomp.AUDIT_ARCH_I386
X32_BIT = seccomp.X32_SYSCALL_BIT
ALLOW, KILL, KILLP = seccomp.RET_ALLOW, seccomp.RET_KILL_THREAD, seccomp.RET_KILL_PROCESS
ERRNO, TRAP, TRACE, LOG = seccomp.RET_ERRNO, seccomp.RET_TRAP, seccomp.RET_TRACE, seccomp.RET_LOG
ENOSYS = ERRNO | 38
ALL_X86 = ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
M64 = (1 << 64) - 1


# -- a classic BPF interpreter (the subset seccomp allows) -----------------------


def run_bpf(insns, nr, arch=X86_64, args=(0,) * 6, ip=0):
    """Evaluate the program on a seccomp_data; returns the 32-bit verdict."""
    args = list(args) + [0] * (6 - len(args))
    data = struct.pack("<iIQ6Q", nr if nr < 1 << 31 else nr - (1 << 32), arch, ip,
                       *[a & M64 for a in args])
    assert len(insns) <= seccomp.BPF_MAXINSNS
    a = 0
    pc = 0
    steps = 0
    while True:
        steps += 1
        assert steps <= len(insns), "loop: classic BPF only jumps forward"
        assert 0 <= pc < len(insns), f"fell off the program at {pc}"
        code, jt, jf, k = insns[pc]
        assert 0 <= jt <= 255 and 0 <= jf <= 255 and 0 <= k <= 0xFFFFFFFF
        pc += 1
        if code == 0x20:                     # ld [k]
            assert k % 4 == 0 and k + 4 <= len(data)
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x54:                   # and #k
            a &= k
        elif code == 0x06:                   # ret #k
            return k
        elif code == 0x05:                   # ja +k
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):
            taken = {0x15: a == k, 0x25: a > k, 0x35: a >= k, 0x45: a & k != 0}[code]
            pc += jt if taken else jf
        else:
            raise AssertionError(f"opcode {code:#x} not expected")


# -- the reference model -------------------------------------------------------


def _act(name, errno):
    base = {"SCMP_ACT_KILL": KILL, "SCMP_ACT_KILL_THREAD": KILL, "SCMP_ACT_KILL_PROCESS": KILLP,
            "SCMP_ACT_TRAP": TRAP, "SCMP_ACT_ALLOW": ALLOW, "SCMP_ACT_LOG": LOG,
            "SCMP_ACT_ERRNO": ERRNO, "SCMP_ACT_TRACE": TRACE}[name]
    if name in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        return base | (1 if errno is None else errno)
    return base


def _holds(op, arg, value, two, wide):
    if not wide:
        arg, value, two = arg & 0xFFFFFFFF, value & 0xFFFFFFFF, two & 0xFFFFFFFF
    return {"SCMP_CMP_EQ": arg == value, "SCMP_CMP_NE": arg != value, "SCMP_CMP_LT": arg < value,
            "SCMP_CMP_LE": arg <= value, "SCMP_CMP_GT": arg > value, "SCMP_CMP_GE": arg >= value,
            "SCMP_CMP_MASKED_EQ": arg & value == two}[op]


def expected(profile, nr, arch=X86_64, args=(0,) * 6):
    """What runc + libseccomp would answer, computed straight from the profile."""
    args = [a & M64 for a in list(args) + [0] * (6 - len(args))]
    default = _act(profile["defaultAction"], profile.get("defaultErrnoRet"))
    archs = profile.get("architectures") or ["SCMP_ARCH_X86_64"]
    if arch == X86_64:
        sub = "SCMP_ARCH_X32" if nr >= X32_BIT else "SCMP_ARCH_X86_64"
    elif arch == I386:
        sub = "SCMP_ARCH_X86"
    else:
        return KILL
    if sub not in archs:
        return KILL
    table = {"SCMP_ARCH_X86_64": T.X86_64, "SCMP_ARCH_X32": T.X32, "SCMP_ARCH_X86": T.I386}[sub]
    wide = sub != "SCMP_ARCH_X86"
    highest = max((table[n] for r in profile.get("syscalls", []) for n in r["names"] if n in table),
                  default=None)
    uncond = None
    conditional = []
    for r in profile.get("syscalls", []):
        action = _act(r["action"], r.get("errnoRet"))
        if action == default or not any(table.get(n) == nr for n in r["names"]):
            continue
        conds = [(a["index"], a["op"], a["value"], a.get("valueTwo", 0)) for a in r.get("args", [])]
        if not conds:
            if uncond is None:
                uncond = action
            continue
        if len({c[0] for c in conds}) < len(conds):
            conditional += [([c], action) for c in conds]
        else:
            conditional.append((conds, action))
    if uncond is not None:
        return uncond
    for conds, action in conditional:
        if all(_holds(op, args[i], v, two, wide) for i, op, v, two in conds):
            return action
    permissive = default in (ALLOW, LOG) or default & 0xFFFF0000 == TRACE or default == ENOSYS
    if not permissive and highest is not None and nr > highest:
        return ENOSYS
    return default


def check(profile, cases):
    prog = seccomp.compile(profile)
    for case in cases:
        nr, arch, args = case if len(case) == 3 else (*case, ())
        got = run_bpf(prog.insns, nr, arch, args)
        want = expected(profile, nr, arch, args)
        assert got == want, f"nr={nr:#x} arch={arch:#x} args={args}: got {got:#x}, want {want:#x}"
    return prog


def nr(name, table=T.X86_64):
    return table[name]


# -- actions and defaults --------------------------------------------------------


def test_errno_on_mkdir_default_allow():
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_X86,
         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, nr("mkdir")) == ERRNO | 1
    assert run_bpf(prog.insns, nr("mkdirat")) == ERRNO | 1
    assert run_bpf(prog.insns, nr("mkdir", T.X32), X86_64) == ERRNO | 1
    assert run_bpf(prog.insns, nr("mkdir", T.I386), I386) == ERRNO | 1
    assert run_bpf(prog.insns, nr("getpid")) == ALLOW
    assert run_bpf(prog.insns, nr("mkdir") + 1) == ALLOW
    assert run_bpf(prog.insns, nr("mkdir") - 1) == ALLOW
    # default ALLOW: no -ENOSYS for numbers beyond the profile
    assert run_bpf(prog.insns, 1000) == ALLOW
    assert prog.flags == 0


def test_explicit_errno_and_default_errno():
    p = {"defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100}]}
    assert run_bpf(seccomp.compile(p).insns, nr("mkdir")) == ERRNO | 100
    p = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 6,
         "syscalls": [{"names": ["write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, nr("chdir")) == ERRNO | 6
    assert run_bpf(prog.insns, nr("write")) == ALLOW
    assert run_bpf(prog.insns, nr("read")) == ERRNO | 6


@pytest.mark.parametrize("name,value", [
    ("SCMP_ACT_KILL", KILL), ("SCMP_ACT_KILL_THREAD", KILL), ("SCMP_ACT_KILL_PROCESS", KILLP),
    ("SCMP_ACT_TRAP", TRAP), ("SCMP_ACT_ERRNO", ERRNO | 1), ("SCMP_ACT_TRACE", TRACE | 1),
    ("SCMP_ACT_LOG", LOG), ("SCMP_ACT_ALLOW", ALLOW), ("SCMP_ACT_NOTIFY", seccomp.RET_USER_NOTIF)])
def test_each_action(name, value):
    default = "SCMP_ACT_ALLOW" if name != "SCMP_ACT_ALLOW" else "SCMP_ACT_KILL"
    p = {"defaultAction": default, "syscalls": [{"names": ["mkdir"], "action": name}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, nr("mkdir")) == value
    assert seccomp.action_name(value).startswith(name if name != "SCMP_ACT_KILL_THREAD" else "SCMP_ACT_KILL")


def test_trace_errno_ret():
    p = {"defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 7}]}
    assert run_bpf(seccomp.compile(p).insns, nr("mkdir")) == TRACE | 7


def test_rule_with_default_action_is_dropped():
    # start_hello.bats "redundant seccomp rules": no error, nothing changes
    p = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bdflush"], "action": "SCMP_ACT_ALLOW"}]}
    prog = seccomp.compile(p)
    assert prog.rules == 0
    assert run_bpf(prog.insns, 0) == ALLOW


# -- architectures -------------------------------------------------------------


def test_foreign_arch_and_missing_x32_get_bad_arch_kill():
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, 0, X86_64) == ALLOW
    assert run_bpf(prog.insns, 0, I386) == KILL
    assert run_bpf(prog.insns, 0, 0xC00000B7) == KILL            # aarch64
    assert run_bpf(prog.insns, X32_BIT | 1, X86_64) == KILL      # x32 not in the filter


def test_no_architectures_means_native_only():
    prog = seccomp.compile({"defaultAction": "SCMP_ACT_ALLOW"})
    assert prog.arches == ["x86_64"]
    assert run_bpf(prog.insns, 5, X86_64) == ALLOW
    assert run_bpf(prog.insns, 5, I386) == KILL


def test_x32_only():
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X32"],
         "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, nr("mkdir", T.X32)) == ERRNO | 1
    assert run_bpf(prog.insns, X32_BIT + 1) == ALLOW
    assert run_bpf(prog.insns, nr("mkdir")) == KILL


def test_arch_specific_names():
    # chown32 exists on i386 only; mkdir has other numbers there
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_X86,
         "syscalls": [{"names": ["chown32"], "action": "SCMP_ACT_ERRNO"}]}
    prog = seccomp.compile(p)
    assert prog.skipped == []
    assert run_bpf(prog.insns, nr("chown32", T.I386), I386) == ERRNO | 1
    assert run_bpf(prog.insns, nr("chown32", T.I386), X86_64) == ALLOW


# -- -ENOSYS for syscalls newer than the profile --------------------------------


def test_enosys_above_the_highest_named_syscall():
    names = ["read", "write", "exit_group", "faccessat2"]
    p = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ALL_X86,
         "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}
    prog = seccomp.compile(p)
    top = nr("faccessat2")
    assert run_bpf(prog.insns, top) == ALLOW
    assert run_bpf(prog.insns, top - 1) == ERRNO | 1
    assert run_bpf(prog.insns, top + 1) == ENOSYS
    assert run_bpf(prog.insns, 1000) == ENOSYS
    assert run_bpf(prog.insns, nr("faccessat2", T.I386) + 1, I386) == ENOSYS
    assert run_bpf(prog.insns, nr("faccessat2", T.X32) + 1, X86_64) == ENOSYS
    assert run_bpf(prog.insns, 0xFFFFFFFF, I386) == ENOSYS
    # a rule with the default action still counts for "highest"
    p["syscalls"].append({"names": ["futex_waitv"], "action": "SCMP_ACT_ERRNO"})
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, top + 1) == ERRNO | 1
    assert run_bpf(prog.insns, nr("futex_waitv") + 1) == ENOSYS


@pytest.mark.parametrize("default", ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"])
def test_no_enosys_stub_for_permissive_defaults(default):
    p = {"defaultAction": default, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL"}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, 1000) == _act(default, None)


def test_kill_default_gets_enosys_for_new_syscalls():
    p = {"defaultAction": "SCMP_ACT_KILL_PROCESS",
         "syscalls": [{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}]}
    prog = seccomp.compile(p)
    assert run_bpf(prog.insns, nr("openat") + 1) == ENOSYS
    assert run_bpf(prog.insns, nr("write")) == KILLP


# -- argument comparisons --------------------------------------------------------

VALUES = [0, 1, 2, 0x7F, 0x80, 0xFFFFFFFF, 0x100000000, 0x100000001, 0x1FFFFFFFF,
          0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 1337, 0xFFFFFFFFFFFFFF9C]


@pytest.mark.parametrize("op", seccomp.OPERATORS)
@pytest.mark.parametrize("arch,name", [(X86_64, "SCMP_ARCH_X86_64"), (I386, "SCMP_ARCH_X86")])
def test_operators_on_64_bit_values(op, arch, name):
    table = T.I386 if arch == I386 else T.X86_64
    for value in [1, 0xFFFFFFFF, 0x100000000, 0x1FFFFFFFF, 0xFFFFFFFFFFFFFF9C, 1337]:
        p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [name],
             "syscalls": [{"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
                           "args": [{"index": 1, "value": value, "valueTwo": value & 0xF0F0F0F0F0F0,
                                     "op": op}]}]}
        check(p, [(table["dup3"], arch, (0, arg)) for arg in VALUES + [value, value - 1, value + 1]])


def test_multiple_args_are_anded_and_same_index_ored():
    p = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1337, "op": "SCMP_CMP_EQ"}]},
        {"names": ["process_vm_readv"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 0, "value": 100, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 9001, "op": "SCMP_CMP_EQ"}]},
        {"names": ["process_vm_writev"], "action": "SCMP_ACT_ERRNO", "errnoRet": 55, "args": [
            {"index": 0, "value": 1337, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2020, "op": "SCMP_CMP_EQ"}]},
        {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
        {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_GT"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 2, "value": 0xF00, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    ]}
    prog = seccomp.compile(p)
    r = lambda name, *args: run_bpf(prog.insns, nr(name), X86_64, args)  # noqa: E731
    assert r("kcmp", 0, 1337) == ALLOW
    assert r("kcmp", 0, 0) == ERRNO | 1
    assert r("kcmp", 500, 1337) == ERRNO | 1
    assert r("process_vm_readv", 100) == ALLOW
    assert r("process_vm_readv", 9001) == ALLOW
    assert r("process_vm_readv", 0) == ERRNO | 1
    assert r("process_vm_writev", 1337) == ERRNO | 55
    assert r("process_vm_writev", 2020) == ERRNO | 55
    assert r("process_vm_writev", 0) == ERRNO | 1
    assert [r("dup3", fd) for fd in range(5)] == [ERRNO | 1, ALLOW, ERRNO | 1, ALLOW, ALLOW]
    assert r("socket", 1, 1, 0) == ALLOW
    assert r("socket", 1, 1, 0xFF) == ALLOW
    assert r("socket", 1, 1, 0x100) == ERRNO | 1
    assert r("socket", 1, 1, 0xC00) == ERRNO | 1
    assert r("unshare") == ERRNO | 1
    assert r("socket") == ALLOW
    assert run_bpf(prog.insns, 1000) == ENOSYS


def test_unconditional_rule_wins_over_conditional_ones():
    arg = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        rules = [{"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": arg},
                 {"names": ["dup3"], "action": "SCMP_ACT_TRAP"},
                 {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9}]
        p = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rules[i] for i in order]}
        check(p, [(nr("dup3"), X86_64, (a,)) for a in (0, 1, 2)])


def test_randomised_profiles_against_the_reference():
    rng = random.Random(1234)
    names = sorted(set(T.X86_64) & set(T.I386))
    actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"]
    for _ in range(25):
        rules = []
        picked = rng.sample(names, 40)
        for i in range(rng.randint(1, 30)):
            rule = {"names": rng.sample(picked, rng.randint(1, 4)), "action": rng.choice(actions)}
            if rng.random() < 0.5:
                rule["errnoRet"] = rng.randint(0, 200)
            if rng.random() < 0.6:
                rule["args"] = [{"index": rng.randint(0, 5), "value": rng.choice(VALUES),
                                 "valueTwo": rng.choice(VALUES), "op": rng.choice(seccomp.OPERATORS)}
                                for _ in range(rng.randint(1, 3))]
            rules.append(rule)
        p = {"defaultAction": rng.choice(actions), "architectures": ALL_X86, "syscalls": rules}
        cases = []
        for name in picked[:20]:
            for arch, table in ((X86_64, T.X86_64), (I386, T.I386), (X86_64, T.X32)):
                if name in table:
                    args = tuple(rng.choice(VALUES) for _ in range(6))
                    cases.append((table[name], arch, args))
        cases += [(rng.randint(0, 600), rng.choice((X86_64, I386)), ()) for _ in range(20)]
        check(p, cases)


# -- long programs: jumps beyond 255 instructions --------------------------------


def test_long_rule_lists_use_trampolines():
    # 300 conditional rules on one syscall and a large allowlist: many jumps are
    # farther than a conditional jump's 8-bit offset reaches.
    rules = [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": i + 1,
              "args": [{"index": 1, "value": 0x5400 + i, "op": "SCMP_CMP_EQ"}]} for i in range(300)]
    rules.append({"names": sorted(T.X86_64)[::2], "action": "SCMP_ACT_ALLOW"})
    p = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules}
    prog = seccomp.compile(p)
    assert len(prog.insns) > 600
    assert any(code == 0x05 for code, _, _, _ in prog.insns), "expected ja trampolines"
    cases = [(nr("ioctl"), X86_64, (0, 0x5400 + i)) for i in range(0, 305, 7)]
    cases += [(n, X86_64, ()) for n in range(0, 460)]
    check(p, cases)


def test_too_large_a_program_is_refused():
    rules = [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
              "args": [{"index": 1, "value": i << 32 | i, "op": "SCMP_CMP_EQ"}]} for i in range(1000)]
    with pytest.raises(RuntimeFailure, match="too large"):
        seccomp.compile({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules})


# -- names, flags and errors -------------------------------------------------------


def test_unknown_names_are_skipped_and_reported():
    p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_X86,
         "syscalls": [{"names": ["no_such_syscall", "mkdir", "recv"], "action": "SCMP_ACT_ERRNO"}]}
    prog = seccomp.compile(p)
    assert prog.skipped == ["no_such_syscall", "recv"]
    assert run_bpf(prog.insns, nr("mkdir")) == ERRNO | 1
    assert "unknown syscalls skipped: no_such_syscall,recv" in prog.summary()


def test_flags():
    p = {"defaultAction": "SCMP_ACT_ALLOW", "flags": [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}
    assert seccomp.compile(p).flags == 1 | 2 | 4
    with pytest.raises(RuntimeFailure, match="seccomp flag SECCOMP_FILTER_FLAG_BOGUS is not known"):
        seccomp.compile({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]})


@pytest.mark.parametrize("profile,message", [
    ({"defaultAction": "SCMP_ACT_BOGUS"}, "invalid seccomp action"),
    ({"defaultAction": "SCMP_ACT_NOTIFY"}, "cannot be used as default action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}, "unknown architecture"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]},
     "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                                       "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]},
     "index 6 out of range"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                                       "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_XX"}]}]},
     "invalid seccomp operator"),
    ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}, "out of range"),
])
def test_errors(profile, message):
    with pytest.raises(RuntimeFailure, match=message):
        seccomp.compile(profile)


# -- SCMP_ACT_NOTIFY and the seccomp agent -------------------------------------

NOTIFY_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_X86,
                "listenerPath": "/run/agent.sock", "listenerMetadata": "bar",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
                             {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"}]}


def test_notify_compiles_to_user_notif_with_a_listener():
    prog = seccomp.compile(NOTIFY_MKDIR)
    assert prog.notify
    assert prog.flags == seccomp.FLAG_NEW_LISTENER
    for table, arch in ((T.X86_64, X86_64), (T.I386, I386)):
        assert run_bpf(prog.insns, nr("mkdir", table), arch) == seccomp.RET_USER_NOTIF
        assert run_bpf(prog.insns, nr("mkdirat", table), arch) == seccomp.RET_USER_NOTIF
        assert run_bpf(prog.insns, nr("rmdir", table), arch) == ERRNO | 1
        assert run_bpf(prog.insns, nr("write", table), arch) == ALLOW
    assert run_bpf(prog.insns, nr("mkdir", T.X32), X86_64) == seccomp.RET_USER_NOTIF
    assert seccomp.action_name(seccomp.RET_USER_NOTIF) == "SCMP_ACT_NOTIFY"
    assert "notify listener" in prog.summary()
    # without a notifying rule: no listener
    plain = seccomp.compile(MKDIR_ERRNO)
    assert not plain.notify and plain.flags == 0


def test_notify_with_tsync_adds_tsync_esrch():
    # the kernel refuses TSYNC together with NEW_LISTENER unless TSYNC_ESRCH is given
    prog = seccomp.compile(dict(NOTIFY_MKDIR, flags=["SECCOMP_FILTER_FLAG_TSYNC"]))
    assert prog.flags == seccomp.FLAG_TSYNC | seccomp.FLAG_NEW_LISTENER | seccomp.FLAG_TSYNC_ESRCH


def test_notify_in_features():
    assert "SCMP_ACT_NOTIFY" in seccomp.ACTIONS


@pytest.mark.parametrize("profile,result", [
    ({"defaultAction": "SCMP_ACT_ALLOW"}, None),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x"}, None),   # no notify: not needed
    (NOTIFY_MKDIR, "/run/agent.sock"),
])
def test_listener_path(profile, result):
    assert seccomp.listener_path(profile) == result


@pytest.mark.parametrize("profile,message", [
    (dict(NOTIFY_MKDIR, listenerPath=""), "listenerPath is not set"),
    ({k: v for k, v in NOTIFY_MKDIR.items() if k != "listenerPath"}, "listenerPath is not set"),
    ({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}, "cannot be used as default action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
      "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]},
     "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
])
def test_listener_path_errors(profile, message):
    with pytest.raises(RuntimeFailure, match=message):
        seccomp.listener_path(profile)


def test_connect_agent_without_notify_connects_nowhere():
    assert seccomp.connect_agent({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/nope"}) is None


def test_connect_agent_error_when_nobody_listens(tmp_path):
    profile = dict(NOTIFY_MKDIR, listenerPath=str(tmp_path / "no.sock"))
    with pytest.raises(RuntimeFailure, match="failed to connect with seccomp agent specified in "
                                             "the seccomp profile: dial unix .*no.sock"):
        seccomp.connect_agent(profile)


def _recv_state(sock):
    import array
    import json
    import socket

    fds = array.array("i")
    msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return json.loads(msg), list(fds)


def test_agent_sends_the_process_state_and_the_listener(tmp_path):
    import socket

    # an abstract socket, named "@..." in the profile as Go's net.Dial spells it
    name = "pyrunc-test-agent-%d" % os.getpid()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(1)
    try:
        state = {"ociVersion": "1.0.2", "id": "c1", "status": "created", "pid": 0,
                 "bundle": "/b", "annotations": {"a": "b"}}
        agent = seccomp.connect_agent(dict(NOTIFY_MKDIR, listenerPath="@" + name),
                                      status="creating")
        agent.with_state(state)
        conn, _ = server.accept()
        state["pid"] = 4242          # filled in later (HOOKS_DONE): read at prepare()
        agent.prepare()
        r, w = os.pipe()
        agent.send(r)                # closes r and the agent's socket
        with pytest.raises(OSError):
            os.fstat(r)
        got, fds = _recv_state(conn)
        conn.close()
        os.close(w)
    finally:
        server.close()
    assert len(fds) == 1
    try:
        assert os.fstat(fds[0])
    finally:
        os.close(fds[0])
    assert got == {"ociVersion": seccomp.SPEC_VERSION, "fds": ["seccompFd"], "pid": 4242,
                   "metadata": "bar",
                   "state": {"ociVersion": "1.0.2", "id": "c1", "status": "creating", "pid": 4242,
                             "bundle": "/b", "annotations": {"a": "b"}}}


def test_agent_process_pid_differs_from_the_state_pid_for_exec():
    import socket

    a, b = socket.socketpair()
    try:
        agent = seccomp.Agent(a, "/x", "", {"id": "c", "pid": 10, "bundle": "/b"}, "running", pid=11)
        got = agent.process_state()
    finally:
        a.close()
        b.close()
    assert got["pid"] == 11 and got["state"]["pid"] == 10 and got["state"]["status"] == "running"
    assert "metadata" not in got and "annotations" not in got["state"]


def test_init_load_seccomp_hands_the_listener_over():
    from pyrunc import init

    events = []

    class Sys:
        def load_seccomp(self, program):
            events.append("load")
            return 99

    class FakeAgent:
        def prepare(self):
            events.append("prepare")

        def send(self, listener):
            events.append(("send", listener))

    prog = seccomp.compile(NOTIFY_MKDIR)
    init.load_seccomp(Sys(), prog, FakeAgent())
    assert events == ["prepare", "load", ("send", 99)]
    # exec attaches the agent to the program instead
    events.clear()
    prog.agent = FakeAgent()
    init.load_seccomp(Sys(), prog)
    assert events == ["prepare", "load", ("send", 99)]


def test_kernel_without_listeners_gives_runcs_text():
    from pyrunc import init

    class Sys:
        def load_seccomp(self, program):
            raise OSError(22, "Invalid argument")

    with pytest.raises(RuntimeFailure, match="^seccomp notify unsupported: "):
        init.load_seccomp(Sys(), seccomp.compile(NOTIFY_MKDIR))
    with pytest.raises(RuntimeFailure, match="error loading seccomp filter into kernel: invalid"):
        init.load_seccomp(Sys(), seccomp.compile(MKDIR_ERRNO))


def test_plan_shows_the_hand_over_right_after_the_filter(tmp_path):
    ops = _init_ops(_plan_bundle(tmp_path, NOTIFY_MKDIR, nnp=True))
    names = [op for op, _ in ops]
    i = names.index("seccomp")
    assert names[i + 1] == "sendmsg" and "seccomp agent" in ops[i + 1][1]


def test_packed_layout():
    prog = seccomp.compile({"defaultAction": "SCMP_ACT_ALLOW"})
    data = prog.packed()
    assert len(data) == 8 * len(prog.insns)
    assert struct.unpack_from("<HBBI", data, 0) == prog.insns[0]


def test_recording_syscalls_show_the_filter():
    sys_ = RecordingSyscalls()
    prog = seccomp.compile({"defaultAction": "SCMP_ACT_ERRNO",
                            "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})
    sys_.load_seccomp(prog)
    (op, text), = sys_.ops
    assert op == "seccomp"
    assert text.startswith("default SCMP_ACT_ERRNO(1), 2 rules, archs x86_64")


def test_generated_tables_match_the_headers(tmp_path):
    # the committed table is what the script makes from this machine's headers
    cc = subprocess.run(["sh", "-c", "command -v cc"], capture_output=True, text=True).stdout.strip()
    if not cc:
        pytest.skip("no C compiler")
    out = tmp_path / "tables.py"
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen-seccomp-tables.py"),
                    "--output", str(out)], check=True, capture_output=True)
    with open(os.path.join(REPO, "pyrunc", "seccomp_tables.py")) as f:
        committed = f.read()
    if out.read_text() != committed:
        pytest.skip("this machine's kernel headers differ from the committed table's")
    assert T.X86_64["read"] == 0 and T.X86_64["mkdir"] == 83
    assert T.I386["mkdir"] == 39 and T.X32["mkdir"] == X32_BIT + 83


def test_import_is_cheap():
    # the module is imported lazily by init.setup only when the config has seccomp,
    # and then must not drag in heavy modules
    code = ("import sys; import pyrunc.seccomp; "
            "print(sorted(m for m in sys.modules if m.startswith('pyrunc')))")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert eval(out) == ["pyrunc", "pyrunc.errors", "pyrunc.lean_os", "pyrunc.seccomp"]


def test_all_ops_all_indexes_smoke():
    # every operator on every argument index, both word halves exercised
    for op, index in itertools.product(seccomp.OPERATORS, range(6)):
        p = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
             "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                           "args": [{"index": index, "value": 0x500000005, "valueTwo": 5, "op": op}]}]}
        cases = []
        for v in (0, 5, 6, 0x500000005, 0x500000004, 0x400000009, 0x600000000):
            args = [0] * 6
            args[index] = v
            cases += [(nr("kill"), X86_64, tuple(args)), (nr("kill", T.I386), I386, tuple(args))]
        check(p, cases)


# -- where the init installs the filter (read off `pyrunc plan`) -------------------


def _plan_bundle(tmp_path, seccomp_profile, nnp=True, cwd="/"):
    import json

    from pyrunc.commands.spec import default_config

    cfg = default_config(unified=False)
    cfg["process"]["terminal"] = False
    cfg["process"]["noNewPrivileges"] = nnp
    cfg["process"]["cwd"] = cwd
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    cfg["mounts"] = [m for m in cfg["mounts"] if m["type"] != "cgroup"]
    if seccomp_profile is not None:
        cfg["linux"]["seccomp"] = seccomp_profile
    root = tmp_path / "rootfs"
    for d in ("bin", "proc", "sys", "dev", "etc", "tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "bin" / "sh").write_bytes(b"")
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return str(tmp_path)


def _init_ops(bundle):
    from pyrunc import plan

    return [(op, text) for who, op, text in plan.build(bundle) if who == "init"]


MKDIR_ERRNO = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}


def test_plan_with_no_new_privs_loads_the_filter_last(tmp_path):
    ops = _init_ops(_plan_bundle(tmp_path, MKDIR_ERRNO, nnp=True, cwd="/tmp"))
    names = [op for op, _ in ops]
    assert names.count("seccomp") == 1
    i = names.index("seccomp")
    assert ops[i][1].startswith("default SCMP_ACT_ALLOW, 1 rules, archs x86_64")
    # the runtime compiled it meanwhile; the init takes it right where it loads it
    assert ops[i - 1][0] == "sync" and "SECCOMP" in ops[i - 1][1]
    assert ops[i - 2] == ("prctl", "PR_SET_NO_NEW_PRIVS 1")
    assert names[i + 1:] in ([], ["wait"], ["wait", "execve"])
    # the cwd was entered (and proven) before, while still privileged (as runc)
    assert ops.index(("chdir", "/tmp")) < names.index("setresuid") < i


def test_plan_without_no_new_privs_loads_the_filter_before_dropping_capabilities(tmp_path):
    ops = _init_ops(_plan_bundle(tmp_path, MKDIR_ERRNO, nnp=False, cwd="/tmp"))
    names = [op for op, _ in ops]
    i = names.index("seccomp")
    after_pivot = names.index("pivot_root")
    # cwd proven before the filter (getcwd may be forbidden), entered again as the user
    assert ops[i - 1][0] == "sync" and ops[i - 2] == ("chdir", "/tmp")
    assert after_pivot < i < names.index("capbset_drop") < names.index("setresuid") < names.index("capset")
    # entered once, as root; the user keeps that cwd (runc does the same)
    assert ("chdir", "/tmp") not in ops[names.index("setresuid"):]
    assert "PR_SET_NO_NEW_PRIVS 1" not in [t for o, t in ops if o == "prctl"]


def test_plan_shows_the_runtime_compiling_the_filter_after_the_fork(tmp_path):
    from pyrunc import plan

    steps = plan.build(_plan_bundle(tmp_path, MKDIR_ERRNO))
    runtime = [op for who, op, _ in steps if who == "runtime"]
    assert runtime.index("fork") < runtime.index("seccomp")


def test_program_wire_round_trip():
    program = seccomp.compile(MKDIR_ERRNO)
    back = seccomp.Program.from_wire(program.to_wire())
    assert back.packed() == program.packed() and back.flags == program.flags
    assert back.summary() == program.summary() and back.notify is False
    with pytest.raises(RuntimeFailure, match="unreadable compiled filter"):
        seccomp.Program.from_wire(program.to_wire()[:-3])


def test_plan_refuses_a_bad_profile(tmp_path):
    from pyrunc import plan

    with pytest.raises(RuntimeFailure, match="invalid seccomp action"):
        plan.build(_plan_bundle(tmp_path, {"defaultAction": "SCMP_ACT_NOPE"}))


def test_plan_without_seccomp_never_imports_the_compiler(tmp_path):
    bundle = _plan_bundle(tmp_path, None)
    code = ("import sys; from pyrunc import plan; plan.build(sys.argv[1]); "
            "print('pyrunc.seccomp' in sys.modules, 'pyrunc.seccomp_tables' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, bundle], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    assert out.split() == ["False", "False"]
