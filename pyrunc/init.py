"""The container's init: what the forked child does between fork and execve.

`setup()` is one straight sequence over the syscall seam. `create` runs it in the
forked child with `LinuxSyscalls`; `pyrunc plan` runs the very same function with
`RecordingSyscalls` and prints what was recorded. The order follows runc's
standard init, with the runtime-spec hook points marked.
"""

from pyrunc import lean_os as os
from pyrunc import capabilities, flags as F, signals
from pyrunc.errors import RuntimeFailure
from pyrunc.log import quote

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Namespaces are joined/made in this order; pid (and user, later) are the
# parent's job because they take effect for children only. The cgroup one comes
# after the init has joined its cgroups: its root is the cgroup it is made in.
_CHILD_NAMESPACES = ("ipc", "uts", "network", "mount")


class InitContext:
    """Everything setup() needs, decided by the parent before fork."""

    __slots__ = ("config", "bundle", "rootfs", "no_pivot", "preserve_fds", "sync",
                 "fifo_path", "cgroup_binds", "keep_fds", "warn", "run_hook", "console_fd",
                 "keyring", "extra_env", "seccomp_agent")

    def __init__(self, config, bundle, rootfs_path, sync, fifo_path, warn, run_hook,
                 no_pivot=False, preserve_fds=0, cgroup_binds=None, keep_fds=(), console_fd=None,
                 keyring=None, extra_env=(), seccomp_agent=None):
        self.config = config
        self.bundle = bundle
        self.rootfs = rootfs_path
        self.sync = sync
        self.fifo_path = fifo_path  # None: no start to wait for (see finish)
        self.warn = warn
        self.run_hook = run_hook
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        self.cgroup_binds = cgroup_binds
        self.keep_fds = keep_fds
        self.console_fd = console_fd
        self.keyring = keyring      # session keyring name to join, None for --no-new-keyring
        self.extra_env = extra_env  # e.g. LISTEN_FDS for socket activation
        # seccomp.Agent (SCMP_ACT_NOTIFY): connected by the runtime, gets the listener.
        self.seccomp_agent = seccomp_agent


