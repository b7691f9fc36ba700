"""config.json -> a typed, checked model of the container.

This runs on every `create` and `run` under `python3 -I -S`, so it imports
only `os`, the errors module, jsonio and the tables, and checks fields by hand
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

_I32 = (-(1 << 31), (1 << 31) - 1)
_I64 = (-(1 << 63), (1 << 63) - 1)
_U16 = (0, (1 << 16) - 1)
_U32 = (0, (1 << 32) - 1)
_U64 = (0, (1 << 64) - 1)


# --------------------------------------------------------------------------
# Model classes. Plain __slots__ classes: cheap to build, no dataclasses.
# --------------------------------------------------------------------------


class _Model:
    """Base: a repr listing the fields, and field-wise equality (for tests)."""

    __slots__ = ()
    _repr_skip = ()

    def __repr__(self):
        parts = []
        for name in self.__slots__:
            if name not in self._repr_skip:
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        for name in self.__slots__:
            if getattr(self, name) != getattr(other, name):
                return False
        return True

    __hash__ = None


class Config(_Model):
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


class Root(_Model):
    """root: `path` exactly as written (relative paths are relative to the bundle)."""

    __slots__ = ("path", "readonly")

    def __init__(self, path, readonly=False):
        self.path = path
        self.readonly = readonly


class IDMapping(_Model):
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, container_id, host_id, size):
        self.container_id = container_id
        self.host_id = host_id
        self.size = size


class Mount(_Model):
    __slots__ = ("destination", "type", "source", "options", "uid_mappings", "gid_mappings")

    def __init__(self, destination, type=None, source=None, options=None, uid_mappings=None, gid_mappings=None):
        self.destination = destination
        self.type = type
        self.source = source
        self.options = [] if options is None else options
        self.uid_mappings = [] if uid_mappings is None else uid_mappings
        self.gid_mappings = [] if gid_mappings is None else gid_mappings


class Hook(_Model):
    __slots__ = ("path", "args", "env", "timeout")

    def __init__(self, path, args=None, env=None, timeout=None):
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout


class Hooks(_Model):
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


class ConsoleSize(_Model):
    __slots__ = ("height", "width")

    def __init__(self, height, width):
        self.height = height
        self.width = width


class User(_Model):
    __slots__ = ("uid", "gid", "umask", "additional_gids", "username")

    def __init__(self, uid=0, gid=0, umask=None, additional_gids=None, username=None):
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additional_gids = [] if additional_gids is None else additional_gids
        self.username = username


class Capabilities(_Model):
    """Each set is a list of capability names, or None when the set is absent.

    `unknown` holds the names that were dropped because Linux has no such
    capability (each also produced a warning in Config.warnings).
    """

    __slots__ = ("bounding", "effective", "inheritable", "permitted", "ambient", "unknown")

    SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")

    def __init__(self, bounding=None, effective=None, inheritable=None, permitted=None, ambient=None, unknown=None):
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
        self.unknown = [] if unknown is None else unknown


class Rlimit(_Model):
    """One rlimit; `resource` is the kernel's number for `type`."""

    __slots__ = ("type", "resource", "soft", "hard")

    def __init__(self, type, resource, soft, hard):
        self.type = type
        self.resource = resource
        self.soft = soft
        self.hard = hard


