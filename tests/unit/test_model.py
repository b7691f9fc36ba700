"""pyrunc.spec.model: config.json -> typed model, one rule at a time."""

import copy
import os
import subprocess
import sys
import time

import pytest

from pyrunc.errors import ConfigError, RuntimeFailure
from pyrunc.spec import model, tables
from pyrunc.spec.model import (
    Capabilities,
    Config,
    Hook,
    Hooks,
    IDMapping,
    Mount,
    Namespace,
    Process,
    Rlimit,
    Root,
    User,
    load_bundle_config,
    parse_config,
    parse_process,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def base(**top):
    """A small valid config; keyword arguments replace top-level keys (None deletes)."""
    cfg = {
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
    }
    for k, v in top.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    return cfg


def with_process(**fields):
    cfg = base()
    for k, v in fields.items():
        if v is None:
            cfg["process"].pop(k, None)
        else:
            cfg["process"][k] = v
    return cfg


def refused(cfg):
    with pytest.raises(ConfigError) as info:
        parse_config(cfg)
    return info.value


def runc_default_spec():
    """What `runc spec` writes (cli.md §6), the shape most bundles start from."""
    return {
        "ociVersion": "1.3.0",
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


# ---------------------------------------------------------------- whole config


def test_minimal_config_defaults():
    cfg = parse_config({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})
    assert isinstance(cfg, Config)
    assert cfg.oci_version == "1.0.0"
    assert cfg.process is None
    assert cfg.root == Root("rootfs", False)
    assert cfg.hostname is None and cfg.domainname is None
    assert cfg.mounts == []
    assert cfg.hooks == Hooks()
    assert cfg.hooks.prestart == [] and cfg.hooks.poststop == []
    assert cfg.annotations == {}
    assert cfg.linux is None
    assert cfg.warnings == []
    assert cfg.raw == {"ociVersion": "1.0.0", "root": {"path": "rootfs"}}


def test_runc_default_spec_is_modelled():
    raw = runc_default_spec()
    cfg = parse_config(raw)
    assert cfg.raw is raw
    p = cfg.process
    assert isinstance(p, Process)
    assert p.terminal is True
    assert p.console_size is None
    assert p.user == User(0, 0)
    assert p.args == ["sh"]
    assert p.cwd == "/"
    assert p.env[1] == "TERM=xterm"
    assert p.no_new_privileges is True
    assert p.capabilities.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert p.capabilities.inheritable is None and p.capabilities.ambient is None
    assert p.rlimits == [Rlimit("RLIMIT_NOFILE", 7, 1024, 1024)]
    assert p.oom_score_adj is None
    assert cfg.root == Root("rootfs", True)
    assert cfg.hostname == "runc"
    assert [m.destination for m in cfg.mounts][:3] == ["/proc", "/dev", "/dev/pts"]
    assert cfg.mounts[0] == Mount("/proc", "proc", "proc", [], [], [])
    assert cfg.mounts[3].options == ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
    lx = cfg.linux
    assert [ns.type for ns in lx.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert lx.namespace("pid") == Namespace("pid", None)
    assert lx.namespace("user") is None
    assert lx.resources == {"devices": [{"allow": False, "access": "rwm"}]}
    assert len(lx.masked_paths) == 10 and lx.readonly_paths[-1] == "/proc/sysrq-trigger"
    assert lx.sysctl == {} and lx.devices == [] and lx.uid_mappings == []
    assert lx.cgroups_path is None and lx.rootfs_propagation is None and lx.seccomp is None
    assert cfg.warnings == []


def test_config_null_and_non_object():
    assert str(refused(None)) == "config cannot be null"
    assert "must be a JSON object" in str(refused([]))
    assert "must be a JSON object" in str(refused("x"))


def test_unknown_properties_and_annotations_are_ignored():
    # "Runtimes MAY log unknown properties but MUST otherwise ignore them."
    cfg = base(
        foo={"bar": [1, 2]},
        annotations={"org.example.anything": "x", "com.example.key1": "value1"},
        windows={"layerFolders": ["C:\\x"]},
        freebsd={"jail": {"vnet": "disable"}},
    )
    cfg["process"]["whatever"] = True
    cfg["root"]["extra"] = 1
    cfg["linux"] = {"unknownField": {"x": 1}, "resources": {"futureController": {"x": "y"}}}
    parsed = parse_config(cfg)
    assert parsed.annotations == {"org.example.anything": "x", "com.example.key1": "value1"}
    assert parsed.warnings == []


def test_null_values_count_as_absent():
    cfg = base(hostname=None)
    cfg["hostname"] = None
    cfg["mounts"] = None
    cfg["linux"] = {"namespaces": None, "sysctl": None}
    cfg["process"]["env"] = None
    parsed = parse_config(cfg)
    assert parsed.hostname is None and parsed.mounts == [] and parsed.process.env == []
    assert parsed.linux.namespaces == [] and parsed.linux.sysctl == {}


def test_top_level_type_errors_name_the_field():
    assert str(refused(base(hostname=5))) == "hostname: must be a string"
    assert str(refused(base(domainname=[]))) == "domainname: must be a string"
    assert str(refused(base(mounts={}))) == "mounts: must be an array"
    assert str(refused(base(hooks=[]))) == "hooks: must be an object"
    assert str(refused(base(linux=[]))) == "linux: must be an object"
    assert str(refused(base(process="sh"))) == "process: must be an object"
    assert str(refused(base(annotations={"a": 1}))) == 'annotations["a"]: must be a string'


def test_repr_is_readable_and_skips_raw():
    cfg = parse_config(base())
    text = repr(cfg)
    assert text.startswith("Config(oci_version='1.3.0', process=Process(")
    assert "raw=" not in text
    assert repr(Namespace("pid")) == "Namespace(type='pid', path=None)"
    assert repr(IDMapping(0, 1000, 1)) == "IDMapping(container_id=0, host_id=1000, size=1)"


# ---------------------------------------------------------------- ociVersion


@pytest.mark.parametrize(
    "version",
    ["1.0.0", "1.0.1", "1.0.2", "1.0.2-dev", "1.0.0-rc5-dev", "1.1.0-rc.1", "1.1.0", "1.2.0", "1.2.1", "1.3.0",
     "1.3.7", "1.0.0+build.5", "1.3.0-rc.2+exp.sha.5114f85"],
)
def test_supported_oci_versions(version):
    assert parse_config(base(ociVersion=version)).oci_version == version


@pytest.mark.parametrize(
    "version, reason",
    [
        ("invalid", "not a SemVer"),
        ("0.9", "not a SemVer"),
        ("1.0", "not a SemVer"),
        ("1", "not a SemVer"),
        ("", "not a SemVer"),
        ("01.0.0", "not a SemVer"),
        ("1.00.0", "not a SemVer"),
        ("1.0.0-", "not a SemVer"),
        ("1.0.0-01", "not a SemVer"),
        ("1.0.0+", "not a SemVer"),
        ("1.0.0-r c", "not a SemVer"),
        ("v1.0.0", "not a SemVer"),
        ("1.0.0 ", "not a SemVer"),
        ("１.0.0", "not a SemVer"),
        ("2.0.0", "unsupported version"),
        ("0.5.0-dev", "unsupported version"),
        ("0.9.0", "unsupported version"),
        ("1.4.0", "unsupported version"),
    ],
)
def test_refused_oci_versions(version, reason):
    err = refused(base(ociVersion=version))
    assert err.field == "ociVersion"
    assert reason in err.reason


def test_oci_version_required_and_string():
    assert str(refused(base(ociVersion=None))) == "ociVersion: is required"
    assert str(refused(base(ociVersion=1))) == "ociVersion: must be a string"


def test_parse_semver():
    assert model.parse_semver("1.2.3-rc.1+b") == (1, 2, 3)
    assert model.parse_semver("10.20.30") == (10, 20, 30)
    assert model.parse_semver("1.2") is None


# ---------------------------------------------------------------- root


def test_root_rules():
    assert str(refused(base(root=None))) == "root: root must be specified"
    assert str(refused(base(root={}))) == "root.path: is required"
    assert str(refused(base(root={"path": ""}))) == "root.path: must not be empty"
    assert str(refused(base(root={"path": 1}))) == "root.path: must be a string"
    assert str(refused(base(root={"path": "r", "readonly": "yes"}))) == "root.readonly: must be a boolean"
    assert parse_config(base(root={"path": "/abs/rootfs", "readonly": True})).root == Root("/abs/rootfs", True)
    # "." is how runtime-tools makes the bundle itself the rootfs.
    assert parse_config(base(root={"path": "."})).root.path == "."


# ---------------------------------------------------------------- process


def test_process_absent_is_fine_at_parse_time():
    assert parse_config(base(process=None)).process is None


def test_process_args_must_not_be_empty():
    assert str(refused(with_process(args=[]))) == "process.args: args must not be empty"
    assert str(refused(with_process(args=None))) == "process.args: args must not be empty"
    assert str(refused(with_process(args="sh"))) == "process.args: must be an array"
    assert str(refused(with_process(args=["sh", 1]))) == "process.args[1]: must be a string"


def test_process_cwd_rules():
    assert str(refused(with_process(cwd=None))) == "process.cwd: Cwd property must not be empty"
    assert str(refused(with_process(cwd=""))) == "process.cwd: Cwd property must not be empty"
    assert str(refused(with_process(cwd="tmp"))) == "process.cwd: Cwd must be an absolute path"
    assert str(refused(with_process(cwd=5))) == "process.cwd: must be a string"
    assert parse_config(with_process(cwd="/test")).process.cwd == "/test"


def test_process_user():
    p = parse_config(with_process(user={"uid": 10, "gid": 10, "umask": 2, "additionalGids": [5]})).process
    assert p.user == User(10, 10, 2, [5], None)
    # No user object at all: 0:0 (runc's zero value; the spec's freebsd example omits it).
    assert parse_config(with_process(user=None)).process.user == User(0, 0, None, [], None)
    assert str(refused(with_process(user={"gid": 0}))) == "process.user.uid: is required"
    assert str(refused(with_process(user={"uid": 0}))) == "process.user.gid: is required"
    assert str(refused(with_process(user={"uid": "0", "gid": 0}))) == "process.user.uid: must be an integer"
    assert str(refused(with_process(user={"uid": True, "gid": 0}))) == "process.user.uid: must be an integer"
    assert str(refused(with_process(user={"uid": 1.0, "gid": 0}))) == "process.user.uid: must be an integer"
    assert str(refused(with_process(user={"uid": -1, "gid": 0}))) == "process.user.uid: must be between 0 and 4294967295"
    assert str(refused(with_process(user={"uid": 0, "gid": 1 << 32}))).startswith("process.user.gid: must be between")
    assert str(refused(with_process(user={"uid": 0, "gid": 0, "additionalGids": [1, "2"]}))) == (
        "process.user.additionalGids[1]: must be an integer"
    )
    assert str(refused(with_process(user={"uid": 0, "gid": 0, "umask": -2}))).startswith("process.user.umask:")
    assert str(refused(with_process(user=[0, 0]))) == "process.user: must be an object"


def test_process_scalars():
    p = parse_config(
        with_process(
            terminal=True,
            consoleSize={"height": 10, "width": 110},
            commandLine="sh -c x",
            apparmorProfile="prof",
            selinuxLabel="lbl",
            oomScoreAdj=-500,
            noNewPrivileges=True,
        )
    ).process
    assert p.terminal is True
    assert (p.console_size.height, p.console_size.width) == (10, 110)
    assert p.command_line == "sh -c x"
    assert (p.apparmor_profile, p.selinux_label, p.oom_score_adj, p.no_new_privileges) == ("prof", "lbl", -500, True)
    assert str(refused(with_process(terminal="true"))) == "process.terminal: must be a boolean"
    assert str(refused(with_process(consoleSize={"width": 1}))) == "process.consoleSize.height: is required"
    assert str(refused(with_process(oomScoreAdj="5"))) == "process.oomScoreAdj: must be an integer"
    assert str(refused(with_process(env=["A=1", 2]))) == "process.env[1]: must be a string"


def test_capabilities_known_and_unknown():
    caps = {
        "bounding": ["CAP_CHOWN", "CAP_TEST", "CAP_CHECKPOINT_RESTORE"],
        "effective": ["CAP_TEST"],
        "permitted": [],
        "ambient": ["CAP_KILL", "CAP_FOO"],
    }
    cfg = parse_config(with_process(capabilities=caps))
    c = cfg.process.capabilities
    assert isinstance(c, Capabilities)
    assert c.bounding == ["CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"]
    assert c.effective == []
    assert c.permitted == []
    assert c.inheritable is None
    assert c.ambient == ["CAP_KILL"]
    assert c.unknown == ["CAP_TEST", "CAP_FOO"]
    # One warning per unknown name, however many sets name it.
    assert cfg.warnings == ['unknown capability "CAP_TEST" ignored', 'unknown capability "CAP_FOO" ignored']


def test_capabilities_type_errors():
    assert str(refused(with_process(capabilities=["CAP_KILL"]))) == "process.capabilities: must be an object"
    assert str(refused(with_process(capabilities={"bounding": "CAP_KILL"}))) == (
        "process.capabilities.bounding: must be an array"
    )
    assert str(refused(with_process(capabilities={"ambient": ["CAP_KILL", 3]}))) == (
        "process.capabilities.ambient[1]: must be a string"
    )


def test_every_capability_is_accepted():
    names = list(tables.CAPABILITIES)
    c = parse_config(with_process(capabilities={s: names for s in Capabilities.SETS})).process.capabilities
    assert c.bounding == names and c.ambient == names and c.unknown == []


def test_rlimits():
    rl = [
        {"type": "RLIMIT_AS", "soft": 1, "hard": 2},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615},
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024},
    ]
    got = parse_config(with_process(rlimits=rl)).process.rlimits
    assert got == [
        Rlimit("RLIMIT_AS", 9, 1, 2),
        Rlimit("RLIMIT_CORE", 4, 0, (1 << 64) - 1),
        Rlimit("RLIMIT_NOFILE", 7, 1024, 1024),
    ]


def test_unknown_rlimit_is_an_error():
    # "The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface."
    err = refused(with_process(rlimits=[{"type": "RLIMIT_TEST", "soft": 1, "hard": 1}]))
    assert err.field == "process.rlimits[0].type"
    assert str(err) == 'process.rlimits[0].type: unknown rlimit "RLIMIT_TEST"'


def test_duplicate_rlimit_is_an_error():
    rl = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}]
    assert str(refused(with_process(rlimits=rl))) == 'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'


