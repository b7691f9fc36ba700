"""runtime-spec "create" on the runtime's side: from a bundle to an init parked on
the exec FIFO.

runtime-spec runtime.md "Lifecycle" steps 1-6 are the outline; the functions quote
the steps they implement. The runtime forks the init (fork_init) and drives the
setup protocol of sync.py from its side (_drive_setup); what the init itself does
is in init.py. Operations on a created container are in container.py.
"""

import time

from pyrunc import lean_os as os
from pyrunc import init, log, state as st
from pyrunc.errors import RuntimeFailure
from pyrunc.signals import SIGKILL
from pyrunc.state import FILTER_FILE, START_ERROR, Container
from pyrunc.stdio import check_preserved_fds, check_terminal, open_console, socket_activation_fds

CLONE_NEWPID = 0x20000000


class CreateOptions:
    __slots__ = ("bundle", "pid_file", "console_socket", "no_pivot", "preserve_fds",
                 "no_new_keyring", "listen_fds", "globals", "seccomp_agent")

    def __init__(self, bundle="", pid_file="", console_socket="", no_pivot=False, preserve_fds=0,
                 no_new_keyring=False, globals_=None):
        # The parsed global flags (--systemd-cgroup,
        # --cgroup-manager, --rootless) pick the cgroup manager; None = cgroupfs.
        self.globals = globals_
        self.no_new_keyring = no_new_keyring
        self.listen_fds = 0  # socket activation, decided by create before forking
        self.seccomp_agent = None  # seccomp.Agent (SCMP_ACT_NOTIFY), connected by create
        self.bundle = bundle
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds


def load_bundle(bundle):
    """(absolute bundle, config model, absolute rootfs path)."""
    from pyrunc.spec.model import load_bundle_config

    bundle = os.path.abspath(bundle or ".")
    config = load_bundle_config(bundle)
    for warning in config.warnings:
        log.warning(warning)
    if config.root is None:
        raise RuntimeFailure("root: config.json must specify the root filesystem")
    refuse_unsupported(config)
    rootfs = os.path.normpath(os.path.join(bundle, config.root.path))
    if not os.path.isdir(rootfs):
        raise RuntimeFailure(f'rootfs ("{rootfs}") does not exist')
    return bundle, config, rootfs


# Namespaces pyrunc cannot set up yet. runtime-spec: "If the runtime does not support
# the namespace type, it MUST generate an error" (silently sharing the host's user
# namespace would run a "rootless" container as real root).
_UNSUPPORTED_NAMESPACES = ("user", "time")


# Fields pyrunc does not implement yet: (where, attribute, config key). runtime-spec:
# "Runtimes MUST generate an error when invalid or unsupported values are encountered";
# running without them would quietly give a different container than asked for.
_UNSUPPORTED_PROCESS = (("apparmorProfile", "apparmor_profile"), ("scheduler", "scheduler"),
                        ("ioPriority", "io_priority"), ("execCPUAffinity", "exec_cpu_affinity"))
_UNSUPPORTED_LINUX = (("personality", "personality"), ("intelRdt", "intel_rdt"),
                      ("netDevices", "net_devices"), ("memoryPolicy", "memory_policy"))


def refuse_unsupported(config):
    process = config.process
    for key, attr in _UNSUPPORTED_PROCESS if process is not None else ():
        if getattr(process, attr):
            raise RuntimeFailure(f"process.{key}: not supported by pyrunc yet")
    for index, m in enumerate(config.mounts):
        if m.uid_mappings or m.gid_mappings or "idmap" in m.options or "ridmap" in m.options:
            raise RuntimeFailure(f"mounts[{index}]: idmapped mounts are not supported by pyrunc yet")
    linux = config.linux
    if linux is None:
        return
    for key, attr in _UNSUPPORTED_LINUX:
        if getattr(linux, attr):
            raise RuntimeFailure(f"linux.{key}: not supported by pyrunc yet")
    if (linux.mount_label or (process is not None and process.selinux_label)) \
            and not os.path.exists("/sys/fs/selinux/enforce"):
        # As crun: SELinux labels mean nothing on a host without SELinux.
        log.warning("SELinux is not enabled on this host: labels in config.json are ignored")
    elif linux.mount_label or (process is not None and process.selinux_label):
        raise RuntimeFailure("SELinux labels are not supported by pyrunc yet")
    for index, ns in enumerate(linux.namespaces):
        if ns.type in _UNSUPPORTED_NAMESPACES:
            raise RuntimeFailure(f"linux.namespaces[{index}]: {ns.type} namespaces are not "
                                 "supported by pyrunc yet")
    if linux.uid_mappings or linux.gid_mappings:
        raise RuntimeFailure("linux.uidMappings: user namespaces are not supported by pyrunc yet")


