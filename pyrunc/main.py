"""The `pyrunc` entry point: parse, configure logging, dispatch, report errors.

Each command is a function `run(inv) -> int`, in a module imported only when
that command runs, so `state` never pays for `create`: `pyrunc.commands.<name>`,
or the module the command table names as the command's handler.

Output contract (cli.md §3, §7; callers.md §1):
- help and version go to stdout, exit 0;
- a usage error prints its help text on stdout first, as urfave does;
- every failure is logged once at error level (json: exactly ONE line in
  --log, which is what podman and containerd read) and, when the log is not
  stderr, also printed bare on stderr, where conmon and CRI-O look;
- exit codes: the command's, 1 for failures, 3 for an unknown command,
  130 on Ctrl-C.

Shell completion goes through click's own mechanism, keyed on the program
name: `eval "$(_PYRUNC_COMPLETE=bash_source pyrunc)"` (zsh_source,
fish_source likewise); see pyrunc.cli.clickapp. Only then is click imported.
"""

import sys

from pyrunc import lean_os as os


def main(argv=None, prog=None):
    """Run pyrunc and exit. `argv` excludes the program name (default: sys.argv[1:])."""
    # A runtime call lives for milliseconds and makes no reference cycles worth
    # collecting; the cyclic GC would only walk the objects that imports create.
    import gc

    gc.disable()
    exit_now(execute(argv, prog))


def exit_now(status):
    """Exit without finalising the interpreter.

    Tearing down the modules costs over a millisecond, a tenth of a whole `state`
    call, and a runtime call owns nothing the kernel does not release by itself
    (fds, memory, locks). Only Python's own buffers need writing out; when that
    fails the status is 120, as the interpreter's own exit would make it.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is None or getattr(stream, "closed", True):
            continue
        try:
            stream.flush()
        except (ValueError, OSError):
            status = status or 120
    os._exit(status)


def _names(argv, prog):
    # argv[0] as invoked is what runc names in arity errors; help texts use its basename.
    if prog is not None:
        argv0 = prog
    elif sys.argv and sys.argv[0]:
        argv0 = sys.argv[0]
    else:
        argv0 = "pyrunc"
    if argv is None:
        argv = sys.argv[1:]
    base = argv0.rstrip("/").rsplit("/", 1)[-1] or "pyrunc"
    return list(argv), base, argv0


# The commands the launcher starts with the garbage collector off: each does its
# set-up and exits, or (run, exec in the foreground) turns it on once it waits
# on the container. They live a few milliseconds and make next to no garbage that
# reference counting does not free, while a collection every 700 allocations
# (reading the module pack makes thousands) cost `state` about 1.5 % of its time.
SET_UP_AND_EXIT = frozenset(("create", "run", "exec", "start", "state", "kill", "delete"))


def collect_garbage():
    """Turn the collector back on: from here on, the command may run for long.

    Everything set-up made is frozen first (moved out of the generations the
    collector walks). Otherwise the first collection after gc.enable() would walk
    every object since start, all still in generation 0: about 1 ms, which `run`
    spent while its container was already running `true` and exiting."""
    import gc

    gc.freeze()
    gc.enable()


def execute(argv=None, prog=None):
    """Run one command line and return the exit status (for tests and embedding)."""
    argv, prog, argv0 = _names(argv, prog)
    completion = _completion_request(prog)
    if completion:
        try:
            from pyrunc.cli import clickapp
        except ImportError as e:
            # The -I -S launcher may not see site-packages; say so instead of a traceback.
            _stderr("shell completion needs the click package: %s\n" % e)
            return 1
        return clickapp.complete(prog, completion)

    from pyrunc.errors import RuntimeFailure, UsageError

    try:
        try:
            from pyrunc.cli.parse import parse

            inv = parse(argv, prog, argv0, on_globals=_configure_log)
            if inv.command == "help":
                from pyrunc.cli import helptext
                _stdout(helptext.help_text(prog, inv.help_topic))
                return 0
            if inv.command == "version":
                from pyrunc.cli import helptext
                _stdout(helptext.version_text())
                return 0
            if inv.command not in SET_UP_AND_EXIT:
                collect_garbage()
            status = _handler(inv.command)(inv)
            return 0 if status is None else status
        except UsageError as e:
            if e.help_text:
                _stdout(e.help_text)
            _report(e.message)
            return e.exit_code
        except RuntimeFailure as e:
            _report(e.message)
            return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our stdout went away (`pyrunc list | head`); nothing
        # useful can be said any more.
        return 1
    except SystemExit:
        raise
    except Exception as e:  # a bug: say what, keep the traceback for --debug
        message = "internal error: %s: %s" % (type(e).__name__, e)
        _report(message)
        from pyrunc import log

        if log.debug_enabled():
            import traceback
            _stderr(traceback.format_exc())
        return 1


def _configure_log(g):
    # Recorded, not applied: pyrunc.log applies them when it is first loaded, so a
    # command that logs nothing (`state`, a successful `kill`) never loads it.
    import pyrunc

    pyrunc.log_options = (g.log, g.log_format, g.debug)
    log = sys.modules.get("pyrunc.log")
    if log is not None:  # loaded already (tests, embedding): apply them now
        log.configure(*pyrunc.log_options)


def _handler(name):
    from pyrunc.cli.table import COMMANDS

    target = COMMANDS[name].get("handler")
    if target is None:
        return _command_module(name).run
    module, _, function = target.partition(":")
    __import__(module)
    return getattr(sys.modules[module], function)


def _command_module(name):
    from pyrunc.errors import RuntimeFailure

    modname = "pyrunc.commands." + name
    try:
        __import__(modname)
    except ModuleNotFoundError as e:
        # Only the command's own module missing means "not there yet"; a
        # missing import inside it is a bug and must surface as one.
        if e.name != modname:
            raise
        raise RuntimeFailure('"%s" is not supported by pyrunc yet' % name) from None
    return sys.modules[modname]


def _report(message):
    from pyrunc import log

    log.error(message)
    if not log.is_stderr():
        _stderr(message + "\n")


def _completion_request(prog):
    # click's variable name for a program: _<PROG>_COMPLETE, upper case, '-'
    # and '.' as '_'. Only shell completion sets it.
    key = "_" + prog.replace("-", "_").replace(".", "_").upper() + "_COMPLETE"
    # From the bytes environment: decoding all of it would cost more than this call.
    return os.environb.get(key.encode(), b"").decode("utf-8", "surrogateescape")


def _write_all(fd, text):
    data = text.encode("utf-8", "surrogateescape")
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _stdout(text):
    # Commands may have buffered output in sys.stdout; keep the order.
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError):
        pass
    _write_all(1, text)


def _stderr(text):
    try:
        _write_all(2, text)
    except OSError:
        pass


if __name__ == "__main__":
    main(prog="pyrunc")