def test_rlimit_fields():
    def one(**kw):
        r = {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}
        r.update(kw)
        return refused(with_process(rlimits=[r]))

    assert str(one(soft=None)) == "process.rlimits[0].soft: is required"
    assert str(one(hard=-1)).startswith("process.rlimits[0].hard: must be between 0 and")
    assert str(one(type=None)) == "process.rlimits[0].type: is required"
    assert str(refused(with_process(rlimits=["RLIMIT_NOFILE"]))) == "process.rlimits[0]: must be an object"


def test_process_raw_sections():
    p = parse_config(
        with_process(
            scheduler={"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
            ioPriority={"class": "IOPRIO_CLASS_IDLE", "priority": 4},
            execCPUAffinity={"initial": "7", "final": "0-3,7"},
        )
    ).process
    assert p.scheduler["policy"] == "SCHED_FIFO"
    assert p.io_priority == {"class": "IOPRIO_CLASS_IDLE", "priority": 4}
    assert p.exec_cpu_affinity["final"] == "0-3,7"
    assert str(refused(with_process(scheduler={"priority": 1}))) == "process.scheduler.policy: is required"
    assert refused(with_process(scheduler={"policy": "SCHED_X"})).field == "process.scheduler.policy"
    assert refused(with_process(scheduler={"policy": "SCHED_RR", "flags": ["X"]})).field == "process.scheduler.flags[0]"
    assert refused(with_process(ioPriority={"class": "IOPRIO_CLASS_NONE"})).field == "process.ioPriority.class"
    err = refused(with_process(execCPUAffinity={"initial": "0-3;7"}))
    assert err.field == "process.execCPUAffinity.initial" and "invalid CPU list" in err.reason


def test_parse_process_alone_for_exec():
    warnings = []
    p = parse_process(
        {"args": ["ls"], "cwd": "/tmp", "capabilities": {"bounding": ["CAP_NOPE"]}}, "process", warnings
    )
    assert p.args == ["ls"] and p.user == User(0, 0)
    assert warnings == ['unknown capability "CAP_NOPE" ignored']
    with pytest.raises(ConfigError) as info:
        parse_process({"args": [], "cwd": "/"})
    assert str(info.value) == "process.args: args must not be empty"


# ---------------------------------------------------------------- mounts


def test_mount_rules():
    mounts = [
        {"destination": "/data", "type": "none", "source": "/volumes/x", "options": ["rbind", "rw"]},
        {"destination": "/tmp"},
        {
            "destination": "/idmapped",
            "source": "/src",
            "options": ["bind", "idmap"],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
            "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 10}],
        },
    ]
    got = parse_config(base(mounts=mounts)).mounts
    assert got[0] == Mount("/data", "none", "/volumes/x", ["rbind", "rw"])
    assert got[1] == Mount("/tmp")
    assert got[2].uid_mappings == [IDMapping(0, 1000, 10)]
    assert got[2].gid_mappings == [IDMapping(0, 2000, 10)]


def test_mount_errors_name_the_entry():
    ok = {"destination": "/ok"}
    assert str(refused(base(mounts=[ok, ok, ok, {"destination": 3}]))) == "mounts[3].destination: must be a string"
    assert str(refused(base(mounts=[{"type": "tmpfs"}]))) == "mounts[0].destination: is required"
    assert str(refused(base(mounts=[{"destination": ""}]))) == "mounts[0].destination: must not be empty"
    assert str(refused(base(mounts=[{"destination": "/x", "options": "ro"}]))) == "mounts[0].options: must be an array"
    assert str(refused(base(mounts=["/x"]))) == "mounts[0]: must be an object"
    one_map = [{"containerID": 0, "hostID": 1, "size": 1}]
    assert str(refused(base(mounts=[{"destination": "/x", "uidMappings": one_map}]))) == (
        "mounts[0].gidMappings: must be specified along with uidMappings"
    )
    assert str(refused(base(mounts=[{"destination": "/x", "gidMappings": one_map}]))) == (
        "mounts[0].uidMappings: must be specified along with gidMappings"
    )
    bad_map = [{"containerID": 0, "hostID": 1}]
    assert str(refused(base(mounts=[{"destination": "/x", "uidMappings": bad_map, "gidMappings": one_map}]))) == (
        "mounts[0].uidMappings[0].size: is required"
    )


def test_relative_mount_destination_is_kept_with_a_warning():
    # Linux: relative destinations are deprecated but "MUST be interpreted as relative to /".
    cfg = parse_config(base(mounts=[{"destination": "data", "type": "tmpfs"}]))
    assert cfg.mounts[0].destination == "data"
    assert cfg.warnings == ['mounts[0].destination: relative path "data" is deprecated, taken as relative to /']


# ---------------------------------------------------------------- hooks


def test_hooks_all_kinds():
    hooks = {
        name: [{"path": f"/bin/{name}", "args": [name, "x"], "env": ["A=1"], "timeout": 5}]
        for name in tables.HOOK_NAMES
    }
    parsed = parse_config(base(hooks=hooks)).hooks
    assert parsed.prestart == [Hook("/bin/prestart", ["prestart", "x"], ["A=1"], 5)]
    assert parsed.create_runtime[0].path == "/bin/createRuntime"
    assert parsed.create_container[0].path == "/bin/createContainer"
    assert parsed.start_container[0].path == "/bin/startContainer"
    assert parsed.poststart[0].path == "/bin/poststart"
    assert parsed.poststop[0].path == "/bin/poststop"
    for name in tables.HOOK_NAMES:
        assert parsed.named(name)[0].path == f"/bin/{name}"


def test_hook_defaults_and_errors():
    parsed = parse_config(base(hooks={"poststop": [{"path": "/bin/true"}]})).hooks
    assert parsed.poststop == [Hook("/bin/true", None, None, None)]
    assert parsed.prestart == []

    def hook_err(h):
        return str(refused(base(hooks={"createRuntime": [{"path": "/ok"}, h]})))

    assert hook_err({"args": ["x"]}) == "hooks.createRuntime[1].path: is required"
    assert hook_err({"path": "bin/x"}) == 'hooks.createRuntime[1].path: must be an absolute path, not "bin/x"'
    assert hook_err({"path": "/x", "timeout": 0}) == "hooks.createRuntime[1].timeout: must be greater than zero, not 0"
    assert hook_err({"path": "/x", "timeout": -3}).startswith("hooks.createRuntime[1].timeout: must be greater")
    assert hook_err({"path": "/x", "timeout": "5"}) == "hooks.createRuntime[1].timeout: must be an integer"
    assert hook_err({"path": "/x", "args": "a"}) == "hooks.createRuntime[1].args: must be an array"
    assert str(refused(base(hooks={"poststart": {}}))) == "hooks.poststart: must be an array"


# ---------------------------------------------------------------- linux


def linux(**fields):
    return base(linux=fields)


def test_namespaces():
    got = parse_config(
        linux(namespaces=[{"type": t} for t in tables.NAMESPACE_TYPES[:-1]] + [{"type": "time", "path": ""}])
    ).linux
    assert [n.type for n in got.namespaces] == list(tables.NAMESPACE_TYPES)
    assert got.namespace("time") == Namespace("time", None)
    joined = parse_config(linux(namespaces=[{"type": "network", "path": "/var/run/netns/a"}])).linux
    assert joined.namespaces == [Namespace("network", "/var/run/netns/a")]


def test_namespace_errors():
    ns = [{"type": "pid"}, {"type": "ipc"}, {"type": "foo"}]
    assert str(refused(linux(namespaces=ns))) == 'linux.namespaces[2].type: unknown namespace type "foo"'
    # "If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error."
    dup = [{"type": "pid"}, {"type": "uts"}, {"type": "pid", "path": "/proc/1/ns/pid"}]
    assert str(refused(linux(namespaces=dup))) == 'linux.namespaces[2].type: duplicate namespace type "pid"'
    assert str(refused(linux(namespaces=[{"path": "/x"}]))) == "linux.namespaces[0].type: is required"
    assert str(refused(linux(namespaces=[{"type": "net"}]))) == 'linux.namespaces[0].type: unknown namespace type "net"'
    err = refused(linux(namespaces=[{"type": "pid", "path": "proc/1/ns/pid"}]))
    assert err.field == "linux.namespaces[0].path" and "absolute" in err.reason
    assert str(refused(linux(namespaces={"pid": {}}))) == "linux.namespaces: must be an array"


def test_id_mappings():
    got = parse_config(
        linux(
            uidMappings=[{"containerID": 0, "hostID": 1000, "size": 2000}],
            gidMappings=[{"containerID": 0, "hostID": 1000, "size": 3000}],
        )
    ).linux
    assert got.uid_mappings == [IDMapping(0, 1000, 2000)]
    assert got.gid_mappings == [IDMapping(0, 1000, 3000)]
    assert str(refused(linux(uidMappings=[{"containerID": 0, "hostID": -1, "size": 1}]))).startswith(
        "linux.uidMappings[0].hostID: must be between"
    )
    assert str(refused(linux(gidMappings=[{"hostID": 0, "size": 1}]))) == "linux.gidMappings[0].containerID: is required"


def test_devices():
    devs = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
        {"path": "/dev/fifo", "type": "p", "fileMode": 432},
        {"path": "/dev/u", "type": "u", "major": 1, "minor": 2},
    ]
    got = parse_config(linux(devices=devs)).linux.devices
    assert (got[0].path, got[0].type, got[0].major, got[0].minor, got[0].file_mode, got[0].uid, got[0].gid) == (
        "/dev/fuse", "c", 10, 229, 438, 0, 0,
    )
    assert got[2].major is None and got[2].minor is None and got[2].file_mode == 432
    assert got[1].uid is None and got[1].gid is None


