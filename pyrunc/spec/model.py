"""config.json -> a typed, checked model of the container.

This runs on every `create` and `run` under `python3 -I -S`, so it imports
only `os`, the errors module, jsonio, the tables and its two parts (fields.py:
typed reads of a field; process.py: the process object), and checks fields by hand
instead of through jsonschema (which costs ~150 ms to import; `pyrunc
validate` uses it, with the schemas in schemas/).

Every refusal is a ConfigError whose field is a JSON-ish path to the value:
`process.user.uid: must be an integer`, `linux.namespaces[2].type: unknown
namespace type "foo"`, `linux.sysctl["net.ipv4.ip_forward"]: must be a
string`.

General rules applied throughout:
- "Runtimes MAY log unknown properties but MUST otherwise ignore them.
  That includes not generating errors if they encounter an unknown property."
  Unknown keys are never looked at.
- JSON `null` counts as "absent", as Go's encoding/json (and so runc) treats it.
- "Runtimes MUST generate an error when invalid or unsupported values are
  encountered." Wrong types and out-of-range numbers are errors; a bool is
  not an integer and 1.0 is not an integer (Go refuses both too).
- Sections for other platforms (windows, solaris, vm, zos, freebsd) do not
  apply to a Linux runtime and are ignored; `pyrunc validate` still checks
  them against the schema.
"""

from pyrunc import lean_os as os
from pyrunc import jsonio
from pyrunc.errors import ConfigError, RuntimeFailure, os_failure
from pyrunc.spec import tables
from pyrunc.spec.fields import (
    BOOL, I64, STR, U32, Enum, ListOf, MapOf, Model, Obj, Test, at, bool_field, check_absolute,
    check_int, check_shape, entries, int_field, obj_field, raw_field, required, str_field, str_list,
    str_map)
# The process part, re-exported: a Config holds a Process.
from pyrunc.spec.process import (  # noqa: F401
    Capabilities, ConsoleSize, Process, Rlimit, User, parse_process)

# --------------------------------------------------------------------------
# Model classes. Plain __slots__ classes: cheap to build, no dataclasses.
# --------------------------------------------------------------------------


class Config(Model):
    """The whole config.json. `warnings` lists what was ignored and should be logged."""

    __slots__ = (
        "oci_version",
        "process",
        "root",
        "hostname",
        "domainname",
        "mounts",
        "hooks",
        "annotations",
        "linux",
        "warnings",
        "raw",
    )
    _repr_skip = ("raw",)

    def __init__(
        self,
        oci_version,
        process=None,
        root=None,
        hostname=None,
        domainname=None,
        mounts=None,
        hooks=None,
        annotations=None,
        linux=None,
        warnings=None,
        raw=None,
    ):
        self.oci_version = oci_version
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = [] if mounts is None else mounts
        self.hooks = Hooks() if hooks is None else hooks
        self.annotations = {} if annotations is None else annotations
        self.linux = linux
        self.warnings = [] if warnings is None else warnings
        self.raw = {} if raw is None else raw


class Root(Model):
    """root: `path` exactly as written (relative paths are relative to the bundle)."""

    __slots__ = ("path", "readonly")

    def __init__(self, path, readonly=False):
        self.path = path
        self.readonly = readonly


class IDMapping(Model):
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, container_id, host_id, size):
        self.container_id = container_id
        self.host_id = host_id
        self.size = size


class Mount(Model):
    __slots__ = ("destination", "type", "source", "options", "uid_mappings", "gid_mappings")

    def __init__(self, destination, type=None, source=None, options=None, uid_mappings=None, gid_mappings=None):
        self.destination = destination
        self.type = type
        self.source = source
        self.options = [] if options is None else options
        self.uid_mappings = [] if uid_mappings is None else uid_mappings
        self.gid_mappings = [] if gid_mappings is None else gid_mappings


class Hook(Model):
    __slots__ = ("path", "args", "env", "timeout")

    def __init__(self, path, args=None, env=None, timeout=None):
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout


