"""A click application built from pyrunc.cli.table: shell completion and a second parser.

Never imported on the hot path (click costs ~50 ms to import). It serves:

- shell completion, through click's own mechanism keyed on the program name:
      eval "$(_PYRUNC_COMPLETE=bash_source pyrunc)"     # bash
      eval "$(_PYRUNC_COMPLETE=zsh_source pyrunc)"      # zsh
      _PYRUNC_COMPLETE=fish_source pyrunc | source      # fish
  pyrunc.main hands over to `complete()` when that variable is set. Container
  IDs are completed from the state directory (--root).
- `click_parse()`, a second parser over the same table. The tests run real
  callers' command lines through both parsers and require identical results,
  which keeps the table the single source of truth for names, kinds,
  defaults, arity and reordering.

What click does not do the way Go's `flag` does, and how it is bridged:
- `-name` with one dash for a long name and `--b` with two for a short one:
  every spelling is registered as an option string of its own;
- `-b=x` (click would read `=x` as the value of `-b`) and bool flags with a
  value (`--detach=false`): `_rewrite()` turns such tokens into `--name=value`
  and, for false, into a hidden `--pyrunc-false-<name>` spelling;
- Go integers (0x10, 010, 1_000) and durations (1m30s): a click ParamType
  calling the same converters as the fast parser.
Not bridged, since no caller writes such command lines: urfave's refusal of
two spellings of one flag in one call, a bool flag taking the next word along
when it moves (`kill ID --all 9` is `kill 9 ID` for runc), a `--` read as a
flag's value, and `-dt` (click unbundles short flags; Go refuses them).
"""

import os

import click
from click.shell_completion import CompletionItem

from pyrunc.cli import parse as _parse
from pyrunc.cli import table as _table
from pyrunc.errors import UsageError

# Hidden spelling that sets a bool flag to false (Go's `--flag=false`).
_FALSE_PREFIX = "pyrunc-false-"

_COMPLETES_ID = ("<container-id>",)


class _Done(Exception):
    """Carries the finished Invocation out of click's call chain."""

    def __init__(self, invocation):
        super().__init__()
        self.invocation = invocation


class GoValue(click.ParamType):
    """A Go-syntax int, uint or duration flag value."""

    def __init__(self, kind):
        self.kind = kind
        self.name = kind

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        name = param.name.replace("_", "-") if param is not None else "?"
        try:
            return _parse.convert(self.kind, value, name)
        except _parse.FlagError as e:
            self.fail(e.message, param, ctx)


def _click_type(kind):
    if kind in (_table.STRING, _table.STRING_LIST):
        return click.STRING
    if kind == _table.INT_LIST:
        return GoValue(_table.INT)
    return GoValue(kind)


def _pyname(flag):
    return flag[0][0].replace("-", "_")


def _option(flag, completion):
    """One click.Option for a table flag.

    For parsing, every spelling Go accepts is an option string; for
    completion, only the conventional `--long` and `-s` ones are offered.
    """
    names, kind, default, usage, hidden = flag
    decls = []
    for n in names:
        decls.append(("-" if len(n) == 1 else "--") + n)
        if not completion:
            decls.append(("--" if len(n) == 1 else "-") + n)
    if kind == _table.BOOL:
        if not completion:
            decls[0] = decls[0] + "/--" + _FALSE_PREFIX + names[0]
        return click.Option(decls + [_pyname(flag)], is_flag=True, default=bool(default),
                            help=usage, hidden=hidden)
    multiple = kind in (_table.STRING_LIST, _table.INT_LIST)
    if multiple:
        default = tuple(default)
    return click.Option(decls + [_pyname(flag)], type=_click_type(kind), default=default,
                        multiple=multiple, help=usage, hidden=hidden, show_default=False)