def create(root, container_id, opts, detached=True, start=False):
    """runtime-spec "create": "This operation MUST generate an error if it is not
    provided a path to the bundle and the container ID to associate with the
    container. If the ID provided is not unique ... MUST generate an error and a new
    container MUST NOT be created."

    `start`: `run`'s shortcut. When nothing has to happen between create and start
    (no startContainer or poststart hooks), the init gets no exec FIFO: it execs
    the process as soon as it has reported READY, and `run` skips its own start.

    Returns (Container, init pid, console, started): console is the socket on which
    a foreground runtime receives the terminal's master, else None.
    """
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    st.validate_id(container_id)
    bundle, config, rootfs = load_bundle(opts.bundle)
    terminal = config.process is not None and config.process.terminal
    check_terminal(terminal, opts.console_socket, detached)
    opts.listen_fds = socket_activation_fds()
    check_preserved_fds(opts.listen_fds + opts.preserve_fds)
    container = Container.claim(root, container_id)
    pid = 0
    console = ours = None
    cgroup = None
    try:
        console, ours = open_console(terminal, opts.console_socket)
        opts.seccomp_agent = connect_seccomp_agent(config)
        started = start and config.process is not None and not (
            config.hooks.start_container or config.hooks.poststart)
        if not started:
            os.mkfifo(container.fifo_path, 0o622)
        from pyrunc.cgroups.layout import manager_for

        cgroup = manager_for(config, container_id, opts.globals)
        cgroup.create_early()
        pid, channel = fork_init(config, bundle, rootfs, container, opts, console, cgroup,
                                 None if started else container.fifo_path)
        if cgroup.defers_creation():
            # While the init makes its namespaces; it joins these when told.
            cgroup.create_late()
            try:
                channel.send(sync.CGROUPS)
            except sync.ProtocolError:
                pass  # the init failed meanwhile; _drive_setup reads its error
        # Compiled while the init makes its namespaces and mounts; sent by _drive_setup.
        filter_wire = _compile_filter(init.seccomp_rules(config), container)
        container.data = {
            "ociVersion": config.oci_version,
            "id": container_id,
            "pid": pid,
            "init_start_time": st.process_start_time(pid),
            "bundle": bundle,
            "rootfs": rootfs,
            "created": st.rfc3339_nano(time.time_ns()),
            "annotations": config.annotations,
            "creating": True,
            "has_process": config.process is not None,
            # `exec` starts from the container's process as captured at create.
            "process": config.raw.get("process"),
            "seccomp": (config.raw.get("linux") or {}).get("seccomp"),
            "own_pid_ns": _new_namespace(config, "pid"),
            "hooks": config.raw.get("hooks") or {},
            # The manager's state; state.py reads the freezer file.
            "cgroup": cgroup.to_state(),
            "freezer_state_file": cgroup.freezer_state_file(),
        }
        container.save()
        _drive_setup(channel, container, config, stops_at_hooks_point(config, opts.seccomp_agent),
                     filter_wire)
        del container.data["creating"]
        container.data["mnt_ns"] = st.namespace_id(pid, "mnt")
        container.save()
        if opts.pid_file:
            st.write_pid_file(opts.pid_file, pid)
    except BaseException as e:
        if pid:
            _kill_and_reap(pid)
        if cgroup is not None:
            cgroup.destroy()  # only what create() made
        if ours is not None:
            ours.close()
        container.remove()
        if isinstance(e, sync.ProtocolError):
            raise RuntimeFailure(str(e)) from None
        if isinstance(e, OSError):
            raise RuntimeFailure(f"create: {e.filename or ''}: {(e.strerror or str(e)).lower()}") from None
        raise
    finally:
        if console is not None:
            console.close()
        if opts.seccomp_agent is not None:
            opts.seccomp_agent.close()   # the init has its own copy
    return container, pid, ours, started


