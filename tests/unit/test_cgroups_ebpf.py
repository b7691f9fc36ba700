"""The cgroup v2 device program (pyrunc.cgroups.ebpf).

The program is run here by a tiny interpreter of the instructions it uses, so
the rule semantics are checked without a kernel; one test (root only, skipped
elsewhere) has the host kernel's verifier load it, and attaches it to a scratch
cgroup2 directory to see it enforce.
"""

import os
import struct

import pytest

from pyrunc.cgroups import ebpf, v1

BLOCK, CHAR = 1, 2
M, R, W = 1, 2, 4


def run(program, dtype, major, minor, access):
    """Execute our subset of eBPF on a bpf_cgroup_dev_ctx; returns r0."""
    ctx = struct.pack("<III", (access << 16) | dtype, major, minor)
    regs = [0] * 11
    pc = 0
    n = len(program) // 8
    steps = 0
    while pc < n:
        steps += 1
        assert steps < 10000
        code, regbyte, off, imm = struct.unpack_from("<BBhi", program, pc * 8)
        dst, src = regbyte & 0xF, regbyte >> 4
        pc += 1
        if code == 0x61:
            regs[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif code == 0xbf:
            regs[dst] = regs[src]
        elif code == 0xb7:
            regs[dst] = imm & 0xFFFFFFFFFFFFFFFF
        elif code == 0x57:
            regs[dst] &= imm & 0xFFFFFFFFFFFFFFFF
        elif code == 0x77:
            regs[dst] >>= imm
        elif code == 0x55:
            if regs[dst] != imm & 0xFFFFFFFFFFFFFFFF:
                pc += off
        elif code == 0x15:
            if regs[dst] == imm & 0xFFFFFFFFFFFFFFFF:
                pc += off
        elif code == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("fell off the end")


def prog(resource_devices, nodes=()):
    return ebpf.compile_rules(v1.device_rules(resource_devices, list(nodes)))


DENY_ALL = {"allow": False, "access": "rwm"}


def test_deny_all_plus_runc_defaults():
    p = prog([DENY_ALL])
    assert run(p, CHAR, 1, 3, R | W) == 1        # /dev/null
    assert run(p, CHAR, 136, 7, R | W) == 1      # a pty
    assert run(p, CHAR, 10, 229, R) == 0         # /dev/fuse
    assert run(p, BLOCK, 254, 0, R) == 0         # the disk
    assert run(p, BLOCK, 254, 0, M) == 1         # mknod of anything (b *:* m)
    assert run(p, CHAR, 4, 1, M) == 1


def test_rules_apply_in_order_last_match_wins():
    p = prog([DENY_ALL, {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
              {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "w"}])
    assert run(p, CHAR, 10, 229, R) == 1
    assert run(p, CHAR, 10, 229, W) == 0
    assert run(p, CHAR, 10, 229, R | W) == 0


def test_allow_needs_every_requested_access():
    p = prog([DENY_ALL, {"allow": True, "type": "b", "major": 7, "access": "r"}])
    assert run(p, BLOCK, 7, 3, R) == 1          # any minor
    assert run(p, BLOCK, 7, 3, R | W) == 0
    assert run(p, CHAR, 7, 3, R) == 0           # type must match


def test_no_rules_at_all_allows_everything():
    p = ebpf.compile_rules([])
    assert run(p, BLOCK, 254, 0, R | W | M) == 1


def test_allow_all_then_deny_one():
    p = ebpf.compile_rules([(True, "a", None, None, "rwm"), (False, "c", 1, 9, "rwm")])
    assert run(p, CHAR, 1, 9, R) == 0
    assert run(p, CHAR, 1, 8, R) == 1


def test_linux_devices_nodes_follow_the_config_rules():
    p = prog([DENY_ALL], [("c", 10, 200), ("p", 0, 0)])
    assert run(p, CHAR, 10, 200, R | W) == 0


def test_bad_access_is_an_error():
    with pytest.raises(Exception, match="invalid device access"):
        ebpf.compile_rules([(True, "c", 1, 3, "rx")])


def _unified_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.startswith("cgroup2 "):
                return pre.split(" ")[4]
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_kernel_loads_and_enforces_the_program():
    mount = _unified_mount()
    if mount is None:
        pytest.skip("no cgroup2 mount")
    with open("/proc/self/cgroup") as f:
        own = next(line.rstrip("\n")[3:] for line in f if line.startswith("0::"))
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse")
    # A sibling of our own cgroup would need its parent's controllers; a child of
    # our own cgroup is always allowed on hybrid hosts (no domain controllers).
    d = os.path.join(mount, own.lstrip("/"), f"pyrunc-ebpf-{os.getpid()}")
    try:
        os.mkdir(d)
    except OSError as e:
        pytest.skip(f"cannot make a scratch cgroup: {e}")
    try:
        ebpf.apply_device_rules(d, v1.device_rules([DENY_ALL], []))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                with open(d + "/cgroup.procs", "w") as f:
                    f.write("0")
                out = []
                for dev in ("/dev/null", "/dev/fuse"):
                    try:
                        os.close(os.open(dev, os.O_RDONLY))
                        out.append("ok")
                    except OSError:
                        out.append("denied")
                os.write(w, " ".join(out).encode())
            finally:
                os._exit(0)
        os.close(w)
        data = os.read(r, 100).decode()
        os.close(r)
        os.waitpid(pid, 0)
        assert data == "ok denied"
    finally:
        os.rmdir(d)