def _rewrite(args, index, interspersed):
    """Turn Go-only spellings into ones click parses the same way.

    `-x=v`/`--x=v` -> `--canonical=v`; bool `--x=true|false` -> `--canonical`
    or the hidden false spelling. Scanning follows the flags of this command
    only: it stops at `--`, and for a non-interspersed command (the app
    itself, exec, ps) at the first positional, whose followers are not ours.
    """
    out = []
    i = 0
    n = len(args)
    while i < n:
        arg = args[i]
        i += 1
        if arg == "--":
            out.append(arg)
            out.extend(args[i:])
            break
        if len(arg) < 2 or arg[0] != "-":
            out.append(arg)
            if not interspersed:
                out.extend(args[i:])
                break
            continue
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, eq, value = body.partition("=")
        flag = index.get(name)
        if flag is None:
            out.append(arg)  # click reports it as unknown, as Go would
            continue
        canonical = flag[0][0]
        if flag[1] == _table.BOOL:
            if not eq:
                out.append(arg)
                continue
            result = _parse.parse_bool(value)
            if result is None:
                raise click.BadOptionUsage(
                    arg, "invalid boolean value %s for -%s: parse error" % (_quote(value), name))
            out.append("--" + canonical if result else "--" + _FALSE_PREFIX + canonical)
        elif eq:
            out.append("--" + canonical + "=" + value)
        else:
            out.append(arg)
            if i < n:
                out.append(args[i])  # the value, whatever it looks like
                i += 1
    return out


def _quote(s):
    from pyrunc.log import quote
    return quote(s)


def _given(ctx, flags):
    """Canonical name -> value of the flags given on the command line."""
    values = {}
    for flag in flags:
        key = _pyname(flag)
        source = ctx.get_parameter_source(key)
        if source is not None and source.name == "COMMANDLINE":
            value = ctx.params[key]
            if isinstance(value, tuple):
                value = list(value)
            values[flag[0][0]] = value
    return values


def _complete_ids(ctx, param, incomplete):
    """Container IDs in the state directory, for the first positional only."""
    if ctx.params.get("args"):
        return []
    root_ctx = ctx.find_root()
    root = root_ctx.params.get("root") or _parse.default_root()
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    return [CompletionItem(n) for n in names
            if n.startswith(incomplete) and os.path.isdir(os.path.join(root, n))]


def _complete_topics(ctx, param, incomplete):
    if ctx.params.get("args"):
        return []
    return [CompletionItem(n) for n in _table.COMMANDS
            if n.startswith(incomplete)]


class _Command(click.Command):
    """A table command; its callback returns the Invocation."""

    def __init__(self, name, spec, completion):
        self.table_name = name
        self.table_spec = spec
        self._index = _parse.flag_index(spec["flags"] + (_table.HELP_FLAG,))
        params = [_option(f, completion) for f in spec["flags"]]
        params.append(_option(_table.HELP_FLAG, completion))
        if name == "help":
            complete = _complete_topics
        elif spec["args_usage"].startswith(_COMPLETES_ID):
            complete = _complete_ids
        else:
            complete = None
        params.append(click.Argument(["args"], nargs=-1, required=False, shell_complete=complete))
        super().__init__(
            name,
            params=params,
            callback=self._finish,
            help=spec["description"] or spec["usage"],
            short_help=spec["usage"],
            hidden=False,
            add_help_option=False,
            context_settings={
                "allow_interspersed_args": spec["reorder"],
                "help_option_names": [],
            },
        )

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, _rewrite(args, self._index, self.table_spec["reorder"]))

    def _finish(self, **params):
        ctx = click.get_current_context()
        root = ctx.find_root()
        g = root.obj
        prog, argv0 = root.meta["pyrunc.prog"], root.meta["pyrunc.argv0"]
        name = self.table_name
        args = list(params["args"])
        if params["help"]:
            raise _Done(_parse.Invocation("help", g, {}, [], prog, argv0, name))
        if name == "help":
            topic = None
            if args:
                topic = _parse.lookup_command(args[0])
                if topic is None:
                    raise UsageError("No help topic for '%s'" % args[0], 3)
            raise _Done(_parse.Invocation("help", g, {}, [], prog, argv0, topic))
        problem = _parse.arity_error(argv0, name, len(args))
        if problem:
            raise UsageError(problem, 1)
        flags = {}
        for flag in self.table_spec["flags"]:
            key = _pyname(flag)
            value = params[key]
            if isinstance(value, tuple):
                value = list(value)
            if flag[0][0] in _table.PATH_FLAGS and value:
                value = _parse.absolute(value)
            flags[key] = value
        raise _Done(_parse.Invocation(name, g, flags, args, prog, argv0))


