"""pyrunc: an OCI container runtime in Python, drop-in compatible with runc."""

__version__ = "0.1.0"

# The runtime-spec version this runtime implements (what `spec` writes and
# `--version` reports).
SPEC_VERSION = "1.3.0"

# --log, --log-format and --debug of this call, as (path, format, debug); recorded
# by pyrunc.main and applied by pyrunc.log when it is loaded (see log.configure).
log_options = None
