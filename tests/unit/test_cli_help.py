"""Help, usage-error and version texts (cli.md §3, §6), directly and through main."""

import re

import pytest

import pyrunc
from pyrunc import log
from pyrunc.cli import helptext as H
from pyrunc.cli import table as T
from pyrunc.main import execute

COMMANDS = [n for n in T.COMMANDS]


@pytest.fixture(autouse=True)
def reset_log():
    yield
    log.configure()


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_layout(name):
    text = H.command_help("pyrunc", name)
    lines = text.split("\n")
    assert lines[0] == "NAME:"
    assert lines[1] == "   pyrunc %s - %s" % (name, T.COMMANDS[name]["usage"])
    assert lines[2] == ""
    assert lines[3] == "USAGE:"
    assert lines[4].startswith("   pyrunc %s " % name)
    assert text.endswith("\n")
    visible = [f for f in T.COMMANDS[name]["flags"] if not f[4]]
    assert ("[command options]" in lines[4]) == bool(visible)
    assert ("\nOPTIONS:\n" in text) == bool(visible)
    assert ("\nDESCRIPTION:\n   " in text) == bool(T.COMMANDS[name]["description"])


def test_help_uses_invoked_name():
    # runc's bats builds its regex from `basename $RUNC`.
    assert H.command_help("runc", "start").split("\n")[1].startswith("   runc start - ")
    assert H.app_help("my-runtime").split("\n")[1] == "   my-runtime - Open Container Initiative runtime"


def test_options_aligned_like_tabwriter():
    text = H.command_help("pyrunc", "exec")
    options = text.split("\nOPTIONS:\n")[1].split("\n")
    assert options[-2:] == ["   ", ""]  # urfave ends the list with an indented empty line
    rows = options[:-2]
    assert rows[0].startswith("   --console-socket value ")
    widest = max(len(H.flag_cell(f)) for f in T.COMMANDS["exec"]["flags"] if not f[4])
    for row in rows:
        assert row[3 + widest:3 + widest + 2] == "  "
        assert row[3 + widest + 2] != " "
    assert "   --env value, -e value" in text
    assert "   --tty, -t " in text


def test_flag_defaults_in_help():
    assert '--format value, -f value  select one of: table or json (default: "table")' in \
        H.command_help("pyrunc", "list")
    assert "(default: 5s)" in H.command_help("pyrunc", "events")
    assert "(stdio + $LISTEN_FDS + N in total) (default: 0)" in H.command_help("pyrunc", "create")
    assert "(default: -1)" in H.command_help("pyrunc", "checkpoint")
    assert "--bundle value, -b value" in H.command_help("pyrunc", "run")
    assert "--detach, -d " in H.command_help("pyrunc", "run")


def test_hidden_flags_not_shown():
    kill = H.command_help("pyrunc", "kill")
    assert "--all" not in kill and "OPTIONS" not in kill
    assert kill.split("\n")[4] == "   pyrunc kill <container-id> [signal]"
    assert "kernel-memory" not in H.command_help("pyrunc", "update")


def test_flagless_command():
    text = H.command_help("pyrunc", "start")
    assert text.split("\n")[4] == "   pyrunc start <container-id>"
    assert text.endswith("created container.\n")


def test_command_without_args_usage():
    assert H.command_help("pyrunc", "spec").split("\n")[4] == \
        "   pyrunc spec [command options] [arguments...]"