def test_device_errors():
    def dev_err(d):
        return str(refused(linux(devices=[d])))

    assert dev_err({"path": "/dev/x", "type": "c", "minor": 1}) == 'linux.devices[0].major: is required for a device of type "c"'
    assert dev_err({"path": "/dev/x", "type": "b", "major": 1}) == 'linux.devices[0].minor: is required for a device of type "b"'
    assert dev_err({"path": "/dev/x", "type": "x", "major": 1, "minor": 1}).startswith(
        'linux.devices[0].type: unknown device type "x"'
    )
    assert dev_err({"path": "/dev/x"}) == "linux.devices[0].type: is required"
    assert dev_err({"type": "p"}) == "linux.devices[0].path: is required"
    assert dev_err({"path": "dev/x", "type": "p"}).startswith("linux.devices[0].path: must be an absolute path")
    assert dev_err({"path": "/dev/x", "type": "p", "uid": -1}).startswith("linux.devices[0].uid: must be between")


def test_linux_scalars_and_paths():
    got = parse_config(
        linux(
            cgroupsPath="/myRuntime/myContainer",
            rootfsPropagation="slave",
            maskedPaths=["/proc/kcore"],
            readonlyPaths=["/proc/sys"],
            mountLabel="system_u:object_r:x",
            sysctl={"net.ipv4.ip_forward": "1"},
        )
    ).linux
    assert got.cgroups_path == "/myRuntime/myContainer"
    assert got.rootfs_propagation == "slave"
    assert got.masked_paths == ["/proc/kcore"] and got.readonly_paths == ["/proc/sys"]
    assert got.mount_label == "system_u:object_r:x"
    assert got.sysctl == {"net.ipv4.ip_forward": "1"}
    for prop in tables.ROOTFS_PROPAGATIONS:
        assert parse_config(linux(rootfsPropagation=prop)).linux.rootfs_propagation == prop
    err = refused(linux(rootfsPropagation="rshared"))
    assert err.field == "linux.rootfsPropagation" and 'unknown propagation "rshared"' in err.reason
    assert str(refused(linux(sysctl={"net.ipv4.ip_forward": 1}))) == 'linux.sysctl["net.ipv4.ip_forward"]: must be a string'
    assert str(refused(linux(maskedPaths=["/ok", "proc/kcore"]))).startswith("linux.maskedPaths[1]: must be an absolute path")
    assert str(refused(linux(readonlyPaths=[3]))) == "linux.readonlyPaths[0]: must be a string"
    assert str(refused(linux(cgroupsPath=5))) == "linux.cgroupsPath: must be a string"


