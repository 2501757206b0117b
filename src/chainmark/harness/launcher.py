"""Runs one contestant process and measures it from outside.

Every language is measured the same way: RSS sampled from /proc via psutil (process and its
children), and at exit the kernel's own accounting from ``wait4`` (CPU user+sys, max RSS).

Nothing the contestant started outlives it: its process group is killed when it ends, the
harness is a child subreaper meanwhile so a descendant that left the group (``setsid()``) is
handed to us and killed too, and the kernel SIGKILLs the contestant if the harness dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from chainmark.processes import (
    die_with_parent,
    kill_group,
    kill_strays,
    own_children,
    subreaper,
)

SAMPLE_INTERVAL_S = 0.02
# Held back while a contestant is being started (see run_measured).
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
# A compiled contestant may live only tens of milliseconds: sample densely at first so its
# high-water mark is read after it has grown, not only at start-up.
EARLY_INTERVAL_S = 0.002
EARLY_PERIOD_S = 0.3
# Descendants (a contestant's own workers) are looked up this often; one that starts and ends
# between two lookups is not sampled (the built-in contestants start none).
DESCENDANTS_EVERY_S = 0.5
# How much of the end of a contestant's stderr the outcome keeps (the cause is usually last).
STDERR_TAIL_CHARS = 4000


@dataclass
class RssSample:
    t_ns: int  # wall clock, comparable with the contestant's measure_start_ns/measure_end_ns
    rss: int
    cpu_s: float
    # CPU seconds of each watched group of backend processes at the same instant, by name
    # ("instrument": chainmark-server; "model": Ollama and its runner behind it).
    watched_cpu_s: dict[str, float] = field(default_factory=dict)


@dataclass
class ProcessOutcome:
    exit_code: int | None
    timed_out: bool
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    max_rss_bytes: int
    samples: list[RssSample] = field(default_factory=list)
    stderr_tail: str = ""
    # Pids of the contestant's descendants that outlived it outside its process group (a
    # setsid() worker), killed after it ended.
    strays_killed: list[int] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s

    def rss_at(self, t_ns: int) -> int | None:
        """RSS of the sample closest to a wall-clock instant."""
        if not self.samples:
            return None
        return min(self.samples, key=lambda s: abs(s.t_ns - t_ns)).rss

    def cpu_between(self, start_ns: int, end_ns: int) -> float | None:
        inside = [s for s in self.samples if start_ns <= s.t_ns <= end_ns]
        if len(inside) < 2:
            return None
        return inside[-1].cpu_s - inside[0].cpu_s

    def watched_cpu_between(self, group: str, start_ns: int, end_ns: int
                            ) -> tuple[float, float] | None:
        """(CPU seconds, wall seconds) a watched group used inside a window, from the first to
        the last sample in it."""
        inside = [s for s in self.samples
                  if start_ns <= s.t_ns <= end_ns and group in s.watched_cpu_s]
        if len(inside) < 2 or inside[-1].t_ns == inside[0].t_ns:
            return None
        cpu = inside[-1].watched_cpu_s[group] - inside[0].watched_cpu_s[group]
        return cpu, (inside[-1].t_ns - inside[0].t_ns) / 1e9


def _high_water_mark(pid: int) -> int | None:
    """The kernel's peak RSS of the process since its last exec (VmHWM), in bytes.

    Unlike wait4's ru_maxrss it does not include the harness's own memory, which a forked
    child carries until it execs.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _tree_usage(proc: psutil.Process, descendants: Sequence[psutil.Process]
                ) -> tuple[int, float]:
    """RSS and CPU of the process and its descendants; raises psutil.Error once the process
    itself has exited (a zombie until reaped), whose sample would read 0 bytes and 0 s."""
    own = proc.memory_info().rss
    if own == 0:  # what /proc says of a zombie: a live process always has resident pages
        raise psutil.ZombieProcess(proc.pid)
    times = proc.cpu_times()
    rss, cpu = own, times.user + times.system
    for p in descendants:
        try:
            rss += p.memory_info().rss
            times = p.cpu_times()
            cpu += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return rss, cpu