class Process(_Model):
    __slots__ = (
        "terminal",
        "console_size",
        "user",
        "args",
        "command_line",
        "env",
        "cwd",
        "capabilities",
        "rlimits",
        "no_new_privileges",
        "apparmor_profile",
        "selinux_label",
        "oom_score_adj",
        "scheduler",
        "io_priority",
        "exec_cpu_affinity",
    )

    def __init__(
        self,
        args,
        cwd,
        terminal=False,
        console_size=None,
        user=None,
        command_line=None,
        env=None,
        capabilities=None,
        rlimits=None,
        no_new_privileges=False,
        apparmor_profile=None,
        selinux_label=None,
        oom_score_adj=None,
        scheduler=None,
        io_priority=None,
        exec_cpu_affinity=None,
    ):
        self.terminal = terminal
        self.console_size = console_size
        self.user = User() if user is None else user
        self.args = args
        self.command_line = command_line
        self.env = [] if env is None else env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = [] if rlimits is None else rlimits
        self.no_new_privileges = no_new_privileges
        self.apparmor_profile = apparmor_profile
        self.selinux_label = selinux_label
        self.oom_score_adj = oom_score_adj
        self.scheduler = scheduler
        self.io_priority = io_priority
        self.exec_cpu_affinity = exec_cpu_affinity


class Namespace(_Model):
    """`type` as the spec names it ("network", "mount", ...); `path` None = create a new one."""

    __slots__ = ("type", "path")

    def __init__(self, type, path=None):
        self.type = type
        self.path = path


class Device(_Model):
    __slots__ = ("path", "type", "major", "minor", "file_mode", "uid", "gid")

    def __init__(self, path, type, major=None, minor=None, file_mode=None, uid=None, gid=None):
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.file_mode = file_mode
        self.uid = uid
        self.gid = gid


class Linux(_Model):
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


def _at(base, key):
    return f"{base}.{key}" if base else key


def _key(base, key):
    """Path of a map entry: linux.sysctl["net.ipv4.ip_forward"]."""
    return f'{base}["{key}"]'


def _str(d, key, base, default=None):
    v = d.get(key)
    if v is None:
        return default
    if type(v) is not str:
        raise ConfigError(_at(base, key), "must be a string")
    return v


def _bool(d, key, base, default=False):
    v = d.get(key)
    if v is None:
        return default
    if type(v) is not bool:
        raise ConfigError(_at(base, key), "must be a boolean")
    return v


def _check_int(v, path, bounds):
    if type(v) is not int:
        raise ConfigError(path, "must be an integer")
    if v < bounds[0] or v > bounds[1]:
        raise ConfigError(path, f"must be between {bounds[0]} and {bounds[1]}")
    return v


def _int(d, key, base, bounds, default=None):
    v = d.get(key)
    if v is None:
        return default
    return _check_int(v, _at(base, key), bounds)


def _required(d, key, base):
    v = d.get(key)
    if v is None:
        raise ConfigError(_at(base, key), "is required")
    return v


def _obj(d, key, base):
    v = d.get(key)
    if v is None:
        return None
    if type(v) is not dict:
        raise ConfigError(_at(base, key), "must be an object")
    return v


def _list(d, key, base):
    v = d.get(key)
    if v is None:
        return None
    if type(v) is not list:
        raise ConfigError(_at(base, key), "must be an array")
    return v


def _strlist(d, key, base, default=None):
    """An array of strings; `default` when absent."""
    v = d.get(key)
    if v is None:
        return default
    if type(v) is not list:
        raise ConfigError(_at(base, key), "must be an array")
    for i, s in enumerate(v):
        if type(s) is not str:
            raise ConfigError(f"{_at(base, key)}[{i}]", "must be a string")
    return v


def _strmap(d, key, base):
    """An object whose values are all strings (annotations, sysctl)."""
    v = d.get(key)
    if v is None:
        return {}
    if type(v) is not dict:
        raise ConfigError(_at(base, key), "must be an object")
    for k, s in v.items():
        if type(s) is not str:
            raise ConfigError(_key(_at(base, key), k), "must be a string")
    return v


def _uint_list(d, key, base, bounds):
    v = d.get(key)
    if v is None:
        return []
    if type(v) is not list:
        raise ConfigError(_at(base, key), "must be an array")
    for i, n in enumerate(v):
        _check_int(n, f"{_at(base, key)}[{i}]", bounds)
    return v


