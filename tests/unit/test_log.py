"""runc-style logging (pyrunc.log) and how main reports failures through it (cli.md §7, callers.md §1)."""

import json
import os
import re
import stat
import subprocess
import sys
import types

import pytest

from pyrunc import log
from pyrunc.errors import RuntimeFailure
from pyrunc.main import execute

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture(autouse=True)
def reset_log():
    log.configure()
    yield
    log.configure()


def lines(path):
    with open(path) as f:
        return f.read().splitlines()


# --- formats ------------------------------------------------------------------

def test_text_line_on_stderr(capfd):
    log.error("container does not exist")
    out, err = capfd.readouterr()
    assert out == ""
    assert re.fullmatch('time="%s" level=error msg="container does not exist"\n' % TIME, err)


def test_text_values_quoted_like_logrus(capfd):
    log.error("simple-word_1.2/x@y^z+")
    log.warning('say "hi"\\ now\n\ttab \x01 \x7f é \u2028')
    log.error("")
    err = capfd.readouterr().err.splitlines()
    assert err[0].endswith(" level=error msg=simple-word_1.2/x@y^z+")
    assert err[1].endswith(' level=warning msg="say \\"hi\\"\\\\ now\\n\\ttab \\x01 \\x7f é \\u2028"')
    assert err[2].endswith(' level=error msg=""')


def test_go_quote():
    assert log.quote("plain") == '"plain"'
    assert log.quote('a"b\\c') == '"a\\"b\\\\c"'
    assert log.quote("\a\b\f\n\r\t\v") == '"\\a\\b\\f\\n\\r\\t\\v"'
    assert log.quote("\x00\x1b\x7f") == '"\\x00\\x1b\\x7f"'
    assert log.quote("\u00a0é日本\U0001F600") == '"\\u00a0é日本\U0001F600"'
    assert log.quote("\U000E0001") == '"\\U000e0001"'


def test_json_line(tmp_path):
    path = tmp_path / "log.json"
    log.configure(str(path), "json")
    log.error('runc create failed: exec: "/x": <no such file> & more')
    [line] = lines(path)
    assert re.fullmatch(r'\{"level":"error","msg":".*","time":"%s"\}' % TIME, line)
    assert json.loads(line)["msg"] == 'runc create failed: exec: "/x": <no such file> & more'
    # Go's encoding/json HTML escaping, as logrus writes it
    assert "\\u003cno such file\\u003e \\u0026 more" in line


def test_json_debug_has_caller_and_sorted_keys(tmp_path):
    path = tmp_path / "log.json"
    log.configure(str(path), "json", debug=True)
    log.debug("nsexec container setup")
    [line] = lines(path)
    obj = json.loads(line)
    assert list(obj) == ["file", "func", "level", "msg", "time"]
    assert obj["level"] == "debug"
    assert obj["func"].endswith(".test_json_debug_has_caller_and_sorted_keys")
    assert obj["file"].startswith(__file__.rstrip("c") + ":")


def test_text_debug_has_caller(capfd):
    log.configure("", "text", debug=True)
    log.debug("child process in init()")
    err = capfd.readouterr().err
    assert re.fullmatch('time="%s" level=debug msg="child process in init\\(\\)" func=\\S+ file="[^"]+:\\d+"\n'
                        % TIME, err)


def test_levels(tmp_path):
    path = tmp_path / "log.json"
    log.configure(str(path), "json")
    log.debug("invisible without --debug")
    log.write(log.DEBUG, "also invisible")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.fatal("f")
    log.write(log.ERROR, "e2")
    assert [json.loads(l)["level"] for l in lines(path)] == ["info", "warning", "error", "fatal", "error"]


def test_timestamp_is_rfc3339_utc():
    assert re.fullmatch(TIME, log.timestamp())


# --- the file -------------------------------------------------------------------

def test_lazy_open_and_append(tmp_path):
    path = tmp_path / "log.json"
    log.configure(str(path), "json")
    log.debug("nothing")
    assert not path.exists()  # a call that logs nothing does not create the file
    path.write_text('{"level":"error","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n')
    log.error("now")
    got = lines(path)
    assert len(got) == 2 and json.loads(got[0])["msg"] == "earlier"
    assert json.loads(got[1])["msg"] == "now"
    assert not log.is_stderr()


