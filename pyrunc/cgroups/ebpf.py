"""Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program.

cgroup v2 has no devices.allow/devices.deny; the kernel asks a BPF program
attached to the cgroup instead. This module compiles the rule list into one and
attaches it (BPF_F_ALLOW_MULTI: programs already attached further up keep
applying; every one of them must allow).

Semantics, as devices.allow/deny writes have on v1: the rules are applied in the
listed order, so the program checks them from the LAST to the first and the
first match decides. An allow rule matches a request only if it grants every
requested access; a deny rule matches if it names any requested access. No
match: allowed (a fresh v1 cgroup inherits "a *:* rwm"; configs start with a
deny-all rule). Program layout, registers:

    r1  ctx: struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor}
    r3  device type (access_type & 0xffff: 1 block, 2 char)
    r4  requested access (access_type >> 16: 1 mknod, 2 read, 4 write)
    r5  major, r6 minor, r7 scratch; r0 the verdict (1 allow, 0 deny)

bpf(2) goes through pyrunc's cffi module (`pyrunc_bpf`, declared in
_native/decls/cgroup.h); this module is imported only on
cgroup v2 hosts with device rules.
"""

import struct

from pyrunc import lean_os as os

BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2

_TYPE = {"b": 1, "c": 2}
_ACCESS = {"m": 1, "r": 2, "w": 4}

# opcodes (linux/bpf.h, bpf_common.h)
_LDXW = 0x61      # BPF_LDX | BPF_MEM | BPF_W
_MOV64_X = 0xbf   # BPF_ALU64 | BPF_MOV | BPF_X
_MOV64_K = 0xb7   # BPF_ALU64 | BPF_MOV | BPF_K
_AND64_K = 0x57   # BPF_ALU64 | BPF_AND | BPF_K
_RSH64_K = 0x77   # BPF_ALU64 | BPF_RSH | BPF_K
_JNE_K = 0x55     # BPF_JMP | BPF_JNE | BPF_K
_JEQ_K = 0x15     # BPF_JMP | BPF_JEQ | BPF_K
_EXIT = 0x95      # BPF_JMP | BPF_EXIT


def _insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def access_mask(access):
    mask = 0
    for ch in access or "":
        if ch not in _ACCESS:
            from pyrunc.cgroups import CgroupError

            raise CgroupError(f"invalid device access {access!r} in linux.resources.devices")
        mask |= _ACCESS[ch]
    return mask


def _rule_block(rule):
    """The instructions of one rule: fall through to the next block if it does not match."""
    allow, dtype, major, minor, access = rule
    checks = []
    if dtype != "a":
        if dtype not in _TYPE:
            from pyrunc.cgroups import CgroupError

            raise CgroupError(f"invalid device type {dtype!r} in linux.resources.devices")
        checks.append((3, _TYPE[dtype]))
    if dtype != "a" and major is not None and major >= 0:
        checks.append((5, major))
    if dtype != "a" and minor is not None and minor >= 0:
        checks.append((6, minor))
    mask = access_mask(access) if dtype != "a" else 7
    n = len(checks) + 5
    out = []
    for reg, value in checks:
        out.append((_JNE_K, reg, 0, None, value))
    out.append((_MOV64_X, 7, 4, 0, 0))
    if allow:
        # every requested bit must be granted: (requested & ~mask) == 0
        out.append((_AND64_K, 7, 0, 0, (~mask) & 7))
        out.append((_JNE_K, 7, 0, None, 0))
    else:
        # any requested bit denied: (requested & mask) != 0
        out.append((_AND64_K, 7, 0, 0, mask))
        out.append((_JEQ_K, 7, 0, None, 0))
    out.append((_MOV64_K, 0, 0, 0, 1 if allow else 0))
    out.append((_EXIT, 0, 0, 0, 0))
    assert len(out) == n
    code = []
    for i, (op, dst, src, off, imm) in enumerate(out):
        if off is None:
            off = n - i - 1  # to the first instruction of the next block
        code.append(_insn(op, dst, src, off, imm))
    return code


