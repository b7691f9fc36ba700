"""OCI hooks: order, the state on stdin, failures, timeouts."""

import json
import os
import time

import pytest

from harness import TOKEN_VAR, unescape, wait_exec

CREATE_PHASE = ["prestart", "createRuntime", "createContainer"]
ALL = CREATE_PHASE + ["startContainer", "poststart", "poststop"]


class HookLog:
    """Hooks that record their name (in order) and the state they read on stdin."""

    def __init__(self, path, token):
        self.dir = str(path)
        os.makedirs(self.dir, exist_ok=True)
        self.token = token

    def hook(self, name, fail=False, read_stdin=True, extra=None, **kw):
        save = f'st=$(cat); printf "%s" "$st" > {self.dir}/{name}.json; ' if read_stdin else ""
        script = f"{save}echo {name} >> {self.dir}/order; " + (extra or "") + ("exit 3" if fail else "exit 0")
        h = {"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin", f"{TOKEN_VAR}={self.token}"]}
        h.update(kw)
        return h

    def order(self):
        try:
            with open(os.path.join(self.dir, "order")) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def state(self, name):
        with open(os.path.join(self.dir, f"{name}.json")) as f:
            return json.load(f)

    def mount(self):
        # hooks that run after pivot_root (startContainer) see the log dir at the same path
        return {"destination": self.dir, "type": "bind", "source": self.dir, "options": ["bind"]}


@pytest.fixture
def hooks(tmp_path, session_token):
    return HookLog(tmp_path / "hooks", session_token)


def _bundle_with(bundle, hooks, spec, args=("true",), **overrides):
    return bundle(list(args), hooks=spec, edit=lambda c: c["mounts"].append(hooks.mount()), **overrides)


def test_hook_order(rt, bundle, cid, hooks):
    b = _bundle_with(bundle, hooks, {n: [hooks.hook(n)] for n in ALL})
    assert rt.create(cid, b).returncode == 0
    after_create = hooks.order()
    assert after_create[:3] == CREATE_PHASE
    assert "startContainer" not in after_create
    assert "poststop" not in after_create
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    after_start = hooks.order()
    assert "startContainer" in after_start
    assert after_start.index("startContainer") > 2
    assert "poststop" not in after_start
    assert rt("delete", cid).returncode == 0
    final = hooks.order()
    assert final[-1] == "poststop"
    assert sorted(final) == sorted(ALL)