class Hooks(Model):
    """The six hook lists; each is [] when absent."""

    __slots__ = ("prestart", "create_runtime", "create_container", "start_container", "poststart", "poststop")

    # config.json key -> attribute, in the order the spec lists them.
    SPEC_NAMES = {
        "prestart": "prestart",
        "createRuntime": "create_runtime",
        "createContainer": "create_container",
        "startContainer": "start_container",
        "poststart": "poststart",
        "poststop": "poststop",
    }

    def __init__(
        self,
        prestart=None,
        create_runtime=None,
        create_container=None,
        start_container=None,
        poststart=None,
        poststop=None,
    ):
        self.prestart = [] if prestart is None else prestart
        self.create_runtime = [] if create_runtime is None else create_runtime
        self.create_container = [] if create_container is None else create_container
        self.start_container = [] if start_container is None else start_container
        self.poststart = [] if poststart is None else poststart
        self.poststop = [] if poststop is None else poststop

    def named(self, spec_name):
        """The hook list for a config.json name such as "createRuntime"."""
        return getattr(self, self.SPEC_NAMES[spec_name])


class Namespace(Model):
    """`type` as the spec names it ("network", "mount", ...); `path` None = create a new one."""

    __slots__ = ("type", "path")

    def __init__(self, type, path=None):
        self.type = type
        self.path = path


class Device(Model):
    __slots__ = ("path", "type", "major", "minor", "file_mode", "uid", "gid")

    def __init__(self, path, type, major=None, minor=None, file_mode=None, uid=None, gid=None):
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.file_mode = file_mode
        self.uid = uid
        self.gid = gid


class Linux(Model):
    """The linux section. The dict-valued fields are checked but kept raw."""

    __slots__ = (
        "namespaces",
        "uid_mappings",
        "gid_mappings",
        "devices",
        "cgroups_path",
        "resources",
        "rootfs_propagation",
        "masked_paths",
        "readonly_paths",
        "mount_label",
        "sysctl",
        "seccomp",
        "personality",
        "intel_rdt",
        "time_offsets",
        "net_devices",
        "memory_policy",
    )

    def __init__(
        self,
        namespaces=None,
        uid_mappings=None,
        gid_mappings=None,
        devices=None,
        cgroups_path=None,
        resources=None,
        rootfs_propagation=None,
        masked_paths=None,
        readonly_paths=None,
        mount_label=None,
        sysctl=None,
        seccomp=None,
        personality=None,
        intel_rdt=None,
        time_offsets=None,
        net_devices=None,
        memory_policy=None,
    ):
        self.namespaces = [] if namespaces is None else namespaces
        self.uid_mappings = [] if uid_mappings is None else uid_mappings
        self.gid_mappings = [] if gid_mappings is None else gid_mappings
        self.devices = [] if devices is None else devices
        self.cgroups_path = cgroups_path
        self.resources = resources
        self.rootfs_propagation = rootfs_propagation
        self.masked_paths = [] if masked_paths is None else masked_paths
        self.readonly_paths = [] if readonly_paths is None else readonly_paths
        self.mount_label = mount_label
        self.sysctl = {} if sysctl is None else sysctl
        self.seccomp = seccomp
        self.personality = personality
        self.intel_rdt = intel_rdt
        self.time_offsets = time_offsets
        self.net_devices = net_devices
        self.memory_policy = memory_policy

    def namespace(self, ns_type):
        """The Namespace entry of that type, or None (= share the runtime's)."""
        for ns in self.namespaces:
            if ns.type == ns_type:
                return ns
        return None


# --------------------------------------------------------------------------
# Field helpers. A field's full path is formatted only when it is wrong; the
# entry prefixes (`mounts[3]`) are built as the lists are walked.
# --------------------------------------------------------------------------


def _is_page_size(s):
    # pageSize "^[1-9][0-9]*[KMG]B$": a size without leading zero, then KB/MB/GB.
    if len(s) < 3 or s[-1] != "B" or s[-2] not in "KMG":
        return False
    digits = s[:-2]
    return digits.isascii() and digits.isdigit() and digits[0] != "0"


def _is_mb_schema(s):
    # memBwSchema: "The value MUST start with MB: and MUST NOT contain newlines."
    return s.startswith("MB:") and "\n" not in s


_MAJOR_MINOR = {"major": "i64", "minor": "i64"}
_WEIGHT_DEVICE = Obj({**_MAJOR_MINOR, "weight": "u16", "leafWeight": "u16"}, ("major", "minor"))
_THROTTLE_DEVICE = Obj({**_MAJOR_MINOR, "rate": "u64"}, ("major", "minor"))

