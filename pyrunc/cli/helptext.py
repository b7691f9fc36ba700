"""Help and version texts, laid out like urfave/cli v1's templates (cli.md §6).

Rendered straight from pyrunc.cli.table with string operations, so `-h` and
usage errors cost no more imports than the parser itself (click is never
needed for help).

Layout rules reproduced from urfave:
- command help: NAME (`<prog> <cmd> - <usage>`), USAGE, DESCRIPTION, OPTIONS;
  "[command options]" and OPTIONS only when the command has visible flags;
- flag cells are "--name value, -n value" (bool flags: no "value"),
  aligned with Go's tabwriter (column = widest cell + 2 spaces);
- defaults: strings in quotes when non-empty, numbers always, durations as
  written, lists only when non-empty;
- `--version`: line 1 must start with "runc version " (go-runc and docker
  strip that prefix; runc's bats matches `runc version [0-9]+.[0-9]+.[0-9]+`),
  then `commit:` and `spec:` lines.
"""

import sys

import pyrunc
from pyrunc.cli import table as _table
from pyrunc.log import quote as _go_quote

# What `runc version ` is followed by. Semver build metadata says which
# runtime this is while the prefix keeps runc's parsers working.
VERSION = pyrunc.__version__ + "+pyrunc"
COMMIT = "pyrunc-" + pyrunc.__version__


def version_lines():
    """The lines after `runc version ` (also the VERSION section of the app help)."""
    v = sys.version_info
    return [
        VERSION,
        "commit: " + COMMIT,
        "spec: " + pyrunc.SPEC_VERSION,
        "python: %d.%d.%d" % (v[0], v[1], v[2]),
    ]


def version_text():
    """What `--version` prints."""
    return "runc version " + "\n".join(version_lines()) + "\n"


def flag_cell(flag):
    """The left column of a flag's help line."""
    names, kind = flag[0], flag[1]
    placeholder = "" if kind == _table.BOOL else " value"
    return ", ".join(("-" if len(n) == 1 else "--") + n + placeholder for n in names)


def flag_usage(flag):
    """The right column: usage plus urfave's default note."""
    kind, default, usage = flag[1], flag[2], flag[3]
    note = ""
    if kind == _table.STRING:
        if default:
            note = " (default: %s)" % _go_quote(default)
    elif kind in (_table.INT, _table.UINT):
        note = " (default: %d)" % default
    elif kind == _table.DURATION:
        note = " (default: %s)" % default
    elif kind == _table.STRING_LIST:
        if default:
            note = " (default: %s)" % ", ".join(_go_quote(v) for v in default)
    elif kind == _table.INT_LIST:
        if default:
            note = " (default: %s)" % ", ".join(str(v) for v in default)
    return (usage + note).strip()


def _aligned(rows):
    # Go's tabwriter with minwidth 1, padding 2, padchar ' ': every cell of a
    # block is padded to the widest cell plus two spaces.
    width = max(len(left) for left, _ in rows) + 2
    return ["   " + left + " " * (width - len(left)) + right for left, right in rows]


def visible_flags(flags):
    return [f for f in flags if not f[4]]


def command_help(prog, name):
    """`<prog> <cmd> --help` / `<prog> help <cmd>`."""
    cmd = _table.COMMANDS[name]
    flags = visible_flags(cmd["flags"])
    help_name = prog + " " + name
    out = ["NAME:\n   ", help_name, " - ", cmd["usage"], "\n\nUSAGE:\n   ", help_name]
    if flags:
        out.append(" [command options]")
    out.append(" ")
    out.append(cmd["args_usage"] or "[arguments...]")
    if cmd["description"]:
        out.append("\n\nDESCRIPTION:\n   ")
        out.append(cmd["description"])
    if flags:
        out.append("\n\nOPTIONS:\n")
        for line in _aligned([(flag_cell(f), flag_usage(f)) for f in flags]):
            out.append(line)
            out.append("\n")
        out.append("   ")
    out.append("\n")
    return "".join(out)


def app_help(prog):
    """`<prog> --help`, `<prog> help`, `<prog>` alone."""
    commands = []
    for name, cmd in _table.COMMANDS.items():
        commands.append((", ".join((name,) + cmd["aliases"]), cmd["usage"]))
    flags = visible_flags(_table.GLOBAL_FLAGS + (_table.HELP_FLAG, _table.VERSION_FLAG))
    out = [
        "NAME:\n   ", prog, " - ", _table.APP_USAGE, "\n\n", _table.APP_DESCRIPTION,
        "\n\nUSAGE:\n   ", prog, " [global options] command [command options] [arguments...]",
        "\n\nVERSION:\n   ", "\n".join(version_lines()),
        "\n\nCOMMANDS:\n", "\n".join(_aligned(commands)),
        "\n\nGLOBAL OPTIONS:\n", "\n".join(_aligned([(flag_cell(f), flag_usage(f)) for f in flags])),
        "\n",
    ]
    return "".join(out)


def help_text(prog, topic=None):
    """App help for topic None, else the command's help."""
    if topic is None:
        return app_help(prog)
    return command_help(prog, topic)
