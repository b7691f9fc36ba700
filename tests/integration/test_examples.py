"""The example bundle builder works with the runtime under test."""

import json
import os
import subprocess

from harness import REPO, TOKEN_VAR

MAKE_BUNDLE = REPO / "examples" / "bundles" / "busybox" / "make-bundle.sh"


def test_make_bundle_and_run(rt, cid, session_base, session_token, _leak_registry):
    dest = os.path.join(session_base, f"example-{cid}")
    _leak_registry["dirs"].append(dest)
    env = dict(rt.env, PYRUNC=rt.binary)
    proc = subprocess.run(["/bin/sh", str(MAKE_BUNDLE), dest], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert os.path.isfile(os.path.join(dest, "rootfs", "bin", "busybox"))
    for d in ("proc", "sys", "dev", "tmp", "root", "home", "var"):
        assert os.path.isdir(os.path.join(dest, "rootfs", d)), d
    with open(os.path.join(dest, "rootfs", "etc", "passwd")) as f:
        users = {line.split(":")[0]: line.split(":")[2] for line in f if line.strip()}
    assert users["root"] == "0" and users["nobody"] == "65534" and "1000" in users.values()

    with open(os.path.join(dest, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["process"]["terminal"] is False
    assert cfg["process"]["args"][:2] == ["sh", "-c"]
    assert cfg["root"]["path"] == "rootfs"

    # keep the test's conventions: own relative cgroup, session token in the env
    cgroup = f"pyrunc-test-example-{cid}"
    cfg.setdefault("linux", {})["cgroupsPath"] = cgroup
    _leak_registry["cgroups"].append(cgroup)
    cfg["process"]["env"].append(f"{TOKEN_VAR}={session_token}")
    with open(os.path.join(dest, "config.json"), "w") as f:
        json.dump(cfg, f)

    proc = rt.run(cid, dest)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "hello from inside a pyrunc container"
    assert lines[-1] == cfg.get("hostname", "runc")


def test_make_bundle_without_runtime_fails_clearly(session_base, cid):
    dest = os.path.join(session_base, f"example-missing-{cid}")
    env = dict(os.environ, PYRUNC=f"no-such-runtime-{cid}")
    proc = subprocess.run(["/bin/sh", str(MAKE_BUNDLE), dest], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "not found" in proc.stderr
    assert not os.path.exists(dest), "nothing is built when the runtime is missing"