def test_created_0644(tmp_path):
    path = tmp_path / "log"
    old = os.umask(0)
    try:
        log.configure(str(path))
        log.error("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_prepare_opens_now_and_fd_is_cloexec(tmp_path):
    path = tmp_path / "log"
    log.configure(str(path))
    fd = log.prepare()
    assert path.exists() and fd > 2
    assert not os.get_inheritable(fd)
    assert log.prepare() == fd
    log.forget()
    os.close(fd)
    log.error("reopened by path")
    assert "reopened by path" in path.read_text()


def test_one_write_per_line(tmp_path, monkeypatch):
    # A process forked from pyrunc shares the fd: whole-line writes keep
    # lines from interleaving.
    calls = []
    real = os.write

    def recording(fd, data):
        calls.append(data)
        return real(fd, data)

    monkeypatch.setattr(log.os, "write", recording)
    log.configure(str(tmp_path / "log"), "json")
    log.error("a" * 10000)
    log.warning("b")
    assert len(calls) == 2 and calls[0].endswith(b"}\n")


def test_unopenable_log_falls_back_to_stderr(tmp_path, capfd):
    log.configure(str(tmp_path / "missing-dir" / "log.json"), "json")
    log.error("the real error")
    err = capfd.readouterr().err.splitlines()
    assert json.loads(err[0])["level"] == "warning"
    assert "no such file or directory" in json.loads(err[0])["msg"]
    assert json.loads(err[1])["msg"] == "the real error"
    assert log.is_stderr()


def test_reconfigure_closes_owned_fd(tmp_path):
    log.configure(str(tmp_path / "a"))
    fd = log.prepare()
    log.configure(str(tmp_path / "b"))
    with pytest.raises(OSError):
        os.fstat(fd)


# --- main's error reporting ---------------------------------------------------------

@pytest.fixture
def fake_command(monkeypatch):
    """Installs `pyrunc.commands.pause` with a run() doing what the test says."""
    def install(run):
        module = types.ModuleType("pyrunc.commands.pause")
        module.run = run
        monkeypatch.setitem(sys.modules, "pyrunc.commands.pause", module)
    return install


def _fail(inv):
    raise RuntimeFailure("container does not exist")


def test_failure_default_log_one_stderr_line(fake_command, capfd):
    fake_command(_fail)
    assert execute(["pause", "x"], prog="pyrunc") == 1
    out, err = capfd.readouterr()
    assert out == ""
    assert re.fullmatch('time="%s" level=error msg="container does not exist"\n' % TIME, err)


def test_failure_with_json_log_one_line_and_bare_stderr(fake_command, capfd, tmp_path):
    path = tmp_path / "log.json"
    path.write_text("")
    fake_command(_fail)
    rc = execute(["--log", str(path), "--log-format", "json", "pause", "x"], prog="pyrunc")
    assert rc == 1
    out, err = capfd.readouterr()
    assert out == ""
    assert err == "container does not exist\n"
    [line] = lines(path)
    assert json.loads(line)["msg"] == "container does not exist"
    # podman reads the whole file as one JSON object
    assert json.loads(path.read_text())["level"] == "error"


def test_exit_code_of_failure(fake_command, capfd):
    def run(inv):
        raise RuntimeFailure("exec failed: container does not exist", exit_code=255)
    fake_command(run)
    assert execute(["pause", "x"], prog="pyrunc") == 255


def test_success_writes_nothing(fake_command, capfd, tmp_path):
    seen = []

    def run(inv):
        seen.append(inv)
        return None
    fake_command(run)
    path = tmp_path / "log.json"
    assert execute(["--log", str(path), "--log-format=json", "pause", "x"], prog="pyrunc") == 0
    assert capfd.readouterr() == ("", "")
    assert not path.exists()
    assert seen[0].command == "pause" and seen[0].args == ["x"]
    assert seen[0].globals.log == str(path)


def test_command_status_is_exit_status(fake_command, capfd):
    fake_command(lambda inv: 137)
    assert execute(["pause", "x"], prog="pyrunc") == 137


def test_usage_error_after_globals_goes_to_configured_log(capfd, tmp_path):
    path = tmp_path / "log.json"
    assert execute(["--log", str(path), "--log-format=json", "start"], prog="pyrunc") == 1
    out, err = capfd.readouterr()
    assert out.startswith("Incorrect Usage.\n\nNAME:\n   pyrunc start - ")
    assert err == 'pyrunc: "start" requires exactly 1 argument(s)\n'
    assert json.loads(path.read_text())["msg"] == 'pyrunc: "start" requires exactly 1 argument(s)'


def test_bad_global_goes_to_stderr_text(capfd, tmp_path):
    path = tmp_path / "log.json"
    assert execute(["--log", str(path), "--log-format=xml", "state", "x"], prog="pyrunc") == 1
    err = capfd.readouterr().err
    assert re.fullmatch('time="%s" level=error msg="invalid log-format: xml"\n' % TIME, err)
    assert not path.exists()


def test_unknown_command_exit_3(capfd):
    assert execute(["bogus"], prog="pyrunc") == 3
    out, err = capfd.readouterr()
    assert out == ""
    assert "level=error msg=\"No help topic for 'bogus'\"" in err


def test_unexpected_exception(fake_command, capfd):
    def run(inv):
        raise ZeroDivisionError("division by zero")
    fake_command(run)
    assert execute(["pause", "x"], prog="pyrunc") == 1
    err = capfd.readouterr().err
    assert 'msg="internal error: ZeroDivisionError: division by zero"' in err
    assert "Traceback" not in err
    assert execute(["--debug", "pause", "x"], prog="pyrunc") == 1
    err = capfd.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err


def test_keyboard_interrupt(fake_command, capfd):
    def run(inv):
        raise KeyboardInterrupt
    fake_command(run)
    assert execute(["pause", "x"], prog="pyrunc") == 130


def test_command_not_written_yet():
    from pyrunc import main

    with pytest.raises(RuntimeFailure) as info:
        main._command_module("no_such_command")
    assert info.value.message == '"no_such_command" is not supported by pyrunc yet'


def test_broken_import_inside_a_command_is_a_bug(monkeypatch, tmp_path):
    from pyrunc import main

    pkg = tmp_path / "pyrunc_fake_cmds"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "broken.py").write_text("import module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import pyrunc.commands
    monkeypatch.setattr(pyrunc.commands, "__path__", pyrunc.commands.__path__ + [str(pkg)])
    with pytest.raises(ModuleNotFoundError):
        main._command_module("broken")


def _main_in_a_fresh_interpreter(tmp_path, before, argv):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (f"import sys; sys.path.insert(0, {repo!r}); {before}; "
            f"from pyrunc.main import main; main({argv!r}); print('not reached')")
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)