def _entries(d, key, base):
    """An array of objects: yields (index, entry dict, entry path)."""
    items = _list(d, key, base)
    if not items:
        return ()
    path = _at(base, key)
    out = []
    for i, item in enumerate(items):
        if type(item) is not dict:
            raise ConfigError(f"{path}[{i}]", "must be an object")
        out.append((i, item, f"{path}[{i}]"))
    return out


def _absolute(path_value, field, what="must be an absolute path"):
    if not path_value.startswith("/"):
        raise ConfigError(field, f'{what}, not "{path_value}"')


# --------------------------------------------------------------------------
# Generic shape checks for the sections kept as raw dicts (resources,
# seccomp, ...): their consumers read them directly, but a wrong type must
# still be refused here, before anything is set up, naming the field.
# --------------------------------------------------------------------------


class _Obj:
    """An object with known fields: {name: shape}; `required` names must be present."""

    __slots__ = ("fields", "required")

    def __init__(self, fields, required=()):
        self.fields = fields
        self.required = required


class _ListOf:
    __slots__ = ("item", "min_items")

    def __init__(self, item, min_items=0):
        self.item = item
        self.min_items = min_items


class _MapOf:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Enum:
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


class _Test:
    """A string that must pass `test`; `reason` is the error text."""

    __slots__ = ("test", "reason")

    def __init__(self, test, reason):
        self.test = test
        self.reason = reason


_STR = "str"
_BOOL = "bool"
_INT_BOUNDS = {"i32": _I32, "i64": _I64, "u16": _U16, "u32": _U32, "u64": _U64}


def _shape_path(path):
    """Format a lazily built shape path: a str, or (parent, field | index | [key])."""
    if type(path) is str:
        return path
    parent, token = path
    base = _shape_path(parent)
    if type(token) is int:
        return f"{base}[{token}]"
    if type(token) is list:
        return _key(base, token[0])
    return _at(base, token)


def _check_shape(value, shape, path):
    # `path` is only formatted (by _shape_path) when a problem is found: a
    # seccomp profile has hundreds of entries and this runs on every create.
    if value is None:
        return
    if shape is _STR:
        if type(value) is not str:
            raise ConfigError(_shape_path(path), "must be a string")
    elif shape is _BOOL:
        if type(value) is not bool:
            raise ConfigError(_shape_path(path), "must be a boolean")
    elif type(shape) is str:
        bounds = _INT_BOUNDS[shape]
        if type(value) is not int or value < bounds[0] or value > bounds[1]:
            _check_int(value, _shape_path(path), bounds)
    elif type(shape) is _Obj:
        if type(value) is not dict:
            raise ConfigError(_shape_path(path), "must be an object")
        for name in shape.required:
            if value.get(name) is None:
                raise ConfigError(_at(_shape_path(path), name), "is required")
        fields = shape.fields
        for name, sub in value.items():
            sub_shape = fields.get(name)
            if sub_shape is not None:
                if sub_shape is _STR and type(sub) is str:
                    continue
                _check_shape(sub, sub_shape, (path, name))
    elif type(shape) is _ListOf:
        if type(value) is not list:
            raise ConfigError(_shape_path(path), "must be an array")
        if len(value) < shape.min_items:
            raise ConfigError(_shape_path(path), f"must have at least {shape.min_items} entry")
        item = shape.item
        if item is _STR:
            for sub in value:
                if type(sub) is not str:
                    raise ConfigError(_shape_path((path, value.index(sub))), "must be a string")
        else:
            for i, sub in enumerate(value):
                _check_shape(sub, item, (path, i))
    elif type(shape) is _MapOf:
        if type(value) is not dict:
            raise ConfigError(_shape_path(path), "must be an object")
        for k, sub in value.items():
            _check_shape(sub, shape.value, (path, [k]))
    elif type(shape) is _Enum:
        if type(value) is not str:
            raise ConfigError(_shape_path(path), "must be a string")
        if value not in shape.values:
            raise ConfigError(_shape_path(path), f'unknown value "{value}" (expected one of {", ".join(shape.values)})')
    elif type(shape) is _Test:
        if type(value) is not str:
            raise ConfigError(_shape_path(path), "must be a string")
        if not shape.test(value):
            raise ConfigError(_shape_path(path), shape.reason.format(value))
    else:  # pragma: no cover - a bug in the tables below
        raise TypeError(f"bad shape {shape!r}")


