"""Signal names and numbers without the `signal` package (it imports enum: ~5 ms),
and the reset every child does before exec."""

import _signal

# Linux x86-64/arm64 numbering (the generic one); realtime signals are RTMIN+n.
SIGNALS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
    "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
    "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21,
    "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28,
    "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}
SIGKILL = 9
SIGTERM = 15
SIGCHLD = 17


def parse_signal(text):
    """A decimal number, or a name in any case with or without SIG (runc's rules)."""
    if text.isdigit():
        number = int(text)
        if 0 <= number < 65:
            return number
    else:
        name = text.upper()
        if name.startswith("SIG"):
            name = name[3:]
        if name in SIGNALS:
            return SIGNALS[name]
        if name.startswith("RTMIN"):
            return _realtime(name[5:], _signal.SIGRTMIN, 1)
        if name.startswith("RTMAX"):
            return _realtime(name[5:], _signal.SIGRTMAX, -1)
    from pyrunc.errors import RuntimeFailure

    raise RuntimeFailure(f'unknown signal "{text}"')


def _realtime(offset, base, direction):
    from pyrunc.errors import RuntimeFailure

    if not offset:
        return base
    if offset[0] in "+-" and offset[1:].isdigit():
        n = base + int(offset)
        if _signal.SIGRTMIN <= n <= _signal.SIGRTMAX:
            return n
    raise RuntimeFailure(f'unknown signal "RT{"MIN" if direction > 0 else "MAX"}{offset}"')


# What a foreground runtime passes on to the process it waits for (runc forwards
# every signal it can; SIGCHLD is its own business, KILL/STOP cannot be caught).
FORWARDED = (1, 2, 3, 10, 12, 14, 15, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)


def forward_to(pid):
    """Install handlers that send what the runtime receives on to `pid`."""
    import posix as os

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in FORWARDED:
        _signal.signal(signum, forward)


def exit_status(status):
    """A wait status as a shell reports it: the exit code, or 128+N if killed by N."""
    import posix as os

    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def reset_for_exec():
    """Default dispositions and an empty mask, as a fresh process expects.

    CPython ignores SIGPIPE and SIGXFSZ at start-up and ignored dispositions survive
    execve, so without this a container's `yes | head` would behave differently than
    under runc.
    """
    for number in range(1, _signal.NSIG):
        if number in (SIGKILL, 19):
            continue
        try:
            if _signal.getsignal(number) is not _signal.SIG_DFL:
                _signal.signal(number, _signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    _signal.pthread_sigmask(_signal.SIG_SETMASK, [])
