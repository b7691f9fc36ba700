"""Racing runtime calls on one state root."""

import subprocess

import pytest

from harness import new_id, unescape


def _popen_create(rt, cid, b, i):
    out_path, err_path = rt.io_paths(f"{cid}#{i}")
    out = open(out_path, "w")
    err = open(err_path, "w")
    p = subprocess.Popen(rt.argv("create", "--bundle", b.path, cid), stdin=subprocess.DEVNULL,
                         stdout=out, stderr=err, env=rt.env)
    return p, out, err, err_path


@pytest.mark.pyrunc_only(reason="runc 1.1.5 is racy here: a losing create may fail late at its exec fifo "
                                 "and remove the winner's state directory, leaving an orphan container")
def test_racing_creates_of_one_id(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    procs = [_popen_create(rt, cid, b, i) for i in range(10)]
    results = []
    for p, out, err, err_path in procs:
        try:
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            out.close()
            err.close()
        with open(err_path) as f:
            results.append((p.returncode, unescape(f.read())))
    winners = [r for r in results if r[0] == 0]
    losers = [r for r in results if r[0] != 0]
    assert len(winners) == 1, results
    for rc, msg in losers:
        assert "container with given ID already exists" in msg, msg
    st = rt.state(cid)
    assert st["status"] == "created"
    assert rt.list_ids() == [cid]
    assert rt("start", cid).returncode == 0
    assert rt.status(cid) == "running"
    assert rt.delete_force(cid).returncode == 0


def test_parallel_creates_of_different_ids(rt, bundle):
    ids = [new_id() for _ in range(5)]
    # one bundle each, so that each container has its own cgroupsPath
    procs = [(c, _popen_create(rt, c, bundle(["sleep", "1000"]), 0)) for c in ids]
    for c, (p, out, err, err_path) in procs:
        try:
            p.wait(timeout=60)
        finally:
            out.close()
            err.close()
        assert p.returncode == 0, open(err_path).read()
    assert rt.list_ids() == sorted(ids)
    pids = {rt.state(c)["pid"] for c in ids}
    assert len(pids) == len(ids)
    for c in ids:
        assert rt.delete_force(c).returncode == 0
    assert rt.list_ids() == []


def test_racing_deletes(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    procs = [subprocess.Popen(rt.argv("delete", "--force", cid), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=rt.env, text=True)
             for _ in range(5)]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        outcomes.append((p.returncode, err))
    assert any(rc == 0 for rc, _ in outcomes), outcomes
    assert rt("state", cid).returncode != 0
    assert rt.list_ids() == []