def _is_page_size(s):
    # pageSize "^[1-9][0-9]*[KMG]B$": a size without leading zero, then KB/MB/GB.
    if len(s) < 3 or s[-1] != "B" or s[-2] not in "KMG":
        return False
    digits = s[:-2]
    return digits.isascii() and digits.isdigit() and digits[0] != "0"


def _is_cpu_list(s):
    # execCPUAffinity "^[0-9, -]*$": digits, commas, dashes and spaces.
    for c in s:
        if c not in "0123456789, -":
            return False
    return True


def _is_mb_schema(s):
    # memBwSchema: "The value MUST start with MB: and MUST NOT contain newlines."
    return s.startswith("MB:") and "\n" not in s


_MAJOR_MINOR = {"major": "i64", "minor": "i64"}
_WEIGHT_DEVICE = _Obj({**_MAJOR_MINOR, "weight": "u16", "leafWeight": "u16"}, ("major", "minor"))
_THROTTLE_DEVICE = _Obj({**_MAJOR_MINOR, "rate": "u64"}, ("major", "minor"))

# linux.resources, as config-linux.md defines it.
RESOURCES_SHAPE = _Obj(
    {
        "unified": _MapOf(_STR),
        "devices": _ListOf(
            _Obj({"allow": _BOOL, "type": _STR, "major": "i64", "minor": "i64", "access": _STR}, ("allow",))
        ),
        "pids": _Obj({"limit": "i64"}, ("limit",)),
        "blockIO": _Obj(
            {
                "weight": "u16",
                "leafWeight": "u16",
                "weightDevice": _ListOf(_WEIGHT_DEVICE),
                "throttleReadBpsDevice": _ListOf(_THROTTLE_DEVICE),
                "throttleWriteBpsDevice": _ListOf(_THROTTLE_DEVICE),
                "throttleReadIOPSDevice": _ListOf(_THROTTLE_DEVICE),
                "throttleWriteIOPSDevice": _ListOf(_THROTTLE_DEVICE),
            }
        ),
        "cpu": _Obj(
            {
                "cpus": _STR,
                "mems": _STR,
                "period": "u64",
                "quota": "i64",
                "burst": "u64",
                "realtimePeriod": "u64",
                "realtimeRuntime": "i64",
                "shares": "u64",
                "idle": "i64",
            }
        ),
        "hugepageLimits": _ListOf(
            _Obj(
                {
                    "pageSize": _Test(_is_page_size, 'invalid page size "{}" (expected a size like 2MB, 64KB or 1GB)'),
                    "limit": "u64",
                },
                ("pageSize", "limit"),
            )
        ),
        "memory": _Obj(
            {
                "kernel": "i64",
                "kernelTCP": "i64",
                "limit": "i64",
                "reservation": "i64",
                "swap": "i64",
                "swappiness": "u64",
                "disableOOMKiller": _BOOL,
                "useHierarchy": _BOOL,
                "checkBeforeUpdate": _BOOL,
            }
        ),
        "network": _Obj(
            {
                "classID": "u32",
                "priorities": _ListOf(_Obj({"name": _STR, "priority": "u32"}, ("name", "priority"))),
            }
        ),
        "rdma": _MapOf(_Obj({"hcaHandles": "u32", "hcaObjects": "u32"})),
    }
)

