"""Bad bundles and configs: a clear error, a non-zero exit, nothing left behind.

The leak guard (tests/conftest.py) checks after each test that no container,
process, mount, cgroup or fd is left over.
"""

import os

import pytest

from harness import unescape


def create_fails(rt, cid, b, *needles):
    proc = rt.create(cid, b)
    assert proc.returncode != 0, "create accepted a bad config"
    msg = unescape(proc.stderr)
    for needle in needles:
        assert needle in msg, msg
    assert rt.list_ids() == []
    assert rt("state", cid).returncode != 0
    return msg


def test_missing_config(rt, bundle, cid):
    b = bundle(["true"])
    os.unlink(b.config_path)
    create_fails(rt, cid, b, "JSON specification file config.json not found")


def test_missing_bundle_dir(rt, cid, session_base):
    missing = os.path.join(session_base, "no-such-bundle")
    proc = rt.create(cid, missing)
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_invalid_json(rt, bundle, cid):
    b = bundle(["true"])
    with open(b.config_path, "w") as f:
        f.write('{"ociVersion": "1.3.0", "process": ')
    create_fails(rt, cid, b)


def test_config_not_an_object(rt, bundle, cid):
    b = bundle(["true"])
    with open(b.config_path, "w") as f:
        f.write("null")
    create_fails(rt, cid, b)


@pytest.mark.pyrunc_only(reason="runc 1.1.5 accepts any ociVersion string")
def test_invalid_oci_version(rt, bundle, cid):
    b = bundle(["true"], ociVersion="invalid")
    msg = create_fails(rt, cid, b)
    assert "invalid" in msg or "version" in msg.lower()


@pytest.mark.parametrize("version", ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0"])
def test_oci_versions_accepted(rt, bundle, cid, version):
    b = bundle(["true"], ociVersion=version)
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr


def test_unknown_fields_are_ignored(rt, bundle, cid):
    b = bundle(["echo", "ok"], annotations={"unknown.annotation": "x"},
               edit=lambda c: c.update({"someUnknownField": {"a": 1}}))
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok\n"


def test_unknown_rlimit(rt, bundle, cid):
    b = bundle(["true"], process={"rlimits": [{"type": "RLIMIT_TEST", "soft": 1, "hard": 1}]})
    create_fails(rt, cid, b, "RLIMIT_TEST")


def test_empty_args(rt, bundle, cid):
    b = bundle([])
    create_fails(rt, cid, b, "args must not be empty")


def test_relative_cwd(rt, bundle, cid):
    b = bundle(["true"], process={"cwd": "tmp"})
    create_fails(rt, cid, b, "Cwd must be an absolute path")


def test_missing_process_rejected_by_create(rt, bundle, cid):
    # runc refuses at create; pyrunc accepts it (see the pyrunc_only test below)
    if not rt.is_runc:
        pytest.skip("runc behaviour; pyrunc follows the spec (test_missing_process_start_fails)")
    b = bundle(["true"], process=None)
    create_fails(rt, cid, b, "process property must not be empty")


@pytest.mark.pyrunc_only(reason="runc 1.1.5 refuses a config without process at create")
def test_missing_process_start_fails(rt, bundle, cid):
    # runtime-spec: create must accept a config without process; start MUST then fail
    b = bundle(["true"], process=None)
    proc = rt.create(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert rt.status(cid) == "created"
    proc = rt("start", cid)
    assert proc.returncode != 0
    assert "process" in proc.stderr
    assert rt.delete_force(cid).returncode == 0


def test_terminal_without_console_socket(rt, bundle, cid):
    b = bundle(["true"], process={"terminal": True})
    create_fails(rt, cid, b, "cannot allocate tty if runc will detach without setting console socket")


def test_terminal_without_console_socket_run_detached(rt, bundle, cid):
    b = bundle(["true"], process={"terminal": True})
    proc = rt.run_detached(cid, b)
    assert proc.returncode != 0
    assert "cannot allocate tty if runc will detach without setting console socket" in unescape(proc.stderr)
    assert rt.list_ids() == []


def test_console_socket_without_terminal(rt, bundle, cid, tmp_path):
    b = bundle(["true"])
    proc = rt.create(cid, b, "--console-socket", tmp_path / "sock")
    assert proc.returncode != 0
    assert "cannot use console socket if runc will not detach or allocate tty" in unescape(proc.stderr)
    assert rt.list_ids() == []


def test_missing_rootfs(rt, bundle, cid):
    b = bundle(["true"], rootfs=False)
    create_fails(rt, cid, b)


def test_bad_mount_type(rt, bundle, cid):
    b = bundle(["true"], edit=lambda c: c["mounts"].append(
        {"destination": "/mnt/x", "type": "no-such-fs", "source": "none"}))
    create_fails(rt, cid, b)


def test_bind_mount_of_missing_source(rt, bundle, cid, tmp_path):
    b = bundle(["true"], edit=lambda c: c["mounts"].append(
        {"destination": "/mnt/x", "type": "bind", "source": str(tmp_path / "missing"), "options": ["bind"]}))
    create_fails(rt, cid, b)


def test_rlimit_above_hard_limit_fails_cleanly(rt, bundle, cid):
    # raising a hard limit needs CAP_SYS_RESOURCE; when it fails it must fail cleanly
    b = bundle(["true"], process={"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 10**9, "hard": 10**9}]})
    proc = rt.create(cid, b)
    if proc.returncode == 0:
        rt.delete_force(cid)
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only
@pytest.mark.parametrize("ns", ["user", "time"])
def test_unsupported_namespace_is_refused_not_ignored(rt, bundle, cid, ns):
    def edit(cfg):
        cfg["linux"]["namespaces"].append({"type": ns})

    proc = rt.create(cid, bundle(["true"], edit=edit))
    assert proc.returncode == 1
    assert f"{ns} namespaces are not supported by pyrunc yet" in proc.stderr
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only
@pytest.mark.parametrize("where,key,value", [
    ("process", "apparmorProfile", "docker-default"),
    ("process", "scheduler", {"policy": "SCHED_BATCH"}),
    ("process", "ioPriority", {"class": "IOPRIO_CLASS_IDLE"}),
    ("linux", "personality", {"domain": "LINUX32"}),
    ("linux", "netDevices", {"eth0": {}}),
    ("linux", "intelRdt", {"closID": "x"}),
])
def test_unimplemented_fields_are_refused_not_ignored(rt, bundle, cid, where, key, value):
    def edit(cfg):
        cfg[where][key] = value

    proc = rt.create(cid, bundle(["true"], edit=edit))
    assert proc.returncode == 1
    assert f"{where}.{key}: not supported by pyrunc yet" in proc.stderr
    assert rt.list_ids() == []
