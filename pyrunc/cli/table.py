"""The whole command line surface of pyrunc as plain data.

This table is the single source of truth for the command line: the fast
parser (`pyrunc.cli.parse`), the help renderer (`pyrunc.cli.helptext`) and the
click application used for shell completion (`pyrunc.cli.clickapp`) are all
built from it. It holds only literals so importing it costs next to nothing
on the hot path.

The surface is runc 1.5.1's (urfave/cli v1.22 on Go's `flag` package), plus
pyrunc's own `plan` and `validate` commands and crun's `--cgroup-manager`
global flag (podman passes that one to runtimes it believes to be crun-like).

A flag is a 5-tuple `(names, kind, default, usage, hidden)`:
  names    all spellings without dashes, canonical long name first; each is
           accepted with one or two dashes, exactly as Go's `flag` does
  kind     one of the kind constants below
  default  the value a flag has when not given (duration: a Go duration string)
  usage    one line for the help text
  hidden   True for flags runc keeps accepting but no longer shows

A command is a dict:
  aliases      other names of the command
  usage        the one-line summary (help: `NAME:` line and the command list)
  args_usage   what follows the options in `USAGE:` (may run over several lines)
  description  the `DESCRIPTION:` paragraph, "" for none
  args         arity rules, checked in order: ("exact"|"min"|"max", n)
  flags        tuple of flags, in help order
  reorder      whether flags written after positionals are moved in front of
               them (urfave does this for every runc command except exec and ps,
               whose trailing words belong to the container process / host ps)
  handler      (optional) "module:function" that runs the command, given the
               parsed Invocation; default "pyrunc.commands.<name>:run". state,
               start, kill, delete and exec name a function of the module that
               does their work: a module of their own under pyrunc.commands, with
               the package around it, would cost them 0.16 ms, for the light
               ones a sixth of what they may spend on top of the interpreter.
"""

# Flag kinds. Values in parsed flags: BOOL -> bool, STRING -> str,
# INT -> int (Go int64 syntax), UINT -> int >= 0 (Go uint64),
# DURATION -> float seconds (Go duration syntax), STRING_LIST -> list of str,
# INT_LIST -> list of int (both repeatable, one value per occurrence).
BOOL = "bool"
STRING = "string"
INT = "int"
UINT = "uint"
DURATION = "duration"
STRING_LIST = "string-list"
INT_LIST = "int-list"

# The runtime's own name in `--help` and `--version`.
APP_USAGE = "Open Container Initiative runtime"

# Where container state lives unless --root says otherwise. A separate
# directory from runc's /run/runc so the two runtimes never read each
# other's state. Unprivileged callers with XDG_RUNTIME_DIR get
# "$XDG_RUNTIME_DIR/" + ROOT_XDG_SUBDIR instead, as runc does.
DEFAULT_ROOT = "/run/pyrunc"
ROOT_XDG_SUBDIR = "pyrunc"

LOG_FORMATS = ("text", "json")
CGROUP_MANAGERS = ("cgroupfs", "systemd", "disabled")

APP_DESCRIPTION = """\
pyrunc is a command line client for running applications packaged according
to the Open Container Initiative (OCI) format. It is written in Python and is
meant as a drop-in replacement for runc: same commands, same flags, same
outputs and exit codes.

Like runc, it works with existing process supervisors: the container process
is a direct child of the supervisor, with no monitor process in between.

Containers are configured using bundles. A bundle for a container is a
directory that holds a specification file named "config.json" and a root
filesystem, which holds the contents of the container.

To start a new instance of a container:

    # pyrunc run [ -b bundle ] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name must be unique on your host. The bundle directory
defaults to the current directory."""

GLOBAL_FLAGS = (
    (("debug",), BOOL, False, "enable debug logging", False),
    (("log",), STRING, "",
     "set the log file to write pyrunc logs to (default is '/dev/stderr')", False),
    (("log-format",), STRING, "text",
     "set the log format ('text' (default), or 'json')", False),
    (("root",), STRING, DEFAULT_ROOT,
     "root directory for storage of container state (this should be located in tmpfs)",
     False),
    (("systemd-cgroup",), BOOL, False,
     'enable systemd cgroup support, expects cgroupsPath to be of form '
     '"slice:prefix:name" for e.g. "system.slice:pyrunc:434234"', False),
    (("rootless",), STRING, "auto",
     "ignore cgroup permission errors ('true', 'false', or 'auto')", False),
    (("cgroup-manager",), STRING, "",
     "cgroup manager to use: 'cgroupfs', 'systemd' or 'disabled' "
     "(default: cgroupfs, or systemd with --systemd-cgroup)", False),
)

