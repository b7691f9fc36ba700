"""The runtime-spec v1.3.0 examples and schemas (shared/runtime-spec) as the reference.

- every good config.json loads with pyrunc.spec.model.parse_config, except the
  few listed in GOOD_REFUSED_ON_PURPOSE with the reason;
- every bad one is refused with an error naming the field (by parse_config,
  or, for sections a Linux runtime ignores, by `pyrunc validate`);
- pyrunc's own schemas (schemas/) give the same verdict as the reference
  schemas on every example, and on many variants of them (each value
  replaced by a wrong type or an out-of-range number, or removed).

The shared directory is found next to the repository (`<repo>/../shared`);
without it these tests are skipped.
"""

import copy
import glob
import json
import os

import pytest

from pyrunc.commands import validate
from pyrunc.errors import ConfigError
from pyrunc.spec.model import decode_config_json, parse_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "runtime-spec")
EXAMPLES = os.path.join(SHARED, "test")

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(SHARED, "config-schema.json")),
    reason=f"runtime-spec reference schemas not found at {SHARED}",
)

# Good examples pyrunc refuses on purpose.
GOOD_REFUSED_ON_PURPOSE = {
    "spec-example.json": (
        "ociVersion",
        "declares ociVersion 0.5.0-dev, a pre-1.0 draft; pyrunc implements 1.0.0 to 1.3.x "
        "(the spec keeps compatibility only within a major version)",
    ),
    "zos-example.json": ("ociVersion", "declares ociVersion 0.5.0-dev, as spec-example.json"),
}

# Bad examples parse_config accepts on purpose: the section does not apply to
# Linux and is ignored at create. `pyrunc validate` refuses them.
BAD_IGNORED_BY_PARSER = {
    "freebsd-vnet-disable.json": "the freebsd section does not apply to a Linux runtime",
}

# The field each bad example must be refused for.
BAD_FIELDS = {
    "invalid-json.json": "config.json",
    "linux-hugepage.json": "linux.resources.hugepageLimits[0].pageSize",
    "linux-netdevice.json": 'linux.netDevices["eth0"].name',
    "linux-rdma.json": 'linux.resources.rdma["mlx5_1"].hcaHandles',
    "freebsd-vnet-disable.json": "freebsd.jail.vnet",
}


def examples(kind, verdict):
    return sorted(glob.glob(os.path.join(EXAMPLES, kind, verdict, "*.json")))


def ids(paths):
    return [os.path.basename(p) for p in paths]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def load_json(path):
    """The decoded document, or None when it is not JSON at all."""
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        return None


# ---------------------------------------------------------------- reference validators


