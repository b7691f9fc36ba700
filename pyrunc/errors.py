"""The one exception type that carries a message fit for users.

Every failure a user can cause or fix (bad config, missing container, a
refused syscall) is raised as `RuntimeFailure`. The CLI prints its message,
writes one log line, and exits with `exit_code`; no traceback unless --debug.
"""


class RuntimeFailure(Exception):
    """A failure with a sentence for users; `exit_code` is what the CLI exits with."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self):
        return self.message

    def prefixed(self, prefix):
        """This failure with `prefix` before its message (runc's "runc create failed: ")."""
        self.message = prefix + self.message
        self.args = (self.message,)
        return self


class ConfigError(RuntimeFailure):
    """config.json is unusable; the message names the field (`process.args: ...`)."""

    def __init__(self, field, reason):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class UsageError(RuntimeFailure):
    """The command line is wrong. `help_text` goes to stdout before the error, as urfave/cli does."""

    def __init__(self, message, exit_code=1, help_text=""):
        super().__init__(message, exit_code)
        self.help_text = help_text


def os_failure(err, what):
    """Turn an OSError into a RuntimeFailure naming the operation: `mount /proc: permission denied`."""
    reason = err.strerror.lower() if err.strerror else str(err)
    return RuntimeFailure(f"{what}: {reason}")