def setup(sys, ctx):
    """Turn this process into the container's init, parked before execve.

    Returns (path, argv, env, fifo_fd) for `finish()`.
    """
    from pyrunc import rootfs  # here, not at the top: `exec` uses this module without it

    config = ctx.config
    process = config.process
    linux = config.linux

    # The runtime compiles the filter meanwhile (sync.SECCOMP); it is read where it
    # is loaded. A profile that does not compile fails the whole create.
    filtered = seccomp_rules(config) is not None

    # Threat (CVE-2024-21626): fds inherited from the caller (a shim's listening
    # socket, a host directory) must not survive into the container. Closed first,
    # before anything looks at the container's paths.
    close_inherited_fds(sys, ctx)

    if process is not None and process.oom_score_adj is not None:
        # Before becoming non-dumpable: that makes /proc/self files root-owned.
        sys.write_proc("/proc/self/oom_score_adj", str(process.oom_score_adj))

    # Threat (CVE-2019-5736, CVE-2016-9962): once the container can see this process,
    # its /proc/PID/exe is the host's Python. Non-dumpable, /proc/PID/{exe,mem,fd} need
    # CAP_SYS_PTRACE in the host's user namespace. execve of the workload resets it.
    sys.prctl(F.PR_SET_DUMPABLE, 0)

    enter_namespaces(sys, linux, _CHILD_NAMESPACES)
    if ctx.keyring:
        # runc: each container gets its own session keyring unless --no-new-keyring,
        # so it cannot read the caller's keys.
        sys.join_session_keyring(ctx.keyring)
    if linux is not None and _has_new(linux, "network"):
        bring_up_loopback(sys)

    mount_ns = linux is not None and _has_namespace(linux, "mount")
    if mount_ns:
        rootfs.prepare_root(sys, ctx.rootfs, linux.rootfs_propagation)

    # Into the container's cgroups (their directories are needed by the cgroup
    # mount below), then the cgroup namespace, rooted at them. On v1 hosts the
    # runtime makes them while this process did the above, and says when.
    ctx.sync.cgroups_point()
    enter_namespaces(sys, linux, ("cgroup",))

    # Opened after the rootfs became its own mount, so everything below lands on it.
    root = rootfs.RootFS(sys, ctx.rootfs)
    if mount_ns:
        rootfs.mount_all(root, config.mounts, ctx.bundle, ctx.cgroup_binds)
        dev_is_bind = any(m.destination.rstrip("/") == "/dev" and
                          ("bind" in m.options or "rbind" in m.options or m.type == "bind")
                          for m in config.mounts)
        rootfs.create_devices(root, linux.devices, dev_is_bind)

    # runtime-spec: prestart and createRuntime hooks "MUST be called after the
    # runtime environment has been created ... but before the pivot_root"; they
    # run in the runtime's namespace, so the parent runs them.
    ctx.sync.hooks_point()

    # runtime-spec: createContainer hooks run "in the container namespace", after
    # createRuntime and before pivot_root; runc runs them from the rootfs, and
    # hooks rely on relative paths from there.
    if mount_ns and config.hooks.create_container:
        sys.chdir(ctx.rootfs)
    ctx.run_hook("createContainer", config.hooks.create_container)

    apply_sysctls(sys, linux)
    if mount_ns:
        devnull = rootfs.open_verified_devnull(sys)
        try:
            rootfs.mask_paths(root, linux.masked_paths, devnull)
        finally:
            sys.close(devnull)
        rootfs.readonly_paths(root, linux.readonly_paths)
        if process is not None:
            # runc makes a missing cwd (before the root turns read-only); so does pyrunc.
            sys.close(root.resolve(process.cwd, "dir"))
            if process.terminal:
                setup_terminal(sys, root, process, ctx.console_fd)
        # Last, after the devices, /dev/pts and /dev/console are in place.
        rootfs.make_dev_readonly_if_asked(root, config.mounts)
    fifo_fd = open_exec_fifo(sys, ctx.fifo_path) if ctx.fifo_path else None
    if mount_ns:
        root.close()
        if ctx.no_pivot:
            rootfs.move_root(sys, ctx.rootfs)
        else:
            rootfs.pivot(sys, ctx.rootfs)
        rootfs.set_root_propagation(sys, linux.rootfs_propagation)
        if config.root is not None and config.root.readonly:
            rootfs.make_root_readonly(sys)
    else:
        # Without a mount namespace nothing may be mounted (it would land on the
        # host); the rootfs is only chrooted into.
        root.close()
        sys.chdir(ctx.rootfs)
        sys.chroot(".")
        sys.chdir("/")

    set_names(sys, config, linux)
    if process is None:
        return None, None, None, fifo_fd

    env = list(process.env) + list(ctx.extra_env)
    set_rlimits(sys, process.rlimits)
    # As runc: the cwd is entered while still privileged (a directory only root may
    # enter is fine), and proven before a seccomp filter may forbid getcwd
    # (runtime-tools linux_seccomp); if root may not enter it, again as the user.
    cwd_entered = enter_cwd_early(sys, process.cwd)
    if filtered and not process.no_new_privileges:
        # security.md 3.5: without no_new_privs, installing a filter needs
        # CAP_SYS_ADMIN, so it goes in before the capabilities are dropped (as runc).
        load_seccomp(sys, ctx.sync.seccomp_point(), ctx.seccomp_agent)
    change_identity(sys, process, ctx.warn)
    # runc's default umask when process.user.umask is absent.
    sys.umask(process.user.umask if process.user.umask is not None else 0o022)
    if not cwd_entered:
        enter_cwd(sys, process.cwd)
    if not _env_has(env, "HOME"):
        env.append("HOME=" + home_of(process.user.uid))
    path = find_executable(sys, process.args[0], env)
    if process.no_new_privileges:
        # runtime-spec: noNewPrivileges "prevents the process from gaining additional privileges".
        sys.prctl(F.PR_SET_NO_NEW_PRIVS, 1)
        if filtered:
            # With no_new_privs any process may install a filter: as late as
            # possible, so the fewest of the runtime's own syscalls run under it.
            # That is still before the init parks on the exec FIFO, as runc 1.1
            # does: the startContainer hooks (forked from here) and the parked init
            # itself run under the container's filter (seccomp.bats "startContainer
            # hook"). After this the init makes only: prctl, sendto, close, read,
            # rt_sigaction, rt_sigprocmask, execve; with startContainer hooks also
            # pipe2, fcntl, clone, write, pselect6, wait4 (strace of `run`).
            load_seccomp(sys, ctx.sync.seccomp_point(), ctx.seccomp_agent)
    return path, list(process.args), env, fifo_fd


