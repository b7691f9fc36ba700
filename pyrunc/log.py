"""runc-style log lines, written without the `logging` package.

runc logs through logrus; engines parse what it writes, so pyrunc writes the
same two formats (cli.md §7, callers.md §1):

  text  time="2026-11-22T18:17:10Z" level=error msg="container does not exist"
  json  {"level":"error","msg":"container does not exist","time":"2026-11-22T18:17:10Z"}

The destination is `--log FILE` (opened O_APPEND, never truncated) or stderr.
The file is opened on the first line written, so a successful call that logs
nothing does not even create it. containerd keeps the msg of the last
`"level":"error"` line and podman parses the whole file as ONE JSON object,
so a failing call must write exactly one error line: callers log the final
error once, in main.

Every line goes out in a single os.write on an O_APPEND descriptor: a process
forked from pyrunc (the container's init before exec) may log through the
same descriptor, and whole-line writes keep the lines from interleaving.

`logging` costs ~19 ms to import; this module imports only builtins.
"""

import sys
import time

from pyrunc import lean_os as os

DEBUG = "debug"
INFO = "info"
WARNING = "warning"
ERROR = "error"
FATAL = "fatal"

_path = ""          # "" = stderr
_json_format = False
_debug = False
_fd = -1            # -1 = not opened yet
_owned = False      # True when _fd is the --log file we opened

# runc opens its log with O_SYNC: the engine reads the file right after the
# runtime exits. O_CLOEXEC keeps the descriptor out of the container process.
_OPEN_FLAGS = os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_SYNC | os.O_CLOEXEC


def configure(path="", fmt="text", debug=False):
    """Choose destination, format ("text" or "json") and whether debug lines are written."""
    global _path, _json_format, _debug, _fd, _owned
    if _owned and _fd >= 0:
        try:
            os.close(_fd)
        except OSError:
            pass
    _path = path or ""
    _json_format = fmt == "json"
    _debug = bool(debug)
    _fd = -1
    _owned = False


def is_stderr():
    """True when log lines end up on stderr (no --log, or it could not be opened)."""
    return not _path or (_fd == 2 and not _owned)


def debug_enabled():
    return _debug


def is_json():
    return _json_format


def prepare():
    """Open the destination now and return its fd.

    For code about to fork, chroot or pivot_root: the path may not be
    reachable afterwards, and a forked child can keep logging through the fd.
    """
    if _fd < 0:
        _open()
    return _fd


def forget():
    """Drop the descriptor without closing it (a forked child closed its fds).

    The next line reopens the destination by path.
    """
    global _fd, _owned
    _fd = -1
    _owned = False


def debug(msg):
    if _debug:
        _emit(DEBUG, msg, 2)


def info(msg):
    _emit(INFO, msg, 2)


def warning(msg):
    _emit(WARNING, msg, 2)


def error(msg):
    _emit(ERROR, msg, 2)


def fatal(msg):
    _emit(FATAL, msg, 2)


def write(level, msg):
    """Write one line at `level` (one of the level constants); debug lines only with --debug."""
    if level == DEBUG and not _debug:
        return
    _emit(level, msg, 2)


def _open():
    global _fd, _owned
    if not _path:
        _fd = 2
        _owned = False
        return
    try:
        _fd = os.open(_path, _OPEN_FLAGS, 0o644)
        _owned = True
    except OSError as e:
        # runc would have failed at start-up; by now the command has run, so
        # keep the message rather than lose it, and say where it went.
        _fd = 2
        _owned = False
        reason = e.strerror.lower() if e.strerror else str(e)
        _send(_format(WARNING, "open %s: %s; logging to stderr" % (_path, reason), None))


def _emit(level, msg, depth):
    # depth: how many frames up the code that asked for the line sits
    # (0 = _emit, 1 = error()/debug()/..., 2 = their caller).
    if _fd < 0:
        _open()
    caller = None
    if _debug:
        try:
            frame = sys._getframe(depth)
            caller = (
                "%s:%d" % (frame.f_code.co_filename, frame.f_lineno),
                "%s.%s" % (frame.f_globals.get("__name__", "?"), frame.f_code.co_name),
            )
        except ValueError:
            caller = None
    _send(_format(level, str(msg), caller))


def _send(line):
    data = line.encode("utf-8", "backslashreplace")
    fd = _fd if _fd >= 0 else 2
    while data:
        try:
            n = os.write(fd, data)
        except OSError:
            return
        data = data[n:]


def timestamp():
    """Current time as RFC 3339 in UTC, whole seconds (what logrus writes)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _format(level, msg, caller):
    now = timestamp()
    if _json_format:
        # logrus's JSONFormatter: keys sorted, Go's HTML-safe escaping.
        parts = []
        if caller is not None:
            parts.append('"file":' + _json_str(caller[0]))
            parts.append('"func":' + _json_str(caller[1]))
        parts.append('"level":"' + level + '"')
        parts.append('"msg":' + _json_str(msg))
        parts.append('"time":"' + now + '"')
        return "{" + ",".join(parts) + "}\n"
    line = 'time="' + now + '" level=' + level + " msg=" + _logfmt_value(msg)
    if caller is not None:
        line += " func=" + _logfmt_value(caller[1]) + " file=" + _logfmt_value(caller[0])
    return line + "\n"


def _json_str(s):
    from pyrunc import jsonio  # only for json lines: most calls log nothing

    text = jsonio.dumps(s)
    # encoding/json escapes these by default (logrus keeps the default), so a
    # reader comparing bytes with runc's output sees the same text.
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text


# Characters logrus leaves unquoted in a text-format value.
_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


def _logfmt_value(s):
    for ch in s:
        if ch not in _BARE:
            return quote(s)
    if not s:
        # logrus writes an empty value bare; quoting it keeps the line parseable.
        return '""'
    return s


_SHORT_ESCAPES = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
    "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\",
}


def quote(s):
    """Go's %q / strconv.Quote: double quotes, backslash escapes, printable Unicode kept."""
    out = ['"']
    for ch in s:
        esc = _SHORT_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable():
            out.append(ch)
        else:
            cp = ord(ch)
            if cp < 0x80:
                out.append("\\x%02x" % cp)
            elif cp < 0x10000:
                out.append("\\u%04x" % cp)
            else:
                out.append("\\U%08x" % cp)
    out.append('"')
    return "".join(out)


def _apply_recorded_options():
    # main records the command line's options before any command runs and loads
    # this module only when something is logged (see pyrunc.main._configure_log).
    import pyrunc

    if pyrunc.log_options is not None:
        configure(*pyrunc.log_options)


_apply_recorded_options()