def _processes(pids: Sequence[int]) -> list[psutil.Process]:
    """The processes, and their children (Ollama's runner), as they are now.

    Resolved once per run rather than per sample: a /proc scan every 20 ms would charge the
    harness's own CPU to the machine under test.
    """
    found: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                found[p.pid] = p
        except psutil.Error:
            continue
    return list(found.values())


def _cpu_of(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _tail(path: Path, limit: int = STDERR_TAIL_CHARS) -> str:
    """The file's last limit bytes, decoded; reads only those, however much was written."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - limit))
            data = fh.read(limit)
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


class ProcessLaunchError(RuntimeError):
    pass


def run_measured(
    argv: list[str],
    timeout_s: float,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    watch: Mapping[str, Sequence[int]] | None = None,
) -> ProcessOutcome:
    """Runs argv to completion (or timeout), sampling it; never leaves a child behind.

    Called from the main thread (see :func:`chainmark.processes.die_with_parent`), with no
    other thread starting processes meanwhile: whatever becomes a child of ours while the
    contestant runs, bar registered servers, is taken for one of its strays.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
    watched = {name: found for name, pids in (watch or {}).items() if (found := _processes(pids))}
    # The caller's children before the contestant (servers, anything else): never strays.
    keep = own_children()
    with subreaper():
        # A Ctrl-C (or SIGTERM) between the fork and `child` being bound would leave the
        # contestant running unseen: those signals wait, blocked, until the `try` below,
        # whose handler kills it.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            try:
                child = subprocess.Popen(
                    argv,
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=cwd,
                    # Own process group: a timeout or Ctrl-C kills the contestant's children
                    # too.
                    start_new_session=True,
                    # SIGKILLed by the kernel if the harness dies without unwinding.
                    preexec_fn=die_with_parent(),
                )
            except BaseException as exc:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                if isinstance(exc, OSError):
                    raise ProcessLaunchError(f"cannot start {argv[0]}: {exc}") from exc
                raise

        started = time.monotonic()
        samples: list[RssSample] = []
        high_water = 0
        descendants: list[psutil.Process] = []
        descendants_due = 0.0
        timed_out = False
        status, usage = None, None
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending Ctrl-C lands here
            ps = psutil.Process(child.pid)
            while True:
                pid, wait_status, rusage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    status, usage = wait_status, rusage
                    break
                # Finding descendants scans all of /proc (~3 ms): every DESCENDANTS_EVERY_S,
                # not every sample, so the harness takes less CPU from the contestant.
                if time.monotonic() >= descendants_due:
                    descendants = _descendants(ps)
                    descendants_due = time.monotonic() + DESCENDANTS_EVERY_S
                try:
                    rss, cpu = _tree_usage(ps, descendants)
                    samples.append(RssSample(time.time_ns(), rss, cpu, {
                        name: _cpu_of(procs) for name, procs in watched.items()}))
                except psutil.Error:
                    pass
                high_water = max(high_water, _high_water_mark(child.pid) or 0)
                if time.monotonic() - started > timeout_s:
                    timed_out = True
                    kill_group(child.pid)
                    _, status, usage = os.wait4(child.pid, 0)
                    break
                early = time.monotonic() - started < EARLY_PERIOD_S
                time.sleep(EARLY_INTERVAL_S if early else SAMPLE_INTERVAL_S)
        except BaseException:
            # Ctrl-C or any harness error: the contestant must not outlive us.
            kill_group(child.pid)
            with contextlib.suppress(ChildProcessError):
                os.wait4(child.pid, 0)
            raise
        finally:
            ended = time.monotonic()
            # Popen must not try to reap the pid again (it may have been reused).
            child.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
            kill_group(child.pid)  # grandchildren that outlived their parent
            # Descendants that left the group are our children now (subreaper): kill them.
            strays = kill_strays(keep)

    wall_s = ended - started
    peak_sampled = max((s.rss for s in samples), default=0)
    return ProcessOutcome(
        exit_code=None if timed_out else child.returncode,
        timed_out=timed_out,
        wall_s=wall_s,
        cpu_user_s=usage.ru_utime if usage else 0.0,
        cpu_sys_s=usage.ru_stime if usage else 0.0,
        # VmHWM covers spikes between two samples; the tree sum covers child processes.
        max_rss_bytes=max(peak_sampled, high_water),
        samples=samples,
        stderr_tail=_tail(stderr_path),
        strays_killed=strays,
    )