# urfave appends these to the application's flags; `-h` and `-v` are
# answered before anything else is looked at.
HELP_FLAG = (("help", "h"), BOOL, False, "show help", False)
VERSION_FLAG = (("version", "v"), BOOL, False, "print the version", False)

# --- flags shared by several commands -------------------------------------

_BUNDLE = (("bundle", "b"), STRING, "",
           "path to the root of the bundle directory, defaults to the current directory",
           False)
_CONSOLE_SOCKET = (("console-socket",), STRING, "",
                   "path to an AF_UNIX socket which will receive a file descriptor "
                   "referencing the master end of the console's pseudoterminal", False)
_PIDFD_SOCKET = (("pidfd-socket",), STRING, "",
                 "path to an AF_UNIX socket which will receive a file descriptor "
                 "referencing the process pidfd", False)
_PID_FILE = (("pid-file",), STRING, "", "specify the file to write the process id to",
             False)
_NO_PIVOT = (("no-pivot",), BOOL, False,
             "do not use pivot root to jail process inside rootfs.  This should be used "
             "whenever the rootfs is on top of a ramdisk", False)
_NO_NEW_KEYRING = (("no-new-keyring",), BOOL, False,
                   "do not create a new session keyring for the container.  This will "
                   "cause the container to inherit the calling processes session key",
                   False)
_PRESERVE_FDS = (("preserve-fds",), INT, 0,
                 "Pass N additional file descriptors to the container (stdio + "
                 "$LISTEN_FDS + N in total)", False)
_DETACH = (("detach", "d"), BOOL, False, "detach from the container's process", False)
_NO_SUBREAPER = (("no-subreaper",), BOOL, False,
                 "disable the use of the subreaper used to reap reparented processes",
                 False)
_IMAGE_PATH = (("image-path",), STRING, "",
               "path for saving criu image files", False)
_WORK_PATH = (("work-path",), STRING, "",
              "path for saving work files and logs", False)
_TCP_ESTABLISHED = (("tcp-established",), BOOL, False,
                    "allow open tcp connections", False)
_EXT_UNIX_SK = (("ext-unix-sk",), BOOL, False, "allow external unix sockets", False)
_SHELL_JOB = (("shell-job",), BOOL, False, "allow shell jobs", False)
_FILE_LOCKS = (("file-locks",), BOOL, False, "handle file locks, for safety", False)
_MANAGE_CGROUPS_MODE = (("manage-cgroups-mode",), STRING, "",
                        "cgroups mode: soft|full|strict|ignore (default: soft)", False)
_EMPTY_NS = (("empty-ns",), STRING_LIST, (),
             "create a namespace, but don't restore its properties", False)
_AUTO_DEDUP = (("auto-dedup",), BOOL, False,
               "enable auto deduplication of memory images", False)
_LAZY_PAGES = (("lazy-pages",), BOOL, False,
               "use userfaultfd to lazily restore memory pages", False)
_FORMAT = (("format", "f"), STRING, "table", "select one of: table or json", False)

_ID_ONLY = """<container-id>

Where "<container-id>" is the name for the instance of the container."""

_ID_NEW = """<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host."""

# The part of runc's create/run descriptions that explains bundles.
_BUNDLE_TEXT = """The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"pyrunc spec --help" for more explanation."""


