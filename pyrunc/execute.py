"""`exec`: run another process inside an existing container.

The runtime joins the container's namespaces and forks the new process there;
the child finishes like the init does (identity, capabilities, cwd, fds) and
execs. A close-on-exec pipe reports a setup failure: no data on it means the
execve succeeded.

    runtime                                   child
    -------                                   -----
    non-dumpable; open /proc/INIT/ns/*
    setns(pid) (affects children only)
    fork (into the cgroups) -----------------> the other cgroups (cgroups.Placement)
                                              setns(ipc, uts, net, cgroup, mnt)
                                              rlimits, identity, cwd, fds
    read error pipe  <-- message, or EOF ---- execve
    --pid-file; wait (foreground) or exit (--detach)
"""

from pyrunc import lean_os as os
from pyrunc import flags as F, init, signals, state as st
from pyrunc.errors import ConfigError, RuntimeFailure
from pyrunc.state import Container

# Joined in this order; mnt last (it changes root and cwd), user first (later).
_JOIN_ORDER = ("ipc", "uts", "net", "cgroup", "mnt")
_NS_FLAGS = {
    "ipc": F.CLONE_NEWIPC, "uts": F.CLONE_NEWUTS, "net": F.CLONE_NEWNET,
    "cgroup": F.CLONE_NEWCGROUP, "time": F.CLONE_NEWTIME, "mnt": F.CLONE_NEWNS,
    "pid": F.CLONE_NEWPID,
}
EXEC_FAILED = 255  # runc's exit status when exec itself fails
_START_FAILED = "unable to start container process: "


def _fail(message):
    return RuntimeFailure(message, EXEC_FAILED)


def run_exec(inv):
    """`exec ID CMD [ARG...]` / `exec -p FILE ID` (the command table names this as
    its handler)."""
    return run(inv.globals.root, inv.args[0], inv.flags, inv.args[1:])


def build_process(container, flags, args):
    """The process to run: --process FILE, or the container's own process with the
    command line's overrides (runc's rules)."""
    from pyrunc.spec.process import parse_process

    warnings = []
    if flags.get("process"):
        from pyrunc import jsonio

        try:
            raw = jsonio.load_file(flags["process"])
        except (OSError, ValueError) as e:
            raise _fail(f"unable to load process file {flags['process']}: {e}") from None
        try:
            return parse_process(raw, "process", warnings), warnings
        except ConfigError as e:
            raise _fail(str(e)) from None
    if not args:
        raise _fail("exec: no command given (and no --process file)")
    raw = dict(container.data.get("process") or {"cwd": "/", "user": {"uid": 0, "gid": 0}})
    raw["args"] = list(args)
    raw["terminal"] = bool(flags.get("tty"))
    if flags.get("cwd"):
        raw["cwd"] = flags["cwd"]
    env = list(raw.get("env") or [])
    for item in flags.get("env") or ():
        key = item.split("=", 1)[0] + "="
        env = [e for e in env if not e.startswith(key)] + [item]
    raw["env"] = env
    user = dict(raw.get("user") or {})
    if flags.get("user"):
        # UID[:GID], numbers or names from the container's /etc/passwd and /etc/group;
        # a bare numeric uid runs with gid 0, a bare name with its primary group.
        uid_text, _, gid_text = flags["user"].partition(":")
        user["uid"] = _id(uid_text, container, "passwd")
        if gid_text:
            user["gid"] = _id(gid_text, container, "group")
        elif uid_text.isdigit():
            user["gid"] = 0
        else:
            user["gid"] = _primary_gid(uid_text, container)
    if flags.get("additional_gids"):
        user["additionalGids"] = list(flags["additional_gids"])
    raw["user"] = user
    if flags.get("cap"):
        caps = {k: list(v or []) for k, v in (raw.get("capabilities") or {}).items()}
        for cap in flags["cap"]:
            for set_name in ("bounding", "effective", "permitted"):
                caps.setdefault(set_name, [])
                if cap not in caps[set_name]:
                    caps[set_name].append(cap)
        raw["capabilities"] = caps
    if flags.get("no_new_privs"):
        raw["noNewPrivileges"] = True
    try:
        return parse_process(raw, "process", warnings), warnings
    except ConfigError as e:
        raise _fail(str(e)) from None


def _id(text, container, db):
    if text.isdigit():
        return int(text)
    for fields in _db_entries(container, db):
        if fields[0] == text:
            return int(fields[2])
    raise _fail(f"unable to find {'user' if db == 'passwd' else 'group'} {text}")


def _primary_gid(name, container):
    for fields in _db_entries(container, "passwd"):
        if fields[0] == name and len(fields) > 3:
            return int(fields[3])
    return 0


