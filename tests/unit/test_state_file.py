"""The container's state file: marshal data, written atomically, read by every later command."""

import marshal
import os

import pytest

from pyrunc import state as st
from pyrunc.errors import RuntimeFailure

DATA = {"ociVersion": "1.3.0", "pid": 42, "bundle": "/b", "annotations": {"k": "v"},
        "cgroup": {"kind": "v1", "paths": {"pids": "/sys/fs/cgroup/pids/x"}, "created": []},
        "hooks": {"poststop": [{"path": "/bin/true", "args": ["true"], "timeout": None}]},
        "has_process": True}


def test_save_then_load_gives_the_same_data(tmp_path):
    c = st.Container.claim(str(tmp_path), "ct1")
    c.data = DATA
    c.save()
    assert sorted(os.listdir(c.dir)) == [st.STATE_FILE]  # the temp file was renamed
    assert st.Container.load(str(tmp_path), "ct1").data == DATA


def test_missing_container_is_reported_as_runc_does(tmp_path):
    with pytest.raises(RuntimeFailure) as info:
        st.Container.load(str(tmp_path), "nope")
    assert info.value.message == "container does not exist"


@pytest.mark.parametrize("content", [b"", b"\x00garbage", b'{"json": "from an older pyrunc"}',
                                     marshal.dumps(DATA)[:-5], marshal.dumps(["not", "a", "dict"])])
def test_corrupt_state_file_is_a_clear_error(tmp_path, content):
    os.mkdir(tmp_path / "ct1")
    (tmp_path / "ct1" / st.STATE_FILE).write_bytes(content)
    with pytest.raises(RuntimeFailure) as info:
        st.Container.load(str(tmp_path), "ct1")
    assert info.value.message.startswith("container ct1: state file is corrupt: ")


def test_invalid_id_is_refused_before_any_path_is_built(tmp_path):
    with pytest.raises(RuntimeFailure) as info:
        st.Container.load(str(tmp_path), "../etc")
    assert info.value.message == "invalid container ID format"


def test_a_container_from_before_the_marshal_format_still_loads(tmp_path):
    """pyrunc 0.1.0 first kept the state as state.json; those containers stay manageable."""
    import json

    os.mkdir(tmp_path / "old")
    (tmp_path / "old" / "state.json").write_text(json.dumps(DATA))
    assert st.Container.load(str(tmp_path), "old").data == DATA
    (tmp_path / "old" / "state.json").write_text("{not json")
    with pytest.raises(RuntimeFailure) as info:
        st.Container.load(str(tmp_path), "old")
    assert info.value.message.startswith("container old: state file is corrupt: invalid JSON")