# linux.resources, as config-linux.md defines it.
RESOURCES_SHAPE = Obj(
    {
        "unified": MapOf(STR),
        "devices": ListOf(
            Obj({"allow": BOOL, "type": STR, "major": "i64", "minor": "i64", "access": STR}, ("allow",))
        ),
        "pids": Obj({"limit": "i64"}, ("limit",)),
        "blockIO": Obj(
            {
                "weight": "u16",
                "leafWeight": "u16",
                "weightDevice": ListOf(_WEIGHT_DEVICE),
                "throttleReadBpsDevice": ListOf(_THROTTLE_DEVICE),
                "throttleWriteBpsDevice": ListOf(_THROTTLE_DEVICE),
                "throttleReadIOPSDevice": ListOf(_THROTTLE_DEVICE),
                "throttleWriteIOPSDevice": ListOf(_THROTTLE_DEVICE),
            }
        ),
        "cpu": Obj(
            {
                "cpus": STR,
                "mems": STR,
                "period": "u64",
                "quota": "i64",
                "burst": "u64",
                "realtimePeriod": "u64",
                "realtimeRuntime": "i64",
                "shares": "u64",
                "idle": "i64",
            }
        ),
        "hugepageLimits": ListOf(
            Obj(
                {
                    "pageSize": Test(_is_page_size, 'invalid page size "{}" (expected a size like 2MB, 64KB or 1GB)'),
                    "limit": "u64",
                },
                ("pageSize", "limit"),
            )
        ),
        "memory": Obj(
            {
                "kernel": "i64",
                "kernelTCP": "i64",
                "limit": "i64",
                "reservation": "i64",
                "swap": "i64",
                "swappiness": "u64",
                "disableOOMKiller": BOOL,
                "useHierarchy": BOOL,
                "checkBeforeUpdate": BOOL,
            }
        ),
        "network": Obj(
            {
                "classID": "u32",
                "priorities": ListOf(Obj({"name": STR, "priority": "u32"}, ("name", "priority"))),
            }
        ),
        "rdma": MapOf(Obj({"hcaHandles": "u32", "hcaObjects": "u32"})),
    }
)

_SECCOMP_SHAPE = Obj(
    {
        "defaultAction": STR,
        "defaultErrnoRet": "u32",
        "flags": ListOf(STR),
        "listenerPath": STR,
        "listenerMetadata": STR,
        "architectures": ListOf(STR),
        "syscalls": ListOf(
            Obj(
                {
                    # "names MUST contain at least one entry."
                    "names": ListOf(STR, 1),
                    "action": STR,
                    "errnoRet": "u32",
                    "args": ListOf(
                        Obj({"index": "u32", "value": "u64", "valueTwo": "u64", "op": STR}, ("index", "value", "op"))
                    ),
                },
                ("names", "action"),
            )
        ),
    },
    ("defaultAction",),
)

_PERSONALITY_SHAPE = Obj({"domain": Enum(tables.PERSONALITY_DOMAINS), "flags": ListOf(STR)})

_INTEL_RDT_SHAPE = Obj(
    {
        "closID": STR,
        "schemata": ListOf(STR),
        "l3CacheSchema": STR,
        "memBwSchema": Test(_is_mb_schema, 'invalid memBwSchema "{}" (must start with "MB:" and be one line)'),
        "enableMonitoring": BOOL,
    }
)

_TIME_OFFSET = Obj({"secs": "i64", "nanosecs": "u32"})
_TIME_OFFSETS_SHAPE = Obj({"boottime": _TIME_OFFSET, "monotonic": _TIME_OFFSET})

_NET_DEVICES_SHAPE = MapOf(Obj({"name": STR}))

_MEMORY_POLICY_SHAPE = Obj(
    {
        "mode": Enum(tables.MEMORY_POLICY_MODES),
        "nodes": STR,
        "flags": ListOf(Enum(tables.MEMORY_POLICY_FLAGS)),
    }
)

def check_resources(data, path="linux.resources"):
    """Check a LinuxResources object (config.json, or `update --resources`)."""
    check_shape(data, RESOURCES_SHAPE, path)
    return data


# --------------------------------------------------------------------------
# ociVersion
# --------------------------------------------------------------------------