def compile_rules(rules):
    """The program (bytes, 8 per instruction) for (allow, type, major, minor, access) rules."""
    code = [
        _insn(_LDXW, 2, 1, 0),          # r2 = ctx->access_type
        _insn(_MOV64_X, 3, 2),          # r3 = r2
        _insn(_AND64_K, 3, 0, 0, 0xffff),  # r3 &= 0xffff   (type)
        _insn(_MOV64_X, 4, 2),          # r4 = r2
        _insn(_RSH64_K, 4, 0, 0, 16),   # r4 >>= 16       (access)
        _insn(_LDXW, 5, 1, 4),          # r5 = ctx->major
        _insn(_LDXW, 6, 1, 8),          # r6 = ctx->minor
    ]
    for rule in reversed(rules):
        code.extend(_rule_block(rule))
    code.append(_insn(_MOV64_K, 0, 0, 0, 1))  # no rule matched: allow
    code.append(_insn(_EXIT))
    return b"".join(code)


class _Backend:
    """bpf(2) through pyrunc's cffi module; buffers are kept alive by the returned objects."""

    def __init__(self):
        from pyrunc._native import ffi, lib

        self.ffi, self.lib = ffi, lib

    def buffer(self, data_or_size):
        """(object, address) of a writable buffer holding data (or zeroed size bytes)."""
        obj = self.ffi.new("char[]", data_or_size)
        return obj, int(self.ffi.cast("uintptr_t", obj))

    def text(self, obj):
        return self.ffi.string(obj).decode("utf-8", "replace")

    def bpf(self, cmd, attr):
        buf = self.ffi.from_buffer(bytearray(attr))
        rc = self.lib.pyrunc_bpf(cmd, buf, len(attr))
        if rc < 0:
            err = self.ffi.errno
            raise OSError(err, os.strerror(err))
        return rc


def load(program, backend=None):
    """BPF_PROG_LOAD; returns the program fd. The verifier's log is in the error."""
    b = backend or _Backend()
    insns, insns_addr = b.buffer(program)
    license_, license_addr = b.buffer(b"Apache\0")
    log, log_addr = b.buffer(65536)
    attr = bytearray(128)
    struct.pack_into("<IIQQIIQ", attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE, len(program) // 8,
                     insns_addr, license_addr, 1, 65536, log_addr)
    attr[48:48 + 12] = b"pyrunc_devs\0"
    struct.pack_into("<I", attr, 68, BPF_CGROUP_DEVICE)  # expected_attach_type
    try:
        return b.bpf(BPF_PROG_LOAD, bytes(attr))
    except OSError as e:
        text = b.text(log).strip()
        raise OSError(e.errno, f"{e.strerror}{': ' + text if text else ''}") from None
    finally:
        del insns, license_


def attach(cgroup_dir, prog_fd, backend=None):
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        attr = struct.pack("<IIII", fd, prog_fd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) + bytes(16)
        (backend or _Backend()).bpf(BPF_PROG_ATTACH, attr)
    finally:
        os.close(fd)


def apply_device_rules(cgroup_dir, rules):
    """Compile, load and attach; the program stays attached after this process exits."""
    from pyrunc.cgroups import CgroupError

    program = compile_rules(rules)
    backend = _Backend()
    try:
        prog = load(program, backend)
    except OSError as e:
        raise CgroupError(f"unable to load the device cgroup program: {(e.strerror or str(e)).lower()}",
                          e.errno) from None
    try:
        attach(cgroup_dir, prog, backend)
    except OSError as e:
        raise CgroupError(f"unable to attach the device cgroup program to {cgroup_dir}: "
                          f"{(e.strerror or str(e)).lower()}", e.errno) from None
    finally:
        os.close(prog)
