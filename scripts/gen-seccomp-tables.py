#!/usr/bin/env python3
"""Generate pyrunc/seccomp_tables.py: syscall name -> number for x86_64, x32 and i386.

usage: scripts/gen-seccomp-tables.py [--cc CC] [--output FILE]

The numbers come from the kernel's UAPI headers as the C compiler finds them
(`<asm/unistd_64.h>`, `<asm/unistd_x32.h>`, `<asm/unistd_32.h>`; on Debian the
linux-libc-dev package): each header is run through `CC -E -dM` and its
`#define __NR_<name> <number>` lines are collected. x32 numbers keep
__X32_SYSCALL_BIT (0x40000000), as seccomp_data.nr shows them. Nothing is
fetched from the network; run this again after a linux-libc-dev upgrade and
commit the result.
"""

import argparse
import os
import re
import subprocess
import sys

X32_SYSCALL_BIT = 0x40000000

HEADERS = (
    # (table name in the module, header)
    ("X86_64", "asm/unistd_64.h"),
    ("X32", "asm/unistd_x32.h"),
    ("I386", "asm/unistd_32.h"),
)

_DEFINE = re.compile(r"^#define __NR_(\w+) (.+)$")


def macros(cc, header):
    """The object-like macros a header defines, as {name: text}."""
    proc = subprocess.run([cc, "-E", "-dM", "-x", "c", "-"], input=f"#include <{header}>\n",
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"gen-seccomp-tables: {cc} cannot preprocess <{header}>:\n{proc.stderr}")
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("#define "):
            parts = line[8:].split(None, 1)
            if len(parts) == 2 and "(" not in parts[0]:
                out[parts[0]] = parts[1]
    return out


def evaluate(text):
    """A syscall number macro body: `N` or `(__X32_SYSCALL_BIT + N)`."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    total = 0
    for term in text.split("+"):
        term = term.strip()
        if term == "__X32_SYSCALL_BIT":
            total += X32_SYSCALL_BIT
        else:
            total += int(term, 0)
    return total


def table(cc, header):
    found = {}
    for name, body in macros(cc, header).items():
        if not name.startswith("__NR_"):
            continue
        try:
            found[name[5:]] = evaluate(body)
        except ValueError:
            sys.exit(f"gen-seccomp-tables: cannot read __NR_{name[5:]} = {body!r} in <{header}>")
    if not found:
        sys.exit(f"gen-seccomp-tables: no __NR_ macros in <{header}>")
    return found


def kernel_version(cc):
    m = macros(cc, "linux/version.h")
    try:
        return "%s.%s.%s" % (m["LINUX_VERSION_MAJOR"], m["LINUX_VERSION_PATCHLEVEL"],
                             m["LINUX_VERSION_SUBLEVEL"])
    except KeyError:
        code = int(m.get("LINUX_VERSION_CODE", "0"))
        return "%d.%d.%d" % (code >> 16, (code >> 8) & 0xFF, code & 0xFF)


def render(tables, version):
    lines = [
        '"""Syscall numbers for the seccomp compiler (pyrunc/seccomp.py). GENERATED: do not edit.',
        "",
        "Made by scripts/gen-seccomp-tables.py from the kernel UAPI headers of Linux "
        f"{version}",
        "(<asm/unistd_64.h>, <asm/unistd_x32.h>, <asm/unistd_32.h>). x32 numbers include",
        "__X32_SYSCALL_BIT (0x40000000), as seccomp_data.nr carries them.",
        '"""',
        "",
        f'HEADERS_VERSION = "{version}"',
    ]
    for name, entries in tables:
        lines.append("")
        lines.append(f"{name} = {{")
        for sysname, number in sorted(entries.items(), key=lambda kv: (kv[1], kv[0])):
            lines.append(f'    "{sysname}": {number:#x},' if number >= X32_SYSCALL_BIT
                         else f'    "{sysname}": {number},')
        lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler used as preprocessor")
    ap.add_argument("--output", default=os.path.join(here, "..", "pyrunc", "seccomp_tables.py"))
    args = ap.parse_args()
    tables = [(name, table(args.cc, header)) for name, header in HEADERS]
    text = render(tables, kernel_version(args.cc))
    with open(args.output + ".tmp", "w") as f:
        f.write(text)
    os.replace(args.output + ".tmp", args.output)
    counts = ", ".join(f"{name} {len(entries)}" for name, entries in tables)
    print(f"wrote {os.path.normpath(args.output)}: {counts}")


if __name__ == "__main__":
    main()