_SECCOMP_SHAPE = _Obj(
    {
        "defaultAction": _STR,
        "defaultErrnoRet": "u32",
        "flags": _ListOf(_STR),
        "listenerPath": _STR,
        "listenerMetadata": _STR,
        "architectures": _ListOf(_STR),
        "syscalls": _ListOf(
            _Obj(
                {
                    # "names MUST contain at least one entry."
                    "names": _ListOf(_STR, 1),
                    "action": _STR,
                    "errnoRet": "u32",
                    "args": _ListOf(
                        _Obj({"index": "u32", "value": "u64", "valueTwo": "u64", "op": _STR}, ("index", "value", "op"))
                    ),
                },
                ("names", "action"),
            )
        ),
    },
    ("defaultAction",),
)

_PERSONALITY_SHAPE = _Obj({"domain": _Enum(tables.PERSONALITY_DOMAINS), "flags": _ListOf(_STR)})

_INTEL_RDT_SHAPE = _Obj(
    {
        "closID": _STR,
        "schemata": _ListOf(_STR),
        "l3CacheSchema": _STR,
        "memBwSchema": _Test(_is_mb_schema, 'invalid memBwSchema "{}" (must start with "MB:" and be one line)'),
        "enableMonitoring": _BOOL,
    }
)

_TIME_OFFSET = _Obj({"secs": "i64", "nanosecs": "u32"})
_TIME_OFFSETS_SHAPE = _Obj({"boottime": _TIME_OFFSET, "monotonic": _TIME_OFFSET})

_NET_DEVICES_SHAPE = _MapOf(_Obj({"name": _STR}))

_MEMORY_POLICY_SHAPE = _Obj(
    {
        "mode": _Enum(tables.MEMORY_POLICY_MODES),
        "nodes": _STR,
        "flags": _ListOf(_Enum(tables.MEMORY_POLICY_FLAGS)),
    }
)

_SCHEDULER_SHAPE = _Obj(
    {
        "policy": _Enum(tables.SCHED_POLICIES),
        "nice": "i32",
        "priority": "i32",
        "flags": _ListOf(_Enum(tables.SCHED_FLAGS)),
        "runtime": "u64",
        "deadline": "u64",
        "period": "u64",
    },
    ("policy",),
)

_IO_PRIORITY_SHAPE = _Obj({"class": _Enum(tables.IOPRIO_CLASSES), "priority": "i32"}, ("class",))

_CPU_LIST = _Test(_is_cpu_list, 'invalid CPU list "{}" (expected a list like 0-3,7)')
_EXEC_CPU_AFFINITY_SHAPE = _Obj({"initial": _CPU_LIST, "final": _CPU_LIST})


def _raw(d, key, base, shape):
    """A section kept as its dict, after checking its shape."""
    v = d.get(key)
    if v is None:
        return None
    _check_shape(v, shape, _at(base, key))
    return v


def check_resources(data, path="linux.resources"):
    """Check a LinuxResources object (config.json, or `update --resources`)."""
    _check_shape(data, RESOURCES_SHAPE, path)
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
    for _, e, p in _entries(d, key, base):
        # "containerID (uint32, REQUIRED)", "hostID (uint32, REQUIRED)", "size (uint32, REQUIRED)"
        out.append(
            IDMapping(
                _check_int(_required(e, "containerID", p), _at(p, "containerID"), _U32),
                _check_int(_required(e, "hostID", p), _at(p, "hostID"), _U32),
                _check_int(_required(e, "size", p), _at(p, "size"), _U32),
            )
        )
    return out


def _parse_root(d):
    root = _obj(d, "root", "")
    if root is None:
        # "root (object, OPTIONAL) [...] On Windows, for Windows Server
        # Containers, this field is REQUIRED. [...] On all other platforms,
        # this field is REQUIRED." runc says the same: "root must be specified".
        raise ConfigError("root", "root must be specified")
    # "path (string, REQUIRED) [...] either an absolute path or a relative path to the bundle."
    path = _str(root, "path", "root")
    if path is None:
        raise ConfigError("root.path", "is required")
    if not path:
        raise ConfigError("root.path", "must not be empty")
    return Root(path, _bool(root, "readonly", "root"))


