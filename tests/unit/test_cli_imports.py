"""The hot path's import budget (performance.md §4, §6.2).

`state`, `kill`, `start`, ... run under `python3 -I -S`, where each stdlib
package that pulls in re/enum/collections costs several milliseconds. Importing
pyrunc.main and parsing a command line must load nothing outside this list.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What `python3 -I -S -c pass` already has, plus what the CLI may add.
ALLOWED = {
    # interpreter start-up
    "__main__", "_abc", "_codecs", "_frozen_importlib", "_frozen_importlib_external", "_imp",
    "_io", "_signal", "_thread", "_warnings", "_weakref", "abc", "builtins", "codecs",
    "encodings", "encodings.aliases", "encodings.utf_8", "io", "marshal", "posix", "sys",
    "time", "zipimport", "_locale",
    # not `os`: the CLI uses pyrunc.lean_os
    # the small C modules the hot path may use
    "errno", "_json", "_struct", "struct", "fcntl", "select", "resource",
}

SCRIPT = r"""
import sys
sys.path.insert(0, {repo!r})
import pyrunc.main
from pyrunc import log
from pyrunc.cli.parse import parse
for argv in {argvs!r}:
    inv = parse(argv, "pyrunc", on_globals=lambda g: log.configure(g.log, g.log_format, g.debug))
print(" ".join(sorted(sys.modules)))
"""

HOT = [
    ["state", "X"],
    ["--root", "/run/x", "--log", "/tmp/l.json", "--log-format", "json", "kill", "--all", "X", "9"],
    ["create", "--bundle", "/b", "--pid-file", "p", "--console-socket", "s", "X"],
    ["exec", "--process", "/p", "--detach", "--pid-file", "/x", "-e", "A=1", "X"],
    ["delete", "X", "--force"],
    ["run", "-d", "X"],
    ["start", "X"],
]


def _python():
    # The interpreter the launcher uses; fall back to the one running the tests.
    for candidate in ("/usr/bin/python3", sys.executable):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("no python3")


def _modules(argvs):
    out = subprocess.run(
        [_python(), "-I", "-S", "-c", SCRIPT.format(repo=REPO, argvs=argvs)],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout
    return set(out.split())


def test_hot_path_imports_stay_within_allowlist():
    loaded = _modules(HOT)
    # encodings.* depend on the caller's locale, not on pyrunc.
    extra = {m for m in loaded
             if m not in ALLOWED and not m.startswith(("pyrunc", "encodings."))}
    assert extra == set()


def test_hot_path_loads_no_cold_pyrunc_modules():
    loaded = _modules(HOT)
    mine = {m for m in loaded if m.startswith("pyrunc")}
    assert mine <= {"pyrunc", "pyrunc.main", "pyrunc.errors", "pyrunc.log", "pyrunc.jsonio",
                    "pyrunc.cli", "pyrunc.cli.parse", "pyrunc.cli.table", "pyrunc.lean_os"}
    assert "click" not in loaded and "pyrunc.cli.helptext" not in loaded


def test_usage_errors_do_not_need_click():
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "from pyrunc.main import execute\n"
        "rc = execute(['start'], prog='pyrunc')\n"
        "assert 'click' not in sys.modules, 'click imported'\n"
        "sys.exit(rc)\n" % REPO
    )
    p = subprocess.run([_python(), "-I", "-S", "-c", script], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith("Incorrect Usage.")