def _db_entries(container, db):
    """/etc/passwd or /etc/group of the container, read through /proc/INIT/root so
    the lookup sees the container's root (never a path joined to the rootfs)."""
    try:
        with open("/proc/%d/root/etc/%s" % (container.pid, db), "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def run(root, container_id, flags, args):
    try:
        container = Container.load(root, container_id)
    except RuntimeFailure as e:
        raise _fail(e.message) from None
    status = container.status()
    if status == st.STOPPED:
        raise _fail("cannot exec in a stopped container")
    if status == st.PAUSED and not flags.get("ignore_paused"):
        raise _fail("cannot exec in a paused container (use --ignore-paused to override)")
    process, warnings = build_process(container, flags, args)
    from pyrunc import log

    for warning in warnings:
        log.warning(warning)
    from pyrunc.stdio import check_preserved_fds, check_terminal, open_console

    detach = flags.get("detach", False)
    try:
        check_terminal(process.terminal, flags.get("console_socket"), detach)
    except RuntimeFailure as e:
        raise _fail(e.message) from None
    preserve = flags.get("preserve_fds", 0)
    check_preserved_fds(preserve)
    console, ours = open_console(process.terminal, flags.get("console_socket"))
    if process.terminal:
        # Loaded now: after joining the container's mount namespace the child cannot
        # import anything from the host.
        from pyrunc import terminal
    # The container's seccomp filter applies to exec'd processes too: the one create
    # compiled, read here so that a problem shows before anything joins the container.
    program = None
    if container.data.get("seccomp") is not None:
        program = _container_filter(container)
        if program.notify:
            # SCMP_ACT_NOTIFY: the child hands its listener to the agent (init.load_seccomp).
            program.agent = _connect_agent(container)
    from pyrunc import cgroups

    # runc: an exec'd process joins the init's cgroups (or --cgroup sub-cgroups of
    # them); checked here, done by the child before it joins any namespace.
    placement = cgroups.exec_placement(container.data.get("cgroup"), flags.get("cgroup"),
                                       container.pid)
    try:
        pid = _spawn(container, process, preserve, console, program, placement)
    finally:
        if console is not None:
            console.close()
        if program is not None and program.agent is not None:
            program.agent.close()   # the child sent the listener on its own copy
    if flags.get("pid_file"):
        try:
            st.write_pid_file(flags["pid_file"], pid)
        except OSError as e:
            # Nobody could find the process without its pid file: don't leave it running.
            _kill_and_reap(pid)
            raise _fail(f"failed to write pid file {flags['pid_file']}: "
                        f"{(e.strerror or str(e)).lower()}") from None
    if not detach:
        from pyrunc.main import collect_garbage

        collect_garbage()  # waiting, maybe for days
    if ours is not None:
        try:
            master = terminal.receive_master(ours)
        finally:
            ours.close()
        terminal.copy_size(0, master)
        status = terminal.proxy(master, pid)
        return signals.exit_status(status)
    if detach:
        return 0
    return _wait(pid)


def _container_filter(container):
    """The seccomp.Program create compiled and kept (state.FILTER_FILE); compiled
    again from the state for a container made before pyrunc kept it."""
    try:
        with open(os.path.join(container.dir, st.FILTER_FILE), "rb") as f:
            wire = f.read()
    except FileNotFoundError:
        return init.compile_seccomp(container.data["seccomp"])
    from pyrunc.seccomp import Program

    return Program.from_wire(wire)


def _connect_agent(container):
    """The seccomp agent's connection, with the container's state as runc sends it
    for exec (status running, state pid = the init's)."""
    from pyrunc import seccomp

    d = container.data
    state = {"ociVersion": d.get("ociVersion", ""), "id": container.id, "pid": container.pid,
             "bundle": d.get("bundle", ""), "annotations": d.get("annotations") or {}}
    try:
        return seccomp.connect_agent(d["seccomp"], state, st.RUNNING)
    except RuntimeFailure as e:
        raise _fail(e.message) from None


def _kill_and_reap(pid):
    try:
        os.kill(pid, signals.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _namespaces_to_join(init_pid):
    """{name: fd} for each namespace of the init that differs from the runtime's own."""
    fds = {}
    for name in _JOIN_ORDER + ("pid",):
        try:
            theirs = os.readlink("/proc/%d/ns/%s" % (init_pid, name))
        except FileNotFoundError:
            continue
        except OSError as e:
            raise _fail(f"cannot join the container's {name} namespace: {e.strerror.lower()}") from None
        if theirs != os.readlink("/proc/self/ns/" + name):
            fds[name] = os.open("/proc/%d/ns/%s" % (init_pid, name), os.O_RDONLY | os.O_CLOEXEC)
    return fds


def _spawn(container, process, preserve, console, program, placement):
    from pyrunc.syscalls import LinuxSyscalls

    sys = LinuxSyscalls()
    # Threat (CVE-2016-9962, CVE-2019-5736): the child will be visible inside the
    # container before it execs; non-dumpable, its /proc/PID/{exe,mem,fd} are out of
    # the container's reach. Set here so the fork inherits it.
    sys.prctl(F.PR_SET_DUMPABLE, 0)
    fds = _namespaces_to_join(container.pid)
    if not container.init_alive():
        raise _fail("cannot exec in a stopped container")
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid_ns = fds.pop("pid", None)
    if pid_ns is not None:
        _check(sys.lib.setns(pid_ns, F.CLONE_NEWPID), "setns pid")
        os.close(pid_ns)
    from pyrunc import log

    log.debug("nsexec container setup")
    pid = placement.fork(sys)
    if pid == 0:
        os.close(err_r)
        _child(sys, process, fds, err_w, preserve, console.fileno() if console else None, program,
               placement)
    os.close(err_w)
    for fd in fds.values():
        os.close(fd)
    message = b""
    while True:
        chunk = os.read(err_r, 65536)
        if not chunk:
            break
        message += chunk
    os.close(err_r)
    if message:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        raise _fail("exec failed: " + message.decode("utf-8", "replace"))
    log.debug("child process in init()")
    log.debug("setns_init: about to exec")
    return pid


def _check(rc, what):
    if rc < 0:
        from pyrunc.syscalls import _ffi

        raise OSError(_ffi.errno, os.strerror(_ffi.errno), what)


def _warn(message):
    # Data on the error pipe means failure, so the child logs warnings itself.
    from pyrunc import log

    log.warning(message)


def _child(sys, process, ns_fds, err_w, preserve, console_fd, program, placement):
    """Never returns: execs the process or reports why not and exits."""
    try:
        placement.join()
        if program is not None and program.agent is not None:
            # The agent is told the pid the runtime sees: /proc/self of the host's
            # procfs, read before joining the container's mount namespace.
            program.agent.pid = int(os.readlink("/proc/self"))
        for name in _JOIN_ORDER:
            fd = ns_fds.get(name)
            if fd is not None:
                _check(sys.lib.setns(fd, _NS_FLAGS[name]), "setns " + name)
                os.close(fd)
        # Threat (CVE-2024-21626): nothing of the caller's but stdio and --preserve-fds.
        keep = {err_w, *range(3, 3 + preserve)}
        if console_fd is not None:
            keep.add(console_fd)
        if program is not None and program.agent is not None:
            keep.add(program.agent.fileno())
        sys.close_fds_from(3, keep)
        if process.terminal:
            _attach_terminal(sys, process, console_fd)
        init.set_rlimits(sys, process.rlimits)
        # The same order as the init (init.setup): cwd while privileged, seccomp before
        # the capabilities go unless no_new_privs lets it come last.
        cwd_entered = init.enter_cwd_early(sys, process.cwd)
        if program is not None and not process.no_new_privileges:
            init.load_seccomp(sys, program)
        init.change_identity(sys, process, _warn)
        sys.umask(process.user.umask if process.user.umask is not None else 0o022)
        if not cwd_entered:
            init.enter_cwd(sys, process.cwd)
        env = list(process.env)
        if not any(e.startswith("HOME=") for e in env):
            env.append("HOME=" + init.home_of(process.user.uid))
        path = init.find_executable(sys, process.args[0], env)
        if process.no_new_privileges:
            sys.prctl(F.PR_SET_NO_NEW_PRIVS, 1)
            if program is not None:
                init.load_seccomp(sys, program)
        signals.reset_for_exec()
        envd = {}
        for item in env:
            k, sep, v = item.partition("=")
            envd[k] = v if sep else ""
        os.execve(path, list(process.args), envd)
    # runc's texts: "exec failed: " (added by the runtime) "unable to start container process: ..."
    except RuntimeFailure as e:
        _report(err_w, _START_FAILED + e.message)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        _report(err_w, f"{_START_FAILED}{where}{(e.strerror or str(e)).lower()}")
    except BaseException as e:  # noqa: BLE001 - the child must always report and exit
        _report(err_w, f"{_START_FAILED}{type(e).__name__}: {e}")
    os._exit(EXEC_FAILED)


def _attach_terminal(sys, process, console_fd):
    """A pty from the container's /dev/ptmx (this process is in its mount namespace
    now); the master goes to the console socket, the slave becomes stdio."""
    from pyrunc import terminal

    master, slave, number = terminal.open_pty(sys.lib, "/dev/ptmx")
    try:
        os.fchown(slave, process.user.uid, -1)
        terminal.set_size(sys.lib, slave, process.console_size)
        terminal.send_master(console_fd, master, number)
    finally:
        os.close(master)
    terminal.become_session_leader(sys.lib, slave)


def _report(fd, message):
    try:
        os.write(fd, message.encode("utf-8", "replace"))
    except OSError:
        pass


def _wait(pid):
    """Forward signals to the process and return its status as a shell would."""
    signals.forward_to(pid)
    _, status = os.waitpid(pid, 0)
    return signals.exit_status(status)
