"""The hot-path command line parser: runc's grammar, exactly (cli.md §1-§4).

runc parses with urfave/cli v1.22 on top of Go's `flag` package. What that
means, and what this module reproduces:

- `pyrunc [global flags] COMMAND [command flags] ARGS`: global flags only
  before the command; after it they are unknown command flags.
- Go `flag`: one or two dashes for any name (`-root`, `--b`), `--name=value`
  or `--name value`, bool flags take a value only with `=`, no bundling of
  short flags, `--` ends the flags, parsing stops at the first positional.
- urfave moves the command's known flags in front of the positionals before
  Go parses them (so `delete ID --force` works), except for `exec` and `ps`.
  The word right after a flag written without `=` travels with it, even
  after a bool flag (`kill ID --all 9` = `kill 9 ID`); that quirk is kept.
- urfave refuses two spellings of one flag in one call (`-b x --bundle y`).
- Errors print "Incorrect Usage" and the help on stdout, then the error.

argparse would cost 10-17 ms to import and cannot express these rules; this
module imports only `os` and pyrunc's small modules.
"""

from pyrunc import lean_os as os
from pyrunc.cli import table as _table
from pyrunc.errors import UsageError

BOOL = _table.BOOL
STRING = _table.STRING
INT = _table.INT
UINT = _table.UINT
DURATION = _table.DURATION
STRING_LIST = _table.STRING_LIST
INT_LIST = _table.INT_LIST


def _go_quote(s):
    """Go's %q, for error texts (loaded only on an error)."""
    from pyrunc.log import quote

    return quote(s)


class Globals:
    """The global flags, checked and normalised.

    root            absolute, clean state directory
    root_set        whether --root was given (list treats a missing explicit root as an error)
    log             --log path, "" for stderr
    log_format      "text" or "json"
    debug           --debug
    systemd_cgroup  --systemd-cgroup
    rootless        "auto", "true", "false" (as given; checked where it is used, as runc does)
    cgroup_manager  None, "cgroupfs", "systemd" or "disabled"
    """

    __slots__ = ("root", "root_set", "log", "log_format", "debug", "systemd_cgroup",
                 "rootless", "cgroup_manager")

    def __init__(self):
        self.root = default_root()
        self.root_set = False
        self.log = ""
        self.log_format = "text"
        self.debug = False
        self.systemd_cgroup = False
        self.rootless = "auto"
        self.cgroup_manager = None

    def __repr__(self):
        return "Globals(%s)" % ", ".join("%s=%r" % (k, getattr(self, k)) for k in self.__slots__)

    def __eq__(self, other):
        if not isinstance(other, Globals):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)


class Invocation:
    """One parsed command line.

    command     canonical command name; "help" (help_topic = a command name,
                or None for the application help) or "version"
    globals     Globals
    flags       every flag of the command by canonical long name with '-'
                replaced by '_', defaults filled in (see pyrunc.cli.table for
                the value types)
    args        positional arguments
    prog        basename of argv[0], for help texts
    argv0       argv[0] as invoked, for arity errors (runc prints os.Args[0])
    help_topic  for command "help": the command to describe, or None
    """

    __slots__ = ("command", "globals", "flags", "args", "prog", "argv0", "help_topic")

    def __init__(self, command, globals_, flags, args, prog, argv0, help_topic=None):
        self.command = command
        self.globals = globals_
        self.flags = flags
        self.args = args
        self.prog = prog
        self.argv0 = argv0
        self.help_topic = help_topic

    def __repr__(self):
        return "Invocation(%r, globals=%r, flags=%r, args=%r, help_topic=%r)" % (
            self.command, self.globals, self.flags, self.args, self.help_topic)

    def __eq__(self, other):
        if not isinstance(other, Invocation):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)