class _App(click.Group):
    """The application: global flags, then one table command."""

    def __init__(self, prog, completion):
        self._index = _parse.flag_index(_table.GLOBAL_FLAGS + (_table.HELP_FLAG, _table.VERSION_FLAG))
        self._global_flags = _table.GLOBAL_FLAGS + (_table.HELP_FLAG, _table.VERSION_FLAG)
        params = [_option(f, completion) for f in self._global_flags]
        super().__init__(
            prog,
            params=params,
            callback=self._no_command,
            invoke_without_command=True,
            help=_table.APP_USAGE,
            add_help_option=False,
            context_settings={"help_option_names": []},
        )
        for name, spec in _table.COMMANDS.items():
            cmd = _Command(name, spec, completion)
            self.add_command(cmd, name)
            for alias in spec["aliases"]:
                self.add_command(cmd, alias)

    def list_commands(self, ctx):
        # Table order, aliases left out.
        return list(_table.COMMANDS)

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, _rewrite(args, self._index, False))

    def invoke(self, ctx):
        # Same order as urfave + runc: -h, -v, then the global checks, then
        # the command.
        prog, argv0 = ctx.meta["pyrunc.prog"], ctx.meta["pyrunc.argv0"]
        if ctx.params["help"]:
            raise _Done(_parse.Invocation("help", _parse.Globals(), {}, [], prog, argv0, None))
        if ctx.params["version"]:
            raise _Done(_parse.Invocation("version", _parse.Globals(), {}, [], prog, argv0, None))
        ctx.obj = _parse.finish_globals(_given(ctx, self._global_flags))
        return super().invoke(ctx)

    def resolve_command(self, ctx, args):
        if not ctx.resilient_parsing and _parse.lookup_command(args[0]) is None:
            raise UsageError("No help topic for '%s'" % args[0], 3)
        return super().resolve_command(ctx, args)

    def _no_command(self, **params):
        ctx = click.get_current_context()
        if ctx.invoked_subcommand is None:
            raise _Done(_parse.Invocation("help", ctx.obj, {}, [], ctx.meta["pyrunc.prog"],
                                          ctx.meta["pyrunc.argv0"], None))


def build_app(prog="pyrunc", completion=False):
    """The click Group for `prog`; completion=True offers only conventional spellings."""
    return _App(prog, completion)


def click_parse(argv, prog, argv0=None):
    """Parse like pyrunc.cli.parse.parse, through click. UsageError on bad usage."""
    if argv0 is None:
        argv0 = prog
    app = build_app(prog)
    try:
        with app.make_context(prog, list(argv), obj=None) as ctx:
            ctx.meta["pyrunc.prog"] = prog
            ctx.meta["pyrunc.argv0"] = argv0
            app.invoke(ctx)
    except _Done as done:
        return done.invocation
    except click.ClickException as e:
        raise UsageError(e.format_message(), 1) from None
    raise UsageError("no command was run", 1)


def complete(prog, instruction=None):
    """Answer a shell-completion request (click's _<PROG>_COMPLETE protocol); returns the exit status."""
    app = build_app(prog, completion=True)
    complete_var = "_" + prog.replace("-", "_").replace(".", "_").upper() + "_COMPLETE"
    try:
        app.main(args=[], prog_name=prog, complete_var=complete_var, standalone_mode=True)
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
