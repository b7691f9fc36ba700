"""The part of `os` the runtime uses, without importing `os`.

`import os` costs about a millisecond on every pyrunc call, more than `state`
does: its module body builds `os.environ` as a MutableMapping (importing
_collections_abc) and loads posixpath and stat. Nearly all of `os` is the
builtin `posix` module anyway. This module re-exports `posix` and adds the few
`os.path` functions the runtime needs, with posixpath's semantics for `str`
paths, so the runtime's modules read like ordinary Python:

    from pyrunc import lean_os as os      # os.open, os.path.join, os.environ ...

Not here: bytes paths, and anything the runtime does not call. Commands off
the hot path (spec, validate, features, ...) import the real `os`.
"""

import sys
from posix import *  # noqa: F401,F403 - the point of this module
from posix import _exit, environ as environb, getcwd, lstat, mkdir, stat  # noqa: F401

del environ  # noqa: F821 - posix.environ is bytes; os.environ (str) is made below

sep = "/"


def __getattr__(name):
    # `environ` is made on first use (most calls never read the environment): the
    # environment as `os.environ` shows it (str, undecodable bytes as surrogates),
    # read-only in spirit, as pyrunc never changes its own environment.
    if name == "environ":
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        env = {k.decode(encoding, errors): v.decode(encoding, errors) for k, v in environb.items()}
        globals()["environ"] = env
        return env
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_S_IFMT, _S_IFDIR, _S_IFREG, _S_IFLNK = 0o170000, 0o040000, 0o100000, 0o120000


def makedirs(name, mode=0o777, exist_ok=False):
    """os.makedirs: make every missing directory of `name` (parents with the default
    mode, as os.makedirs does)."""
    head, tail = split(name)
    if not tail:
        head, tail = split(head)
    if head and tail and not exists(head):
        try:
            makedirs(head, exist_ok=exist_ok)
        except FileExistsError:
            pass  # made meanwhile by someone else
        if tail == ".":
            return
    try:
        mkdir(name, mode)
    except OSError:
        # Cannot rely on EEXIST: the kernel may report another error (EROFS, EACCES)
        # for a path that exists.
        if not exist_ok or not isdir(name):
            raise


def read_bytes(path):
    """The whole content of file `path` (what `open(path, "rb").read()` gives) with
    plain reads: the io stack's objects, fstat and isatty probe cost more than
    reading the small files the runtime reads (state, /proc, cgroup files)."""
    from posix import O_CLOEXEC, O_RDONLY, close, open as open_, read

    fd = open_(path, O_RDONLY | O_CLOEXEC)
    try:
        data = read(fd, 65536)
        while True:  # until end of file: /proc and cgroup files may read short
            more = read(fd, 65536)
            if not more:
                return data
            data += more
    finally:
        close(fd)


# -- os.path (str only) ------------------------------------------------------------

def isabs(p):
    return p.startswith("/")


def join(a, *rest):
    path = a
    for b in rest:
        if b.startswith("/"):
            path = b
        elif not path or path.endswith("/"):
            path += b
        else:
            path += "/" + b
    return path


def normpath(p):
    if not p:
        return "."
    # POSIX: exactly two leading slashes are implementation-defined and kept.
    initial = 2 if p.startswith("//") and not p.startswith("///") else (1 if p.startswith("/") else 0)
    parts = []
    for comp in p.split("/"):
        if comp in ("", "."):
            continue
        if comp != ".." or (not initial and not parts) or (parts and parts[-1] == ".."):
            parts.append(comp)
        elif parts:
            parts.pop()
    p = "/" * initial + "/".join(parts)
    return p or "."


def abspath(p):
    return normpath(p if isabs(p) else join(getcwd(), p))


def split(p):
    i = p.rfind("/") + 1
    head, tail = p[:i], p[i:]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head, tail


def dirname(p):
    return split(p)[0]


def basename(p):
    return p[p.rfind("/") + 1:]


def _mode(p, follow=True):
    try:
        return (stat(p) if follow else lstat(p)).st_mode
    except (OSError, ValueError):
        return None


def exists(p):
    return _mode(p) is not None


def lexists(p):
    return _mode(p, follow=False) is not None


def isdir(p):
    m = _mode(p)
    return m is not None and m & _S_IFMT == _S_IFDIR


def isfile(p):
    m = _mode(p)
    return m is not None and m & _S_IFMT == _S_IFREG


def islink(p):
    m = _mode(p, follow=False)
    return m is not None and m & _S_IFMT == _S_IFLNK


# `os.path`: the functions above are module-level here, so the module is its own
# `path` (os.path.join is lean_os.join).
path = sys.modules[__name__]