def _parse_mounts(d, warnings):
    out = []
    for _, m, p in _entries(d, "mounts", ""):
        # "destination (string, REQUIRED) Destination of mount point: path inside container."
        dest = _str(m, "destination", p)
        if dest is None:
            raise ConfigError(_at(p, "destination"), "is required")
        if not dest:
            raise ConfigError(_at(p, "destination"), "must not be empty")
        if dest[0] != "/":
            # "Linux: This value SHOULD be an absolute path. For compatibility
            # with old tools and configurations, it MAY be a relative path, in
            # which case it MUST be interpreted as relative to "/". Relative
            # paths are deprecated." Kept as written; the mount code roots it.
            warnings.append(f'{_at(p, "destination")}: relative path "{dest}" is deprecated, taken as relative to /')
        uid_maps = _id_mappings(m, "uidMappings", p)
        gid_maps = _id_mappings(m, "gidMappings", p)
        # uidMappings: "If specified, it MUST be specified along with gidMappings." (and vice versa)
        if bool(uid_maps) != bool(gid_maps):
            missing = "gidMappings" if uid_maps else "uidMappings"
            have = "uidMappings" if uid_maps else "gidMappings"
            raise ConfigError(_at(p, missing), f"must be specified along with {have}")
        out.append(
            Mount(
                dest,
                _str(m, "type", p),
                _str(m, "source", p),
                _strlist(m, "options", p, []),
                uid_maps,
                gid_maps,
            )
        )
    return out


def _parse_hook_list(d, key, base):
    out = []
    for _, h, p in _entries(d, key, base):
        # "path (string, REQUIRED) [...] This specification extends the IEEE
        # standard in that path MUST be absolute."
        path = _str(h, "path", p)
        if path is None:
            raise ConfigError(_at(p, "path"), "is required")
        _absolute(path, _at(p, "path"))
        timeout = _int(h, "timeout", p, _I64)
        # "timeout (int, OPTIONAL) [...] If set, timeout MUST be greater than zero."
        if timeout is not None and timeout <= 0:
            raise ConfigError(_at(p, "timeout"), f"must be greater than zero, not {timeout}")
        out.append(Hook(path, _strlist(h, "args", p), _strlist(h, "env", p), timeout))
    return out


def _parse_hooks(d):
    hooks = _obj(d, "hooks", "")
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


def _parse_user(p, base):
    user = _obj(p, "user", base)
    if user is None:
        # runc (Go zero values) runs a process without a user object as 0:0,
        # and the spec's own freebsd example omits it.
        return User()
    path = _at(base, "user")
    # POSIX "uid (int, REQUIRED)", "gid (int, REQUIRED)": the kernel takes uint32 ids.
    uid = _required(user, "uid", path)
    gid = _required(user, "gid", path)
    return User(
        _check_int(uid, _at(path, "uid"), _U32),
        _check_int(gid, _at(path, "gid"), _U32),
        _int(user, "umask", path, _U32),
        _uint_list(user, "additionalGids", path, _U32),
        _str(user, "username", path),
    )


def _parse_capabilities(p, base, warnings):
    caps = _obj(p, "capabilities", base)
    if caps is None:
        return None
    path = _at(base, "capabilities")
    known = tables.CAPABILITIES
    unknown = []
    sets = []
    for set_name in Capabilities.SETS:
        names = _strlist(caps, set_name, path)
        if names is not None:
            kept = [n for n in names if n in known]
            if len(kept) != len(names):
                for n in names:
                    if n not in known and n not in unknown:
                        # "Any value which cannot be mapped to a relevant
                        # kernel interface, or cannot be granted otherwise
                        # MUST be logged as a warning by the runtime. Runtimes
                        # SHOULD NOT fail if the container configuration
                        # requests capabilities that cannot be granted"
                        unknown.append(n)
                        warnings.append(f'unknown capability "{n}" ignored')
            names = kept
        sets.append(names)
    return Capabilities(*sets, unknown)