@pytest.mark.pyrunc_only(reason="runc 1.1.5 runs poststart hooks during create (runc#1710)")
def test_poststart_runs_in_start_after_the_process_started(rt, bundle, cid, hooks):
    b = _bundle_with(bundle, hooks, {n: [hooks.hook(n)] for n in ALL}, args=["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    assert hooks.order() == CREATE_PHASE
    assert rt("start", cid).returncode == 0
    assert hooks.order() == CREATE_PHASE + ["startContainer", "poststart"]
    st = hooks.state("poststart")
    assert st["status"] == "running"
    assert st["pid"] == rt.state(cid)["pid"]
    assert rt.delete_force(cid).returncode == 0
    assert hooks.order()[-1] == "poststop"


def test_hook_state_on_stdin(rt, bundle, cid, hooks):
    b = _bundle_with(bundle, hooks, {n: [hooks.hook(n)] for n in ALL}, args=["sleep", "1000"],
                     annotations={"org.example": "yes"})
    assert rt.create(cid, b).returncode == 0
    state = rt.state(cid)
    for name in CREATE_PHASE:
        st = hooks.state(name)
        assert st["id"] == cid, name
        assert st["status"] in ("creating", "created"), name
        if name == "createContainer":
            # runs inside the container's pid namespace: runc reports pid 1 there
            assert st["pid"] in (state["pid"], 1), name
        else:
            assert st["pid"] == state["pid"], name
        assert st["bundle"] == os.path.realpath(b.path), name
        assert st["annotations"] == {"org.example": "yes"}, name
        assert "ociVersion" in st, name
    assert rt("start", cid).returncode == 0
    wait_exec(state["pid"], "sleep")
    assert hooks.state("startContainer")["status"] in ("created", "running")
    assert rt.delete_force(cid).returncode == 0
    st = hooks.state("poststop")
    assert st["id"] == cid and st["status"] == "stopped"


def test_hook_args_and_env(rt, bundle, cid, hooks):
    out = os.path.join(hooks.dir, "argsenv")
    spec = {"prestart": [{"path": "/bin/sh",
                          "args": ["sh", "-c", f'echo "$0|$1|$FOO|$PYRUNC_TEST" > {out}; cat > /dev/null', "zero", "one"],
                          "env": ["FOO=bar baz", f"{TOKEN_VAR}={hooks.token}"]}]}
    b = bundle(["true"], hooks=spec)
    assert rt.create(cid, b).returncode == 0
    with open(out) as f:
        assert f.read() == f"zero|one|bar baz|{hooks.token}\n"
    assert rt.delete_force(cid).returncode == 0


@pytest.mark.parametrize("failing", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_aborts_create(rt, bundle, cid, hooks, failing):
    spec = {n: [hooks.hook(n, fail=(n == failing))] for n in CREATE_PHASE}
    b = _bundle_with(bundle, hooks, spec, args=["touch", "/ran"], root={"readonly": False})
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert failing in hooks.order()
    order = hooks.order()
    assert order == CREATE_PHASE[: CREATE_PHASE.index(failing) + 1], "no hook after the failing one"
    assert rt.list_ids() == []
    assert rt("state", cid).returncode != 0
    assert not os.path.exists(os.path.join(b.rootfs, "ran"))


def test_failing_poststop_warns(rt, bundle, cid, hooks):
    b = bundle(["true"], hooks={"poststop": [hooks.hook("poststop", fail=True)]})
    assert rt.create(cid, b).returncode == 0
    assert rt("start", cid).returncode == 0
    rt.wait_status(cid, "stopped")
    proc = rt("delete", cid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() != "", "a failing poststop hook is reported"
    assert rt.list_ids() == []
    assert hooks.order() == ["poststop"]


@pytest.mark.pyrunc_only(reason="runc 1.1.5 runs poststart hooks during create (runc#1710)")
@pytest.mark.parametrize("start_hooks", [[], ["startContainer"], ["poststart"]])
def test_run_keeps_the_hook_order(rt, bundle, cid, hooks, start_hooks):
    # `run` gives the init no exec FIFO unless a start hook must run in between (create.create)
    names = CREATE_PHASE + start_hooks + ["poststop"]
    b = _bundle_with(bundle, hooks, {n: [hooks.hook(n)] for n in names},
                     args=["sh", "-c", "echo ran"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ran\n"
    assert hooks.order() == names
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only(reason="runc 1.1.5 stops at the first failing poststop hook")
def test_failing_poststop_does_not_stop_the_others(rt, bundle, cid, hooks):
    b = bundle(["true"], hooks={"poststop": [hooks.hook("first", fail=True), hooks.hook("second")]})
    assert rt.run(cid, b).returncode == 0
    assert hooks.order() == ["first", "second"]
    assert rt.list_ids() == []


@pytest.mark.pyrunc_only(reason="runtime-spec 1.3: a failing poststart stops the container; runc 1.1.5 only warns")
def test_failing_poststart_stops_the_container(rt, bundle, cid, hooks):
    b = bundle(["sleep", "1000"], hooks={"poststart": [hooks.hook("poststart", fail=True)]})
    assert rt.create(cid, b).returncode == 0
    pid = rt.state(cid)["pid"]
    proc = rt("start", cid)
    assert proc.returncode != 0
    assert "poststart" in hooks.order()
    st = rt("state", cid)
    if st.returncode == 0:
        assert json.loads(st.stdout)["status"] == "stopped"
    from harness import wait_gone

    wait_gone(pid)
    rt.delete_force(cid)


def test_hooks_that_do_not_read_stdin(rt, bundle, cid, hooks):
    # a large state (big annotation) overflows the pipe: the runtime must
    # cope with EPIPE from hooks that exit without reading
    spec = {n: [hooks.hook(n, read_stdin=False)] for n in ("prestart", "createRuntime", "poststart", "poststop")}
    b = bundle(["true"], hooks=spec, annotations={"big": "x" * 300_000})
    for _ in range(2):
        proc = rt.create(cid, b)
        assert proc.returncode == 0, proc.stderr
        assert rt("start", cid).returncode == 0
        rt.wait_status(cid, "stopped")
        assert rt("delete", cid).returncode == 0
    assert hooks.order().count("poststop") == 2


def test_hook_timeout(rt, bundle, cid, hooks):
    spec = {"prestart": [hooks.hook("prestart", extra="exec sleep 30; ", timeout=1)]}
    b = bundle(["true"], hooks=spec)
    t0 = time.monotonic()
    proc = rt.create(cid, b)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    assert elapsed < 10, f"timeout of 1 s not honoured ({elapsed:.1f} s)"
    assert "timeout" in unescape(proc.stderr).lower() or "timed out" in proc.stderr.lower()
    assert rt.list_ids() == []


def test_failing_start_container_hook_fails_start(rt, bundle, cid):
    """runtime-spec: a failing startContainer hook is an error of `start` and the container stops."""
    b = bundle(["true"], hooks={"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]})
    assert rt.create(cid, b).returncode == 0
    proc = rt("start", cid)
    assert proc.returncode != 0
    assert "error running hook" in proc.stderr
    rt.wait_status(cid, "stopped")
    assert rt("delete", cid).returncode == 0
