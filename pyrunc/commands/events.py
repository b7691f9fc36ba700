"""`events [--stats] [--interval D] ID`: the container's statistics and OOM events.

One compact JSON object per line (cli.md §6): {"type":"stats","id":ID,"data":{...}}
every interval (the first after one interval, as runc's ticker does), and
{"type":"oom","id":ID} when the kernel's OOM killer hits the container, until
the container's cgroup disappears (delete). `--stats` prints one stats line now
and exits.

OOM notification: cgroup v1 registers an eventfd on memory.oom_control through
cgroup.event_control (the kernel also signals it when the cgroup is removed,
which ends the stream); cgroup v2 watches the oom_kill counter of
memory.events.
"""

import os
import select
import time

from pyrunc import jsonio, log, state as st
from pyrunc.errors import RuntimeFailure

_V2_POLL = 0.1  # seconds between memory.events reads on cgroup v2


def _emit(obj):
    data = (jsonio.dumps(obj) + "\n").encode()
    while data:
        n = os.write(1, data)
        data = data[n:]


class _OOMWatch:
    """OOM notifications of the container's memory cgroup (None-safe: no cgroup, no events)."""

    def __init__(self, manager):
        self.efd = None
        self.control = None
        self.events_file = None
        self.last = 0
        kind = manager.kind
        if kind in ("v1", "hybrid"):
            mem = manager.path("memory")
            if mem is not None:
                self._register_v1(mem)
        elif kind == "v2" and manager.dir:
            self.events_file = manager.dir + "/memory.events"
            self.last = self._oom_count()

    def _register_v1(self, mem):
        oom_fd = -1
        try:
            self.efd = os.eventfd(0, os.EFD_CLOEXEC)
            oom_fd = os.open(mem + "/memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
            self.control = mem + "/cgroup.event_control"
            fd = os.open(self.control, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, f"{self.efd} {oom_fd}".encode())
            finally:
                os.close(fd)
        except OSError as e:
            log.warning(f"unable to watch for OOM events: {(e.strerror or str(e)).lower()}")
            if self.efd is not None:
                os.close(self.efd)
            self.efd = None
            self.control = None
        finally:
            if oom_fd >= 0:
                os.close(oom_fd)

    def _oom_count(self):
        try:
            with open(self.events_file) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def wait(self, timeout):
        """Sleep up to timeout; returns (ooms seen, cgroup gone)."""
        if self.efd is not None:
            ready, _, _ = select.select([self.efd], [], [], max(timeout, 0))
            if not ready:
                return 0, False
            os.read(self.efd, 8)
            # The kernel also signals at rmdir of the cgroup: then the stream ends.
            if not os.path.exists(self.control):
                return 0, True
            return 1, False
        if self.events_file is not None:
            time.sleep(max(0.0, min(timeout, _V2_POLL)))
            if not os.path.exists(self.events_file):
                return 0, True
            count = self._oom_count()
            new, self.last = count - self.last, count
            return max(new, 0), False
        time.sleep(max(timeout, 0))
        return 0, False

    def close(self):
        if self.efd is not None:
            os.close(self.efd)
            self.efd = None


def run(inv):
    from pyrunc import cgroups

    cid = inv.args[0]
    container = st.Container.load(inv.globals.root, cid)
    interval = inv.flags.get("interval", 5.0)
    if interval <= 0:
        raise RuntimeFailure("duration interval must be greater than 0")
    if container.status() == st.STOPPED:
        raise RuntimeFailure(f"container with id {cid} is not running")
    manager = cgroups.load(container.data.get("cgroup"))
    if not manager.enabled:
        raise RuntimeFailure("events: the container has no cgroups (cgroup manager disabled)")
    if inv.flags.get("stats"):
        _emit({"type": "stats", "id": cid, "data": manager.stats()})
        return 0
    watch = _OOMWatch(manager)
    try:
        next_tick = time.monotonic() + interval
        while True:
            ooms, gone = watch.wait(next_tick - time.monotonic())
            if gone:
                return 0
            for _ in range(ooms):
                _emit({"type": "oom", "id": cid})
            if time.monotonic() >= next_tick:
                next_tick += interval
                if not manager.exists():
                    return 0
                try:
                    data = manager.stats()
                except (OSError, RuntimeFailure) as e:
                    log.error(f"unable to read stats: {e}")
                    continue
                _emit({"type": "stats", "id": cid, "data": data})
    finally:
        watch.close()
