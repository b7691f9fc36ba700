"""The process of a container: config.json's `process`, an `exec --process` file, or
what `exec` builds from the container's own; typed and checked.

A module of its own so that `exec`, which needs only this, does not load the
whole config model (about 0.4 ms of its start-up).
"""

from pyrunc.errors import ConfigError
from pyrunc.spec import tables
from pyrunc.spec.fields import (
    I64, U32, U64, Enum, ListOf, Model, Obj, Test, at, bool_field, check_int, entries, int_field,
    obj_field, raw_field, required, str_field, str_list, uint_list)


class ConsoleSize(Model):
    __slots__ = ("height", "width")

    def __init__(self, height, width):
        self.height = height
        self.width = width


class User(Model):
    __slots__ = ("uid", "gid", "umask", "additional_gids", "username")

    def __init__(self, uid=0, gid=0, umask=None, additional_gids=None, username=None):
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additional_gids = [] if additional_gids is None else additional_gids
        self.username = username


class Capabilities(Model):
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


class Rlimit(Model):
    """One rlimit; `resource` is the kernel's number for `type`."""

    __slots__ = ("type", "resource", "soft", "hard")

    def __init__(self, type, resource, soft, hard):
        self.type = type
        self.resource = resource
        self.soft = soft
        self.hard = hard


class Process(Model):
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


def _is_cpu_list(s):
    # execCPUAffinity "^[0-9, -]*$": digits, commas, dashes and spaces.
    for c in s:
        if c not in "0123456789, -":
            return False
    return True


_SCHEDULER_SHAPE = Obj(
    {
        "policy": Enum(tables.SCHED_POLICIES),
        "nice": "i32",
        "priority": "i32",
        "flags": ListOf(Enum(tables.SCHED_FLAGS)),
        "runtime": "u64",
        "deadline": "u64",
        "period": "u64",
    },
    ("policy",),
)

_IO_PRIORITY_SHAPE = Obj({"class": Enum(tables.IOPRIO_CLASSES), "priority": "i32"}, ("class",))
_CPU_LIST = Test(_is_cpu_list, 'invalid CPU list "{}" (expected a list like 0-3,7)')
_EXEC_CPU_AFFINITY_SHAPE = Obj({"initial": _CPU_LIST, "final": _CPU_LIST})


def _parse_user(p, base):
    user = obj_field(p, "user", base)
    if user is None:
        # runc (Go zero values) runs a process without a user object as 0:0,
        # and the spec's own freebsd example omits it.
        return User()
    path = at(base, "user")
    # POSIX "uid (int, REQUIRED)", "gid (int, REQUIRED)": the kernel takes uint32 ids.
    uid = required(user, "uid", path)
    gid = required(user, "gid", path)
    return User(
        check_int(uid, at(path, "uid"), U32),
        check_int(gid, at(path, "gid"), U32),
        int_field(user, "umask", path, U32),
        uint_list(user, "additionalGids", path, U32),
        str_field(user, "username", path),
    )


def _parse_capabilities(p, base, warnings):
    caps = obj_field(p, "capabilities", base)
    if caps is None:
        return None
    path = at(base, "capabilities")
    known = tables.CAPABILITIES
    unknown = []
    sets = []
    for set_name in Capabilities.SETS:
        names = str_list(caps, set_name, path)
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
    for _, r, rp in entries(p, "rlimits", base):
        rtype = str_field(r, "type", rp)
        if rtype is None:
            raise ConfigError(at(rp, "type"), "is required")
        resource = tables.RLIMITS.get(rtype)
        if resource is None:
            # "The runtime MUST generate an error for any values which cannot
            # be mapped to a relevant kernel interface."
            raise ConfigError(at(rp, "type"), f'unknown rlimit "{rtype}"')
        if rtype in seen:
            # "If rlimits contains duplicated entries with same type, the
            # runtime MUST generate an error."
            raise ConfigError(at(rp, "type"), f'duplicate rlimit "{rtype}"')
        seen.add(rtype)
        soft = check_int(required(r, "soft", rp), at(rp, "soft"), U64)
        hard = check_int(required(r, "hard", rp), at(rp, "hard"), U64)
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
    args = str_list(p, "args", base)
    if not args:
        raise ConfigError(at(base, "args"), "args must not be empty")

    # "cwd (string, REQUIRED) is the working directory that will be set for
    # the executable. This value MUST be an absolute path."
    cwd = str_field(p, "cwd", base)
    if not cwd:
        raise ConfigError(at(base, "cwd"), "Cwd property must not be empty")
    if cwd[0] != "/":
        raise ConfigError(at(base, "cwd"), "Cwd must be an absolute path")

    console = obj_field(p, "consoleSize", base)
    console_size = None
    if console is not None:
        # "Runtimes MUST ignore consoleSize if terminal is false or unset." It
        # is still checked; the terminal code decides whether to use it.
        cpath = at(base, "consoleSize")
        console_size = ConsoleSize(
            check_int(required(console, "height", cpath), at(cpath, "height"), U64),
            check_int(required(console, "width", cpath), at(cpath, "width"), U64),
        )

    return Process(
        args,
        cwd,
        terminal=bool_field(p, "terminal", base),
        console_size=console_size,
        user=_parse_user(p, base),
        command_line=str_field(p, "commandLine", base),
        env=str_list(p, "env", base, []),
        capabilities=_parse_capabilities(p, base, warnings),
        rlimits=_parse_rlimits(p, base),
        no_new_privileges=bool_field(p, "noNewPrivileges", base),
        apparmor_profile=str_field(p, "apparmorProfile", base),
        selinux_label=str_field(p, "selinuxLabel", base),
        # "If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj."
        oom_score_adj=int_field(p, "oomScoreAdj", base, I64),
        scheduler=raw_field(p, "scheduler", base, _SCHEDULER_SHAPE),
        io_priority=raw_field(p, "ioPriority", base, _IO_PRIORITY_SHAPE),
        exec_cpu_affinity=raw_field(p, "execCPUAffinity", base, _EXEC_CPU_AFFINITY_SHAPE),
    )
