"""config.json `process` applied, as seen from inside the container."""

import pytest

from harness import DEFAULT_CAPS, TOKEN_VAR, cap_mask, status_fields, unescape


def run_ok(rt, bundle, cid, args, **overrides):
    b = bundle(args, **overrides)
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_env(rt, bundle, cid, session_token):
    proc = run_ok(rt, bundle, cid, ["env"], process={"env": [
        "PATH=/bin:/usr/bin", "FOO=bar", "WITH_SPACE=a b", "EMPTY=", f"{TOKEN_VAR}={session_token}"]})
    env = proc.stdout.splitlines()
    for want in ("PATH=/bin:/usr/bin", "FOO=bar", "WITH_SPACE=a b", "EMPTY="):
        assert want in env
    # runc sets HOME from /etc/passwd when the config has none
    assert "HOME=/root" in env
    assert not any(v.startswith("TERM=") for v in env), "only the configured env"


def test_home_from_passwd_for_user(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["env"], process={"user": {"uid": 1000, "gid": 1000}})
    assert "HOME=/home/user" in proc.stdout.splitlines()


def test_home_kept_when_set(rt, bundle, cid, session_token):
    proc = run_ok(rt, bundle, cid, ["env"], process={"env": ["PATH=/bin", "HOME=/tmp", f"{TOKEN_VAR}={session_token}"]})
    assert [v for v in proc.stdout.splitlines() if v.startswith("HOME=")] == ["HOME=/tmp"]


def test_cwd(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["pwd"], process={"cwd": "/tmp"})
    assert proc.stdout == "/tmp\n"


def test_missing_cwd_is_created(rt, bundle, cid):
    # runc creates a missing cwd (even with a read-only root); follow it
    proc = run_ok(rt, bundle, cid, ["sh", "-c", "pwd; ls -ld ."], process={"cwd": "/does/not/exist"})
    lines = proc.stdout.splitlines()
    assert lines[0] == "/does/not/exist"
    assert lines[1].startswith("d")


def test_path_lookup_uses_container_env(rt, bundle, cid):
    # args[0] without a slash is looked up in the container's PATH
    proc = run_ok(rt, bundle, cid, ["hostname"])
    assert proc.stdout == "runc\n"


def test_absolute_args0(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["/bin/echo", "abs"])
    assert proc.stdout == "abs\n"


def test_user_and_groups(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["cat", "/proc/self/status"],
                  process={"user": {"uid": 1000, "gid": 100, "additionalGids": [5, 1000]}})
    st = status_fields(proc.stdout)
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["100"] * 4
    assert sorted(st["Groups"].split(), key=int) == ["5", "1000"]


def test_id_output(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["id"], process={"user": {"uid": 1000, "gid": 1000, "additionalGids": [5]}})
    out = proc.stdout.strip()
    assert out.startswith("uid=1000(user) gid=1000(user) groups=")
    assert "5(tty)" in out


def test_root_has_no_supplementary_groups_by_default(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["cat", "/proc/self/status"])
    st = status_fields(proc.stdout)
    assert st["Uid"].split() == ["0"] * 4
    assert st["Groups"].split() in ([], ["0"])


def test_umask_default(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["grep", "Umask", "/proc/self/status"])
    assert proc.stdout.split() == ["Umask:", "0022"]


def test_umask_configured(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["grep", "Umask", "/proc/self/status"], process={"user": {"umask": 0o077}})
    assert proc.stdout.split() == ["Umask:", "0077"]


def _caps(text):
    st = status_fields(text)
    return {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_default_capabilities(rt, bundle, cid):
    caps = _caps(run_ok(rt, bundle, cid, ["cat", "/proc/self/status"]).stdout)
    want = cap_mask(DEFAULT_CAPS)
    assert caps == {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0}


CUSTOM_CAPS = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
    "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
    "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_NET_BIND_SERVICE"],
}


@pytest.mark.parametrize("nnp", [False, True])
def test_capabilities_as_root(rt, bundle, cid, nnp):
    # exec as uid 0 makes permitted = effective = bounding (kernel rule); with
    # no_new_privs the new permitted set is capped by the old one, so the
    # configured permitted set shows. Bounding, inheritable and ambient show as set.
    caps = _caps(run_ok(rt, bundle, cid, ["cat", "/proc/self/status"],
                        process={"capabilities": CUSTOM_CAPS, "noNewPrivileges": nnp}).stdout)
    bnd = cap_mask(CUSTOM_CAPS["bounding"])
    prm = bnd & cap_mask(CUSTOM_CAPS["permitted"]) if nnp else bnd
    assert caps["CapBnd"] == bnd
    assert caps["CapPrm"] == prm and caps["CapEff"] == prm
    assert caps["CapInh"] == cap_mask(CUSTOM_CAPS["inheritable"])
    assert caps["CapAmb"] == cap_mask(CUSTOM_CAPS["ambient"])