def test_resources_checked_and_kept_raw():
    res = {
        "pids": {"limit": 32771},
        "memory": {"limit": 536870912, "kernel": -1, "disableOOMKiller": False},
        "cpu": {"shares": 1024, "quota": 1000000, "cpus": "2-3"},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 9223372036854772000}, {"pageSize": "64KB", "limit": 1}],
        "blockIO": {"weight": 10, "weightDevice": [{"major": 8, "minor": 0, "weight": 500}]},
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
        "rdma": {"mlx5_1": {"hcaHandles": 3}},
        "unified": {"memory.max": "max"},
        "devices": [{"allow": False, "access": "rwm"}],
    }
    assert parse_config(linux(resources=res)).linux.resources is res

    def res_err(r):
        return str(refused(linux(resources=r)))

    assert res_err({"hugepageLimits": [{"pageSize": "64kB", "limit": 1}]}).startswith(
        'linux.resources.hugepageLimits[0].pageSize: invalid page size "64kB"'
    )
    assert res_err({"hugepageLimits": [{"pageSize": "02MB", "limit": 1}]}).startswith(
        "linux.resources.hugepageLimits[0].pageSize: invalid page size"
    )
    assert res_err({"hugepageLimits": [{"pageSize": "2MB"}]}) == "linux.resources.hugepageLimits[0].limit: is required"
    assert res_err({"rdma": {"mlx5_1": {"hcaHandles": "many"}}}) == (
        'linux.resources.rdma["mlx5_1"].hcaHandles: must be an integer'
    )
    assert res_err({"pids": {}}) == "linux.resources.pids.limit: is required"
    assert res_err({"memory": {"swappiness": -1}}).startswith("linux.resources.memory.swappiness: must be between 0")
    assert res_err({"devices": [{"access": "rwm"}]}) == "linux.resources.devices[0].allow: is required"
    assert res_err({"blockIO": {"weight": 70000}}).startswith("linux.resources.blockIO.weight: must be between 0 and 65535")
    assert res_err({"unified": {"memory.max": 5}}) == 'linux.resources.unified["memory.max"]: must be a string'
    assert res_err([]) == "linux.resources: must be an object"


