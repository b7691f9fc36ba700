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
import sys
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
    """The packs of the package the launcher names (a failure only costs speed)."""
    import subprocess

    from pyrunc import modpack

    try:
        search_path = [paths[0]] + _standard_path(python) + paths[1:]
        modpack.write_packs(os.path.join(paths[0], "pyrunc"), search_path=search_path)
    except (OSError, SyntaxError, ValueError, subprocess.SubprocessError) as e:
        print(f"pyrunc.launcher: no module packs ({e}); imports take the standard way",
              file=sys.stderr)


def _standard_path(python):
    """sys.path of `python -I -S` (its standard library), as the launcher starts it."""
    import ast
    import subprocess

    out = subprocess.run([python, "-I", "-S", "-c", "import sys; print(repr(sys.path))"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [p for p in ast.literal_eval(out) if p]


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