def seccomp_rules(config):
    """linux.seccomp when the container's process gets a filter, else None."""
    if config.process is None or config.linux is None:
        return None
    return config.linux.seccomp


def compile_seccomp(seccomp):
    """linux.seccomp -> seccomp.Program, compiled by the runtime (create, exec, plan).
    The compiler is imported only here: configs without seccomp never load it."""
    from pyrunc import seccomp as compiler

    program = compiler.compile(seccomp)
    if program.skipped:
        from pyrunc import log

        if log.debug_enabled():
            for name in program.skipped:
                log.debug(f'unknown seccomp syscall "{name}" ignored')
    return program


def load_seccomp(sys, program, agent=None):
    """Load the filter; with SCMP_ACT_NOTIFY rules hand the listener to the seccomp
    agent at once (seccomp.Agent: nothing else runs between the two)."""
    if agent is None:
        agent = program.agent
    if agent is not None:
        agent.prepare()
    try:
        listener = sys.load_seccomp(program)
    except OSError as e:
        if program.notify and e.errno == 22:   # EINVAL: no SECCOMP_FILTER_FLAG_NEW_LISTENER
            raise RuntimeFailure("seccomp notify unsupported: the kernel refused a filter with "
                                 "a notify listener (Linux >= 5.0 needed)") from None
        raise RuntimeFailure("error loading seccomp filter into kernel: "
                             f"{(e.strerror or str(e)).lower()}") from None
    if program.notify and listener:
        if agent is None:
            os.close(listener)   # nobody to hand it to: notified syscalls fail (ENOSYS)
        else:
            agent.send(listener)


def setup_terminal(sys, root, process, console_fd):
    """A pty from the container's own devpts: the master goes to the console socket,
    the slave becomes /dev/console, stdio and the controlling terminal."""
    if sys.recording:
        sys.ops.append(("pty", "open /dev/pts/ptmx; bind the slave on /dev/console; "
                               "send the master to the console socket; setsid"))
        return
    from pyrunc import terminal

    ptmx = root.resolve("/dev/pts/ptmx")
    try:
        master, slave, number = terminal.open_pty(sys.lib, "/proc/self/fd/%d" % ptmx.fd)
    finally:
        sys.close(ptmx)
    try:
        # runc's owner for the tty: the process's uid, the group devpts gave it (tty).
        os.fchown(slave, process.user.uid, -1)
        terminal.set_size(sys.lib, slave, process.console_size)
        console = root.resolve("/dev/console", "file")
        try:
            from pyrunc.syscalls import Target

            sys.bind_tree(Target(slave, "/dev/pts/%d" % number), console, False, 0, 0, 0)
        finally:
            sys.close(console)
        terminal.send_master(console_fd, master, number)
    finally:
        os.close(master)
    terminal.become_session_leader(sys.lib, slave)


