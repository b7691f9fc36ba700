"""The fast parser against runc's grammar (cli.md §1-§4), and against the click app built from the same table."""

import pytest

from pyrunc.cli import gonum as G
from pyrunc.cli import parse as P
from pyrunc.cli import table as T
from pyrunc.errors import UsageError


def parse(*argv, argv0=None):
    return P.parse(list(argv), "pyrunc", argv0)


def usage_error(*argv, argv0=None):
    with pytest.raises(UsageError) as info:
        parse(*argv, argv0=argv0)
    return info.value


# --- real callers' command lines (callers.md) ------------------------------

CORPUS = [
    # containerd shim (ctr, CRI, docker underneath)
    ["--root", "/run/containerd/runc/default", "--log", "/b/log.json", "--log-format", "json",
     "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "ID"],
    ["--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
     "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket",
     "/tmp/pty123/pty.sock", "ID"],
    ["--root", "/run/containerd/runc/default", "--log", "/b/log.json", "--log-format", "json",
     "--systemd-cgroup", "start", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "exec", "--process",
     "/tmp/runc-process1", "--console-socket", "/tmp/s.sock", "--detach", "--pid-file",
     "/b/x.pid", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "kill", "ID", "15"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "kill", "--all", "ID", "9"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "delete", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "delete", "--force", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "pause", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "resume", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "ps", "--format", "json", "ID"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "update", "--resources", "-", "C"],
    ["--root", "/r", "--log", "/b/log.json", "--log-format", "json", "checkpoint", "--image-path",
     "/p", "--work-path", "/w", "--leave-running", "ID"],
    # go-runc forms
    ["--root", "/r", "list", "--format=json"],
    ["--root", "/r", "events", "--interval=5s", "ID"],
    ["--root", "/r", "--rootless=true", "state", "ID"],
    # podman + conmon
    ["--log-format=json", "--log", "/R/oci-log", "create", "--bundle", "/U", "--pid-file",
     "/R/pidfile", "ID"],
    ["--log-format=json", "--log", "/R/oci-log", "create", "--bundle", "/U", "--pid-file",
     "/R/pidfile", "--no-pivot", "--no-new-keyring", "--console-socket", "/tmp/conmon-term.X", "ID"],
    ["--log-format=json", "--log", "/U/E/oci-log", "exec", "--pid-file", "/U/E/exec_pid",
     "--process", "/U/E/exec-process-1", "--detach", "ID"],
    ["--log-format=json", "--log", "/U/E/oci-log", "exec", "--pid-file", "/U/E/exec_pid",
     "--process", "/U/E/exec-process-1", "--detach", "--tty", "--preserve-fds", "2",
     "--console-socket", "/tmp/conmon-term.Y", "ID"],
    ["--log-format=json", "--log", "/R/oci-log", "--cgroup-manager", "disabled", "create",
     "--bundle", "/U", "--pid-file", "/R/pidfile", "ID"],
    ["--log-format=json", "--log", "/R/oci-log", "restore", "--bundle", "/B", "--pid-file", "/P",
     "--detach", "--image-path", "/X", "--work-path", "/B", "ID"],
    ["kill", "ID", "9"],
    ["delete", "--force", "ID"],
    ["update", "--resources=/tmp/res.json", "ID"],
    ["state", "ID"],
    ["checkpoint", "--image-path", "/U/checkpoint", "--work-path", "/U", "ID"],
    ["checkpoint", "--help"],
    ["--version"],
    # CRI-O
    ["--root=/run/runc", "create", "--bundle", "/B", "--pid-file", "/P", "ID"],
    ["--root", "/run/runc", "--systemd-cgroup", "state", "ID"],
    ["--root", "/run/runc", "kill", "ID", "KILL"],
    ["--root", "/run/runc", "kill", "-a", "ID", "9"],
    ["--root", "/run/runc", "exec", "--process", "/tmp/f", "ID"],
    ["--root", "/run/runc", "update", "--resources", "-", "ID"],
    # runtime-tools
    ["-root", "/tmp/rt", "start", "ID"],
    ["--root=/tmp/rt", "kill", "ID", "TERM"],
    ["--root=/tmp/rt", "create", "--bundle", "/B", "ID"],
    # runc's bats suite
    ["--root", "/R", "run", "-d", "--console-socket", "/S", "ID"],
    ["--root", "/R", "run", "-d", "--console-socket", "rel/S", "ID"],
    ["--root", "/R", "exec", "ID", "sh", "-c", "echo x --foo"],
    ["--root", "/R", "exec", "--cap", "CAP_SYS_ADMIN", "-e", "A=b", "-e", "C=d,e", "ID", "true"],
    ["--root", "/R", "exec", "--user", "1000:1000", "--additional-gids", "100",
     "--additional-gids", "0x10", "ID", "id"],
    ["--root", "/R", "exec", "--cgroup", "cpu,cpuacct:foo", "--cgroup", "bar", "ID", "true"],
    ["--root", "/R", "exec", "--ignore-paused", "--cwd", "/tmp", "ID", "pwd"],
    ["--root", "/R", "exec", "-p", "process.json", "ID"],
    ["--root", "/R", "delete", "nope", "--force"],
    ["--root", "/R", "delete", "--force=true", "nope"],
    ["--root", "/R", "list", "-q"],
    ["--root", "/R", "list", "-f", "json"],
    ["--root", "/R", "ps", "ID", "-o", "pid,comm"],
    ["--root", "/R", "events", "--stats", "ID"],
    ["--root", "/R", "events", "--interval", "1m30.5s", "ID"],
    ["--root", "/R", "spec", "--rootless"],
    ["spec", "-b", "bundle"],
    ["--debug", "--root", "/R", "run", "ID"],
    ["--log", "/L", "--log-format", "json", "--root", "/R", "run", "-d", "--pid-file", "pid", "ID"],
    ["--root", "/R", "update", "--memory", "30M", "--pids-limit", "-1", "--blkio-weight", "500",
     "ID"],
    ["--root", "/R", "run", "--preserve-fds", "2", "--keep", "--no-subreaper", "ID"],
    ["--root", "/R", "create", "--bundle=b", "--no-pivot=true", "--no-new-keyring=false", "ID"],
    ["--root", "/R", "run", "--detach=false", "-bundle", "/b", "ID"],
    ["--debug=false", "--root", "/R", "kill", "ID"],
    ["--root", "/R", "features"],
    ["-v"],
    ["--help"],
    ["-h"],
    ["help"],
    ["help", "start"],
    ["h", "kill"],
    ["start", "--help"],
    ["kill", "-h", "ID"],
    [],
    ["--", "state", "ID"],
    ["state", "--", "ID"],
    ["--root", "/R", "plan", "-b", "/b", "ID"],
    ["--root", "/R", "validate", "--bundle", "b"],
]


@pytest.mark.parametrize("argv", CORPUS, ids=[" ".join(a) or "<none>" for a in CORPUS])
def test_click_app_agrees_with_fast_parser(argv):
    clickapp = pytest.importorskip("pyrunc.cli.clickapp")
    fast = P.parse(argv, "pyrunc")
    slow = clickapp.click_parse(argv, "pyrunc")
    assert fast == slow


BAD = [
    ["start"],
    ["start", "a", "b"],
    ["kill"],
    ["kill", "a", "b", "c"],
    ["list", "x"],
    ["bogus"],
    ["start", "-x", "a"],
    ["create", "--preserve-fds", "x", "a"],
    ["--root", "/", "state", "a"],
    ["--log-format", "xml", "state", "a"],
    ["--cgroup-manager", "weird", "state", "a"],
    ["events", "--interval", "5", "a"],
    ["kill", "--all=yes", "a"],
    ["help", "bogus"],
    ["-dt"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_click_app_refuses_what_fast_parser_refuses(argv):
    clickapp = pytest.importorskip("pyrunc.cli.clickapp")
    with pytest.raises(UsageError) as fast:
        P.parse(argv, "pyrunc")
    with pytest.raises(UsageError) as slow:
        clickapp.click_parse(argv, "pyrunc")
    assert fast.value.exit_code == slow.value.exit_code


# --- the flag dict ---------------------------------------------------------

def test_every_flag_present_with_default():
    inv = parse("create", "ID")
    assert inv.command == "create"
    assert inv.args == ["ID"]
    assert inv.flags == {
        "bundle": "", "console_socket": "", "pidfd_socket": "", "pid_file": "",
        "no_pivot": False, "no_new_keyring": False, "preserve_fds": 0,
    }


@pytest.mark.parametrize("name", [n for n in T.COMMANDS if n != "help"])
def test_defaults_for_every_command(name):
    rules = dict(T.COMMANDS[name]["args"])
    count = rules.get("exact", rules.get("min", 0))
    inv = parse(name, *["x"] * count)
    assert inv.command == name
    expected = {f[0][0].replace("-", "_") for f in T.COMMANDS[name]["flags"]}
    assert set(inv.flags) == expected


def test_defaults_by_kind():
    assert parse("list").flags == {"format": "table", "quiet": False}
    assert parse("events", "ID").flags == {"interval": 5.0, "stats": False}
    assert parse("checkpoint", "ID").flags["status_fd"] == -1
    assert parse("checkpoint", "ID").flags["empty_ns"] == []
    assert parse("kill", "ID").flags == {"all": False}
    assert parse("update", "ID").flags["pids_limit"] == 0


def test_repeatable_lists_are_fresh_per_call():
    a = parse("exec", "ID", "sh")
    a.flags["env"].append("X=1")
    assert parse("exec", "ID", "sh").flags["env"] == []


def test_globals_defaults():
    g = parse("state", "x").globals
    assert g.root == P.default_root()
    assert not g.root_set
    assert (g.log, g.log_format, g.debug, g.systemd_cgroup, g.rootless, g.cgroup_manager) == (
        "", "text", False, False, "auto", None)


def test_globals_given():
    g = parse("--root=/tmp/a/../b/", "--log", "/l", "--log-format=json", "--debug",
              "--systemd-cgroup", "--rootless", "true", "--cgroup-manager", "disabled",
              "state", "x").globals
    assert g.root == "/tmp/b"
    assert g.root_set
    assert (g.log, g.log_format, g.debug, g.systemd_cgroup, g.rootless, g.cgroup_manager) == (
        "/l", "json", True, True, "true", "disabled")


def test_default_root_for_unprivileged_with_xdg(monkeypatch):
    monkeypatch.setattr(P.os, "geteuid", lambda: 1000)
    monkeypatch.setitem(P.os.environ, "XDG_RUNTIME_DIR", "/run/user/1000")
    assert P.default_root() == "/run/user/1000/pyrunc"
    monkeypatch.setattr(P.os, "geteuid", lambda: 0)
    assert P.default_root() == T.DEFAULT_ROOT


def test_relative_root_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse("--root", "state-dir", "state", "x").globals.root == str(tmp_path / "state-dir")


def test_root_slash_refused():
    for value in ("/", "//", "/tmp/..", "/./"):
        e = usage_error("--root", value, "state", "x")
        assert e.message == "Option --root argument should not be set to /"
        assert e.exit_code == 1
        assert e.help_text == ""


def test_root_empty_or_dot_means_cwd(monkeypatch):
    monkeypatch.chdir("/")
    assert usage_error("--root", "", "state", "x").message.startswith("Option --root")
    assert usage_error("--root", ".", "state", "x").message.startswith("Option --root")


def test_log_format():
    assert usage_error("--log-format", "xml", "state", "x").message == "invalid log-format: xml"
    assert parse("--log-format", "", "state", "x").globals.log_format == "text"


def test_cgroup_manager():
    for m in ("cgroupfs", "systemd", "disabled"):
        assert parse("--cgroup-manager=" + m, "state", "x").globals.cgroup_manager == m
    assert usage_error("--cgroup-manager", "x", "state", "i").message == "invalid cgroup-manager: x"


def test_on_globals_called_after_global_checks():
    seen = []
    P.parse(["--log-format=json", "start", "ID"], "pyrunc", on_globals=seen.append)
    assert seen[0].log_format == "json"
    seen.clear()
    with pytest.raises(UsageError):
        P.parse(["--log-format=json", "start"], "pyrunc", on_globals=seen.append)
    assert len(seen) == 1  # usage errors about the command go to the configured log
    seen.clear()
    with pytest.raises(UsageError):
        P.parse(["--root=/", "start", "x"], "pyrunc", on_globals=seen.append)
    assert seen == []


# --- grammar ----------------------------------------------------------------

def test_flags_after_positionals_are_reordered():
    inv = parse("delete", "nope", "--force")
    assert inv.flags["force"] is True
    assert inv.args == ["nope"]
    inv = parse("run", "ID", "-d", "--bundle", "/b")
    assert inv.flags["detach"] and inv.flags["bundle"] == "/b"
    assert inv.args == ["ID"]


def test_reorder_quirk_word_travels_with_flag():
    # urfave moves the word after a flag written without '=' along with it,
    # even after a bool flag (cli.md §3).
    assert parse("kill", "ID", "--all", "9").args == ["9", "ID"]
    assert parse("kill", "ID", "--all=true", "9").args == ["ID", "9"]
    # A value that looks like an unknown flag travels too.
    assert parse("update", "ID", "--pids-limit", "-1").flags["pids_limit"] == -1
    assert parse("events", "--interval", "-1s", "ID").flags["interval"] == -1.0
    assert usage_error("delete", "ID", "--force", "-x").message == "flag provided but not defined: -x"


def test_exec_and_ps_do_not_reorder():
    inv = parse("exec", "ID", "sh", "-c", "x", "--foo", "--detach")
    assert inv.args == ["ID", "sh", "-c", "x", "--foo", "--detach"]
    assert inv.flags["detach"] is False
    inv = parse("ps", "ID", "-f", "json")
    assert inv.args == ["ID", "-f", "json"]
    assert inv.flags["format"] == "table"
    assert parse("exec", "ID", "--", "sh").args == ["ID", "--", "sh"]


def test_double_dash_ends_flags():
    assert parse("state", "--", "ID").args == ["ID"]
    assert parse("kill", "--", "ID", "-9").args == ["ID", "-9"]
    assert parse("exec", "--", "ID", "sh").args == ["ID", "sh"]
    # urfave moves `--` in front of the positionals that precede it...
    assert parse("kill", "ID", "--", "9").args == ["ID", "9"]
    assert usage_error("list", "x", "--", "y").message.endswith("requires exactly 0 argument(s)")
    # ...unless it stands where a flag's value may be.
    e = usage_error("events", "--interval", "--", "ID")
    assert e.message == 'invalid value "--" for flag -interval: parse error'
    assert parse("delete", "--force=true", "--", "ID").args == ["ID"]
    e = usage_error("delete", "ID", "--force", "--", "-x")
    assert e.message.endswith('"delete" requires exactly 1 argument(s)')


def test_single_or_double_dash_for_any_name():
    for spelling in ("-b", "--b", "-bundle", "--bundle"):
        assert parse("create", spelling, "/x", "ID").flags["bundle"] == "/x"
        assert parse("create", spelling + "=/y", "ID").flags["bundle"] == "/y"
    assert parse("-root", "/r", "state", "x").globals.root == "/r"
    assert parse("-root=/r", "state", "x").globals.root == "/r"


def test_value_may_start_with_dash():
    assert parse("--log", "-weird", "state", "x").globals.log == "-weird"
    assert parse("exec", "-e", "-X", "ID", "sh").flags["env"] == ["-X"]


def test_bool_values_only_with_equals():
    for text, value in (("true", True), ("1", True), ("t", True), ("TRUE", True), ("True", True),
                        ("false", False), ("0", False), ("f", False), ("F", False), ("FALSE", False)):
        assert parse("delete", "--force=" + text, "ID").flags["force"] is value
    inv = parse("kill", "ID", "--all", "true")
    assert inv.flags["all"] is True
    assert inv.args == ["true", "ID"]  # "true" travelled with --all, then became positional
    e = usage_error("run", "--detach", "true", "ID")
    assert e.message.endswith('"run" requires exactly 1 argument(s)')
    e = usage_error("delete", "--force=yes", "ID")
    assert e.message == 'invalid boolean value "yes" for -force: parse error'


def test_last_value_wins():
    assert parse("run", "-d", "-d=false", "ID").flags["detach"] is False
    assert parse("create", "-b", "x", "-b", "/y", "ID").flags["bundle"] == "/y"


def test_no_bundling_of_short_flags():
    e = usage_error("exec", "-dt", "ID", "sh")
    assert e.message == "flag provided but not defined: -dt"


def test_repeatable_flags_not_split_on_commas():
    inv = parse("exec", "-e", "A=1,2", "-e", "B=3", "--cap", "CAP_KILL", "ID", "sh")
    assert inv.flags["env"] == ["A=1,2", "B=3"]
    # -c and --cap are two forms of one flag: urfave refuses that mix.
    e = usage_error("exec", "--cap", "CAP_KILL", "-c", "CAP_CHOWN", "ID", "sh")
    assert e.message == "Cannot use two forms of the same flag: c cap"
    inv = parse("exec", "-c", "CAP_KILL", "-c", "CAP_CHOWN", "--cgroup", "a", "--cgroup", "b:c",
                "ID", "sh")
    assert inv.flags["cap"] == ["CAP_KILL", "CAP_CHOWN"]
    assert inv.flags["cgroup"] == ["a", "b:c"]


def test_two_forms_of_one_flag():
    e = usage_error("create", "-b", "x", "--bundle", "y", "ID")
    assert e.message == "Cannot use two forms of the same flag: b bundle"
    assert e.help_text.startswith("Incorrect Usage: Cannot use two forms of the same flag: b bundle\n\nNAME:\n")
    e = usage_error("-h", "--help")
    assert e.message == "Cannot use two forms of the same flag: h help"
    assert e.help_text.startswith(e.message + "\nNAME:\n")


def test_go_integers():
    for text, value in (("10", 10), ("0x10", 16), ("0X1f", 31), ("010", 8), ("0o17", 15),
                        ("0b101", 5), ("1_000", 1000), ("0x_10", 16), ("-3", -3), ("+4", 4),
                        ("0", 0), ("00", 0), ("9223372036854775807", 2**63 - 1),
                        ("-9223372036854775808", -2**63)):
        assert parse("create", "--preserve-fds", text, "ID").flags["preserve_fds"] == value, text


@pytest.mark.parametrize("text,reason", [
    ("x", "parse error"), ("", "parse error"), ("1.5", "parse error"), ("0x", "parse error"),
    ("08", "parse error"), ("1__0", "parse error"), ("_1", "parse error"), ("1_", "parse error"),
    (" 1", "parse error"), ("٣", "parse error"),
    ("9223372036854775808", "value out of range"), ("99999999999999999999", "value out of range"),
])
def test_bad_go_integers(text, reason):
    e = usage_error("create", "--preserve-fds", text, "ID")
    assert e.message == 'invalid value "%s" for flag -preserve-fds: %s' % (text, reason)
    assert e.help_text.startswith("Incorrect Usage: " + e.message + "\n\nNAME:\n   pyrunc create - ")


def test_unsigned_and_int_list_errors():
    assert parse("update", "--blkio-weight", "500", "ID").flags["blkio_weight"] == 500
    assert parse("update", "--blkio-weight=-1", "ID").flags["blkio_weight"] == -1
    assert G.parse_uint("0x10") == 16
    assert G.parse_uint(str(2**64 - 1)) == 2**64 - 1
    for text, reason in (("-1", "invalid syntax"), ("+1", "invalid syntax"),
                         (str(2**64), "value out of range")):
        with pytest.raises(G.NumError) as info:
            G.parse_uint(text)
        assert info.value.reason == reason
    with pytest.raises(P.FlagError) as info:
        P.convert(T.UINT, "-1", "weight")
    assert info.value.message == 'invalid value "-1" for flag -weight: parse error'
    assert parse("exec", "-g", "-1", "-g", "0x10", "ID", "id").flags["additional_gids"] == [-1, 16]
    e = usage_error("exec", "-g", "x", "ID", "id")
    assert e.message == ('invalid value "x" for flag -g: strconv.ParseInt: parsing "x": '
                         'invalid syntax')


@pytest.mark.parametrize("text,seconds", [
    ("5s", 5.0), ("0", 0.0), ("100ms", 0.1), ("1m30s", 90.0), ("1.5h", 5400.0), ("2us", 2e-6),
    ("3\u00b5s", 3e-6), ("3\u03bcs", 3e-6), ("7ns", 7e-9), (".5s", 0.5), ("1.s", 1.0),
    ("-1s", -1.0), ("+2m", 120.0), ("1h2m3.5s", 3723.5),
])
def test_go_durations(text, seconds):
    assert parse("events", "--interval", text, "ID").flags["interval"] == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "", "s", ".s", "1x", "1.2.3s", "-", "1s2", "9999999999h"])
def test_bad_go_durations(text):
    e = usage_error("events", "--interval", text, "ID")
    assert e.message == 'invalid value "%s" for flag -interval: parse error' % text


def test_unknown_flag():
    e = usage_error("start", "-x", "a")
    assert e.message == "flag provided but not defined: -x"
    assert e.exit_code == 1
    assert e.help_text.startswith(
        "Incorrect Usage: flag provided but not defined: -x\n\nNAME:\n   pyrunc start - ")
    e = usage_error("create", "--nope=1", "a")
    assert e.message == "flag provided but not defined: -nope"


def test_unknown_global_flag_shows_app_help():
    e = usage_error("-x", "state", "a")
    assert e.message == "flag provided but not defined: -x"
    assert e.help_text.startswith(
        "Incorrect Usage. flag provided but not defined: -x\n\nNAME:\n   pyrunc - ")


def test_global_flags_only_before_the_command():
    e = usage_error("start", "--root", "/x", "a")
    assert e.message == "flag provided but not defined: -root"


def test_flag_needs_an_argument():
    assert usage_error("create", "-b").message == "flag needs an argument: -b"
    assert usage_error("--root").message == "flag needs an argument: -root"


def test_bad_flag_syntax():
    assert usage_error("---x", "list").message == "bad flag syntax: ---x"
    assert usage_error("-=x", "list").message == "bad flag syntax: -=x"
    assert usage_error("list", "--=x").message == "bad flag syntax: --=x"


def test_arity_errors():
    cases = [
        (["start"], '"start" requires exactly 1 argument(s)'),
        (["start", "a", "b"], '"start" requires exactly 1 argument(s)'),
        (["kill"], '"kill" requires a minimum of 1 argument(s)'),
        (["kill", "a", "b", "c"], '"kill" requires a maximum of 2 argument(s)'),
        (["list", "x"], '"list" requires exactly 0 argument(s)'),
        (["exec"], '"exec" requires a minimum of 1 argument(s)'),
        (["ps"], '"ps" requires a minimum of 1 argument(s)'),
        (["spec", "x"], '"spec" requires exactly 0 argument(s)'),
        (["start", "a", "-x"], '"start" requires exactly 1 argument(s)'),  # unknown flags do not move
    ]
    for argv, tail in cases:
        e = usage_error(*argv, argv0="/usr/local/bin/pyrunc")
        assert e.message == "/usr/local/bin/pyrunc: " + tail
        assert e.exit_code == 1
        assert e.help_text.startswith("Incorrect Usage.\n\nNAME:\n   pyrunc " + argv[0] + " - ")


def test_unknown_command():
    e = usage_error("bogus")
    assert (e.message, e.exit_code, e.help_text) == ("No help topic for 'bogus'", 3, "")
    e = usage_error("foo", "-h")
    assert (e.message, e.exit_code) == ("No help topic for 'foo'", 3)
    assert usage_error("-").message == "No help topic for '-'"


def test_help_and_version():
    for argv in (["-h"], ["--help"], ["help"], ["h"], [], ["--help=true"], ["--root=/", "-h"]):
        inv = parse(*argv)
        assert (inv.command, inv.help_topic) == ("help", None), argv
    for argv in (["start", "-h"], ["start", "--help"], ["help", "start"], ["h", "start"],
                 ["start", "ID", "-h"], ["kill", "-h", "a", "b", "c"]):
        inv = parse(*argv)
        assert (inv.command, inv.help_topic) == ("help", "start" if "start" in argv else "kill"), argv
    assert parse("help", "h").help_topic == "help"
    assert usage_error("help", "bogus").exit_code == 3
    for argv in (["-v"], ["--version"], ["--version=1", "list"]):
        assert parse(*argv).command == "version"
    assert parse("--version=false", "list").command == "list"
    assert parse("start", "--help=false", "ID").command == "start"


def test_paths_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inv = parse("create", "--bundle", "b", "--pid-file", "p/../init.pid", "--console-socket",
                "s.sock", "--pidfd-socket", "./fd.sock", "ID")
    assert inv.flags["bundle"] == str(tmp_path / "b")
    assert inv.flags["pid_file"] == str(tmp_path / "init.pid")
    assert inv.flags["console_socket"] == str(tmp_path / "s.sock")
    assert inv.flags["pidfd_socket"] == str(tmp_path / "fd.sock")
    inv = parse("exec", "--pid-file", "x.pid", "-p", "proc.json", "ID")
    assert inv.flags["pid_file"] == str(tmp_path / "x.pid")
    assert inv.flags["process"] == "proc.json"  # read by exec relative to the same cwd
    assert parse("create", "ID").flags["bundle"] == ""
    assert parse("spec", "-b", "sub").flags["bundle"] == str(tmp_path / "sub")


def test_kill_signals_stay_raw():
    assert parse("kill", "ID", "KILL").args == ["ID", "KILL"]
    assert parse("kill", "ID", "9").args == ["ID", "9"]


def test_table_is_consistent():
    for name, cmd in T.COMMANDS.items():
        seen = set()
        for flag in cmd["flags"]:
            names, kind, default, usage, hidden = flag
            assert kind in (T.BOOL, T.STRING, T.INT, T.UINT, T.DURATION, T.STRING_LIST, T.INT_LIST)
            assert usage
            for n in names:
                assert n not in seen, (name, n)
                assert n not in ("h", "help"), (name, n)
                seen.add(n)
        for rule, n in cmd["args"]:
            assert rule in ("exact", "min", "max") and n >= 0
    assert not T.COMMANDS["exec"]["reorder"] and not T.COMMANDS["ps"]["reorder"]
    assert all(c["reorder"] for n, c in T.COMMANDS.items() if n not in ("exec", "ps"))
    runc = {"create", "start", "run", "exec", "kill", "delete", "state", "list", "ps", "events",
            "update", "pause", "resume", "checkpoint", "restore", "spec", "features"}
    assert runc | {"plan", "validate", "help"} == set(T.COMMANDS)
    assert [f for f in T.COMMANDS["kill"]["flags"] if f[0] == ("all", "a")][0][4] is True
