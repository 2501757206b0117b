"""Stopping the processes chainmark starts (contestants, servers, compilers).

Each is started in its own process group, so a group kill also reaches the children it
started (Ollama's runners, a contestant's workers). Shared by the harness and the backends,
so it lives below both.

No single mechanism covers every way a run ends, so there are three (Linux):

- the unwinding path (Ctrl-C; SIGTERM and SIGHUP raise KeyboardInterrupt in the CLI) stops
  every group with :func:`kill_group`;
- :func:`die_with_parent` has the kernel signal a server or contestant when the harness dies
  without unwinding (SIGKILL, the OOM killer, a crash), when nothing of ours runs any more;
- :func:`subreaper` and :func:`kill_strays` catch a contestant's descendants that left its
  process group with ``setsid()``, which a group kill cannot reach.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator

# How long a process group gets to exit after SIGTERM before SIGKILL.
KILL_GRACE_S = 2.0
# How long kill_strays keeps killing and reaping (each killed stray orphans its own children
# onto us, so it takes rounds).
STRAYS_TIMEOUT_S = 5.0

# <linux/prctl.h>
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37

# Pids of the servers chainmark started (ManagedServer registers them): kill_strays never
# touches them, whatever else it believes.
_servers: set[int] = set()


def register_server(pid: int) -> None:
    _servers.add(pid)


def forget_server(pid: int) -> None:
    _servers.discard(pid)


def _proc_stats() -> Iterator[tuple[int, str, int, int, int]]:
    """(pid, state, ppid, pgrp, start time in clock ticks) of every process now, from /proc."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = data[data.rindex(b")") + 2:].split()
        yield int(name), fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not os.path.isdir("/proc"):
        return True
    # killpg also succeeds while only zombies are left, e.g. the leader when it is our own
    # child, which its caller reaps after kill_group returns: look for a member still running.
    return any(pgrp == pgid and state not in "ZX" for _, state, _, pgrp, _ in _proc_stats())


def kill_group(pid: int, grace_s: float = KILL_GRACE_S) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _group_alive(pid):
                return
            time.sleep(0.05)


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for Popen: the kernel sends the child sig when the harness dies, even
    by SIGKILL (nothing of ours can run then). None where Linux's prctl is unavailable.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process.
    chainmark starts every server and contestant from the main thread (the CLI's run_plan,
    pytest's session fixtures), which lasts as long as the process. Called from another
    thread this returns None: a server started by a pool worker would be killed when the
    worker exits. Such a process is still stopped by the unwinding path, just not on SIGKILL.

    A preexec_fn makes subprocess fork() rather than vfork() and run Python in the child
    before exec, which can deadlock if another thread (rich's progress refresher) held a lock
    the child needs. This one only calls prctl, resolved here in the parent, and getppid.
    pdeathsig survives exec (not of a set-user-ID program) and is not inherited by the
    child's own children: a contestant's workers rely on the group kill and kill_strays.
    """
    prctl = _prctl()
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        # The harness may have died between fork() and prctl(): no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def _set_subreaper(on: bool) -> bool:
    """Sets PR_SET_CHILD_SUBREAPER; returns the previous setting (False where unsupported)."""
    prctl = _prctl()
    if prctl is None:
        return False
    previous = ctypes.c_int(0)
    prctl(PR_GET_CHILD_SUBREAPER, ctypes.addressof(previous), 0, 0, 0)
    prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)
    return bool(previous.value)


@contextlib.contextmanager
def subreaper() -> Iterator[None]:
    """This process is a child subreaper inside the block: a descendant orphaned meanwhile
    (a contestant's worker that called setsid() and outlived it) becomes our child instead of
    init's, so :func:`kill_strays` can find it. Only while a contestant runs: outside, an
    orphan of a stopping server (Ollama's runner) would linger as our unreaped zombie."""
    previous = _set_subreaper(True)
    try:
        yield
    finally:
        _set_subreaper(previous)


def own_children() -> frozenset[tuple[int, int]]:
    """This process's children now, as (pid, start time) so a reused pid is not mistaken."""
    me = os.getpid()
    return frozenset((pid, start) for pid, _, ppid, _, start in _proc_stats() if ppid == me)


def _reap(pid: int, deadline: float) -> None:
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done or time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def kill_strays(keep: Collection[tuple[int, int]], timeout_s: float = STRAYS_TIMEOUT_S
                ) -> list[int]:
    """SIGKILLs and reaps every child of this process that is neither in keep (as given by
    :func:`own_children`) nor a registered server; returns their pids.

    Meant for just after a contestant ended, inside :func:`subreaper`: its escaped descendants
    are then our children. Killing one hands its own children to us, hence the rounds. This
    assumes no other thread starts processes meanwhile (in chainmark the main thread starts
    them all, and it is the one waiting for the contestant).
    """
    me = os.getpid()
    deadline = time.monotonic() + timeout_s
    found: list[int] = []
    while time.monotonic() < deadline:
        strays = [(pid, pgrp) for pid, _, ppid, pgrp, start in _proc_stats()
                  if ppid == me and (pid, start) not in keep and pid not in _servers]
        if not strays:
            break
        for pid, pgrp in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if pgrp == pid:  # it leads a group of its own (setsid): its members too
                    os.killpg(pid, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
        for pid, _ in strays:
            _reap(pid, deadline)
            if pid not in found:
                found.append(pid)
    return found