class FlagError(Exception):
    """A Go `flag` parse error; the message is Go's, word for word."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def default_root():
    """/run/pyrunc, or $XDG_RUNTIME_DIR/pyrunc for unprivileged callers (as runc does)."""
    if os.geteuid() != 0:
        xdg = os.environ.get("XDG_RUNTIME_DIR", "")
        if xdg:
            return xdg + "/" + _table.ROOT_XDG_SUBDIR
    return _table.DEFAULT_ROOT


def absolute(path):
    """filepath.Abs: absolute against the cwd and cleaned ("" -> cwd)."""
    p = os.path.abspath(path)
    if p.startswith("//"):
        # POSIX lets normpath keep exactly two leading slashes; Go cleans them.
        p = "/" + p.lstrip("/")
    return p


# --- Go value syntax --------------------------------------------------------

_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


def parse_bool(s):
    """strconv.ParseBool; None when `s` is not a Go boolean."""
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def convert(kind, value, name):
    """A flag value as its kind's Python value; FlagError with Go's text otherwise."""
    if kind == STRING or kind == STRING_LIST:
        return value
    # Numbers and durations are rare on the hot path (--preserve-fds, update, exec).
    from pyrunc.cli.gonum import NumError, parse_duration, parse_int, parse_uint

    try:
        if kind == INT:
            return parse_int(value)
        if kind == UINT:
            return parse_uint(value)
        if kind == INT_LIST:
            try:
                return parse_int(value)
            except NumError as e:
                # urfave's Int64Slice passes strconv's own error through.
                raise FlagError("invalid value %s for flag -%s: strconv.ParseInt: parsing %s: %s"
                                % (_go_quote(value), name, _go_quote(value), e.reason)) from None
        if kind == DURATION:
            try:
                return parse_duration(value)
            except ValueError:
                raise FlagError("invalid value %s for flag -%s: parse error"
                                % (_go_quote(value), name)) from None
    except NumError as e:
        # Go's flag package shortens strconv errors to these two words.
        reason = "value out of range" if e.reason == NumError.RANGE else "parse error"
        raise FlagError("invalid value %s for flag -%s: %s" % (_go_quote(value), name, reason)) from None
    raise ValueError("unknown flag kind %r" % (kind,))


# --- Go flag.FlagSet.Parse ---------------------------------------------------

def flag_index(flags):
    """name -> flag tuple, for every spelling of every flag."""
    index = {}
    for flag in flags:
        for name in flag[0]:
            index[name] = flag
    return index


def go_parse(args, index):
    """Parse flags until the first positional, as Go's FlagSet.Parse does.

    Returns (values, spellings, rest): values by canonical name (lists for
    repeatable flags) for the flags that were given, the set of spellings used
    per canonical name, and the remaining arguments.
    """
    values = {}
    spellings = {}
    i = 0
    n = len(args)
    while i < n:
        s = args[i]
        if len(s) < 2 or s[0] != "-":
            break
        if s[1] == "-":
            if len(s) == 2:
                i += 1  # "--" ends the flags and is dropped
                break
            name = s[2:]
        else:
            name = s[1:]
        if name[0] == "-" or name[0] == "=":
            raise FlagError("bad flag syntax: " + s)
        i += 1
        eq = name.find("=")
        if eq > 0:
            value = name[eq + 1:]
            name = name[:eq]
            has_value = True
        else:
            value = ""
            has_value = False
        flag = index.get(name)
        if flag is None:
            raise FlagError("flag provided but not defined: -" + name)
        kind = flag[1]
        if kind == BOOL:
            if has_value:
                result = parse_bool(value)
                if result is None:
                    raise FlagError("invalid boolean value %s for -%s: parse error"
                                    % (_go_quote(value), name))
            else:
                result = True
        else:
            if not has_value:
                if i >= n:
                    raise FlagError("flag needs an argument: -" + name)
                value = args[i]
                i += 1
            result = convert(kind, value, name)
        canonical = flag[0][0]
        if kind == STRING_LIST or kind == INT_LIST:
            values.setdefault(canonical, []).append(result)
        else:
            values[canonical] = result
        used = spellings.get(canonical)
        if used is None:
            spellings[canonical] = {name}
        else:
            used.add(name)
    return values, spellings, args[i:]


def two_forms_error(flags, spellings):
    """urfave's normalizeFlags check: one flag given under two of its names."""
    for flag in flags:
        names = flag[0]
        if len(names) < 2:
            continue
        used = spellings.get(names[0])
        if used is None or len(used) < 2:
            continue
        seen = [n for n in names if n in used]
        return "Cannot use two forms of the same flag: %s %s" % (seen[1], seen[0])
    return None


def reorder(index, args):
    """urfave's reorderArgs (v1.22.5+, what runc vendors).

    The command's known flags move in front of everything else, each taking
    along the next word unless that word is itself a known flag (it may be
    the flag's value; for a bool flag it becomes the first positional). A
    `--` that is not such a value goes to the front of the remaining words,
    so it still ends the flags, and nothing after it moves.
    """
    front = []
    rest = []
    value_may_follow = False
    for i, arg in enumerate(args):
        if value_may_follow and not _is_known_flag(index, arg):
            value_may_follow = False
            front.append(arg)
        elif arg == "--":
            rest = ["--"] + rest + args[i + 1:]
            break
        elif _is_known_flag(index, arg):
            front.append(arg)
            value_may_follow = "=" not in arg
        else:
            rest.append(arg)
    return front + rest


def _is_known_flag(index, arg):
    if arg == "-" or not arg.startswith("-"):
        return False
    name = arg
    if name.startswith("--"):
        name = name[2:]
    if name.startswith("-"):
        name = name[1:]
    return name.split("=", 1)[0] in index


# --- the grammar ---------------------------------------------------------------

_GLOBAL_FLAGS = _table.GLOBAL_FLAGS + (_table.HELP_FLAG, _table.VERSION_FLAG)
_GLOBAL_INDEX = flag_index(_GLOBAL_FLAGS)
_command_cache = {}


def command_flags(name):
    """(flags + the help flag urfave adds, index of those, flag-dict keys) of a command."""
    cached = _command_cache.get(name)
    if cached is None:
        own = _table.COMMANDS[name]["flags"]
        flags = own + (_table.HELP_FLAG,)
        keys = tuple((f, f[0][0].replace("-", "_")) for f in own)
        cached = (flags, flag_index(flags), keys)
        _command_cache[name] = cached
    return cached


