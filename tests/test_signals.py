"""Whatever stops the harness, nothing it started outlives it.

Real processes throughout: the real CLI (``python -m chainmark.cli run``), the servers it
starts (chainmark-server, ``chroma run``) and a contestant from ``--contestants-file`` that
stands in for a framework mid-run: it creates the run's Chroma collection, optionally starts a
worker that leaves its process group with ``setsid()``, says it is ready, and hangs. Then the
harness gets SIGINT, SIGTERM, SIGHUP (also as a real terminal hang-up) or SIGKILL.
Everything is on loopback and bounded in time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import httpx
import psutil
import pytest

from chainmark.harness.rag_collections import COLLECTIONS_PATH

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]
READY_TIMEOUT_S = 120.0  # harness start-up, chainmark-server and Chroma, then the contestant
EXIT_TIMEOUT_S = 60.0  # the harness's own cleanup after the signal
GONE_TIMEOUT_S = 15.0  # parent-death signals, Ollama-style graceful exits

# The contestant: creates the collection the harness named (so there is one to clean up),
# optionally forks a worker that escapes with setsid(), writes MARKER, hangs.
SLEEPER = textwrap.dedent(
    """
    import json, os, sys, time
    import httpx
    request = json.load(open(sys.argv[1]))
    collection = request["params"].get("collection")
    if collection:
        url = request["endpoints"]["chroma_url"].rstrip("/") + COLLECTIONS
        httpx.post(url, json={"name": collection}, timeout=30).raise_for_status()
    escaper = None
    if ESCAPE:
        escaper = os.fork()
        if escaper == 0:
            os.setsid()
            time.sleep(120)
            os._exit(0)
    with open(MARKER + ".tmp", "w") as fh:
        json.dump({"pid": os.getpid(), "escaper": escaper, "collection": collection}, fh)
    os.rename(MARKER + ".tmp", MARKER)
    time.sleep(120)
    """
)

# Exits (or, with HANG, hangs) after starting two generations of workers that each leave
# their process group with setsid(): the second one's parent is the first, not the contestant.
ESCAPER = textwrap.dedent(
    """
    import os, sys, time
    def escape(path, then=None):
        if os.fork() == 0:
            os.setsid()
            if then:
                then()
            open(path, "w").write(str(os.getpid()))
            time.sleep(120)
            os._exit(0)
    escape(MARKER + ".1", lambda: escape(MARKER + ".2"))
    while not (os.path.exists(MARKER + ".1") and os.path.exists(MARKER + ".2")):
        time.sleep(0.01)
    print("contestant done, workers left running", file=sys.stderr)
    if HANG:
        time.sleep(120)
    """
)


def _contestant(tmp_path: Path, name: str, source: str, **constants: object) -> Path:
    script = tmp_path / f"{name}.py"
    header = "".join(f"{key} = {value!r}\n" for key, value in constants.items())
    script.write_text(header + source)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps([{
        "name": name, "language": "python", "command": [sys.executable, str(script)],
        "scenarios": ["llm.latency", "rag.ingest"],
    }]))
    return path


def _sleeper(tmp_path: Path, escape: bool) -> tuple[Path, Path]:
    marker = tmp_path / "ready.json"
    return _contestant(tmp_path, "sleeper", SLEEPER, MARKER=str(marker), ESCAPE=escape,
                       COLLECTIONS=COLLECTIONS_PATH), marker


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: give the harness the default, as a terminal does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], **popen: object) -> subprocess.Popen:
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [*CHAINMARK, *args], text=True, preexec_fn=popen.pop("preexec_fn", _default_sigint),
        env={**os.environ, "COLUMNS": "200"}, **popen,
    )


def _wait_ready(proc: subprocess.Popen, marker: Path, drain: int | None = None) -> dict:
    """The contestant's marker, once written; fails if the harness exits first."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not marker.exists():
        if drain is not None:  # a pty the harness writes its progress to must be read
            if select.select([drain], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    os.read(drain, 65536)
        else:
            time.sleep(0.1)
        if proc.poll() is not None:
            out, err = proc.communicate() if drain is None else ("", "")
            pytest.fail(f"the harness exited ({proc.returncode}) before the contestant was "
                        f"ready:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the contestant never got ready")
    return json.loads(marker.read_text())


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            continue
    return alive


def _assert_all_gone(procs: list[psutil.Process], timeout_s: float = GONE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while (alive := _alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    described = []
    for p in alive:
        with_cmd = f"{p.pid} {' '.join(p.cmdline())[:120]}"
        described.append(with_cmd)
        p.kill()  # not left behind for the next test, whatever this one concludes
    assert not alive, f"still running {timeout_s:g} s after the harness ended: {described}"


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _stop(proc: subprocess.Popen, procs: list[psutil.Process] | None = None) -> None:
    """After a failed assertion: leave nothing running."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    for p in _alive(procs or []):
        p.kill()


def _collections(chroma_url: str) -> set[str]:
    response = httpx.get(chroma_url.rstrip("/") + COLLECTIONS_PATH, timeout=30)
    response.raise_for_status()
    return {c["name"] for c in response.json()}


def _header(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())["header"]


SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_a_signal_to_the_harness_stops_every_process_it_started(tmp_path, sig):
    # rag.ingest without URLs: the harness starts chainmark-server and `chroma run` itself.
    # On SIGKILL nothing of the harness runs any more, so a setsid() worker of the contestant
    # would escape (no parent-death signal is inherited): that case has no such worker.
    contestants, marker = _sleeper(tmp_path, escape=sig != signal.SIGKILL)
    out = tmp_path / "run"
    proc = _start(["run", "--scenario", "rag.ingest", "--contestant", "sleeper",
                   "--contestants-file", str(contestants), "--model", "synthetic",
                   "--out", str(out)])
    started: list[psutil.Process] = []
    try:
        ready = _wait_ready(proc, marker)
        started = _descendants(proc.pid)
        commands = [" ".join(p.cmdline()) for p in started]
        assert any("chainmark-server" in c for c in commands), commands
        assert any("chroma run" in c for c in commands), commands
        pids = {p.pid for p in started}
        assert ready["pid"] in pids and (ready["escaper"] is None or ready["escaper"] in pids)

        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=EXIT_TIMEOUT_S)
        _assert_all_gone(started)
    finally:
        _stop(proc, started)

    header = _header(out)  # saved before the first contestant started
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert header["interrupted"] is True and header["finished_at"]


@pytest.mark.chroma
@pytest.mark.parametrize("sig", SIGNALS[:3], ids=lambda s: s.name)
def test_an_interrupted_run_deletes_its_chroma_collections(tmp_path, sig, llm_server,
                                                           chroma_server):
    contestants, marker = _sleeper(tmp_path, escape=False)
    out = tmp_path / "run"
    proc = _start(["run", "--scenario", "rag.ingest", "--contestant", "sleeper",
                   "--contestants-file", str(contestants), "--model", "synthetic",
                   "--llm-url", llm_server, "--chroma-url", chroma_server, "--out", str(out)])
    try:
        collection = _wait_ready(proc, marker)["collection"]
        assert collection in _collections(chroma_server)
        proc.send_signal(sig)
        proc.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        _stop(proc)
    assert proc.returncode == 130
    assert collection not in _collections(chroma_server)
    assert _header(out)["interrupted"] is True


def test_closing_the_terminal_stops_the_run_like_sigterm(tmp_path):
    # SIGHUP as a terminal sends it: the harness leads a session whose controlling terminal
    # is a pty, and the pty goes away. Its output then fails with EIO; it must still unwind.
    contestants, marker = _sleeper(tmp_path, escape=True)
    out = tmp_path / "run"
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        _default_sigint()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = _start(["run", "--scenario", "rag.ingest", "--contestant", "sleeper",
                   "--contestants-file", str(contestants), "--model", "synthetic",
                   "--out", str(out)],
                  stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                  preexec_fn=controlling_terminal)
    os.close(slave)
    started: list[psutil.Process] = []
    try:
        ready = _wait_ready(proc, marker, drain=master)
        started = _descendants(proc.pid)
        assert ready["escaper"] in {p.pid for p in started}
        os.close(master)
        master = -1
        proc.wait(timeout=EXIT_TIMEOUT_S)
        _assert_all_gone(started)
    finally:
        if master >= 0:
            os.close(master)
        _stop(proc, started)
    assert proc.returncode == 130
    header = _header(out)
    assert header["interrupted"] is True and header["finished_at"]


@pytest.mark.parametrize("hang", [False, True], ids=["exits", "times-out"])
def test_workers_that_escape_the_contestants_group_do_not_outlive_the_run(tmp_path, hang,
                                                                          llm_server):
    marker = tmp_path / "worker"
    contestants = _contestant(tmp_path, "escaper", ESCAPER, MARKER=str(marker), HANG=hang)
    out = tmp_path / "run"
    proc = _start(["run", "--scenario", "llm.latency", "--contestant", "escaper",
                   "--contestants-file", str(contestants), "--model", "synthetic",
                   "--iterations", "1", "--timeout", "5", "--llm-url", llm_server,
                   "--out", str(out)])
    workers: list[psutil.Process] = []
    try:
        _, stderr = proc.communicate(timeout=120)
        for n in (1, 2):
            path = Path(f"{marker}.{n}")
            assert path.exists(), f"worker {n} never started:\n{stderr}"
            pid = int(path.read_text())
            # Both were still running when the contestant ended (it waited for their pid
            # files); the harness killed and reaped them before it exited.
            with pytest.raises(psutil.NoSuchProcess):
                workers.append(psutil.Process(pid))
    finally:
        _stop(proc, workers)
    record = json.loads((out / "results.json").read_text())["records"][0]
    assert record["status"] == ("timeout" if hang else "crashed"), record["errors"]
    assert proc.returncode == 1


MEASURE_TAIL = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from chainmark.harness.launcher import run_measured

    def peak_kib():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so this interpreter's would
        # start at the RSS of the pytest process that spawned it.
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    def run(megabytes):
        code = ("import os\\nchunk = b'x' * (1 << 20)\\n"
                f"for _ in range({megabytes}): os.write(2, chunk)\\n"
                "os.write(2, b'\\\\nthe cause, last')\\n")
        return run_measured([sys.executable, "-c", code], timeout_s=120,
                            log_dir=Path(sys.argv[1]))

    run(1)  # first use: imports, psutil's caches
    before = peak_kib()
    outcome = run(50)
    print(json.dumps({"growth_kib": peak_kib() - before, "tail": outcome.stderr_tail,
                      "exit": outcome.exit_code}))
    """
)


def test_50_mb_of_contestant_stderr_costs_the_harness_no_memory(tmp_path):
    # A fresh interpreter as the harness, so its peak RSS is its own and can move.
    done = subprocess.run([sys.executable, "-c", MEASURE_TAIL, str(tmp_path)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["exit"] == 0
    assert (tmp_path / "stderr.log").stat().st_size > 50 * 2**20
    assert figures["tail"].endswith("the cause, last") and len(figures["tail"]) <= 4000
    # Reading the whole file cost +50 MiB; the tail alone is a few KiB.
    assert figures["growth_kib"] < 5 * 1024, figures
