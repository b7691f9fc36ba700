"""JSON without the `json` package.

`import json` pulls in `re` and costs ~15 ms at start-up, more than all of
pyrunc's own work for `state`. CPython's C accelerator `_json` has a scanner
and a string encoder; this module builds a small loader and writer on them.
Output formats match Go's encoding/json as runc uses it: compact, or indented
with a given string, keys in insertion order, HTML-unsafe characters kept.
"""

try:
    import _json

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

    _scan = _json.make_scanner(_ScannerContext())
    _encode_str = _json.encode_basestring
except ImportError:  # not CPython: fall back to the full package
    _json = None
    import json as _fulljson

_WHITESPACE = " \t\n\r"


def loads(text):
    """Parse one JSON document; ValueError says where it went wrong."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if _json is None:
        return _fulljson.loads(text)
    n = len(text)
    i = 0
    while i < n and text[i] in _WHITESPACE:
        i += 1
    try:
        value, end = _scan(text, i)
        while end < n and text[end] in _WHITESPACE:
            end += 1
        if end == n:
            return value
    except (StopIteration, ValueError, SystemError, RecursionError):
        # The C scanner reports some errors through json.decoder, which is not
        # imported under -S; only now, on the error path, is the full package worth
        # loading for its message with line and column.
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


def dumps(value, indent=None):
    """Serialise like Go's json.Marshal (indent=None) or json.MarshalIndent("", indent)."""
    if _json is None:
        if indent is None:
            return _fulljson.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return _fulljson.dumps(value, indent=indent, ensure_ascii=False)
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