def lookup_command(name):
    """Canonical command name for a name or alias, or None."""
    if name in _table.COMMANDS:
        return name
    return _table.ALIASES.get(name)


def _app_help(prog):
    from pyrunc.cli import helptext
    return helptext.app_help(prog)


def _command_help(prog, name):
    from pyrunc.cli import helptext
    return helptext.command_help(prog, name)


def finish_globals(values):
    """Globals from parsed global flag values, checked in runc's order (root, then log format)."""
    g = Globals()
    root = values.get("root")
    if root is not None:
        root = absolute(root)
        if root == "/":
            raise UsageError("Option --root argument should not be set to /")
        g.root = root
        g.root_set = True
    fmt = values.get("log-format", "text")
    if fmt == "":
        fmt = "text"
    if fmt not in _table.LOG_FORMATS:
        raise UsageError("invalid log-format: " + fmt)
    g.log_format = fmt
    g.log = values.get("log", "")
    g.debug = values.get("debug", False)
    g.systemd_cgroup = values.get("systemd-cgroup", False)
    g.rootless = values.get("rootless", "auto")
    manager = values.get("cgroup-manager", "")
    if manager:
        if manager not in _table.CGROUP_MANAGERS:
            raise UsageError("invalid cgroup-manager: " + manager)
        g.cgroup_manager = manager
    return g


def finish_flags(name, values):
    """The flag dict of a command: every flag with its default, given values applied."""
    result = {}
    for flag, key in command_flags(name)[2]:
        canonical = flag[0][0]
        kind = flag[1]
        if canonical in values:
            value = values[canonical]
            if canonical in _table.PATH_FLAGS and value:
                value = absolute(value)
        elif kind == STRING_LIST or kind == INT_LIST:
            value = list(flag[2])
        elif kind == DURATION:
            from pyrunc.cli.gonum import parse_duration

            value = parse_duration(flag[2])
        else:
            value = flag[2]
        result[key] = value
    return result


def arity_error(argv0, name, count):
    """runc's checkArgs message, or None when `count` positionals are fine."""
    for rule, n in _table.COMMANDS[name]["args"]:
        if rule == "exact" and count != n:
            return '%s: "%s" requires exactly %d argument(s)' % (argv0, name, n)
        if rule == "min" and count < n:
            return '%s: "%s" requires a minimum of %d argument(s)' % (argv0, name, n)
        if rule == "max" and count > n:
            return '%s: "%s" requires a maximum of %d argument(s)' % (argv0, name, n)
    return None


def parse(argv, prog, argv0=None, on_globals=None):
    """Parse argv (without argv[0]) into an Invocation; UsageError on bad usage.

    `prog` is basename(argv[0]) for help texts, `argv0` argv[0] as invoked
    (arity errors name it, as runc does; defaults to prog). `on_globals(g)` is
    called once the global flags are valid, before the command is looked at:
    runc configures its logger at that point, so errors about the command
    line after it go to --log in --log-format.
    """
    if argv0 is None:
        argv0 = prog
    try:
        values, spellings, rest = go_parse(argv, _GLOBAL_INDEX)
    except FlagError as e:
        raise UsageError(e.message, 1,
                         "Incorrect Usage. " + e.message + "\n\n" + _app_help(prog)) from None
    problem = two_forms_error(_GLOBAL_FLAGS, spellings)
    if problem:
        raise UsageError(problem, 1, problem + "\n" + _app_help(prog))
    # urfave answers -h and -v before it runs runc's global checks.
    if values.get("help"):
        return Invocation("help", Globals(), {}, [], prog, argv0, None)
    if values.get("version"):
        return Invocation("version", Globals(), {}, [], prog, argv0, None)
    g = finish_globals(values)
    if on_globals is not None:
        on_globals(g)
    if not rest:
        return Invocation("help", g, {}, [], prog, argv0, None)

    given = rest[0]
    name = lookup_command(given)
    if name is None:
        raise UsageError("No help topic for '%s'" % given, 3)
    flags, index, _keys = command_flags(name)
    args = rest[1:]
    if _table.COMMANDS[name]["reorder"]:
        args = reorder(index, args)
    try:
        values, spellings, positional = go_parse(args, index)
        problem = two_forms_error(flags, spellings)
        if problem:
            raise FlagError(problem)
    except FlagError as e:
        raise UsageError(e.message, 1,
                         "Incorrect Usage: " + e.message + "\n\n" + _command_help(prog, name)) from None
    if values.get("help"):
        return Invocation("help", g, {}, [], prog, argv0, name)
    if name == "help":
        topic = None
        if positional:
            topic = lookup_command(positional[0])
            if topic is None:
                raise UsageError("No help topic for '%s'" % positional[0], 3)
        return Invocation("help", g, {}, [], prog, argv0, topic)
    problem = arity_error(argv0, name, len(positional))
    if problem:
        raise UsageError(problem, 1, "Incorrect Usage.\n\n" + _command_help(prog, name))
    return Invocation(name, g, finish_flags(name, values), positional, prog, argv0)
