"""The container every engine's first test runs: the engine's flags for identity,
environment, capabilities and a read-only root, and a script that reports them."""

FLAGS = ("--hostname=enginehost", "--env=GREETING=hello", "--user=1000:1000", "--workdir=/tmp",
         "--cap-drop=ALL", "--read-only")

SCRIPT = ('echo "$GREETING from $(hostname)"; id -u; id -g; pwd; grep CapEff /proc/self/status; '
          "touch /probe 2>/dev/null || echo read-only")


def check(lines):
    """The first six lines SCRIPT printed show FLAGS applied."""
    assert lines[:4] == ["hello from enginehost", "1000", "1000", "/tmp"]
    assert lines[4].split() == ["CapEff:", "0000000000000000"]
    assert lines[5] == "read-only"