def _compile_filter(rules, container):
    """The container's seccomp filter as bytes (seccomp.Program.to_wire), or None
    without one; also kept in the container's directory for `exec`. Done after the
    fork, while the init makes its namespaces and mounts: an engine's default
    profile takes a few milliseconds to compile."""
    if rules is None:
        return None
    try:
        wire = init.compile_seccomp(rules).to_wire()
    except RuntimeFailure as e:
        raise RuntimeFailure("unable to start container process: " + e.message) from None
    fd = os.open(os.path.join(container.dir, FILTER_FILE),
                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, wire)
    finally:
        os.close(fd)
    return wire


def connect_seccomp_agent(config):
    """SCMP_ACT_NOTIFY: connect to linux.seccomp.listenerPath before forking (runc's
    error when nobody listens); the init sends the listener there. None otherwise."""
    seccomp = config.linux.seccomp if config.linux is not None else None
    if seccomp is None or config.process is None:
        return None
    from pyrunc import seccomp as compiler

    return compiler.connect_agent(seccomp, status=st.CREATING)


def stops_at_hooks_point(config, seccomp_agent):
    """Whether the init stops at the hooks point (sync.HOOKS). The runtime runs the
    prestart and createRuntime hooks there, and its reply gives the init its host
    pid, which the hooks the init runs itself and a seccomp agent are shown. With
    none of these the round trip is left out (both sides decide it from the config)."""
    h = config.hooks
    return bool(h.prestart or h.create_runtime or h.create_container or h.start_container
                or seccomp_agent is not None)


def _new_namespace(config, ns_type):
    linux = config.linux
    return linux is not None and any(ns.type == ns_type and not ns.path for ns in linux.namespaces)


def fork_init(config, bundle, rootfs, container, opts, console, cgroup, fifo_path):
    """Fork the init, in a new (or joined) pid namespace when the config asks, and
    in the container's cgroups (see cgroups.Placement).

    unshare(CLONE_NEWPID) affects only children, so the runtime does it and forks
    once: the child is pid 1 of the new namespace. Then the runtime returns its
    children's pid namespace to its own, so hooks it runs later stay on the host.
    When the cgroup manager defers_creation(), the init waits for sync.CGROUPS
    before joining them.
    """
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    # Loaded here for the init: after the fork every object the import touches is a
    # copy-on-write fault, which made it about 1 ms on the init's critical path.
    from pyrunc import rootfs as _init_rootfs  # noqa: F401
    if init.seccomp_rules(config) is not None:
        from pyrunc import seccomp as _init_seccomp  # noqa: F401 - Program, for the init
    from pyrunc.cgroups import Placement
    from pyrunc.syscalls import LinuxSyscalls

    sys = LinuxSyscalls()
    parent_end, child_end = sync.Channel.pair(sys)
    pid_ns = None
    if config.linux is not None:
        pid_ns = next((ns for ns in config.linux.namespaces if ns.type == "pid"), None)
    own_pid_ns = None
    if pid_ns is not None:
        own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        if pid_ns.path:
            sys.setns(pid_ns.path, CLONE_NEWPID)
        else:
            sys.unshare(CLONE_NEWPID)
    placement = Placement(cgroup)
    ctx, start_error_fd = _init_context(config, bundle, rootfs, container, opts, child_end,
                                        cgroup_view(config, cgroup), console, placement, fifo_path)
    # The debug texts are runc's: its tests and people grepping logs look for them.
    log.debug("nsexec container setup")
    pid = placement.fork(sys)
    if pid == 0:
        parent_end.close()
        _child(sys, config, ctx, child_end, start_error_fd)
    child_end.close()
    if start_error_fd is not None:
        os.close(start_error_fd)
    if own_pid_ns is not None:
        sys.lib.setns(own_pid_ns, CLONE_NEWPID)
        os.close(own_pid_ns)
    return pid, parent_end


