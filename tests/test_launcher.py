"""The process launcher, on real child processes: measured from outside, never left behind."""

import subprocess
import sys
import time

import psutil

from chainmark.harness.launcher import run_measured


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
    try:
        time.sleep(0.2)
        code = "import time; time.sleep(1.0)"
        outcome = run_measured([sys.executable, "-c", code], timeout_s=30, log_dir=tmp_path,
                               watch={"busy": (busy.pid,)})
    finally:
        busy.kill()
        busy.wait()
    start, end = outcome.samples[0].t_ns, outcome.samples[-1].t_ns
    cpu, wall = outcome.watched_cpu_between("busy", start, end)
    # A spinning process uses about one core (less when the machine is shared).
    assert 0.3 < cpu / wall < 1.2
    idle = run_measured([sys.executable, "-c", code], timeout_s=30, log_dir=tmp_path)
    assert idle.watched_cpu_between("busy", start, end) is None
