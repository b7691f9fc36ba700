"""`features` reports what the code's own tables say."""

import json

from pyrunc import rootfs
from pyrunc.commands import features
from pyrunc.spec import tables


def test_features_come_from_the_tables():
    f = features.features()
    assert f["ociVersionMin"] == tables.SPEC_VERSION_MIN
    assert f["ociVersionMax"] == tables.SPEC_VERSION_MAX
    assert f["hooks"] == list(tables.HOOK_NAMES)
    assert set(rootfs.MOUNT_OPTIONS) <= set(f["mountOptions"])
    assert f["linux"]["capabilities"][0] == "CAP_CHOWN"
    assert len(f["linux"]["capabilities"]) == len(tables.CAPABILITIES)
    assert "user" not in f["linux"]["namespaces"]  # not implemented: not claimed
    assert "time" not in f["linux"]["namespaces"]
    assert "SCMP_ACT_NOTIFY" in f["linux"]["seccomp"]["actions"]  # seccomp agents


def test_features_output_is_four_space_json(capfd):
    class Inv:
        flags = {}
        args = []

    assert features.run(Inv()) == 0
    out = capfd.readouterr().out
    assert out.endswith("}\n")
    assert out.splitlines()[1].startswith('    "ociVersionMin"')
    assert json.loads(out)["linux"]["seccomp"]["enabled"] is True
