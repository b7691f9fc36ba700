"""OCI hooks: run a hook with the container state on its stdin, honouring its timeout.

runtime-spec config.md (Hooks): "The state of the container MUST be passed to hooks
over stdin so that they may do work appropriate to the current state of the
container." and "timeout (int, OPTIONAL) is the number of seconds before aborting
the hook."
"""

import errno
import fcntl
import select
import time

from pyrunc import lean_os as os
from pyrunc import jsonio, signals
from pyrunc.errors import RuntimeFailure

# Hook output kept for the error message.
_OUTPUT_LIMIT = 4096


class StoredHook:
    """A hook as recorded in the state file (start and delete run hooks without re-reading
    config.json: runtime-spec operations use the config captured at create)."""

    __slots__ = ("path", "args", "env", "timeout")

    def __init__(self, d):
        self.path = d["path"]
        self.args = d.get("args")
        self.env = d.get("env")
        self.timeout = d.get("timeout")


def stored(raw_hooks, kind):
    return [StoredHook(d) for d in (raw_hooks or {}).get(kind) or ()]


def run_hooks(kind, hooks, state):
    """Run hooks in order; the first failure raises RuntimeFailure naming the hook."""
    if not hooks:
        return
    data = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        run_hook(kind, index, hook, data)


def run_hooks_warn(kind, hooks, state, warn):
    """Run every hook even if some fail; failures become warnings (poststop)."""
    if not hooks:
        return
    data = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        try:
            run_hook(kind, index, hook, data)
        except RuntimeFailure as e:
            warn(str(e))


def run_hook(kind, index, hook, state_bytes):
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the hook process
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            signals.reset_for_exec()
            os.execve(hook.path, hook.args or [hook.path], _env(hook.env))
        except OSError as e:
            os.write(2, f"exec {hook.path}: {e.strerror.lower()}".encode())
        finally:
            os._exit(127)
    os.close(stdin_r)
    os.close(out_w)
    _feed(stdin_w, state_bytes)
    status, output = _wait(pid, out_r, hook.timeout)
    os.close(out_r)
    # runc's wording ("error running hook #0: exit status 1"), which engines and
    # runc's tests look for; the hook kind is added for people.
    if status is None:
        raise RuntimeFailure(f"error running hook #{index} ({kind}): "
                             f"timeout after {hook.timeout}s")
    if status != 0:
        why = (f"exit status {os.waitstatus_to_exitcode(status)}" if os.WIFEXITED(status)
               else f"signal: {_signame(os.WTERMSIG(status))}")
        text = f"error running hook #{index} ({kind}): {why}"
        output = output.decode("utf-8", "replace").strip()
        if output:
            text += f", output: {output}"
        raise RuntimeFailure(text)


def _env(env):
    out = {}
    for item in env or ():
        k, sep, v = item.partition("=")
        if sep:
            out[k] = v
    return out


def _feed(fd, data):
    """Give the hook its state without ever blocking or dying on EPIPE: a hook that
    never reads its stdin (or exits at once) must not break the runtime."""
    fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)
    try:
        os.write(fd, data)
    except OSError as e:
        if e.errno not in (errno.EPIPE, errno.EAGAIN):
            raise
    finally:
        os.close(fd)


def _wait(pid, out_r, timeout):
    """Collect output until the hook exits; kill it at the timeout. (status|None, output)."""
    deadline = time.monotonic() + timeout if timeout else None
    output = b""
    open_out = True
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid:
            break
        wait = 0.05
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signals.SIGKILL)
                os.waitpid(pid, 0)
                return None, output
            wait = min(wait, left)
        if open_out:
            ready, _, _ = select.select([out_r], [], [], wait)
            if ready:
                chunk = os.read(out_r, 65536)
                if not chunk:
                    open_out = False
                elif len(output) < _OUTPUT_LIMIT:
                    output += chunk[: _OUTPUT_LIMIT - len(output)]
        elif deadline is None:
            _, status = os.waitpid(pid, 0)
            break
        else:
            time.sleep(min(wait, 0.005))
    if open_out:
        fcntl.fcntl(out_r, fcntl.F_SETFL, os.O_NONBLOCK)
        try:
            output += os.read(out_r, _OUTPUT_LIMIT)
        except BlockingIOError:
            pass
    return status, output[:_OUTPUT_LIMIT]


# How Go (and so runc) describes a death by signal.
_GO_SIGNAL_TEXT = {
    1: "hangup", 2: "interrupt", 3: "quit", 4: "illegal instruction", 5: "trace/breakpoint trap",
    6: "aborted", 7: "bus error", 8: "floating point exception", 9: "killed",
    10: "user defined signal 1", 11: "segmentation fault", 12: "user defined signal 2",
    13: "broken pipe", 14: "alarm clock", 15: "terminated", 24: "CPU time limit exceeded",
    25: "file size limit exceeded", 31: "bad system call",
}


def _signame(number):
    return _GO_SIGNAL_TEXT.get(number, "signal %d" % number)