COMMANDS = {
    "checkpoint": {
        "aliases": (),
        "usage": "checkpoint a running container",
        "args_usage": _ID_ONLY + """

EXAMPLE:
For example, if the container id is "ubuntu01" the following will checkpoint
the container:

       # pyrunc checkpoint ubuntu01""",
        "description": "The checkpoint command saves the state of the container instance.",
        "args": (("exact", 1),),
        "flags": (
            (("image-path",), STRING, "",
             "path for saving criu image files (default: ./checkpoint)", False),
            _WORK_PATH,
            (("parent-path",), STRING, "",
             "path for previous criu image files in pre-dump", False),
            (("leave-running",), BOOL, False,
             "leave the process running after checkpointing", False),
            _TCP_ESTABLISHED,
            (("tcp-skip-in-flight",), BOOL, False,
             "skip in-flight tcp connections", False),
            (("link-remap",), BOOL, False,
             "allow one to link unlinked files back when possible", False),
            _EXT_UNIX_SK,
            _SHELL_JOB,
            (("lazy-pages",), BOOL, False,
             "use userfaultfd to lazily restore memory pages", False),
            (("status-fd",), INT, -1,
             "criu writes \\0 to this FD once lazy-pages is ready", False),
            (("page-server",), STRING, "",
             "ADDRESS:PORT of the page server", False),
            _FILE_LOCKS,
            (("pre-dump",), BOOL, False,
             "dump container's memory information only, leave the container running after this",
             False),
            _MANAGE_CGROUPS_MODE,
            (("empty-ns",), STRING_LIST, (),
             "create a namespace, but don't save its properties", False),
            _AUTO_DEDUP,
        ),
        "reorder": True,
    },
    "create": {
        "aliases": (),
        "usage": "create a container",
        "args_usage": _ID_NEW,
        "description": "The create command creates an instance of a container for a bundle. "
                       + _BUNDLE_TEXT,
        "args": (("exact", 1),),
        "flags": (_BUNDLE, _CONSOLE_SOCKET, _PIDFD_SOCKET, _PID_FILE, _NO_PIVOT,
                  _NO_NEW_KEYRING, _PRESERVE_FDS),
        "reorder": True,
    },
    "delete": {
        "aliases": (),
        "usage": "delete any resources held by the container often used with detached container",
        "args_usage": """<container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and pyrunc list currently shows
the status of "ubuntu01" as "stopped" the following will delete resources held
for "ubuntu01" removing "ubuntu01" from the pyrunc list of containers:

       # pyrunc delete ubuntu01""",
        "description": "",
        "args": (("exact", 1),),
        "flags": (
            (("force", "f"), BOOL, False,
             "Forcibly deletes the container if it is still running (uses SIGKILL)",
             False),
        ),
        "reorder": True,
        "handler": "pyrunc.container:run_delete",
    },
    "events": {
        "aliases": (),
        "usage": "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
        "args_usage": _ID_ONLY,
        "description": """The events command displays information about the container. By default the
information is displayed once every 5 seconds.""",
        "args": (("exact", 1),),
        "flags": (
            (("interval",), DURATION, "5s", "set the stats collection interval", False),
            (("stats",), BOOL, False, "display the container's stats then exit", False),
        ),
        "reorder": True,
    },
    "exec": {
        "aliases": (),
        "usage": "execute new process inside the container",
        "args_usage": """<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # pyrunc exec <container-id> ps""",
        "description": "",
        "args": (("min", 1),),
        "flags": (
            _CONSOLE_SOCKET,
            _PIDFD_SOCKET,
            (("cwd",), STRING, "", "current working directory in the container", False),
            (("env", "e"), STRING_LIST, (), "set environment variables", False),
            (("tty", "t"), BOOL, False, "allocate a pseudo-TTY", False),
            (("user", "u"), STRING, "", "UID (format: <uid>[:<gid>])", False),
            (("additional-gids", "g"), INT_LIST, (), "additional gids", False),
            (("process", "p"), STRING, "", "path to the process.json", False),
            _DETACH,
            _PID_FILE,
            (("process-label",), STRING, "",
             "set the asm process label for the process commonly used with selinux",
             False),
            (("apparmor",), STRING, "", "set the apparmor profile for the process", False),
            (("no-new-privs",), BOOL, False,
             "set the no new privileges value for the process", False),
            (("cap", "c"), STRING_LIST, (),
             "add a capability to the bounding set for the process", False),
            _PRESERVE_FDS,
            (("cgroup",), STRING_LIST, (),
             "run the process in an (existing) sub-cgroup(s). Format is "
             "[<controller>:]<cgroup>.", False),
            (("ignore-paused",), BOOL, False, "allow exec in a paused container", False),
        ),
        "reorder": False,
        "handler": "pyrunc.execute:run_exec",
    },
    "kill": {
        "aliases": (),
        "usage": "kill sends the specified signal (default: SIGTERM) to the container's init process",
        "args_usage": """<container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # pyrunc kill ubuntu01 KILL""",
        "description": "",
        "args": (("min", 1), ("max", 2)),
        "flags": (
            # "obsoleted": still accepted; its only effect is that killing a
            # container that is no longer running is not an error.
            (("all", "a"), BOOL, False,
             "(obsoleted, do not use) send the specified signal to all processes "
             "inside the container", True),
        ),
        "reorder": True,
        "handler": "pyrunc.container:run_kill",
    },
    "list": {
        "aliases": (),
        "usage": "lists containers started by pyrunc with the given root",
        "args_usage": """

Where the given root is specified via the global option "--root"
(default: "%s").

EXAMPLE 1:
To list containers created via the default "--root":
       # pyrunc list

EXAMPLE 2:
To list containers created using a non-default value for "--root":
       # pyrunc --root value list""" % DEFAULT_ROOT,
        "description": "",
        "args": (("exact", 0),),
        "flags": (
            _FORMAT,
            (("quiet", "q"), BOOL, False, "display only container IDs", False),
        ),
        "reorder": True,
    },
    "pause": {
        "aliases": (),
        "usage": "pause suspends all processes inside the container",
        "args_usage": """<container-id>

Where "<container-id>" is the name for the instance of the container to be
paused. """,
        "description": "The pause command suspends all processes in the instance of the container.\n\n"
                       "Use pyrunc list to identify instances of containers and their current status.",
        "args": (("exact", 1),),
        "flags": (),
        "reorder": True,
    },
    "ps": {
        "aliases": (),
        "usage": "ps displays the processes running inside a container",
        "args_usage": "<container-id> [ps options]",
        "description": "",
        "args": (("min", 1),),
        "flags": (_FORMAT,),
        "reorder": False,
    },
    "restore": {
        "aliases": (),
        "usage": "restore a container from a previous checkpoint",
        "args_usage": """<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.""",
        "description": "Restores the saved state of the container instance that was previously saved\n"
                       "using the pyrunc checkpoint command.",
        "args": (("exact", 1),),
        "flags": (
            _CONSOLE_SOCKET,
            (("image-path",), STRING, "",
             "path to criu image files for restoring (default: ./checkpoint)", False),
            _WORK_PATH,
            _TCP_ESTABLISHED,
            _EXT_UNIX_SK,
            _SHELL_JOB,
            _FILE_LOCKS,
            _MANAGE_CGROUPS_MODE,
            _BUNDLE,
            _DETACH,
            _PID_FILE,
            _NO_SUBREAPER,
            _NO_PIVOT,
            _EMPTY_NS,
            _AUTO_DEDUP,
            _LAZY_PAGES,
            (("lsm-profile",), STRING, "",
             "Specify an LSM profile to be used during restore in the form of TYPE:NAME.",
             False),
            (("lsm-mount-context",), STRING, "",
             "Specify an LSM mount context to be used during restore.", False),
        ),
        "reorder": True,
    },
    "resume": {
        "aliases": (),
        "usage": "resumes all processes that have been previously paused",
        "args_usage": """<container-id>

Where "<container-id>" is the name for the instance of the container to be
resumed.""",
        "description": "The resume command resumes all processes in the instance of the container.\n\n"
                       "Use pyrunc list to identify instances of containers and their current status.",
        "args": (("exact", 1),),
        "flags": (),
        "reorder": True,
    },
    "run": {
        "aliases": (),
        "usage": "create and run a container",
        "args_usage": _ID_NEW,
        "description": "The run command creates an instance of a container for a bundle. "
                       + _BUNDLE_TEXT,
        "args": (("exact", 1),),
        "flags": (
            _BUNDLE,
            _CONSOLE_SOCKET,
            _PIDFD_SOCKET,
            _DETACH,
            (("keep",), BOOL, False,
             "do not delete the container after it exits", False),
            _PID_FILE,
            _NO_SUBREAPER,
            _NO_PIVOT,
            _NO_NEW_KEYRING,
            _PRESERVE_FDS,
        ),
        "reorder": True,
    },
    "spec": {
        "aliases": (),
        "usage": "create a new specification file",
        "args_usage": "",
        "description": """The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

EXAMPLE:
  To run a container from an exported image filesystem, unpack it into a
directory named "rootfs" next to the spec, change the args parameter, and run:

    mkdir hello
    cd hello
    mkdir rootfs
    tar -C rootfs -xf hello-world.tar
    pyrunc spec
    sed -i 's;"sh";"/hello";' config.json
    pyrunc run container1

In the run command above, "container1" is the name for the instance of the
container that you are starting. The name you provide for the container instance
must be unique on your host.

Starting containers needs root privilege. Alternatively, you can start a
rootless container, which has the ability to run without root privileges. For
this to work, the specification file needs to be adjusted accordingly. You can
pass the parameter --rootless to this command to generate a proper rootless spec
file.""",
        "args": (("exact", 0),),
        "flags": (
            (("bundle", "b"), STRING, "", "path to the root of the bundle directory", False),
            (("rootless",), BOOL, False,
             "generate a configuration for a rootless container", False),
        ),
        "reorder": True,
    },
    "start": {
        "aliases": (),
        "usage": "executes the user defined process in a created container",
        "args_usage": _ID_NEW,
        "description": "The start command executes the user defined process in a created container.",
        "args": (("exact", 1),),
        "flags": (),
        "reorder": True,
        "handler": "pyrunc.container:run_start",
    },
    "state": {
        "aliases": (),
        "usage": "output the state of a container",
        "args_usage": _ID_ONLY,
        "description": "The state command outputs current state information for the\n"
                       "instance of a container.",
        "args": (("exact", 1),),
        "flags": (),
        "reorder": True,
        "handler": "pyrunc.state:run_state",
    },
    "update": {
        "aliases": (),
        "usage": "update container resource constraints",
        "args_usage": "<container-id>",
        "description": """The data can be read from a file or the standard input, the
accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0,
    "checkBeforeUpdate": true
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "burst": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": "",
    "idle": 0
  },
  "blockIO": {
    "weight": 0
  },
  "pids": {
    "limit": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.""",
        "args": (("exact", 1),),
        "flags": (
            (("resources", "r"), STRING, "",
             "path to the file containing the resources to update or '-' to read from "
             "the standard input", False),
            # An int, not a uint, in runc: -1 gets past the parser and is
            # refused where the weight is applied.
            (("blkio-weight",), INT, 0,
             "Specifies per cgroup weight, range is from 10 to 1000", False),
            (("cpu-period",), STRING, "",
             "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default",
             False),
            (("cpu-quota",), STRING, "",
             "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period", False),
            (("cpu-burst",), STRING, "",
             "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time "
             "additionally for burst a given period", False),
            (("cpu-share",), STRING, "",
             "CPU shares (relative weight vs. other containers)", False),
            (("cpu-rt-period",), STRING, "",
             "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default",
             False),
            (("cpu-rt-runtime",), STRING, "",
             "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period",
             False),
            (("cpuset-cpus",), STRING, "",
             "CPU(s) to use", False),
            (("cpuset-mems",), STRING, "",
             "Memory node(s) to use", False),
            (("memory",), STRING, "",
             "Memory limit (in bytes)", False),
            (("memory-reservation",), STRING, "",
             "Memory reservation or soft_limit (in bytes)", False),
            (("memory-swap",), STRING, "",
             "Total memory usage (memory + swap); set '-1' to enable unlimited swap",
             False),
            (("cpu-idle",), STRING, "",
             "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE", False),
            (("pids-limit",), INT, 0,
             "Maximum number of pids allowed in the container", False),
            (("l3-cache-schema",), STRING, "",
             "The string of Intel RDT/CAT L3 cache schema", False),
            (("mem-bw-schema",), STRING, "",
             "The string of Intel RDT/MBA memory bandwidth schema", False),
            (("kernel-memory",), STRING, "",
             "(obsoleted; do not use)", True),
            (("kernel-memory-tcp",), STRING, "",
             "(obsoleted; do not use)", True),
        ),
        "reorder": True,
    },
    "features": {
        "aliases": (),
        "usage": "show the enabled features",
        "args_usage": "",
        "description": "The features command prints, as JSON, which parts of the runtime-spec\n"
                       "this runtime implements (see the runtime-spec's features.md).",
        "args": (("exact", 0),),
        "flags": (),
        "reorder": True,
    },
    # pyrunc's own commands.
    "plan": {
        "aliases": (),
        "usage": "print the operations create would perform for a bundle, without doing them",
        "args_usage": """[container-id]

Where "[container-id]" is the name the container would get (it appears in
cgroup paths and hook state); a placeholder is used when it is omitted.""",
        "description": "The plan command loads and checks the bundle's config.json the way create\n"
                       "does, then prints the ordered list of operations (namespaces, mounts,\n"
                       "devices, cgroups, capabilities, ...) instead of performing them.",
        "args": (("max", 1),),
        "flags": (_BUNDLE,),
        "reorder": True,
    },
    "validate": {
        "aliases": (),
        "usage": "check a bundle's config.json against the runtime-spec schema",
        "args_usage": "",
        "description": "The validate command checks the bundle's config.json against the\n"
                       "runtime-spec JSON schema and pyrunc's own rules, and reports every\n"
                       "problem it finds. It changes nothing.",
        "args": (("exact", 0),),
        "flags": (_BUNDLE,),
        "reorder": True,
    },
    # urfave's built-in help command; `help CMD` shows a command's help.
    "help": {
        "aliases": ("h",),
        "usage": "Shows a list of commands or help for one command",
        "args_usage": "[command]",
        "description": "",
        "args": (),
        "flags": (),
        "reorder": True,
    },
}

# Aliases -> canonical command names.
ALIASES = {alias: name for name, cmd in COMMANDS.items() for alias in cmd["aliases"]}

# Command flags whose relative values are made absolute against the caller's
# cwd while parsing, before any command may chdir into the bundle: runc makes
# --pid-file absolute up front, and engines pass --bundle/--console-socket
# expecting them to mean what they meant in the caller's cwd.
PATH_FLAGS = ("bundle", "pid-file", "console-socket", "pidfd-socket")
