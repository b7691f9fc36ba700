"""pyrunc: an OCI container runtime in Python, drop-in compatible with runc."""

__version__ = "0.1.0"

# The runtime-spec version this runtime implements (what `spec` writes and
# `--version` reports).
SPEC_VERSION = "1.3.0"
