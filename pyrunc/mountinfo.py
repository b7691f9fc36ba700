"""/proc/PID/mountinfo, read once, one way (proc(5)):

    36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2) (3)  (4)   (5)   (6)        (7)     (8)(9)  (10)      (11)
"""


def unescape(field):
    """mountinfo writes space, tab, newline and backslash as \\ooo."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def entries(text, fstypes=None):
    """(root, mount point, fstype, super options) for each mount in a mountinfo text;
    only those of `fstypes` (a tuple of prefixes such as ("cgroup",)) if given."""
    for line in text.splitlines():
        pre, sep, post = line.partition(" - ")
        if not sep or (fstypes is not None and not post.startswith(fstypes)):
            continue
        fields = pre.split(" ")
        fstype, _, rest = post.partition(" ")
        super_opts = rest.split(" ", 1)[1] if " " in rest else ""
        yield unescape(fields[3]), unescape(fields[4]), fstype, super_opts


def read(pid="self"):
    from pyrunc.lean_os import read_bytes

    return read_bytes("/proc/%s/mountinfo" % pid).decode("utf-8", "replace")