def _parse_rlimits(p, base):
    out = []
    seen = set()
    for _, r, rp in _entries(p, "rlimits", base):
        rtype = _str(r, "type", rp)
        if rtype is None:
            raise ConfigError(_at(rp, "type"), "is required")
        resource = tables.RLIMITS.get(rtype)
        if resource is None:
            # "The runtime MUST generate an error for any values which cannot
            # be mapped to a relevant kernel interface."
            raise ConfigError(_at(rp, "type"), f'unknown rlimit "{rtype}"')
        if rtype in seen:
            # "If rlimits contains duplicated entries with same type, the
            # runtime MUST generate an error."
            raise ConfigError(_at(rp, "type"), f'duplicate rlimit "{rtype}"')
        seen.add(rtype)
        soft = _check_int(_required(r, "soft", rp), _at(rp, "soft"), _U64)
        hard = _check_int(_required(r, "hard", rp), _at(rp, "hard"), _U64)
        out.append(Rlimit(rtype, resource, soft, hard))
    return out


def parse_process(p, base="process", warnings=None):
    """Check and model a Process object (config.json's, or an `exec --process` file).

    Unknown capability names are reported by appending to `warnings` if given.
    """
    if type(p) is not dict:
        raise ConfigError(base, "must be an object")
    if warnings is None:
        warnings = []

    # "args (array of strings, OPTIONAL) [...] This specification extends the
    # IEEE standard in that at least one entry is REQUIRED (non-Windows)".
    args = _strlist(p, "args", base)
    if not args:
        raise ConfigError(_at(base, "args"), "args must not be empty")

    # "cwd (string, REQUIRED) is the working directory that will be set for
    # the executable. This value MUST be an absolute path."
    cwd = _str(p, "cwd", base)
    if not cwd:
        raise ConfigError(_at(base, "cwd"), "Cwd property must not be empty")
    if cwd[0] != "/":
        raise ConfigError(_at(base, "cwd"), "Cwd must be an absolute path")

    console = _obj(p, "consoleSize", base)
    console_size = None
    if console is not None:
        # "Runtimes MUST ignore consoleSize if terminal is false or unset." It
        # is still checked; the terminal code decides whether to use it.
        cpath = _at(base, "consoleSize")
        console_size = ConsoleSize(
            _check_int(_required(console, "height", cpath), _at(cpath, "height"), _U64),
            _check_int(_required(console, "width", cpath), _at(cpath, "width"), _U64),
        )

    return Process(
        args,
        cwd,
        terminal=_bool(p, "terminal", base),
        console_size=console_size,
        user=_parse_user(p, base),
        command_line=_str(p, "commandLine", base),
        env=_strlist(p, "env", base, []),
        capabilities=_parse_capabilities(p, base, warnings),
        rlimits=_parse_rlimits(p, base),
        no_new_privileges=_bool(p, "noNewPrivileges", base),
        apparmor_profile=_str(p, "apparmorProfile", base),
        selinux_label=_str(p, "selinuxLabel", base),
        # "If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj."
        oom_score_adj=_int(p, "oomScoreAdj", base, _I64),
        scheduler=_raw(p, "scheduler", base, _SCHEDULER_SHAPE),
        io_priority=_raw(p, "ioPriority", base, _IO_PRIORITY_SHAPE),
        exec_cpu_affinity=_raw(p, "execCPUAffinity", base, _EXEC_CPU_AFFINITY_SHAPE),
    )


