"""JSON without the `json` package.

`import json` pulls in `re` and costs ~15 ms at start-up, more than all of
pyrunc's own work for `state`. The reader is built on CPython's C scanner in
`_json`, loaded on the first parse: `_json` is a shared library whose loading
costs about 0.3 ms, a third of what `state` or `kill` may spend on top of the
interpreter, and those commands only ever write JSON. The writer is plain
Python. Output formats match Go's encoding/json as runc uses it: compact, or
indented with a given string, keys in insertion order, HTML-unsafe characters
kept.
"""

_scan = None  # _json's scanner, made by the first loads()

_WHITESPACE = " \t\n\r"


class _ScannerContext:
    """The attributes `_json.make_scanner` reads from its context object."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = None
    memo = {}

    def __init__(self):
        def bad_constant(name):
            raise ValueError(f"invalid JSON constant {name}")

        self.parse_constant = bad_constant


def _scanner():
    global _scan
    if _scan is None:
        try:
            import _json
        except ImportError:  # not CPython: the full package does all the work
            return None
        _scan = _json.make_scanner(_ScannerContext())
    return _scan


def loads(text):
    """Parse one JSON document; ValueError says where it went wrong."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    scan = _scanner()
    if scan is not None:
        n = len(text)
        i = 0
        while i < n and text[i] in _WHITESPACE:
            i += 1
        try:
            value, end = scan(text, i)
            while end < n and text[end] in _WHITESPACE:
                end += 1
            if end == n:
                return value
        except (StopIteration, ValueError, SystemError, RecursionError):
            # The C scanner reports some errors through json.decoder, which is not
            # imported under -S; only now, on the error path, is the full package
            # worth loading for its message with line and column.
            pass
    import json as _fulljson

    def bad_constant(name):
        raise ValueError(f"invalid JSON: {name} is not a JSON value")

    try:
        return _fulljson.loads(text, parse_constant=bad_constant)
    except _fulljson.JSONDecodeError as e:
        raise ValueError(f"invalid JSON: {e}") from None


def load_file(path):
    with open(path, "rb") as f:
        return loads(f.read())


# What encoding/json (and _json.encode_basestring, which this replaces) escapes in
# a string: the quote, the backslash and the control characters below 0x20.
_ESCAPES = {c: "\\u%04x" % c for c in range(0x20)}
_ESCAPES.update({0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f",
                 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})


def _encode_str(s):
    return '"' + s.translate(_ESCAPES) + '"'


def dumps(value, indent=None):
    """Serialise like Go's json.Marshal (indent=None) or json.MarshalIndent("", indent)."""
    out = []
    _write(value, out, indent, "\n")
    return "".join(out)


def _write(value, out, indent, newline):
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(repr(value) if value != int(value) else str(int(value)))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        inner = newline + indent if indent is not None else ""
        sep = ": " if indent is not None else ":"
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(inner)
            out.append(_encode_str(str(k)))
            out.append(sep)
            _write(v, out, indent, inner or newline)
        if indent is not None:
            out.append(newline)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        inner = newline + indent if indent is not None else ""
        first = True
        for v in value:
            if not first:
                out.append(",")
            first = False
            out.append(inner)
            _write(v, out, indent, inner or newline)
        if indent is not None:
            out.append(newline)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
