"""Write the `pyrunc` command: a tiny script run by `python -I -S`.

pip's console-script wrapper starts the interpreter with site-packages processing
and imports `re`: ~12 ms on every call, more than `state` itself needs. This
launcher names the interpreter by absolute path (engines call the runtime with an
empty or foreign PATH), passes `-I -S` (no site, and no PYTHON* variables from the
caller), puts the directories holding pyrunc and cffi's backend on sys.path, and
calls main(). It also writes the module packs (pyrunc.modpack) the launcher
reads: each hot command's modules in one file.

    python -m pyrunc.launcher /usr/local/bin/pyrunc [--source DIR]
"""

import os
import sys

TEMPLATE = """#!{python} -IS
# Written by `python -m pyrunc.launcher`; see pyrunc/launcher.py. (-IS: a shebang passes one argument.)
import gc, sys
gc.disable()  # during set-up; see pyrunc.main.collect_garbage
sys.path.insert(0, {first!r})
sys.path += {rest!r}
from pyrunc.modpack import install
install(sys.argv[1:])
from pyrunc.main import main
main()
"""


def paths_for(source=None):
    """sys.path entries: the pyrunc package's parent, then where _cffi_backend lives.

    The first goes in front of the standard library, the rest after it, where
    site-packages normally is: then the stdlib's own extension modules (such as
    _json) are found without listing site-packages first."""
    import _cffi_backend

    import pyrunc

    pkg_parent = os.path.abspath(source) if source else os.path.dirname(
        os.path.dirname(os.path.abspath(pyrunc.__file__)))
    paths = [pkg_parent]
    backend_dir = os.path.dirname(os.path.abspath(_cffi_backend.__file__))
    if backend_dir not in paths:
        paths.append(backend_dir)
    return paths


def write(dest, source=None, python=None):
    python = python or os.path.realpath(sys.executable)
    paths = paths_for(source)
    text = TEMPLATE.format(python=python, first=paths[0], rest=paths[1:])
    _write_packs(paths, python)
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.rename(tmp, dest)


def _write_packs(paths, python):
    """The packs of the package the launcher names, written by the launcher's own
    interpreter (a pack is only read by the Python that wrote it) with its -I -S
    sys.path (where the extension modules are found). A failure only costs speed."""
    import subprocess

    try:
        subprocess.run([python, "-I", "-S", "-X", "no_debug_ranges", "-c", _WRITE_PACKS] + paths,
                       check=True, timeout=300, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"pyrunc.launcher: no module packs ({e}); imports take the standard way",
              file=sys.stderr)


_WRITE_PACKS = """
import sys
first, rest = sys.argv[1], sys.argv[2:]
search_path = [first] + [p for p in sys.path if p] + rest
sys.path.insert(0, first)
from pyrunc import modpack
modpack.write_packs(first + "/pyrunc", search_path=search_path)
"""


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    dest = argv[0]
    source = None
    if "--source" in argv:
        source = argv[argv.index("--source") + 1]
    write(dest, source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