def _parse_namespaces(lx):
    out = []
    seen = set()
    for _, ns, p in _entries(lx, "namespaces", "linux"):
        ns_type = _str(ns, "type", p)
        if ns_type is None:
            raise ConfigError(_at(p, "type"), "is required")
        if ns_type not in tables.NAMESPACE_CLONE_FLAGS:
            raise ConfigError(_at(p, "type"), f'unknown namespace type "{ns_type}"')
        if ns_type in seen:
            # "If a namespaces field contains duplicated namespaces with same
            # type, the runtime MUST generate an error."
            raise ConfigError(_at(p, "type"), f'duplicate namespace type "{ns_type}"')
        seen.add(ns_type)
        # An empty path is Go's zero value: the same as no path.
        path = _str(ns, "path", p) or None
        if path is not None:
            # "This value MUST be an absolute path in the runtime mount namespace."
            _absolute(path, _at(p, "path"))
        out.append(Namespace(ns_type, path))
    return out


def _parse_devices(lx):
    out = []
    for _, dev, p in _entries(lx, "devices", "linux"):
        # "path (string, REQUIRED) - full path to device inside container."
        path = _str(dev, "path", p)
        if path is None:
            raise ConfigError(_at(p, "path"), "is required")
        _absolute(path, _at(p, "path"))
        # "type (string, REQUIRED) - type of device: c, b, u or p."
        dtype = _str(dev, "type", p)
        if dtype is None:
            raise ConfigError(_at(p, "type"), "is required")
        if dtype not in tables.DEVICE_TYPES:
            raise ConfigError(_at(p, "type"), f'unknown device type "{dtype}" (expected c, b, u or p)')
        major = _int(dev, "major", p, _I64)
        minor = _int(dev, "minor", p, _I64)
        if dtype != "p":
            # "major, minor (int64, REQUIRED unless type is p)"
            if major is None:
                raise ConfigError(_at(p, "major"), f'is required for a device of type "{dtype}"')
            if minor is None:
                raise ConfigError(_at(p, "minor"), f'is required for a device of type "{dtype}"')
        out.append(
            Device(
                path,
                dtype,
                major,
                minor,
                _int(dev, "fileMode", p, _U32),
                _int(dev, "uid", p, _U32),
                _int(dev, "gid", p, _U32),
            )
        )
    return out


def _abs_paths(lx, key):
    paths = _strlist(lx, key, "linux", [])
    for i, path in enumerate(paths):
        # maskedPaths / readonlyPaths: "The values MUST be absolute paths in
        # the container namespace."
        if not path.startswith("/"):
            _absolute(path, f"linux.{key}[{i}]")
    return paths


def _parse_linux(d):
    lx = _obj(d, "linux", "")
    if lx is None:
        return None
    propagation = _str(lx, "rootfsPropagation", "linux")
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
        cgroups_path=_str(lx, "cgroupsPath", "linux"),
        resources=_raw(lx, "resources", "linux", RESOURCES_SHAPE),
        rootfs_propagation=propagation,
        masked_paths=_abs_paths(lx, "maskedPaths"),
        readonly_paths=_abs_paths(lx, "readonlyPaths"),
        mount_label=_str(lx, "mountLabel", "linux"),
        sysctl=_strmap(lx, "sysctl", "linux"),
        seccomp=_raw(lx, "seccomp", "linux", _SECCOMP_SHAPE),
        personality=_raw(lx, "personality", "linux", _PERSONALITY_SHAPE),
        intel_rdt=_raw(lx, "intelRdt", "linux", _INTEL_RDT_SHAPE),
        time_offsets=_raw(lx, "timeOffsets", "linux", _TIME_OFFSETS_SHAPE),
        net_devices=_raw(lx, "netDevices", "linux", _NET_DEVICES_SHAPE),
        memory_policy=_raw(lx, "memoryPolicy", "linux", _MEMORY_POLICY_SHAPE),
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
        hostname=_str(data, "hostname", ""),
        domainname=_str(data, "domainname", ""),
        mounts=_parse_mounts(data, warnings),
        hooks=_parse_hooks(data),
        # "Runtimes MUST handle unknown annotation keys like any other unknown
        # property." "Values MUST be strings."
        annotations=_strmap(data, "annotations", ""),
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
        with open(path, "rb") as f:
            blob = f.read()
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