def reference_validator(entry):
    """A draft-04 validator for one of the reference schemas, with its siblings in a registry."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for path in glob.glob(os.path.join(SHARED, "*.json")):
        with open(path) as f:
            resources.append((os.path.basename(path), Resource.from_contents(json.load(f), default_specification=DRAFT4)))
    registry = Registry().with_resources(resources)
    with open(os.path.join(SHARED, entry)) as f:
        return jsonschema.Draft4Validator(json.load(f), registry=registry)


PAIRS = {
    "config": ("config-schema.json", validate.CONFIG_SCHEMA),
    "state": ("state-schema.json", validate.STATE_SCHEMA),
    "features": ("features-schema.json", validate.FEATURES_SCHEMA),
}


@pytest.fixture(scope="module")
def validators():
    return {kind: (reference_validator(ref), validate.make_validator(ours)) for kind, (ref, ours) in PAIRS.items()}


# ---------------------------------------------------------------- parse_config on the examples


@pytest.mark.parametrize("path", examples("config", "good"), ids=ids(examples("config", "good")))
def test_good_config_loads(path):
    name = os.path.basename(path)
    data = decode_config_json(read_bytes(path))
    if name in GOOD_REFUSED_ON_PURPOSE:
        field, _reason = GOOD_REFUSED_ON_PURPOSE[name]
        with pytest.raises(ConfigError) as info:
            parse_config(data)
        assert info.value.field == field
        # Everything else in it is fine: with a supported version it loads.
        data["ociVersion"] = "1.3.0"
    cfg = parse_config(data)
    assert cfg.raw is data
    assert cfg.root is not None


@pytest.mark.parametrize("path", examples("config", "bad"), ids=ids(examples("config", "bad")))
def test_bad_config_is_refused_naming_the_field(path):
    name = os.path.basename(path)
    if name in BAD_IGNORED_BY_PARSER:
        parse_config(decode_config_json(read_bytes(path)))
        return
    with pytest.raises(ConfigError) as info:
        parse_config(decode_config_json(read_bytes(path)))
    err = info.value
    assert err.field, f"{name}: error names no field: {err}"
    assert str(err).startswith(f"{err.field}: ")
    if name in BAD_FIELDS:
        assert err.field == BAD_FIELDS[name], str(err)


@pytest.mark.parametrize("path", examples("config", "bad"), ids=ids(examples("config", "bad")))
def test_validate_refuses_every_bad_config(path, validators):
    name = os.path.basename(path)
    blob = read_bytes(path)
    try:
        document = decode_config_json(blob)
    except ConfigError as e:
        assert e.field == BAD_FIELDS.get(name, "config.json")
        return
    problems, _warnings = validate.check_config(document, validators["config"][1])
    assert problems, f"{name} passed validation"
    fields = [field for field, _ in problems]
    assert all(fields), problems
    if name in BAD_FIELDS:
        assert BAD_FIELDS[name] in fields, problems


# ---------------------------------------------------------------- schema agreement


def all_examples():
    out = []
    for kind in PAIRS:
        for verdict in ("good", "bad"):
            for path in examples(kind, verdict):
                out.append((kind, verdict, path))
    return out


@pytest.mark.parametrize(
    "kind, verdict, path", all_examples(), ids=[f"{k}-{v}-{os.path.basename(p)}" for k, v, p in all_examples()]
)
def test_schemas_agree_on_examples(kind, verdict, path, validators):
    document = load_json(path)
    if document is None:
        assert verdict == "bad"
        return
    ref, ours = validators[kind]
    expected = verdict == "good"
    assert ref.is_valid(document) == expected, "the reference disagrees with its own example"
    assert ours.is_valid(document) == expected, list(ours.iter_errors(document))[:3]


# Hand-written documents covering what the examples leave out (other
# platforms, newer process and linux fields), all valid for the reference.
EXTRA_CONFIGS = [
    {
        "ociVersion": "1.3.0",
        "process": {
            "cwd": "/",
            "args": ["sh"],
            "consoleSize": {"height": 25, "width": 80},
            "commandLine": "sh",
            "user": {"uid": 1, "gid": 1, "umask": 63, "additionalGids": [5], "username": "u"},
            "oomScoreAdj": -100,
            "scheduler": {
                "policy": "SCHED_DEADLINE",
                "nice": -5,
                "priority": 3,
                "flags": ["SCHED_FLAG_RECLAIM"],
                "runtime": 10,
                "deadline": 20,
                "period": 30,
            },
            "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
            "execCPUAffinity": {"initial": "7", "final": "0-3, 7"},
        },
        "root": {"path": "rootfs"},
        "mounts": [
            {
                "destination": "/m",
                "source": "/s",
                "options": ["bind", "idmap"],
                "uidMappings": [{"containerID": 0, "hostID": 100, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 100, "size": 1}],
            }
        ],
        "linux": {
            "seccomp": {
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 38,
                "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                "listenerPath": "/run/agent.sock",
                "listenerMetadata": "x",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [
                    {
                        "names": ["personality"],
                        "action": "SCMP_ACT_ALLOW",
                        "errnoRet": 1,
                        "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                    }
                ],
            },
            "intelRdt": {
                "closID": "g",
                "schemata": ["L3:0=7f"],
                "l3CacheSchema": "L3:0=7f0",
                "memBwSchema": "MB:0=20",
                "enableMonitoring": True,
            },
            "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]},
            "personality": {"domain": "LINUX", "flags": []},
            "resources": {
                "unified": {"memory.high": "max"},
                "cpu": {"idle": 1, "burst": 5},
                "blockIO": {"throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 1}]},
            },
        },
    },
    {
        "ociVersion": "1.1.0",
        "root": {"path": "\\\\?\\Volume{ec84d99e-3f02-11e7-ac6c-00155d7682cf}\\"},
        "windows": {
            "layerFolders": ["C:\\layers\\1"],
            "devices": [{"id": "24E552D7-6523-47F7-A647-D3465BF1F5CA", "idType": "class"}],
            "resources": {
                "memory": {"limit": 2097152},
                "cpu": {"count": 2, "shares": 1024, "maximum": 5000, "affinity": {"mask": 3, "group": 0}},
                "storage": {"iops": 1, "bps": 2, "sandboxSize": 3},
            },
            "network": {
                "endpointList": ["7a010682"],
                "allowUnqualifiedDNSQuery": True,
                "DNSSearchList": ["a.com"],
                "networkSharedContainerName": "c",
                "networkNamespace": "n",
            },
            "credentialSpec": {"x": 1},
            "servicing": False,
            "ignoreFlushesDuringBoot": True,
            "hyperv": {"utilityVMPath": "C:\\path"},
        },
    },
    {
        "ociVersion": "1.0.0",
        "root": {"path": "rootfs"},
        "solaris": {
            "milestone": "svc:/milestone/container:default",
            "limitpriv": "default",
            "maxShmMemory": "512m",
            "cappedCPU": {"ncpus": "8"},
            "cappedMemory": {"physical": "512m", "swap": "512m"},
            "anet": [
                {
                    "linkname": "net0",
                    "lowerLink": "net2",
                    "allowedAddress": "172.17.0.2/16",
                    "configureAllowedAddress": "true",
                    "defrouter": "172.17.0.1/16",
                    "linkProtection": "mac-nospoof, ip-nospoof",
                    "macAddress": "02:42:f8:52:c7:16",
                }
            ],
        },
    },
    {
        "ociVersion": "1.0.0",
        "root": {"path": "rootfs"},
        "vm": {
            "hypervisor": {"path": "/usr/bin/qemu", "parameters": ["-m"]},
            "kernel": {"path": "/k", "parameters": ["console=ttyS0"], "initrd": "/i"},
            "image": {"path": "/img", "format": "raw"},
            "hwConfig": {
                "deviceTree": "/dt",
                "vcpus": 2,
                "memory": 1024,
                "dtdevs": ["/a"],
                "iomems": [{"firstGFN": 1, "firstMFN": 2, "nrMFNs": 3}],
            },
        },
    },
    {
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs"},
        "freebsd": {
            "devices": [{"path": "pf", "mode": 448}],
            "jail": {
                "parent": "p",
                "host": "inherit",
                "ip4": "disable",
                "ip4Addr": ["10.0.0.1"],
                "ip6": "new",
                "ip6Addr": [],
                "vnet": "new",
                "interface": "em0",
                "vnetInterfaces": ["epair0b"],
                "sysvmsg": "new",
                "sysvsem": "inherit",
                "sysvshm": "disable",
                "enforceStatfs": 2,
                "allow": {
                    "setHostname": True,
                    "rawSockets": False,
                    "chflags": True,
                    "mount": ["tmpfs"],
                    "quotas": False,
                    "socketAf": True,
                    "mlock": True,
                    "reservedPorts": False,
                    "suser": True,
                },
            },
        },
    },
]

EXTRA_STATES = [
    {"ociVersion": "1.3.0", "id": "c1", "status": "created", "pid": 4422, "bundle": "/b", "annotations": {"k": "v"}},
    {"ociVersion": "1.3.0", "id": "c1", "status": "stopped", "bundle": "/b"},
]


def extra_features():
    out = []
    for path in examples("features", "good"):
        out.append(load_json(path))
    return out


# What to put in place of a value, by the value's JSON type.
def replacements(value):
    if isinstance(value, bool):
        return ["true", 1, None]
    if isinstance(value, int):
        # Both sides of every bound the schemas use (uint8..uint64, int32,
        # int64, fileMode, timeout >= 1), and what is not an integer at all.
        return ["1", 1.5, 2.0, True, -1, 0, 1, 255, 256, 511, 512, 65535, 65536,
                (1 << 31) - 1, 1 << 31, -(1 << 31), -(1 << 31) - 1, (1 << 32) - 1, 1 << 32,
                (1 << 63) - 1, 1 << 63, -(1 << 63), -(1 << 63) - 1, (1 << 64) - 1, 1 << 64]
    if isinstance(value, str):
        return [7, True, [], "", "zzz", value + "\n"]
    if isinstance(value, list):
        return ["x", {}, [], [None], [7]]
    if isinstance(value, dict):
        return ["x", [], {}, {"": 1}, {"k": 1}]
    return [None]


def leaf_paths(doc, prefix=()):
    """Every (path, value) in the document, containers included.

    Only the first entries of a list are visited: the others have the same
    schema, and long lists (features' mountOptions) would only cost time.
    """
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from leaf_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:2]):
            yield from leaf_paths(v, prefix + (i,))


def set_at(doc, path, value, delete=False):
    target = doc
    for p in path[:-1]:
        target = target[p]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def variants(doc):
    """Documents that differ from `doc` in one place."""
    for path, value in list(leaf_paths(doc)):
        if not path:
            continue
        for repl in replacements(value):
            new = copy.deepcopy(doc)
            set_at(new, path, repl)
            yield path, new
        if isinstance(path[-1], str):
            new = copy.deepcopy(doc)
            set_at(new, path, None, delete=True)
            yield path, new


# Sections cut further, one document per property; the listed keys are
# required by the section and stay in every piece.
SPLIT_DEEPER = {"process": ("cwd",), "linux": ()}


def split_sections(doc):
    """Small documents, one per section (per property for process and linux).

    Validation cost grows with document size, and every variant is validated
    twice; smaller pieces keep the run short without losing any check.
    """
    skeleton = {k: doc[k] for k in ("ociVersion", "root") if k in doc}
    out = [copy.deepcopy(skeleton)]
    for key, value in doc.items():
        if key in skeleton:
            continue
        keep = SPLIT_DEEPER.get(key)
        if keep is not None and isinstance(value, dict):
            base = {k: value[k] for k in keep if k in value}
            for sub, sub_value in value.items():
                part = copy.deepcopy(skeleton)
                part[key] = dict(copy.deepcopy(base), **{sub: copy.deepcopy(sub_value)})
                out.append(part)
            continue
        part = copy.deepcopy(skeleton)
        part[key] = copy.deepcopy(value)
        out.append(part)
    return out


def uses_broken_reference(document):
    # The reference's ArrayOfUint32 (vm.hwConfig.irqs) refers to "#definitions/uint32",
    # a JSON pointer without its leading slash; jsonschema cannot resolve it.
    irqs = (((document.get("vm") or {}) if isinstance(document, dict) else {}) or {})
    irqs = irqs.get("hwConfig") if isinstance(irqs, dict) else None
    irqs = irqs.get("irqs") if isinstance(irqs, dict) else None
    return isinstance(irqs, list) and len(irqs) > 0


def corpus(kind):
    if kind == "config":
        docs = [load_json(p) for p in examples("config", "good")] + EXTRA_CONFIGS
    elif kind == "state":
        docs = [load_json(p) for p in examples("state", "good")] + EXTRA_STATES
    else:
        docs = extra_features()
    out = []
    for doc in docs:
        if doc is None:
            continue
        # config.json requires only ociVersion, so it can be cut per section;
        # state and features documents are small and have more required keys.
        out.extend(split_sections(doc) if kind == "config" else [doc])
    return out


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_schemas_agree_on_variants(kind, validators):
    ref, ours = validators[kind]
    checked = 0
    disagreements = []
    for doc in corpus(kind):
        assert ref.is_valid(doc), f"extra corpus document is not valid for the reference: {doc}"
        assert ours.is_valid(doc), list(ours.iter_errors(doc))[:3]
        for path, variant in variants(doc):
            if uses_broken_reference(variant):
                continue
            if kind == "state" and isinstance(variant, dict) and variant.get("status") == "paused":
                continue  # pyrunc's state schema accepts runc's "paused" on purpose
            want = ref.is_valid(variant)
            got = ours.is_valid(variant)
            checked += 1
            if want != got:
                disagreements.append((path, want, got))
    assert checked > 100
    assert not disagreements, f"{len(disagreements)} of {checked} disagree, e.g. {disagreements[:5]}"


def test_parse_config_accepts_what_the_reference_accepts(validators):
    """A config the reference schema accepts must load, unless pyrunc refuses it on purpose.

    The refusals on purpose are pyrunc's semantic rules (supported ociVersion,
    known rlimit names, absolute paths, ...); every one must name its field.
    """
    ref = validators["config"][0]
    loaded = refused = 0
    for doc in corpus("config"):
        doc = dict(doc, ociVersion="1.3.0")
        for path, variant in variants(doc):
            if uses_broken_reference(variant) or not ref.is_valid(variant):
                continue
            try:
                parse_config(variant)
                loaded += 1
            except ConfigError as e:
                refused += 1
                assert e.field, (path, str(e))
    assert loaded > refused