def _semver_ids(text, numeric_rule):
    """Dot-separated SemVer identifiers: [0-9A-Za-z-]+, numeric ones without leading zeros."""
    for ident in text.split("."):
        if not ident or not ident.isascii():
            return False
        for c in ident:
            if not (c.isalnum() or c == "-"):
                return False
        if numeric_rule and ident.isdigit() and len(ident) > 1 and ident[0] == "0":
            return False
    return True


def parse_semver(text):
    """(major, minor, patch) of a SemVer 2.0.0 string, or None if it is not one."""
    core = text
    plus = core.find("+")
    if plus >= 0:
        if not _semver_ids(core[plus + 1 :], False):
            return None
        core = core[:plus]
    dash = core.find("-")
    if dash >= 0:
        if not _semver_ids(core[dash + 1 :], True):
            return None
        core = core[:dash]
    parts = core.split(".")
    if len(parts) != 3:
        return None
    for p in parts:
        if not (p.isascii() and p.isdigit()) or (len(p) > 1 and p[0] == "0"):
            return None
    return (int(parts[0]), int(parts[1]), int(parts[2]))


_MIN_VERSION = parse_semver(tables.SPEC_VERSION_MIN)
_MAX_VERSION = parse_semver(tables.SPEC_VERSION_MAX)


def check_oci_version(value):
    """Refuse an ociVersion this runtime does not implement.

    "ociVersion (string, REQUIRED) MUST be in SemVer v2.0.0 format" and the
    spec "retains forward and backward compatibility within major versions":
    any 1.x up to the newest minor we implement (any patch or pre-release of
    it, e.g. "1.0.2-dev", "1.1.0-rc.1") is accepted.
    """
    if value is None:
        raise ConfigError("ociVersion", "is required")
    if type(value) is not str:
        raise ConfigError("ociVersion", "must be a string")
    version = parse_semver(value)
    if version is None:
        raise ConfigError("ociVersion", f'"{value}" is not a SemVer 2.0.0 version')
    if version[0] != _MIN_VERSION[0] or version[1] < _MIN_VERSION[1] or version[1] > _MAX_VERSION[1]:
        raise ConfigError(
            "ociVersion",
            f'unsupported version "{value}" (supported: {tables.SPEC_VERSION_MIN} to '
            f"{_MAX_VERSION[0]}.{_MAX_VERSION[1]}.x)",
        )
    return value


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


def _id_mappings(d, key, base):
    out = []
    for _, e, p in entries(d, key, base):
        # "containerID (uint32, REQUIRED)", "hostID (uint32, REQUIRED)", "size (uint32, REQUIRED)"
        out.append(
            IDMapping(
                check_int(required(e, "containerID", p), at(p, "containerID"), U32),
                check_int(required(e, "hostID", p), at(p, "hostID"), U32),
                check_int(required(e, "size", p), at(p, "size"), U32),
            )
        )
    return out


def _parse_root(d):
    root = obj_field(d, "root", "")
    if root is None:
        # "root (object, OPTIONAL) [...] On Windows, for Windows Server
        # Containers, this field is REQUIRED. [...] On all other platforms,
        # this field is REQUIRED." runc says the same: "root must be specified".
        raise ConfigError("root", "root must be specified")
    # "path (string, REQUIRED) [...] either an absolute path or a relative path to the bundle."
    path = str_field(root, "path", "root")
    if path is None:
        raise ConfigError("root.path", "is required")
    if not path:
        raise ConfigError("root.path", "must not be empty")
    return Root(path, bool_field(root, "readonly", "root"))