def test_check_resources_for_update():
    assert model.check_resources({"pids": {"limit": 5}}) == {"pids": {"limit": 5}}
    with pytest.raises(ConfigError) as info:
        model.check_resources({"cpu": {"quota": "x"}}, "resources")
    assert str(info.value) == "resources.cpu.quota: must be an integer"


def test_other_linux_sections():
    got = parse_config(
        linux(
            seccomp={
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86"],
                "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
            },
            personality={"domain": "LINUX32"},
            intelRdt={"closID": "g", "memBwSchema": "MB:0=20;1=70"},
            timeOffsets={"monotonic": {"secs": 172800, "nanosecs": 0}},
            netDevices={"eth0": {"name": "container_eth0"}, "ens4": {}},
            memoryPolicy={"mode": "MPOL_BIND", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]},
        )
    ).linux
    assert got.seccomp["defaultAction"] == "SCMP_ACT_ALLOW"
    assert got.personality == {"domain": "LINUX32"}
    assert got.intel_rdt["closID"] == "g"
    assert got.time_offsets["monotonic"]["secs"] == 172800
    assert got.net_devices["ens4"] == {}
    assert got.memory_policy["mode"] == "MPOL_BIND"

    assert str(refused(linux(seccomp={"syscalls": []}))) == "linux.seccomp.defaultAction: is required"
    assert str(refused(linux(seccomp={"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "x"}]}))) == (
        "linux.seccomp.syscalls[0].names: must have at least 1 entry"
    )
    assert refused(
        linux(seccomp={"defaultAction": "A", "syscalls": [{"names": ["x"], "action": "A", "args": [{"index": 0, "op": "x"}]}]})
    ).field == "linux.seccomp.syscalls[0].args[0].value"
    assert refused(linux(personality={"domain": "LINUX64"})).field == "linux.personality.domain"
    assert refused(linux(intelRdt={"memBwSchema": "L3:0=7f"})).field == "linux.intelRdt.memBwSchema"
    assert refused(linux(timeOffsets={"boottime": {"nanosecs": -1}})).field == "linux.timeOffsets.boottime.nanosecs"
    assert str(refused(linux(netDevices={"eth0": {"name": 23}}))) == 'linux.netDevices["eth0"].name: must be a string'
    assert refused(linux(memoryPolicy={"flags": ["MPOL_F_X"]})).field == "linux.memoryPolicy.flags[0]"


# ---------------------------------------------------------------- loading from a bundle


def write_config(tmp_path, text):
    (tmp_path / "config.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(tmp_path)


def test_load_bundle_config(tmp_path):
    import json

    bundle = write_config(tmp_path, json.dumps(runc_default_spec()))
    cfg = load_bundle_config(bundle)
    assert cfg.hostname == "runc" and cfg.process.args == ["sh"]


def test_load_bundle_config_from_cwd(tmp_path, monkeypatch):
    write_config(tmp_path, '{"ociVersion": "1.0.0", "root": {"path": "rootfs"}}')
    monkeypatch.chdir(tmp_path)
    assert load_bundle_config("").root.path == "rootfs"


def test_missing_config_json(tmp_path):
    with pytest.raises(RuntimeFailure) as info:
        load_bundle_config(str(tmp_path))
    assert not isinstance(info.value, ConfigError)
    assert str(info.value) == "JSON specification file config.json not found"


def test_config_json_is_a_directory(tmp_path):
    (tmp_path / "config.json").mkdir()
    with pytest.raises(RuntimeFailure) as info:
        load_bundle_config(str(tmp_path))
    assert str(info.value) == "open config.json: is a directory"


def test_null_config_json(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_bundle_config(write_config(tmp_path, "null\n"))
    assert str(info.value) == "config cannot be null"


@pytest.mark.parametrize(
    "text, where",
    [
        ("{]", "line 1 column 2: expected a string key in double quotes"),
        ('{\n  "a": 1,\n}', "line 3 column 1: expected a string key in double quotes"),
        ('{"a": [1 2]}', "line 1 column 10: expected ',' or ']' in array"),
        ('{"a": "x', "line 1 column 9: unterminated string"),
        ('{"a" 1}', "line 1 column 6: expected ':' after an object key"),
        ('{"a": tru}', "line 1 column 7: unexpected character 't'"),
        ('{"a": NaN}', "line 1 column 7: unexpected character 'N'"),
        ('{"a": 1} {}', "line 1 column 10: extra data after the JSON value"),
        ('{"a": "\\x"}', "line 1 column 8: invalid escape in string"),
        ('{"a": -}', "line 1 column 8: expected a digit"),
        ("", "line 1 column 1: unexpected end of input, expected a value"),
        ('{"a": "tab\there"}', "line 1 column 11: control character in string"),
    ],
)
def test_invalid_json_names_the_position(tmp_path, text, where):
    with pytest.raises(ConfigError) as info:
        load_bundle_config(write_config(tmp_path, text))
    assert info.value.field == "config.json"
    # The position comes from the json package's message: "...: line L column C (char N)".
    line = where.split(" column")[0]
    assert str(info.value).startswith("config.json: invalid JSON: ")
    assert line + " column" in str(info.value) or "is not a JSON value" in str(info.value)


def test_invalid_utf8(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_bundle_config(write_config(tmp_path, b'{"ociVersion": "\xff"}'))
    assert str(info.value) == "config.json: not valid UTF-8 at byte 16"


# ---------------------------------------------------------------- tables


def test_tables():
    assert sorted(tables.CAPABILITIES.values()) == list(range(41))
    assert tables.CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    assert sorted(tables.RLIMITS.values()) == list(range(16))
    assert tables.RLIMITS["RLIMIT_NOFILE"] == 7
    assert set(tables.NAMESPACE_TYPES) == set(tables.NAMESPACE_PROC_NAMES) == set(tables.NAMESPACE_CLONE_FLAGS)
    assert len(tables.NAMESPACE_TYPES) == 8
    assert model.parse_semver(tables.SPEC_VERSION_MIN) <= model.parse_semver(tables.SPEC_VERSION_MAX)


def test_tables_match_the_kernel_headers():
    header = "/usr/include/linux/capability.h"
    if not os.path.exists(header):
        pytest.skip("no kernel headers")
    found = {}
    with open(header) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("CAP_") and parts[2].isdigit():
                found[parts[1]] = int(parts[2])
    found.pop("CAP_LAST_CAP", None)
    assert found == tables.CAPABILITIES
    import resource

    for name, num in tables.RLIMITS.items():
        if hasattr(resource, name):
            assert getattr(resource, name) == num


# ---------------------------------------------------------------- hot-path constraints


def test_import_stays_lean(tmp_path):
    """Under `python3 -I -S` the parser must not pull json, re, typing, enum, ... (performance.md).

    Only the broken-JSON error path may load the json package (for its message with
    line and column); a good config must not.
    """
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text('{"ociVersion": "1.3.0", "root": {"path": "rootfs"},'
                                      ' "process": {"args": ["sh"], "cwd": "/"}}')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"ociVersion": "1.3.0",]')
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "before = set(sys.modules)\n"
        "from pyrunc.spec.model import load_bundle_config\n"
        "from pyrunc.errors import RuntimeFailure\n"
        "assert load_bundle_config(sys.argv[2]).process.args == ['sh']\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
        "for bad in sys.argv[3:]:\n"
        "    try:\n"
        "        load_bundle_config(bad)\n"
        "    except RuntimeFailure as e:\n"
        "        print('ERR', e, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, REPO, str(good), str(broken), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ERR config.json: invalid JSON: " in proc.stderr
    assert "line 1 column 24" in proc.stderr
    assert "ERR JSON specification file config.json not found" in proc.stderr
    loaded = set(proc.stdout.split())
    forbidden = {"json", "json.decoder", "re", "typing", "dataclasses", "enum", "pathlib", "collections",
                 "jsonschema", "signal"}
    assert not loaded & forbidden, sorted(loaded & forbidden)


def test_parsing_is_fast():
    big = runc_default_spec()
    big["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": [f"call{i}_{j}" for j in range(6)], "action": "SCMP_ACT_ALLOW"} for i in range(50)
        ]
        + [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}],
    }
    big["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 0"}
    big["process"]["rlimits"].append({"type": "RLIMIT_NPROC", "soft": 1048576, "hard": 1048576})
    parse_config(big)
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        parse_config(copy.copy(big))
    per_call = (time.perf_counter() - start) / rounds
    # Generous bound (typically ~0.1 ms here): catches accidental quadratic work, not noise.
    assert per_call < 0.005, f"{per_call * 1000:.2f} ms per parse"