def close_inherited_fds(sys, ctx):
    """Keep stdio, the --preserve-fds range and the runtime's own channel; close the rest."""
    keep = set(ctx.keep_fds)
    keep.update(range(3, 3 + ctx.preserve_fds))
    if ctx.seccomp_agent is not None:
        keep.add(ctx.seccomp_agent.fileno())
    sys.close_fds_from(3, keep)


def enter_namespaces(sys, linux, types):
    """Of the namespace `types`: join those given by path, then make the new ones.

    runtime-spec: "If a namespace type is not specified in the namespaces array, the
    container MUST inherit the runtime namespace of that type." and "If a path is
    specified, the runtime MUST ... have the container process join that namespace."
    """
    if linux is None:
        return
    new = 0
    for ns in linux.namespaces:
        if ns.type not in types:
            continue
        if ns.path:
            sys.setns(ns.path, F.NAMESPACE_FLAGS[ns.type])
        else:
            new |= F.NAMESPACE_FLAGS[ns.type]
    if new:
        sys.unshare(new)


def bring_up_loopback(sys):
    """A new network namespace has a "lo" that is down; runc brings it up, so does pyrunc."""
    sys.set_link_up("lo")


def apply_sysctls(sys, linux):
    """Written through the host's procfs, opened before pivot_root: per-namespace sysctls
    (net.*, kernel.hostname, ipc) follow the writer's namespaces, and a procfs the
    container image cannot have tampered with is used (CVE-2019-19921 family)."""
    if linux is None:
        return
    for key, value in linux.sysctl.items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            sys.write_proc(path, value)
        except OSError as e:
            raise RuntimeFailure(f"set sysctl {key}={value}: {e.strerror.lower()}") from None


def open_exec_fifo(sys, fifo_path):
    """Opened read-write so the open does not block; `start` writes one byte into it.

    Opened before pivot_root, while the state directory is still reachable.
    """
    if sys.recording:
        sys.ops.append(("open", f"{fifo_path} (exec FIFO, waited on until start)"))
        return None
    return os.open(fifo_path, os.O_RDWR | os.O_CLOEXEC)


def set_names(sys, config, linux):
    uts_private = linux is not None and _has_namespace(linux, "uts")
    if config.hostname:
        if not uts_private:
            raise RuntimeFailure("unable to set hostname without a private UTS namespace")
        sys.sethostname(config.hostname)
    if config.domainname:
        if not uts_private:
            raise RuntimeFailure("unable to set domainname without a private UTS namespace")
        sys.setdomainname(config.domainname)


def set_rlimits(sys, rlimits):
    """runtime-spec: "the runtime MUST generate an error for any values which cannot be
    mapped to a relevant kernel interface" — setrlimit failures are errors."""
    for r in rlimits:
        try:
            sys.setrlimit(r.resource, r.soft, r.hard)
        except (OSError, ValueError) as e:
            reason = e.strerror.lower() if isinstance(e, OSError) and e.strerror else str(e)
            raise RuntimeFailure(f"error setting rlimit type {r.resource}: {reason}") from None


def change_identity(sys, process, warn):
    """Bounding set first (needs CAP_SETPCAP), then groups and ids with KEEPCAPS so the
    permitted set survives the uid change, then the final capability sets."""
    caps = capabilities.resolve(sys, process.capabilities, warn)
    capabilities.drop_bounding(sys, caps.bounding)
    user = process.user
    sys.prctl(F.PR_SET_KEEPCAPS, 1)
    sys.setgroups(user.additional_gids)
    sys.setresgid(user.gid)
    sys.setresuid(user.uid)
    sys.prctl(F.PR_SET_KEEPCAPS, 0)
    capabilities.apply_sets(sys, caps, warn)


