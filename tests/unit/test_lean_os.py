"""pyrunc.lean_os stands in for `os` on the hot path: its os.path functions must
agree with posixpath, and importing it must not import `os`."""

import itertools
import posixpath
import subprocess
import sys

import pytest

from pyrunc import lean_os

PATHS = ["", "/", "//", "///", "a", "/a", "a/", "/a/", "//a", "///a", "a//b", "a/./b", "a/../b",
         "../a", "/../a", "a/..", "/a/b/../../..", "../../x", "./", ".", "..", "/a/b/c/", "a/b//",
         "/x/./y/../z", "//x/../y", "rootfs", "/run/pyrunc/ct/state.json", "é/ü", "a/.../b"]


@pytest.mark.parametrize("name", ["normpath", "dirname", "basename", "split", "isabs"])
def test_single_argument_functions_match_posixpath(name):
    for p in PATHS:
        assert getattr(lean_os.path, name)(p) == getattr(posixpath, name)(p), p


def test_join_matches_posixpath():
    for a, b, c in itertools.product(PATHS[:12], repeat=3):
        assert lean_os.path.join(a, b, c) == posixpath.join(a, b, c), (a, b, c)


def test_abspath_and_file_tests(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to("missing")
    for p in ["f", "d", "l", "missing", "d/../f", str(tmp_path), "", "f\0"]:
        if "\0" not in p:
            assert lean_os.path.abspath(p) == posixpath.abspath(p), p
        for name in ("exists", "lexists", "isdir", "isfile", "islink"):
            assert getattr(lean_os.path, name)(p) == getattr(posixpath, name)(p), (name, p)


def test_makedirs_behaves_like_os_makedirs(tmp_path):
    import os

    for suffix in ("a/b/c", "t/u/", "x/y/."):
        mine, theirs = str(tmp_path / "lean" / suffix), str(tmp_path / "os" / suffix)
        lean_os.makedirs(mine, 0o700)
        os.makedirs(theirs, 0o700)
        for top in ("lean", "os"):
            for d in (suffix.split("/")[0], suffix.rstrip("/.")):
                assert os.path.isdir(tmp_path / top / d)
        # parents get the default mode, only the leaf the one asked for
        parent = os.path.join(tmp_path, "lean", suffix.split("/")[0])
        assert os.stat(parent).st_mode & 0o777 == os.stat(os.path.join(tmp_path, "os", suffix.split("/")[0])).st_mode & 0o777
        lean_os.makedirs(mine, exist_ok=True)
        for mk in (lean_os.makedirs, os.makedirs):
            with pytest.raises(FileExistsError):
                mk(mine)


REPO = posixpath.dirname(posixpath.dirname(posixpath.dirname(posixpath.abspath(__file__))))


def _fresh(code, env=None):
    """Run `code` in a fresh `-I -S` interpreter that sees this checkout."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {REPO!r}); {code}"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_environ_is_the_str_environment():
    env = {"PLAIN": "x", "UNICODE": "é", "EMPTY": ""}
    code = "import os, pyrunc.lean_os as L; print(L.environ == dict(os.environ), L.environ['UNICODE'])"
    assert _fresh(code, env) == "True é"


def test_environ_is_made_on_first_use():
    assert _fresh("import pyrunc.lean_os as L; print('environ' in vars(L), L.environ is L.environ, "
                  "'environ' in vars(L))", {"A": "1"}) == "False True True"


def test_importing_it_does_not_import_os():
    assert _fresh("import pyrunc.lean_os; print('os' in sys.modules)") == "False"


@pytest.mark.parametrize("size", [0, 5, 65536, 65536 * 2 + 7])
def test_read_bytes_reads_the_whole_file(tmp_path, size):
    path = tmp_path / "f"
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path.write_bytes(data)
    assert lean_os.read_bytes(str(path)) == data == open(path, "rb").read()


def test_read_bytes_reads_proc_files_to_the_end():
    assert lean_os.read_bytes("/proc/self/mountinfo").count(b"\n") == \
        open("/proc/self/mountinfo", "rb").read().count(b"\n")


def test_read_bytes_errors_are_opens():
    with pytest.raises(FileNotFoundError):
        lean_os.read_bytes("/nonexistent/file")
    with pytest.raises(IsADirectoryError):
        lean_os.read_bytes("/")