def _parse_mounts(d, warnings):
    out = []
    for _, m, p in entries(d, "mounts", ""):
        # "destination (string, REQUIRED) Destination of mount point: path inside container."
        dest = str_field(m, "destination", p)
        if dest is None:
            raise ConfigError(at(p, "destination"), "is required")
        if not dest:
            raise ConfigError(at(p, "destination"), "must not be empty")
        if dest[0] != "/":
            # "Linux: This value SHOULD be an absolute path. For compatibility
            # with old tools and configurations, it MAY be a relative path, in
            # which case it MUST be interpreted as relative to "/". Relative
            # paths are deprecated." Kept as written; the mount code roots it.
            warnings.append(f'{at(p, "destination")}: relative path "{dest}" is deprecated, taken as relative to /')
        uid_maps = _id_mappings(m, "uidMappings", p)
        gid_maps = _id_mappings(m, "gidMappings", p)
        # uidMappings: "If specified, it MUST be specified along with gidMappings." (and vice versa)
        if bool(uid_maps) != bool(gid_maps):
            missing = "gidMappings" if uid_maps else "uidMappings"
            have = "uidMappings" if uid_maps else "gidMappings"
            raise ConfigError(at(p, missing), f"must be specified along with {have}")
        out.append(
            Mount(
                dest,
                str_field(m, "type", p),
                str_field(m, "source", p),
                str_list(m, "options", p, []),
                uid_maps,
                gid_maps,
            )
        )
    return out


def _parse_hook_list(d, key, base):
    out = []
    for _, h, p in entries(d, key, base):
        # "path (string, REQUIRED) [...] This specification extends the IEEE
        # standard in that path MUST be absolute."
        path = str_field(h, "path", p)
        if path is None:
            raise ConfigError(at(p, "path"), "is required")
        check_absolute(path, at(p, "path"))
        timeout = int_field(h, "timeout", p, I64)
        # "timeout (int, OPTIONAL) [...] If set, timeout MUST be greater than zero."
        if timeout is not None and timeout <= 0:
            raise ConfigError(at(p, "timeout"), f"must be greater than zero, not {timeout}")
        out.append(Hook(path, str_list(h, "args", p), str_list(h, "env", p), timeout))
    return out


def _parse_hooks(d):
    hooks = obj_field(d, "hooks", "")
    if not hooks:
        return Hooks()
    return Hooks(
        _parse_hook_list(hooks, "prestart", "hooks"),
        _parse_hook_list(hooks, "createRuntime", "hooks"),
        _parse_hook_list(hooks, "createContainer", "hooks"),
        _parse_hook_list(hooks, "startContainer", "hooks"),
        _parse_hook_list(hooks, "poststart", "hooks"),
        _parse_hook_list(hooks, "poststop", "hooks"),
    )


def _parse_namespaces(lx):
    out = []
    seen = set()
    for _, ns, p in entries(lx, "namespaces", "linux"):
        ns_type = str_field(ns, "type", p)
        if ns_type is None:
            raise ConfigError(at(p, "type"), "is required")
        if ns_type not in tables.NAMESPACE_CLONE_FLAGS:
            raise ConfigError(at(p, "type"), f'unknown namespace type "{ns_type}"')
        if ns_type in seen:
            # "If a namespaces field contains duplicated namespaces with same
            # type, the runtime MUST generate an error."
            raise ConfigError(at(p, "type"), f'duplicate namespace type "{ns_type}"')
        seen.add(ns_type)
        # An empty path is Go's zero value: the same as no path.
        path = str_field(ns, "path", p) or None
        if path is not None:
            # "This value MUST be an absolute path in the runtime mount namespace."
            check_absolute(path, at(p, "path"))
        out.append(Namespace(ns_type, path))
    return out


def _parse_devices(lx):
    out = []
    for _, dev, p in entries(lx, "devices", "linux"):
        # "path (string, REQUIRED) - full path to device inside container."
        path = str_field(dev, "path", p)
        if path is None:
            raise ConfigError(at(p, "path"), "is required")
        check_absolute(path, at(p, "path"))
        # "type (string, REQUIRED) - type of device: c, b, u or p."
        dtype = str_field(dev, "type", p)
        if dtype is None:
            raise ConfigError(at(p, "type"), "is required")
        if dtype not in tables.DEVICE_TYPES:
            raise ConfigError(at(p, "type"), f'unknown device type "{dtype}" (expected c, b, u or p)')
        major = int_field(dev, "major", p, I64)
        minor = int_field(dev, "minor", p, I64)
        if dtype != "p":
            # "major, minor (int64, REQUIRED unless type is p)"
            if major is None:
                raise ConfigError(at(p, "major"), f'is required for a device of type "{dtype}"')
            if minor is None:
                raise ConfigError(at(p, "minor"), f'is required for a device of type "{dtype}"')
        out.append(
            Device(
                path,
                dtype,
                major,
                minor,
                int_field(dev, "fileMode", p, U32),
                int_field(dev, "uid", p, U32),
                int_field(dev, "gid", p, U32),
            )
        )
    return out


