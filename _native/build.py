"""cffi API-mode build of `pyrunc._native`.

Declarations live in `decls/*.h`, one file per kernel area; the few syscalls
glibc does not wrap are one-line shims in `native.c`. Run directly
(`python _native/build.py`) to build the module in place for development;
`pip install .` builds it through setup.py's `cffi_modules`.
"""

import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
AREAS = ("mount", "sched", "caps", "seccomp", "cgroup", "tty")

ffibuilder = FFI()
for area in AREAS:
    with open(os.path.join(HERE, "decls", area + ".h")) as f:
        ffibuilder.cdef(f.read())

with open(os.path.join(HERE, "native.c")) as f:
    # native.c calls CPython's fork hooks (PyOS_BeforeFork and friends): in the
    # limited API since 3.7, but hidden by the unversioned Py_LIMITED_API cffi
    # defines by default. cffi keeps a version given here.
    ffibuilder.set_source("pyrunc._native", f.read(), extra_compile_args=["-O2"],
                          define_macros=[("Py_LIMITED_API", "0x03070000")])

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=os.path.dirname(HERE), verbose=False)