def test_main_exits_with_status_and_flushes_python_buffers(tmp_path):
    # main() ends with os._exit (no interpreter finalisation): the status must still
    # be the command's, and output buffered in sys.stdout must not be lost.
    root = str(tmp_path / "root")
    proc = _main_in_a_fresh_interpreter(tmp_path, "print('buffered')", ["--root", root, "state", "nope"])
    assert proc.returncode == 1
    assert proc.stdout == "buffered\n"
    assert "container does not exist" in proc.stderr
    proc = _main_in_a_fresh_interpreter(tmp_path, "print('buffered')", ["--root", root, "list", "-q"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "buffered\n", "")


def test_log_options_apply_when_the_log_module_is_first_loaded(tmp_path):
    """main records --log/--log-format/--debug; pyrunc.log, loaded only when something
    is logged, applies them then."""
    root, logfile = str(tmp_path / "root"), str(tmp_path / "log.json")
    argv = ["--log", logfile, "--log-format", "json", "--root", root, "state", "nope"]
    before = "import pyrunc.main as m; assert 'pyrunc.log' not in sys.modules"
    proc = _main_in_a_fresh_interpreter(tmp_path, before, argv)
    assert proc.returncode == 1 and proc.stderr == "container does not exist\n"
    lines = open(logfile).read().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["msg"] == "container does not exist"


def test_a_light_command_that_succeeds_never_loads_the_log_module(tmp_path):
    root = tmp_path / "root"
    (root / "c1").mkdir(parents=True)
    import marshal

    (root / "c1" / "state").write_bytes(marshal.dumps({"ociVersion": "1.3.0", "pid": 0}))
    code = ("import sys; sys.path.insert(0, %r); from pyrunc.main import execute; "
            "rc = execute(['--log', %r, '--log-format', 'json', '--root', %r, 'state', 'c1']); "
            "print(rc, 'pyrunc.log' in sys.modules, 'pyrunc.cli.parse' in sys.modules)"
            % (os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
               str(tmp_path / "log"), str(root)))
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True).stdout
    assert out.endswith("}0 False True\n"), out  # the state JSON (no newline), then the check
    assert not (tmp_path / "log").exists()