def _abs_paths(lx, key):
    paths = str_list(lx, key, "linux", [])
    for i, path in enumerate(paths):
        # maskedPaths / readonlyPaths: "The values MUST be absolute paths in
        # the container namespace."
        if not path.startswith("/"):
            check_absolute(path, f"linux.{key}[{i}]")
    return paths


def _parse_linux(d):
    lx = obj_field(d, "linux", "")
    if lx is None:
        return None
    propagation = str_field(lx, "rootfsPropagation", "linux")
    # "rootfsPropagation [...] Its value is either shared, slave, private or unbindable."
    if propagation is not None and propagation not in tables.ROOTFS_PROPAGATIONS:
        raise ConfigError(
            "linux.rootfsPropagation",
            f'unknown propagation "{propagation}" (expected shared, slave, private or unbindable)',
        )
    return Linux(
        namespaces=_parse_namespaces(lx),
        uid_mappings=_id_mappings(lx, "uidMappings", "linux"),
        gid_mappings=_id_mappings(lx, "gidMappings", "linux"),
        devices=_parse_devices(lx),
        cgroups_path=str_field(lx, "cgroupsPath", "linux"),
        resources=raw_field(lx, "resources", "linux", RESOURCES_SHAPE),
        rootfs_propagation=propagation,
        masked_paths=_abs_paths(lx, "maskedPaths"),
        readonly_paths=_abs_paths(lx, "readonlyPaths"),
        mount_label=str_field(lx, "mountLabel", "linux"),
        sysctl=str_map(lx, "sysctl", "linux"),
        seccomp=raw_field(lx, "seccomp", "linux", _SECCOMP_SHAPE),
        personality=raw_field(lx, "personality", "linux", _PERSONALITY_SHAPE),
        intel_rdt=raw_field(lx, "intelRdt", "linux", _INTEL_RDT_SHAPE),
        time_offsets=raw_field(lx, "timeOffsets", "linux", _TIME_OFFSETS_SHAPE),
        net_devices=raw_field(lx, "netDevices", "linux", _NET_DEVICES_SHAPE),
        memory_policy=raw_field(lx, "memoryPolicy", "linux", _MEMORY_POLICY_SHAPE),
    )


def parse_config(data):
    """Check a decoded config.json and build the Config model; ConfigError names the bad field."""
    if data is None:
        raise ConfigError("", "config cannot be null")
    if type(data) is not dict:
        raise ConfigError("", "config must be a JSON object")
    warnings = []
    oci_version = check_oci_version(data.get("ociVersion"))
    root = _parse_root(data)

    # "process (object, OPTIONAL) specifies the container process. This
    # property is REQUIRED when start is called." So its absence is for
    # `start` to refuse, not for `create`.
    p = data.get("process")
    process = None if p is None else parse_process(p, "process", warnings)

    return Config(
        oci_version,
        process=process,
        root=root,
        hostname=str_field(data, "hostname", ""),
        domainname=str_field(data, "domainname", ""),
        mounts=_parse_mounts(data, warnings),
        hooks=_parse_hooks(data),
        # "Runtimes MUST handle unknown annotation keys like any other unknown
        # property." "Values MUST be strings."
        annotations=str_map(data, "annotations", ""),
        linux=_parse_linux(data),
        warnings=warnings,
        raw=data,
    )


# --------------------------------------------------------------------------
# Loading config.json from a bundle
# --------------------------------------------------------------------------


def load_bundle_config(bundle_dir):
    """Read and parse `<bundle_dir>/config.json` ("" = the current directory)."""
    path = os.path.join(bundle_dir or ".", "config.json")
    try:
        blob = os.read_bytes(path)
    except FileNotFoundError:
        raise RuntimeFailure("JSON specification file config.json not found") from None
    except OSError as e:
        raise os_failure(e, "open config.json") from None
    return parse_config(decode_config_json(blob))


def decode_config_json(blob):
    """bytes of a config.json -> the decoded value; ConfigError says where the JSON is broken."""
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("config.json", f"not valid UTF-8 at byte {e.start}") from None
    try:
        return jsonio.loads(text)
    except (ValueError, RecursionError) as e:
        raise ConfigError("config.json", str(e)) from None
