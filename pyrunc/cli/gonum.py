"""Go's number and duration syntax, as runc's flag parsing accepts it: strconv's
ParseUint/ParseInt with base 0 (0x, 0o, 0b prefixes, leading-0 octal,
underscores between digits) and time.ParseDuration. Loaded by cli.parse only
when a flag takes a number or a duration.
"""

from pyrunc.log import quote as _go_quote


class NumError(Exception):
    """strconv's two failures: reason is "invalid syntax" or "value out of range"."""

    SYNTAX = "invalid syntax"
    RANGE = "value out of range"

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


_SYNTAX = NumError.SYNTAX
_RANGE = NumError.RANGE


def _underscores_ok(s):
    # Go: underscores may only separate digits, or follow a base prefix.
    if s[:1] in ("+", "-"):
        s = s[1:]
    last = "^"  # ^ start, 0 digit or prefix, _ underscore, ! anything else
    start = 0
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        start = 2
        last = "0"
        hexa = s[1] in "xX"
    for ch in s[start:]:
        if "0" <= ch <= "9" or (hexa and ch in "abcdefABCDEF"):
            last = "0"
        elif ch == "_":
            if last != "0":
                return False
            last = "_"
        elif last == "_":
            return False
        else:
            last = "!"
    return last != "_"


def parse_uint(s, bits=64):
    """strconv.ParseUint(s, 0, bits): 0x/0o/0b prefixes, leading-0 octal, underscores."""
    if not s:
        raise NumError(_SYNTAX)
    whole = s
    base = 10
    if s[0] == "0":
        if len(s) >= 3 and s[1] in "bB":
            base, s = 2, s[2:]
        elif len(s) >= 3 and s[1] in "oO":
            base, s = 8, s[2:]
        elif len(s) >= 3 and s[1] in "xX":
            base, s = 16, s[2:]
        else:
            base, s = 8, s[1:]
    limit = 1 << bits
    n = 0
    underscores = False
    for ch in s:
        if ch == "_":
            underscores = True
            continue
        if "0" <= ch <= "9":
            d = ord(ch) - 48
        elif "a" <= ch <= "z":
            d = ord(ch) - 87
        elif "A" <= ch <= "Z":
            d = ord(ch) - 55
        else:
            raise NumError(_SYNTAX)
        if d >= base:
            raise NumError(_SYNTAX)
        n = n * base + d
        if n >= limit:
            raise NumError(_RANGE)
    if underscores and not _underscores_ok(whole):
        raise NumError(_SYNTAX)
    return n


def parse_int(s, bits=64):
    """strconv.ParseInt(s, 0, bits)."""
    if not s:
        raise NumError(_SYNTAX)
    negative = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    n = parse_uint(body, bits)
    cutoff = 1 << (bits - 1)
    if (not negative and n >= cutoff) or (negative and n > cutoff):
        raise NumError(_RANGE)
    return -n if negative else n


_UNITS = {
    "ns": 1,
    "us": 1000,
    "\u00b5s": 1000,  # micro sign
    "\u03bcs": 1000,  # Greek mu
    "ms": 1000000,
    "s": 1000000000,
    "m": 60000000000,
    "h": 3600000000000,
}


def parse_duration(s):
    """time.ParseDuration -> float seconds; ValueError if `s` is not a Go duration.

    Grammar: [-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+ with units ns us µs ms s m h;
    a bare "0" is the only number allowed without a unit.
    """
    orig = s
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError("invalid duration " + _go_quote(orig))
    total = 0  # nanoseconds, exact
    i = 0
    n = len(s)
    while i < n:
        if not (s[i] == "." or "0" <= s[i] <= "9"):
            raise ValueError("invalid duration " + _go_quote(orig))
        start = i
        while i < n and "0" <= s[i] <= "9":
            i += 1
        whole = s[start:i]
        fraction = ""
        has_fraction = False
        if i < n and s[i] == ".":
            i += 1
            fstart = i
            while i < n and "0" <= s[i] <= "9":
                i += 1
            fraction = s[fstart:i]
            has_fraction = bool(fraction)
        if not whole and not has_fraction:
            raise ValueError("invalid duration " + _go_quote(orig))
        ustart = i
        while i < n and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        unit = _UNITS.get(s[ustart:i])
        if unit is None:
            raise ValueError("invalid duration " + _go_quote(orig))
        value = int(whole or "0") * unit
        if fraction:
            value += int(fraction) * unit // (10 ** len(fraction))
        total += value
        if total > 1 << 63:
            raise ValueError("invalid duration " + _go_quote(orig))
    if not negative and total > (1 << 63) - 1:
        raise ValueError("invalid duration " + _go_quote(orig))
    return (-total if negative else total) / 1e9