def cgroup_view(config, cgroup):
    """What a "cgroup" mount shows: None on a pure cgroup v2 host (a cgroup2 mount inside
    the container's cgroup namespace); on v1/hybrid hosts one bind per hierarchy of the
    container's own cgroups, and none at all (an empty tmpfs) when it has no cgroups of
    its own: the runtime's caller's cgroups are never shown, let alone writable."""
    if not any(m.type == "cgroup" for m in config.mounts):
        return None
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return None
    binds = cgroup.mount_binds() if cgroup is not None and cgroup.enabled else None
    return binds or []


class _ChildSync:
    """The init's side of the protocol, as init.setup() sees it."""

    __slots__ = ("channel", "state", "tags", "placement", "stops_at_hooks")

    def __init__(self, channel, state, placement, stops_at_hooks):
        from pyrunc import sync  # create-time only: start/kill/delete never load it

        self.channel = channel
        self.state = state
        self.tags = sync
        self.placement = placement
        self.stops_at_hooks = stops_at_hooks

    def cgroups_point(self):
        if self.placement.manager.defers_creation():
            # The runtime makes them meanwhile (create_late) and says when.
            self.channel.expect(self.tags.CGROUPS)
        self.placement.join()

    def seccomp_point(self):
        """The filter the runtime compiled meanwhile (sync.SECCOMP)."""
        from pyrunc.seccomp import Program

        return Program.from_wire(self.channel.expect(self.tags.SECCOMP, raw=True))

    def hooks_point(self):
        if not self.stops_at_hooks:
            return
        self.channel.send(self.tags.HOOKS)
        # Inside its pid namespace the init is pid 1; hooks need the host's pid.
        self.state["pid"] = int(self.channel.expect(self.tags.HOOKS_DONE))

    def warn(self, message):
        self.channel.send(self.tags.WARN, message)


