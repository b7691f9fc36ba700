"""What `create` would do to the kernel for a bundle, without doing any of it.

The runtime's own steps (cgroups, the fork) are listed here from the same cgroup
manager create uses; the init's are recorded by running the same `init.setup()`
that a real create runs, over `RecordingSyscalls`.
"""

from pyrunc import create, init
from pyrunc.recording import RecordingSyscalls


class _PlanSync:
    """Stands in for the parent <-> init channel: records the hook points."""

    __slots__ = ("sys", "config", "joins")

    def __init__(self, sys, config, joins):
        self.sys = sys
        self.config = config
        self.joins = joins

    def cgroups_point(self):
        self.sys.ops.extend(self.joins)

    def hooks_point(self):
        config = self.config
        rules = config.linux.seccomp if config.linux is not None and config.process else None
        # As create: an agent is connected when a rule notifies (listenerPath).
        agent = None
        if rules is not None:
            from pyrunc import seccomp

            agent = seccomp.listener_path(rules)
        if not create.stops_at_hooks_point(config, agent):
            return
        h = config.hooks
        for kind, hooks in (("prestart", h.prestart), ("createRuntime", h.create_runtime)):
            for hook in hooks:
                self.sys.ops.append(("hook", f"{kind} {hook.path} (run by the runtime, host namespaces)"))
        self.sys.ops.append(("sync", "init waits for the runtime's hooks"))

    def seccomp_point(self):
        self.sys.ops.append(("sync", "init waits for SECCOMP (the filter the runtime compiled)"))
        return init.compile_seccomp(init.seccomp_rules(self.config))

    def warn(self, message):
        self.sys.ops.append(("warning", message))


def _planned_cgroups(config):
    """The cgroup manager create would use (it only computes paths until create())."""
    from pyrunc.cgroups.layout import manager_for

    return manager_for(config, "ID")


def _cgroup_steps(manager):
    """(runtime steps before the fork, the fork's text, runtime steps after it, the
    init's joins): the order create_early(), the fork, create_late() and the init's
    cgroups point give them."""
    if not manager.enabled:
        return [], "init", [], []
    birth = manager.birth_dir()
    deferred = manager.defers_creation()

    def mkdirs(early):
        # As create_early()/create_late() split them: the unified one ("") first.
        return [("runtime", "mkdir", f"{path} (cgroup {key or 'unified'}; parents too)")
                for key, path in manager.paths.items() if not deferred or (key == "") == early]

    resources = sorted(k for k, v in (manager.resources or {}).items() if v)
    limits = [("runtime", "cgroup", "write linux.resources: " + ", ".join(resources))] if resources else []
    joins = [("write", f"0 > {path}/{name}") for path, name in manager.join_targets(born_in=birth)]
    fork = f"init, born in {birth} (clone3 CLONE_INTO_CGROUP)" if birth else "init"
    if not deferred:
        return mkdirs(True) + limits, fork, [], joins
    after = mkdirs(False) + limits + [("runtime", "send", "CGROUPS (the init joins them now)")]
    return mkdirs(True), fork, after, [("sync", "init waits for CGROUPS")] + joins


def build(bundle, cgroup=None):
    """[(actor, op, text)] for the bundle's create; `cgroup`: the cgroup manager
    (default: the one create would use on this host)."""
    bundle, config, rootfs = create.load_bundle(bundle)
    steps = []
    pid_ns = None
    if config.linux is not None:
        pid_ns = next((ns for ns in config.linux.namespaces if ns.type == "pid"), None)
    if pid_ns is not None:
        if pid_ns.path:
            steps.append(("runtime", "setns", f"CLONE_NEWPID {pid_ns.path} (for the init)"))
        else:
            steps.append(("runtime", "unshare", "CLONE_NEWPID (the init becomes pid 1)"))
    if cgroup is None:
        cgroup = _planned_cgroups(config)
    before, fork, after, joins = _cgroup_steps(cgroup)
    steps[:0] = before
    steps.append(("runtime", "fork", fork))
    steps.extend(after)
    if init.seccomp_rules(config) is not None:
        steps.append(("runtime", "seccomp", "compile linux.seccomp, send SECCOMP, keep it for exec"))
    sys = RecordingSyscalls()

    def run_hook(kind, hooks):
        for hook in hooks:
            sys.ops.append(("hook", f"{kind} {hook.path} (run by the init)"))

    ctx = init.InitContext(config, bundle, rootfs, _PlanSync(sys, config, joins), "<state>/exec.fifo",
                           lambda message: sys.ops.append(("warning", message)), run_hook,
                           cgroup_binds=create.cgroup_view(config, cgroup))
    init.setup(sys, ctx)
    steps.extend(("init", op, text) for op, text in sys.ops)
    steps.append(("init", "wait", "exec FIFO (until `start`)"))
    for hook in config.hooks.start_container:
        steps.append(("init", "hook", f"startContainer {hook.path}"))
    if config.process is not None:
        steps.append(("init", "execve", " ".join(config.process.args)))
    return steps


def render(steps):
    width = max(len(op) for _, op, _ in steps)
    lines = []
    actor = None
    for number, (who, op, text) in enumerate(steps, 1):
        if who != actor:
            lines.append(f"# {who}")
            actor = who
        lines.append(f"{number:3d}  {op.ljust(width)}  {text}")
    return "\n".join(lines) + "\n"
