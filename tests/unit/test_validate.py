"""`pyrunc validate` (pyrunc.commands.validate)."""

import json
import os

import pytest

from pyrunc.commands import validate
from pyrunc.errors import ConfigError, RuntimeFailure


class FakeInv:
    """The bits of an invocation the command reads."""

    def __init__(self, bundle="", warn=None):
        self.flags = {"bundle": bundle}
        self.globals = {}
        if warn is not None:
            self.warn = warn


def spec_config():
    return {
        "ociVersion": "1.3.0",
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
        },
    }


@pytest.fixture
def bundle(tmp_path):
    """write(config) -> bundle path; a dict is dumped as JSON, a str/bytes is written as is."""

    def write(config):
        blob = config if isinstance(config, (str, bytes)) else json.dumps(config)
        (tmp_path / "config.json").write_bytes(blob.encode() if isinstance(blob, str) else blob)
        return str(tmp_path)

    return write


def run_failing(inv):
    with pytest.raises(RuntimeFailure) as info:
        validate.run(inv)
    return info.value


def test_valid_config_prints_nothing(bundle, capsys):
    assert validate.run(FakeInv(bundle(spec_config()))) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_bundle_defaults_to_cwd(bundle, monkeypatch, capsys):
    path = bundle(spec_config())
    monkeypatch.chdir(path)
    assert validate.run(FakeInv("")) == 0
    inv = FakeInv()
    inv.flags = {}
    assert validate.run(inv) == 0


def test_warnings_go_to_inv_warn_or_stderr(bundle, capsys):
    cfg = spec_config()
    cfg["process"]["capabilities"]["bounding"].append("CAP_TEST")
    path = bundle(cfg)
    seen = []
    assert validate.run(FakeInv(path, warn=seen.append)) == 0
    assert seen == ['unknown capability "CAP_TEST" ignored']
    assert validate.run(FakeInv(path)) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == 'warning: unknown capability "CAP_TEST" ignored\n'


def test_schema_problem_names_the_field(bundle, capsys):
    cfg = spec_config()
    cfg["linux"]["resources"]["hugepageLimits"] = [{"limit": 1, "pageSize": "64kB"}]
    err = run_failing(FakeInv(bundle(cfg)))
    assert err.exit_code == 1
    assert str(err) == (
        "config.json is not valid: linux.resources.hugepageLimits[0].pageSize: "
        "'64kB' does not match '^[1-9][0-9]*[KMG]B$'"
    )
    out, _ = capsys.readouterr()
    assert out == "linux.resources.hugepageLimits[0].pageSize: '64kB' does not match '^[1-9][0-9]*[KMG]B$'\n"


def test_every_schema_problem_is_reported(bundle, capsys):
    cfg = spec_config()
    cfg["hostname"] = 5
    cfg["process"]["user"]["uid"] = -1
    cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": 1}
    cfg["linux"]["namespaces"].append({"type": "foo"})
    del cfg["root"]["path"]
    err = run_failing(FakeInv(bundle(cfg)))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "hostname: must be a string",
        'linux.namespaces[5].type: \'foo\' is not one of '
        "['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time']",
        'linux.sysctl["net.ipv4.ip_forward"]: must be a string',
        "process.user.uid: -1 is less than the minimum of 0",
        "root.path: is required",
    ]
    assert str(err) == "config.json is not valid: hostname: must be a string (5 problems in total)"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.update(ociVersion="invalid"), 'ociVersion: "invalid" is not a SemVer 2.0.0 version'),
        (lambda c: c.update(ociVersion="2.0.0"), 'ociVersion: unsupported version "2.0.0"'),
        (
            lambda c: c["process"]["rlimits"].append({"type": "RLIMIT_TEST", "soft": 1, "hard": 1}),
            'process.rlimits[1].type: unknown rlimit "RLIMIT_TEST"',
        ),
        (
            lambda c: c["linux"]["namespaces"].append({"type": "pid"}),
            'linux.namespaces[5].type: duplicate namespace type "pid"',
        ),
        (lambda c: c["process"].update(cwd="tmp"), "process.cwd: Cwd must be an absolute path"),
        (lambda c: c["process"].update(args=[]), "process.args: args must not be empty"),
        (lambda c: c.pop("root"), "root: root must be specified"),
    ],
)
def test_semantic_problems_after_the_schema(bundle, capsys, edit, message):
    cfg = spec_config()
    edit(cfg)
    err = run_failing(FakeInv(bundle(cfg)))
    assert str(err).startswith(f"config.json is not valid: {message}")
    assert capsys.readouterr().out.startswith(message)


def test_missing_config(tmp_path):
    err = run_failing(FakeInv(str(tmp_path)))
    assert str(err) == "JSON specification file config.json not found"


