"""Output formats of `state` and `list` (cli.md §6), and of a failing create or run (§7, §8)."""

import json
import os
import re

import pytest

from harness import Runtime, new_id

RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
STATE_KEYS = ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]


def go_table(rows: list[list[str]]) -> str:
    """What Go's tabwriter (minwidth 12, padding 3, spaces) makes of tab-separated rows.

    Every cell but the last of a row is terminated by a tab and padded to its
    column's width; the last cell is written as is.
    """
    ncols = max(len(r) for r in rows) - 1
    widths = []
    for col in range(ncols):
        w = max(len(r[col]) + 3 for r in rows if len(r) > col + 1)
        widths.append(max(w, 12))
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(len(r) - 1)] + [r[-1]]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def test_state_format(rt, bundle, cid):
    b = bundle(["sleep", "1000"])
    assert rt.create(cid, b).returncode == 0
    proc = rt("state", cid)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert not out.endswith("\n"), "state output has no trailing newline"
    st = json.loads(out)
    assert out == json.dumps(st, indent=2), "2-space indented JSON"
    keys = [k for k in STATE_KEYS if k in st]
    assert list(st) == keys, f"key order {list(st)}"
    assert "annotations" not in st, "annotations are omitted when empty"
    assert isinstance(st["ociVersion"], str) and st["ociVersion"]
    assert st["id"] == cid
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert st["bundle"] == os.path.realpath(b.path)
    assert st["rootfs"] == os.path.join(os.path.realpath(b.path), "rootfs")
    assert RFC3339_NANO.match(st["created"]), st["created"]
    assert st["owner"] == ""
    assert rt.delete_force(cid).returncode == 0


def test_state_annotations(rt, bundle, cid):
    b = bundle(["sleep", "1000"], annotations={"org.example.key": "value", "other": "x y"})
    assert rt.create(cid, b).returncode == 0
    st = rt.state(cid)
    assert st["annotations"] == {"org.example.key": "value", "other": "x y"}
    assert list(st) == STATE_KEYS
    assert rt.delete_force(cid).returncode == 0


@pytest.mark.pyrunc_only(reason="runc 1.1.5 reports its own spec version (1.0.2-dev); runc 1.5 the config's")
def test_state_uses_config_oci_version(rt, bundle, cid):
    b = bundle(["true"], ociVersion="1.0.2")
    assert rt.create(cid, b).returncode == 0
    assert rt.state(cid)["ociVersion"] == "1.0.2"
    assert rt.delete_force(cid).returncode == 0


def test_list_empty(rt):
    proc = rt("list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == go_table([["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]])
    proc = rt("list", "-q")
    assert proc.returncode == 0 and proc.stdout == ""
    proc = rt("list", "--format", "json")
    assert proc.returncode == 0 and proc.stdout == "null\n"


def test_list_formats(rt, bundle):
    b = bundle(["sleep", "1000"])
    done = bundle(["true"])
    # ids chosen so that sorting by id differs from creation order
    ids = [new_id("zz"), new_id("aa"), new_id("mm")]
    assert rt.create(ids[0], b).returncode == 0
    assert rt.run_detached(ids[1], b).returncode == 0
    assert rt.create(ids[2], done).returncode == 0
    assert rt("start", ids[2]).returncode == 0
    rt.wait_status(ids[2], "stopped")

    states = {i: rt.state(i) for i in ids}
    order = sorted(ids)

    proc = rt("list", "-q")
    assert proc.returncode == 0
    assert proc.stdout == "".join(i + "\n" for i in order)

    proc = rt("list", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("\n") and proc.stdout.count("\n") == 1, "one line"
    listed = json.loads(proc.stdout)
    assert proc.stdout == json.dumps(listed, separators=(",", ":")) + "\n", "compact JSON"
    assert [c["id"] for c in listed] == order
    for c in listed:
        want = dict(states[c["id"]])
        want["owner"] = "root"
        assert c == want
        assert list(c) == [k for k in STATE_KEYS if k in c]

    proc = rt("list")
    assert proc.returncode == 0, proc.stderr
    rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
    for i in order:
        st = states[i]
        rows.append([i, str(st["pid"]), st["status"], st["bundle"], st["created"], "root"])
    assert proc.stdout == go_table(rows)
    assert states[ids[2]]["pid"] == 0

    for i in ids:
        assert rt.delete_force(i).returncode == 0
    proc = rt("list", "-q")
    assert proc.stdout == ""


def test_list_uses_given_root_only(rt, bundle, session_base):
    import tempfile

    b = bundle(["sleep", "1000"])
    cid = new_id()
    other = tempfile.mkdtemp(prefix="state-other-", dir=session_base)
    try:
        assert rt.create(cid, b).returncode == 0
        rt2 = Runtime(rt.binary, other, rt.base, rt.token)
        proc = rt2("list", "-q")
        assert proc.returncode == 0 and proc.stdout == ""
        assert rt("list", "-q").stdout == cid + "\n"
        assert rt.delete_force(cid).returncode == 0
    finally:
        os.rmdir(other)


@pytest.mark.parametrize("command", ["create", "run"])
def test_create_and_run_failures_read_as_runcs(rt, bundle, cid, session_base, command):
    """runc 1.1 puts "runc create failed: " ("runc run failed: ") before every failure
    of those commands; engines show the text as it is. With --log the message also
    goes to stderr, bare, and is the log's only line."""
    b = bundle(["true"])
    os.unlink(b.config_path)
    log_path = os.path.join(session_base, f"{cid}.log")
    proc = rt("--log", log_path, "--log-format", "json", command, "--bundle", b.path, cid)
    with open(log_path) as f:
        lines = f.read().splitlines()
    os.unlink(log_path)
    want = f"runc {command} failed: JSON specification file config.json not found"
    assert proc.returncode == 1
    assert proc.stderr == want + "\n"
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["level"], entry["msg"]) == ("error", want)
    assert rt.list_ids() == []