def test_capabilities_as_user(rt, bundle, cid):
    # a non-root process keeps across exec only its ambient set
    caps = _caps(run_ok(rt, bundle, cid, ["cat", "/proc/self/status"],
                        process={"capabilities": CUSTOM_CAPS, "user": {"uid": 1000, "gid": 1000}}).stdout)
    amb = cap_mask(CUSTOM_CAPS["ambient"])
    assert caps == {
        "CapInh": cap_mask(CUSTOM_CAPS["inheritable"]),
        "CapPrm": amb,
        "CapEff": amb,
        "CapBnd": cap_mask(CUSTOM_CAPS["bounding"]),
        "CapAmb": amb,
    }


def test_no_capabilities(rt, bundle, cid):
    caps = _caps(run_ok(rt, bundle, cid, ["cat", "/proc/self/status"], process={"capabilities": None}).stdout)
    assert caps == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}


def test_unknown_capability_warns_and_is_skipped(rt, bundle, cid):
    caps = {k: ["CAP_KILL", "CAP_TEST"] for k in ("bounding", "effective", "permitted")}
    b = bundle(["cat", "/proc/self/status"], process={"capabilities": caps})
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert "CAP_TEST" in proc.stderr
    assert "warn" in proc.stderr.lower()
    got = _caps(proc.stdout)
    assert got["CapBnd"] == cap_mask(["CAP_KILL"]) == got["CapEff"]


@pytest.mark.parametrize("nnp,want", [(True, "1"), (False, "0")])
def test_no_new_privileges(rt, bundle, cid, nnp, want):
    proc = run_ok(rt, bundle, cid, ["grep", "NoNewPrivs", "/proc/self/status"], process={"noNewPrivileges": nnp})
    assert proc.stdout.split() == ["NoNewPrivs:", want]


def _limits(text):
    out = {}
    for line in text.splitlines()[1:]:
        name = line[:26].strip()
        fields = line[26:].split()
        out[name] = (fields[0], fields[1])
    return out


def test_default_rlimit_nofile(rt, bundle, cid):
    lim = _limits(run_ok(rt, bundle, cid, ["cat", "/proc/self/limits"]).stdout)
    assert lim["Max open files"] == ("1024", "1024")


def test_rlimits(rt, bundle, cid):
    rlimits = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 8388608},
    ]
    lim = _limits(run_ok(rt, bundle, cid, ["cat", "/proc/self/limits"], process={"rlimits": rlimits}).stdout)
    assert lim["Max open files"] == ("123", "456")
    assert lim["Max core file size"] == ("0", "4096")
    assert lim["Max processes"] == ("500", "600")
    assert lim["Max stack size"] == ("4194304", "8388608")


def test_rlimit_seen_by_shell(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["sh", "-c", "ulimit -n; ulimit -Hn"],
                  process={"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88}]})
    assert proc.stdout.split() == ["77", "88"]


def test_oom_score_adj(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["cat", "/proc/self/oom_score_adj"], process={"oomScoreAdj": 500})
    assert proc.stdout.strip() == "500"


def test_args_with_spaces_and_quotes(rt, bundle, cid):
    proc = run_ok(rt, bundle, cid, ["printf", "[%s]\\n", "a b", "'q'", '"d"', ""])
    assert proc.stdout == "[a b]\n['q']\n[\"d\"]\n[]\n"


def test_missing_executable(rt, bundle, cid):
    b = bundle(["no-such-binary"])
    proc = rt.create(cid, b)
    if proc.returncode == 0:
        # a runtime may defer the lookup to start; it must fail there
        proc = rt("start", cid)
        assert proc.returncode != 0 or rt.wait_status(cid, "stopped")
        rt.delete_force(cid)
    else:
        msg = unescape(proc.stderr)
        assert "executable file not found in $PATH" in msg or "no such file or directory" in msg
    assert rt.list_ids() == []


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc"])
def test_command_that_cannot_be_executed_fails_at_create(rt, bundle, cid, target):
    """runc looks the command up at create (Go's exec.LookPath): a directory or a file
    without an execute bit is refused then with "permission denied" (podman: exit
    126), and nothing is left."""
    proc = rt.create(cid, bundle([target]))
    assert proc.returncode != 0
    assert f'exec: "{target}": permission denied' in unescape(proc.stderr)
    assert rt.list_ids() == []