def enter_cwd(sys, cwd, verify=True):
    """chdir, then prove the result is inside the container.

    Threat (CVE-2024-21626): a cwd such as /proc/self/fd/N once resolved to a leaked
    host directory. After pivot_root a cwd outside the root has no path from "/",
    and getcwd(2) says so ("(unreachable)", which os.getcwd() turns into an error).
    Done before seccomp, which may forbid getcwd.
    """
    try:
        sys.chdir(cwd)
    except OSError as e:
        raise RuntimeFailure(f"chdir to cwd ({quote(cwd)}) set in config.json failed: "
                             f"{e.strerror.lower()}") from None
    if verify:
        _verify_cwd(sys)


def enter_cwd_early(sys, cwd):
    """enter_cwd as the runtime, before the identity change and any seccomp filter.

    False when the runtime may not enter it (EACCES/EPERM: a directory only the
    container's user can reach); the full check then happens after the identity change.
    """
    try:
        sys.chdir(cwd)
    except PermissionError:
        return False
    except OSError as e:
        raise RuntimeFailure(f"chdir to cwd ({quote(cwd)}) set in config.json failed: "
                             f"{e.strerror.lower()}") from None
    _verify_cwd(sys)
    return True


def _verify_cwd(sys):
    if sys.recording:
        return
    try:
        here = os.getcwd()
    except OSError:
        here = ""
    if not here.startswith("/"):
        raise RuntimeFailure("current working directory is outside of container mount "
                             "namespace root -- possible container breakout detected")


def home_of(uid):
    """HOME from the container's /etc/passwd (runc does the same when env has none)."""
    try:
        with open("/etc/passwd", "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                fields = line.split(":")
                if len(fields) >= 6 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def find_executable(sys, name, env):
    """PATH lookup inside the container, with runc's error texts (engines map them to 127)."""
    if sys.recording:
        return name
    if "/" in name:
        try:
            mode = os.stat(name).st_mode
        except OSError as e:
            raise RuntimeFailure(f'exec: "{name}": stat {name}: {e.strerror.lower()}') from None
        # As runc (Go's exec.LookPath): a directory, or a file without any execute
        # bit, fails now, at create, rather than at the execve after `start`.
        if mode & 0o170000 == 0o040000 or not mode & 0o111:
            raise RuntimeFailure(f'exec: "{name}": permission denied')
        return name
    path = DEFAULT_PATH
    for item in env:
        if item.startswith("PATH="):
            path = item[5:]
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", name)
        # access() first: it says no without raising for the usual misses.
        if os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return candidate
    raise RuntimeFailure(f'exec: "{name}": executable file not found in $PATH')


def finish(path, argv, env, fifo_fd, start_hooks):
    """Wait for `start` (unless there is no exec FIFO: `run`, when nothing happens
    between create and start), run startContainer hooks, exec the user process."""
    if fifo_fd is not None:
        install_parked_signal_handlers()
        while True:
            data = os.read(fifo_fd, 1)
            if data:
                break
        os.close(fifo_fd)
    # runtime-spec: startContainer hooks "MUST be called before the user-specified
    # process is executed"; "in the container namespace".
    start_hooks()
    signals.reset_for_exec()
    envd = {}
    for item in env:
        k, sep, v = item.partition("=")
        envd[k] = v if sep else ""
    os.execve(path, argv, envd)


def install_parked_signal_handlers():
    """While parked, this process is the pid namespace's init, which the kernel shields
    from signals it has no handler for. A created container must still die from
    `kill ID TERM` (as runc's init does), so terminating signals get a handler."""
    import _signal

    def die(signum, frame):
        os._exit(128 + signum)

    for name in ("HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "TERM"):
        _signal.signal(signals.SIGNALS[name], die)


def _env_has(env, key):
    prefix = key + "="
    return any(item.startswith(prefix) for item in env)


def _has_namespace(linux, ns_type):
    return any(ns.type == ns_type for ns in linux.namespaces)


def _has_new(linux, ns_type):
    return any(ns.type == ns_type and not ns.path for ns in linux.namespaces)