def test_invalid_json(bundle):
    err = run_failing(FakeInv(bundle("{\n  \"ociVersion\": \"1.0.0\",\n]")))
    assert isinstance(err, ConfigError)
    assert str(err).startswith("config.json: invalid JSON: ")
    assert "line 3 column 1" in str(err)


def test_null_config(bundle, capsys):
    err = run_failing(FakeInv(bundle("null")))
    assert str(err) == "config.json is not valid: config cannot be null"


def test_floats_are_not_integers(bundle, capsys):
    cfg = spec_config()
    cfg["process"]["user"]["uid"] = 0.0
    err = run_failing(FakeInv(bundle(cfg)))
    assert str(err) == "config.json is not valid: process.user.uid: must be an integer"


def test_other_platform_sections_are_checked(bundle, capsys):
    cfg = spec_config()
    cfg["freebsd"] = {"jail": {"vnet": "disable"}}
    err = run_failing(FakeInv(bundle(cfg)))
    assert str(err) == "config.json is not valid: freebsd.jail.vnet: 'disable' is not one of ['new', 'inherit']"


def test_check_config_api():
    assert validate.check_config(spec_config()) == ([], [])
    assert validate.check_config(None) == ([("", "config cannot be null")], [])
    problems, _ = validate.check_config({"ociVersion": "1.0.0", "linux": {"netDevices": {"eth0": {"name": 23}}}})
    assert problems == [('linux.netDevices["eth0"].name', "must be a string")]


# ---------------------------------------------------------------- schema files


def test_schema_dir_in_a_checkout():
    here = validate.schema_dir()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert os.path.samefile(here, os.path.join(repo, "schemas"))
    assert sorted(validate.load_schemas(here)) == [
        "config.schema.json",
        "defs.schema.json",
        "features.schema.json",
        "state.schema.json",
    ]


def test_schema_dir_prefers_the_installed_copy(tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "pyrunc"
    (pkg / "commands").mkdir(parents=True)
    (pkg / "schemas").mkdir()
    (pkg / "schemas" / "config.schema.json").write_text("{}")
    (tmp_path / "site" / "schemas").mkdir()
    (tmp_path / "site" / "schemas" / "config.schema.json").write_text("{}")
    monkeypatch.setattr(validate, "__file__", str(pkg / "commands" / "validate.py"))
    assert validate.schema_dir() == str(pkg / "schemas")
    (pkg / "schemas" / "config.schema.json").unlink()
    assert validate.schema_dir() == str(tmp_path / "site" / "schemas")
    (tmp_path / "site" / "schemas" / "config.schema.json").unlink()
    with pytest.raises(RuntimeFailure) as info:
        validate.schema_dir()
    assert "cannot find pyrunc's JSON schemas" in str(info.value)


def test_schemas_declare_draft_2020_12():
    for name, doc in validate.load_schemas().items():
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert "title" in doc, name


def test_state_and_features_validators():
    state = validate.make_validator(validate.STATE_SCHEMA)
    runc_state = {
        "ociVersion": "1.3.0",
        "id": "c1",
        "pid": 0,
        "status": "paused",
        "bundle": "/b",
        "rootfs": "/b/rootfs",
        "created": "2026-11-22T17:56:33.82027121Z",
        "owner": "",
    }
    assert state.is_valid(runc_state)
    assert not state.is_valid(dict(runc_state, status="gone"))
    assert not state.is_valid(dict(runc_state, pid=-1))
    features = validate.make_validator(validate.FEATURES_SCHEMA)
    assert features.is_valid({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "linux": {"namespaces": ["time"]}})
    assert not features.is_valid({"ociVersionMin": "1.0.0"})
    with pytest.raises(RuntimeFailure):
        validate.make_validator("nope.schema.json")


@pytest.mark.parametrize(
    "instance_path, schema_path, expected",
    [
        (["linux", "sysctl", "a.b"], ["properties", "linux", "properties", "sysctl", "patternProperties", ".{1,}", "type"],
         'linux.sysctl["a.b"]'),
        (["linux", "netDevices", "eth0", "name"],
         ["properties", "linux", "properties", "netDevices", "additionalProperties", "properties", "name", "type"],
         'linux.netDevices["eth0"].name'),
        (["mounts", 3, "destination"], ["properties", "mounts", "items", "properties", "destination", "type"],
         "mounts[3].destination"),
        (["a", 0, "b"], ["properties", "a", "items", "allOf", 1, "properties", "b", "type"], "a[0].b"),
        (["properties", "x"], ["properties", "properties", "properties", "x", "type"], "properties.x"),
        ([], ["required"], ""),
        (["a", "b"], [], "a.b"),
    ],
)
def test_format_path(instance_path, schema_path, expected):
    assert validate.format_path(instance_path, schema_path) == expected