def _init_context(config, bundle, rootfs, container, opts, channel, cgroup_binds, console,
                  placement, fifo_path):
    """(init.InitContext, fd of the START_ERROR file or None), made before the fork:
    in the init, every object made or first touched is a copy-on-write fault."""
    hooks = None
    if config.hooks.create_container or config.hooks.start_container:
        from pyrunc import hooks  # the init runs them

    # runtime-spec: hooks get the state; these are the fields it defines.
    child_sync = _ChildSync(channel, {
        "ociVersion": config.oci_version, "id": container.id, "status": st.CREATED,
        "pid": 0, "bundle": bundle, "annotations": config.annotations}, placement,
        stops_at_hooks_point(config, opts.seccomp_agent))

    def run_hook(kind, hook_list):
        if hook_list:
            hooks.run_hooks(kind, hook_list, dict(child_sync.state))

    start_error_fd = None
    if config.hooks.start_container:
        # A startContainer hook can only fail after `start` has woken the init;
        # the init reports that in a file `start` reads (opened now, while the
        # state directory is reachable; the runtime closes its copy after the fork).
        start_error_fd = os.open(os.path.join(container.dir, START_ERROR),
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    ctx = init.InitContext(
        config, bundle, rootfs, child_sync, fifo_path, child_sync.warn, run_hook,
        no_pivot=opts.no_pivot, preserve_fds=opts.listen_fds + opts.preserve_fds,
        cgroup_binds=cgroup_binds,
        keyring=None if opts.no_new_keyring else "_ses." + container.id,
        extra_env=("LISTEN_FDS=%d" % opts.listen_fds, "LISTEN_PID=1") if opts.listen_fds else (),
        keep_fds=(channel.fileno(),) + ((console.fileno(),) if console else ())
        + ((start_error_fd,) if start_error_fd is not None else ()),
        console_fd=console.fileno() if console else None,
        seccomp_agent=opts.seccomp_agent and opts.seccomp_agent.with_state(child_sync.state))
    return ctx, start_error_fd


def _child(sys, config, ctx, channel, start_error_fd):
    """The forked init. Never returns: it execs the user process or exits."""
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    try:
        from pyrunc import flags as F

        # If create dies during setup, so does the half-made container.
        sys.prctl(F.PR_SET_PDEATHSIG, SIGKILL)
        if log.debug_enabled():
            channel.send(sync.DEBUG, "child process in init()")
        path, argv, env, fifo_fd = init.setup(sys, ctx)
        sys.prctl(F.PR_SET_PDEATHSIG, 0)
        if log.debug_enabled():
            channel.send(sync.DEBUG, "init: closing the pipe to signal completion")
        channel.send(sync.READY)
        channel.close()
        if path is None:
            # No process: runtime-spec lets create succeed; start refuses to run it.
            while True:
                os.read(fifo_fd, 1)

        def start_hooks():
            ctx.run_hook("startContainer", config.hooks.start_container)

        init.finish(path, argv, env, fifo_fd, start_hooks)
    except RuntimeFailure as e:
        _child_error(channel, "unable to start container process: " + e.message, start_error_fd)
    except sync.ProtocolError:
        pass
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _child_error(channel, "unable to start container process: error during container init: "
                     f"{where}{(e.strerror or str(e)).lower()}", start_error_fd)
    except BaseException as e:  # noqa: BLE001 - the init must always report and exit
        _child_error(channel, f"unable to start container process: {type(e).__name__}: {e}",
                     start_error_fd)
    os._exit(1)


def _child_error(channel, message, start_error_fd=None):
    """To the runtime while it waits for READY. After that (a startContainer hook
    failing) nobody listens on the channel: into the file `start` reads, and on the
    container's stderr, which is the caller's for a foreground run."""
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    try:
        channel.send(sync.ERROR, message)
    except Exception:  # noqa: BLE001 - the runtime has returned already
        data = (message + "\n").encode("utf-8", "replace")
        for fd in (start_error_fd, 2):
            if fd is None:
                continue
            try:
                os.write(fd, data)
            except OSError:
                pass


def _drive_setup(channel, container, config, stops_at_hooks, filter_wire=None):
    """The parent's side of the protocol (see sync.py)."""
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    try:
        if stops_at_hooks:
            _expect(channel, sync.HOOKS)
            if config.hooks.prestart or config.hooks.create_runtime:
                from pyrunc import hooks

                state = container.oci_state(st.CREATING)
                # runtime-spec: prestart hooks run after the runtime environment is created,
                # "before the pivot_root"; createRuntime hooks right after, same namespace.
                hooks.run_hooks("prestart", config.hooks.prestart, state)
                hooks.run_hooks("createRuntime", config.hooks.create_runtime, state)
            channel.send(sync.HOOKS_DONE, str(container.pid))
        if filter_wire is not None:
            # After HOOKS_DONE: the init reads messages in order, and it loads the
            # filter after its hooks point.
            try:
                channel.send(sync.SECCOMP, filter_wire)
            except sync.ProtocolError:
                pass  # the init failed meanwhile: its ERROR is read next
        _expect(channel, sync.READY)
    finally:
        channel.close()


def _expect(channel, tag):
    from pyrunc import sync  # create-time only: start/kill/delete never load it

    while True:
        got, payload = channel.recv()
        if got == sync.WARN:
            log.warning(payload)
            continue
        if got == sync.DEBUG:
            log.debug(payload)
            continue
        if got == tag:
            return payload
        if got == sync.ERROR:
            raise RuntimeFailure(payload)
        if got is None:
            raise RuntimeFailure("container init exited before finishing setup")
        raise RuntimeFailure(f"container init sent an unexpected message {got!r}")


def _kill_and_reap(pid):
    try:
        os.kill(pid, SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