def test_app_help():
    text = H.app_help("pyrunc")
    lines = text.split("\n")
    assert lines[0] == "NAME:"
    assert lines[1] == "   pyrunc - Open Container Initiative runtime"
    assert "\nUSAGE:\n   pyrunc [global options] command [command options] [arguments...]\n" in text
    assert "\nVERSION:\n   %s\ncommit: " % H.VERSION in text
    commands = text.split("\nCOMMANDS:\n")[1].split("\n\n")[0].split("\n")
    assert [c.split()[0].rstrip(",") for c in commands] == list(T.COMMANDS)
    assert commands[-1].startswith("   help, h ")
    options = text.split("\nGLOBAL OPTIONS:\n")[1].rstrip("\n").split("\n")
    assert options[0].startswith("   --debug ")
    assert options[-2].startswith("   --help, -h ")
    assert options[-1].startswith("   --version, -v ")
    assert any(o.startswith("   --root value ") and '(default: "%s")' % T.DEFAULT_ROOT in o
               for o in options)
    assert any(o.startswith("   --cgroup-manager value ") for o in options)
    assert text.endswith("print the version\n")


def test_version_text():
    lines = H.version_text().split("\n")
    # go-runc wants the prefix; runc's bats wants these three regexes.
    assert lines[0].startswith("runc version ")
    assert re.match(r"runc version [0-9]+\.[0-9]+\.[0-9]+", lines[0])
    assert lines[0] == "runc version %s+pyrunc" % pyrunc.__version__
    assert re.match("commit:", lines[1])
    assert re.match(r"spec: [0-9]+\.[0-9]+\.[0-9]+", lines[2])
    assert lines[2] == "spec: " + pyrunc.SPEC_VERSION
    assert re.fullmatch(r"python: \d+\.\d+\.\d+", lines[3])
    assert lines[4] == ""


# --- through main ------------------------------------------------------------------

def run(capfd, *argv, prog="pyrunc"):
    rc = execute(list(argv), prog=prog)
    out, err = capfd.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv", [["-h"], ["--help"], ["help"], ["h"], []])
def test_app_help_through_main(capfd, argv):
    rc, out, err = run(capfd, *argv)
    assert (rc, err) == (0, "")
    assert out == H.app_help("pyrunc")


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_through_main(capfd, name):
    for argv in ([name, "-h"], [name, "--help"], ["help", name]):
        rc, out, err = run(capfd, *argv)
        assert (rc, err) == (0, "")
        assert out == H.command_help("pyrunc", name)


def test_checkpoint_help_probe_exits_0(capfd):
    # podman probes checkpoint support this way and needs exit 0.
    rc, out, err = run(capfd, "checkpoint", "--help")
    assert rc == 0 and out.startswith("NAME:\n   pyrunc checkpoint - ")


def test_version_through_main(capfd):
    for flag in ("-v", "--version"):
        rc, out, err = run(capfd, flag)
        assert (rc, out, err) == (0, H.version_text(), "")


def test_help_for_unknown_topic(capfd):
    for argv in (["help", "bogus"], ["foo", "-h"], ["bogus"]):
        rc, out, err = run(capfd, *argv)
        assert rc == 3
        assert out == ""
        assert "No help topic for '%s'" % argv[-1 if argv[0] == "help" else 0] in err


def test_arity_error_through_main(capfd):
    rc, out, err = run(capfd, "start", prog="/usr/local/bin/pyrunc")
    assert rc == 1
    assert out == "Incorrect Usage.\n\n" + H.command_help("pyrunc", "start")
    assert err.endswith(' level=error msg="/usr/local/bin/pyrunc: \\"start\\" requires exactly 1 argument(s)"\n')


def test_unknown_flag_through_main(capfd):
    rc, out, err = run(capfd, "delete", "--nope", "x")
    assert rc == 1
    assert out == "Incorrect Usage: flag provided but not defined: -nope\n\n" + \
        H.command_help("pyrunc", "delete")
    assert err.endswith(' level=error msg="flag provided but not defined: -nope"\n')


def test_unknown_global_flag_through_main(capfd):
    rc, out, err = run(capfd, "-x")
    assert rc == 1
    assert out == "Incorrect Usage. flag provided but not defined: -x\n\n" + H.app_help("pyrunc")


def test_help_text_helper():
    assert H.help_text("p") == H.app_help("p")
    assert H.help_text("p", "kill") == H.command_help("p", "kill")
