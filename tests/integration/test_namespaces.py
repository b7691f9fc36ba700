"""Namespaces, hostname and domainname from config.json."""

import os

import pytest

from harness import unescape, wait_exec

NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt", "cgroup": "cgroup",
            "user": "user"}


def test_hostname(rt, bundle, cid):
    b = bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/hostname"], hostname="box1")
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "box1\nbox1\n"


@pytest.mark.pyrunc_only(reason="runc 1.1.5 ignores domainname (added in runc 1.2)")
def test_domainname(rt, bundle, cid):
    b = bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"], hostname="box1", domainname="example.org")
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "box1\nexample.org\n"


def test_pid_one_inside(rt, bundle, cid):
    b = bundle(["sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    pid, count = proc.stdout.split()
    assert pid == "1"
    # sh, ls and grep: only the container's own processes are visible
    assert int(count) <= 3


def test_network_namespace_has_only_lo_up(rt, bundle, cid):
    b = bundle(["sh", "-c", "ls /sys/class/net; ip -o link"])
    proc = rt.run(cid, b)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "lo" and len([x for x in lines if ":" not in x]) == 1
    links = [x for x in lines if ":" in x]
    assert len(links) == 1 and " lo: " in links[0]
    flags = links[0].split("<", 1)[1].split(">", 1)[0].split(",")
    assert "UP" in flags


def _start_sleeper(rt, bundle, cid, **overrides):
    b = bundle(["sleep", "1000"], **overrides)
    proc = rt.create(cid, b)
    assert proc.returncode == 0, proc.stderr
    assert rt("start", cid).returncode == 0
    pid = rt.state(cid)["pid"]
    wait_exec(pid, "sleep")
    return pid


def test_namespaces_differ_from_host(rt, bundle, cid):
    pid = _start_sleeper(rt, bundle, cid)
    for ns in ("pid", "net", "ipc", "uts", "mnt"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
    # no user namespace was asked for
    assert os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user")
    assert rt.delete_force(cid).returncode == 0


@pytest.mark.parametrize("missing", ["network", "ipc", "pid"])
def test_no_namespace_entry_shares_host(rt, bundle, cid, missing):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != missing]

    pid = _start_sleeper(rt, bundle, cid, edit=edit)
    name = NS_FILES[missing]
    assert os.readlink(f"/proc/{pid}/ns/{name}") == os.readlink(f"/proc/self/ns/{name}")
    for other in ("network", "ipc", "uts", "mount", "pid"):
        if other != missing:
            n = NS_FILES[other]
            assert os.readlink(f"/proc/{pid}/ns/{n}") != os.readlink(f"/proc/self/ns/{n}"), other
    assert rt.delete_force(cid).returncode == 0


def test_no_pid_namespace_delete_force_kills_everything(rt, bundle, cid):
    # without its own pid namespace, killing init does not kill the rest:
    # delete --force must still remove every process of the container
    def edit(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]

    b = bundle(["sh", "-c", "sleep 1000 & echo child=$!; exec sleep 1001"], edit=edit)
    assert rt.create(cid, b).returncode == 0
    assert rt("start", cid).returncode == 0
    text = rt.wait_output(cid, "child=")
    child = int(text.split("child=")[1].split()[0])
    assert os.path.exists(f"/proc/{child}")
    assert rt.delete_force(cid).returncode == 0
    from harness import wait_gone

    wait_gone(child)


def test_join_namespaces_by_path(rt, bundle, cid):
    first = _start_sleeper(rt, bundle, cid)
    second_id = cid + "-b"

    def edit(cfg):
        for n in cfg["linux"]["namespaces"]:
            if n["type"] in ("network", "ipc", "uts"):
                n["path"] = f"/proc/{first}/ns/{NS_FILES[n['type']]}"
        cfg.pop("hostname", None)

    second = _start_sleeper(rt, bundle, second_id, edit=edit)
    for ns in ("net", "ipc", "uts"):
        assert os.readlink(f"/proc/{second}/ns/{ns}") == os.readlink(f"/proc/{first}/ns/{ns}"), ns
    for ns in ("pid", "mnt"):
        assert os.readlink(f"/proc/{second}/ns/{ns}") != os.readlink(f"/proc/{first}/ns/{ns}"), ns
    assert rt.delete_force(second_id).returncode == 0
    assert rt.delete_force(cid).returncode == 0


def test_namespace_path_of_wrong_type_fails(rt, bundle, cid):
    def edit(cfg):
        for n in cfg["linux"]["namespaces"]:
            if n["type"] == "ipc":
                n["path"] = "/proc/self/ns/net"

    b = bundle(["true"], edit=edit)
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert rt.list_ids() == []


def test_hostname_without_uts_namespace_fails(rt, bundle, cid):
    def edit(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "uts"]

    b = bundle(["true"], edit=edit)
    proc = rt.create(cid, b)
    assert proc.returncode != 0
    assert "unable to set hostname without a private UTS namespace" in unescape(proc.stderr)
    assert rt.list_ids() == []
