"""`pyrunc spec`: runc 1.5.1's starter config.json (cli.md §6 "spec")."""

import glob
import json
import os
import stat

import pytest

import pyrunc
from pyrunc import jsonio
from pyrunc.cli.parse import parse
from pyrunc.commands import spec
from pyrunc.errors import RuntimeFailure

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = os.path.join(os.path.dirname(REPO), "shared", "runtime-spec")

CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def invocation(*argv):
    return parse(["spec", *argv], "pyrunc")


def test_default_config_content():
    c = spec.default_config(unified=False)
    assert list(c) == ["ociVersion", "process", "root", "hostname", "mounts", "linux"]
    assert c["ociVersion"] == pyrunc.SPEC_VERSION == "1.3.0"
    p = c["process"]
    assert list(p) == ["terminal", "user", "args", "env", "cwd", "capabilities", "rlimits",
                       "noNewPrivileges"]
    assert p["terminal"] is True
    assert p["user"] == {"uid": 0, "gid": 0}
    assert p["args"] == ["sh"]
    assert p["env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "TERM=xterm"]
    assert p["cwd"] == "/"
    # No inheritable or ambient set since the CVE-2022-29162 fix.
    assert p["capabilities"] == {"bounding": CAPS, "effective": CAPS, "permitted": CAPS}
    assert p["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    assert p["noNewPrivileges"] is True
    assert c["root"] == {"path": "rootfs", "readonly": True}
    assert c["hostname"] == "runc"
    assert [(m["destination"], m["type"], m["source"]) for m in c["mounts"]] == [
        ("/proc", "proc", "proc"),
        ("/dev", "tmpfs", "tmpfs"),
        ("/dev/pts", "devpts", "devpts"),
        ("/dev/shm", "tmpfs", "shm"),
        ("/dev/mqueue", "mqueue", "mqueue"),
        ("/sys", "sysfs", "sysfs"),
        ("/sys/fs/cgroup", "cgroup", "cgroup"),
    ]
    assert "options" not in c["mounts"][0]
    assert c["mounts"][1]["options"] == ["nosuid", "strictatime", "mode=755", "size=65536k"]
    assert c["mounts"][2]["options"] == ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                         "mode=0620", "gid=5"]
    assert c["mounts"][3]["options"] == ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
    assert c["mounts"][4]["options"] == ["nosuid", "noexec", "nodev"]
    assert c["mounts"][5]["options"] == ["nosuid", "noexec", "nodev", "ro"]
    assert c["mounts"][6]["options"] == ["nosuid", "noexec", "nodev", "relatime", "ro"]
    assert all(list(m)[:3] == ["destination", "type", "source"] for m in c["mounts"])
    linux = c["linux"]
    assert list(linux) == ["resources", "namespaces", "maskedPaths", "readonlyPaths"]
    assert linux["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}
    assert linux["namespaces"] == [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
    assert linux["maskedPaths"] == [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi"]
    assert linux["readonlyPaths"] == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"]


def test_cgroup_namespace_only_on_pure_v2_host():
    names = [ns["type"] for ns in spec.default_config(unified=True)["linux"]["namespaces"]]
    assert names == ["pid", "network", "ipc", "uts", "mount", "cgroup"]


def test_cgroup2_detection(tmp_path):
    assert not spec.cgroup2_unified(str(tmp_path))
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert spec.cgroup2_unified(str(tmp_path))


def test_rootless_config():
    c = spec.default_config(rootless=True, unified=False, euid=1234, egid=5678)
    linux = c["linux"]
    assert list(linux) == ["uidMappings", "gidMappings", "namespaces", "maskedPaths",
                           "readonlyPaths"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 1234, "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": 5678, "size": 1}]
    assert [ns["type"] for ns in linux["namespaces"]] == ["pid", "ipc", "uts", "mount", "user"]
    sys_mount = [m for m in c["mounts"] if m["destination"] == "/sys"]
    assert sys_mount == [{"destination": "/sys", "type": "none", "source": "/sys",
                          "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}]
    for m in c["mounts"]:
        assert not any(o.startswith(("uid=", "gid=")) for o in m.get("options", ()))
    names = [ns["type"] for ns in spec.default_config(rootless=True, unified=True)["linux"]["namespaces"]]
    assert names == ["pid", "ipc", "uts", "mount", "cgroup", "user"]


def test_rootless_uses_effective_ids():
    c = spec.default_config(rootless=True)
    assert c["linux"]["uidMappings"][0]["hostID"] == os.geteuid()
    assert c["linux"]["gidMappings"][0]["hostID"] == os.getegid()


def test_configs_are_independent():
    a = spec.default_config(unified=False)
    a["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    a["mounts"][1]["options"].append("x")
    b = spec.default_config(unified=False)
    assert b["process"]["capabilities"]["bounding"] == CAPS
    assert "x" not in b["mounts"][1]["options"]


def test_writes_config_json_into_bundle(tmp_path):
    old = os.umask(0o022)
    try:
        assert spec.run(invocation("--bundle", str(tmp_path))) == 0
    finally:
        os.umask(old)
    path = tmp_path / "config.json"
    data = path.read_bytes()
    assert not data.endswith(b"\n")
    assert data.startswith(b'{\n\t"ociVersion": "1.3.0",\n\t"process": {\n\t\t"terminal": true,')
    assert json.loads(data) == spec.default_config()
    assert data.decode() == jsonio.dumps(spec.default_config(), "\t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_mode_is_0666_before_umask(tmp_path):
    old = os.umask(0)
    try:
        spec.run(invocation("-b", str(tmp_path)))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o666


def test_writes_into_cwd_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec.run(invocation())
    assert (tmp_path / "config.json").is_file()


def test_relative_bundle(tmp_path, monkeypatch):
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path)
    spec.run(invocation("-b", "b"))
    assert (tmp_path / "b" / "config.json").is_file()


def test_refuses_to_overwrite(tmp_path):
    (tmp_path / "config.json").write_text("keep me")
    with pytest.raises(RuntimeFailure) as info:
        spec.run(invocation("-b", str(tmp_path)))
    assert info.value.message == "File config.json exists. Remove it first"
    assert (tmp_path / "config.json").read_text() == "keep me"


def test_dangling_symlink_is_written_through(tmp_path):
    # os.Stat follows the link and fails, so runc writes through it; a link
    # to nowhere is created as a file, as Go's os.WriteFile would.
    (tmp_path / "config.json").symlink_to(tmp_path / "target.json")
    spec.run(invocation("-b", str(tmp_path)))
    assert (tmp_path / "target.json").is_file()


def test_missing_bundle(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(RuntimeFailure) as info:
        spec.run(invocation("-b", str(missing)))
    assert info.value.message == "chdir %s: no such file or directory" % missing
    (tmp_path / "file").write_text("")
    with pytest.raises(RuntimeFailure) as info:
        spec.run(invocation("-b", str(tmp_path / "file")))
    assert info.value.message.endswith(": not a directory")


def test_rootless_flag(tmp_path):
    spec.run(invocation("--rootless", "-b", str(tmp_path)))
    c = json.loads((tmp_path / "config.json").read_text())
    assert c["linux"]["namespaces"][-1] == {"type": "user"}
    assert "resources" not in c["linux"]


def test_spec_through_main(tmp_path, capfd):
    from pyrunc.main import execute

    assert execute(["spec", "-b", str(tmp_path)], prog="pyrunc") == 0
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert execute(["spec", "-b", str(tmp_path)], prog="pyrunc") == 1
    out, err = capfd.readouterr()
    assert out == ""
    assert 'level=error msg="File config.json exists. Remove it first"' in err


def _reference_validator():
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    if not os.path.isfile(os.path.join(REFERENCE, "config-schema.json")):
        pytest.skip("runtime-spec reference schemas not found at %s" % REFERENCE)
    resources = []
    for path in glob.glob(os.path.join(REFERENCE, "*.json")):
        with open(path) as f:
            doc = json.load(f)
        resources.append((os.path.basename(path),
                          referencing.Resource.from_contents(doc, default_specification=DRAFT4)))
    registry = referencing.Registry().with_resources(resources)
    with open(os.path.join(REFERENCE, "config-schema.json")) as f:
        schema = json.load(f)
    return jsonschema.Draft4Validator(schema, registry=registry)


@pytest.mark.parametrize("rootless", [False, True])
@pytest.mark.parametrize("unified", [False, True])
def test_output_validates_against_runtime_spec_schema(rootless, unified):
    validator = _reference_validator()
    config = spec.default_config(rootless=rootless, unified=unified, euid=1000, egid=1000)
    errors = [e.message for e in validator.iter_errors(config)]
    assert errors == []
