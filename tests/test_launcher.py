"""The process launcher, on real child processes: measured from outside, never left behind."""

import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from chainmark.harness.launcher import _tree_usage, run_measured
from chainmark.processes import die_with_parent, kill_group


def test_measures_cpu_and_memory_of_a_real_process(tmp_path):
    code = (
        "import time\n"
        "block = bytearray(200 * 1024 * 1024)\n"  # 200 MiB, touched so it is resident
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.5: pass\n"
    )
    outcome = run_measured([sys.executable, "-c", code], timeout_s=60, log_dir=tmp_path)
    assert outcome.exit_code == 0 and not outcome.timed_out
    assert outcome.max_rss_bytes > 200 * 1024 * 1024
    assert outcome.cpu_s >= 0.5
    assert outcome.samples, "the process was never sampled"


def test_timeout_kills_the_process_and_its_children(tmp_path):
    marker = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    outcome = run_measured([sys.executable, "-c", code], timeout_s=1.5, log_dir=tmp_path)
    assert outcome.timed_out and outcome.exit_code is None
    assert time.monotonic() - started < 30
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != "zombie"
    assert not alive, "the contestant's child outlived the timeout"


def test_exit_code_and_stderr_are_kept(tmp_path):
    code = "import sys; print('boom happened', file=sys.stderr); sys.exit(7)"
    outcome = run_measured([sys.executable, "-c", code], timeout_s=30, log_dir=tmp_path)
    assert outcome.exit_code == 7
    assert "boom happened" in outcome.stderr_tail


def test_a_child_is_not_charged_the_harness_memory(tmp_path):
    # A forked child carries the parent's pages until it execs; wait4's ru_maxrss would
    # report them as the child's peak. The launcher must not.
    ballast = bytearray(300 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    outcome = run_measured(["/bin/sleep", "0.3"], timeout_s=30, log_dir=tmp_path)
    assert outcome.max_rss_bytes < 50 * 1024 * 1024
    del ballast


def test_a_watched_backend_is_charged_its_own_cpu(tmp_path):
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    watched = psutil.Process(busy.pid)
    try:
        time.sleep(0.2)
        code = "import time; time.sleep(1.0)"
        before, t0 = sum(watched.cpu_times()[:2]), time.time_ns()
        outcome = run_measured([sys.executable, "-c", code], timeout_s=30, log_dir=tmp_path,
                               watch={"busy": (busy.pid,)})
        after, t1 = sum(watched.cpu_times()[:2]), time.time_ns()
    finally:
        busy.kill()
        busy.wait()
    start, end = outcome.samples[0].t_ns, outcome.samples[-1].t_ns
    cpu, wall = outcome.watched_cpu_between("busy", start, end)
    # Compared with what the process really used, read from the kernel around the run, not
    # with a share of a core: on a shared machine the spinner may get far less than one.
    # The window misses at most the run's edges (one core at most) and two clock ticks.
    actual = after - before
    edges = (t1 - t0) / 1e9 - wall
    tick = 2 / os.sysconf("SC_CLK_TCK")
    assert actual > 0
    assert actual - edges - tick <= cpu <= actual + tick
    idle = run_measured([sys.executable, "-c", code], timeout_s=30, log_dir=tmp_path)
    assert idle.watched_cpu_between("busy", start, end) is None


ESCAPER = (
    "import os, sys, time\n"
    "def escape(path, then=None):\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        if then: then()\n"
    "        open(path, 'w').write(str(os.getpid()))\n"
    "        time.sleep(60)\n"
    "        os._exit(0)\n"
    "marker = sys.argv[1]\n"
    "escape(marker + '.1', lambda: escape(marker + '.2'))\n"
    "while not all(os.path.exists(marker + n) for n in ('.1', '.2')): time.sleep(0.01)\n"
)


def test_workers_that_leave_the_group_are_killed_and_the_callers_children_are_not(tmp_path):
    # Two generations of setsid() workers, out of reach of the contestant's group kill; and a
    # child of the caller's own (a server, say) that must survive the sweep.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 start_new_session=True)
    try:
        marker = tmp_path / "worker"
        outcome = run_measured([sys.executable, "-c", ESCAPER, str(marker)], timeout_s=30,
                               log_dir=tmp_path)
        assert outcome.exit_code == 0
        workers = [int((tmp_path / f"worker.{n}").read_text()) for n in (1, 2)]
        assert sorted(outcome.strays_killed) == sorted(workers)
        # Killed and reaped: not even zombies are left.
        assert not any(psutil.pid_exists(pid) for pid in workers)
        assert bystander.poll() is None, "the caller's own child was killed"
    finally:
        bystander.kill()
        bystander.wait()


def test_kill_group_returns_once_only_zombies_are_left(tmp_path):
    # The leader is our own child, a zombie until we reap it; killpg(pgid, 0) still answers
    # for it, and kill_group used to wait out the whole grace period every time.
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    started = time.monotonic()
    kill_group(child.pid, grace_s=30)
    assert time.monotonic() - started < 10
    assert child.wait(timeout=5) == -signal.SIGTERM


def test_parent_death_signal_only_from_the_main_thread():
    # PR_SET_PDEATHSIG fires when the forking *thread* ends: a server started from a worker
    # thread would die with the thread, so none is set there.
    assert die_with_parent() is not None
    found = []
    worker = threading.Thread(target=lambda: found.append(die_with_parent()))
    worker.start()
    worker.join()
    assert found == [None]


def test_a_contestant_dies_with_its_harness(tmp_path):
    # The harness SIGKILLed: nothing of it runs, the kernel kills the contestant.
    pid_file = tmp_path / "contestant.pid"
    contestant_code = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid()))"
                       "; time.sleep(60)")
    script = tmp_path / "harness.py"
    script.write_text(
        "import sys, pathlib\n"
        "from chainmark.harness.launcher import _tree_usage, run_measured\n"
        f"run_measured([sys.executable, '-c', {contestant_code!r}], timeout_s=60,\n"
        f"             log_dir=pathlib.Path({str(tmp_path)!r}))\n"
    )
    harness = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and harness.poll() is None
            time.sleep(0.05)
        contestant = psutil.Process(int(pid_file.read_text()))
        harness.kill()
        harness.wait()
        deadline = time.monotonic() + 10
        while contestant.is_running() and contestant.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the contestant outlived its harness"
            time.sleep(0.05)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()


def test_an_exited_contestant_gives_no_sample():
    """Between its exit and the harness's wait, a contestant is a zombie: a sample then would
    read 0 bytes and 0 CPU seconds (once seen as `rss_end_bytes: 0`), so there is none."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    zombie = psutil.Process(child.pid)
    deadline = time.monotonic() + 30
    while zombie.status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)
    try:
        with pytest.raises(psutil.Error):
            _tree_usage(zombie, [])
    finally:
        child.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        rss, cpu = _tree_usage(psutil.Process(alive.pid), [])
        assert rss > 0 and cpu >= 0
    finally:
        alive.kill()
        alive.wait()
