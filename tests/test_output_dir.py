"""A run owns its output folder and loses nothing.

Concurrent runs on one folder, default folders started in the same second, an earlier run's
results.json, atomic saves, and a folder deleted mid-run: through the real CLI where that is
cheap (the `llm_server` fixture serves the synthetic model), else through
``results_file`` directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chainmark.harness import results_file
from chainmark.harness.records import RunHeader, RunResults, ScenarioRecord, Status
from chainmark.harness.results_file import (
    LOCK_NAME,
    RESULTS_NAME,
    OutputDir,
    OutputDirError,
    new_run_dir,
)

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]
FAST_RUN = ["run", "-s", "llm.latency", "-c", "python-baseline", "--model", "synthetic",
            "--iterations", "3", "--rounds", "1"]
ENV = {**os.environ, "COLUMNS": "200"}


def start(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*CHAINMARK, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=ENV)


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


def results(n: int = 0) -> RunResults:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return RunResults(
        header=RunHeader(run_id="test", started_at=now, profile="quick", command=["test"],
                         llm_url="http://127.0.0.1:1"),
        records=[ScenarioRecord(scenario="llm.latency", contestant=f"c{i}", language="python",
                                model="synthetic", profile="quick", status=Status.PASSED,
                                started_at=now, duration_s=0.0) for i in range(n)],
    )


# -- two runs, one folder --------------------------------------------------------------------


def test_two_runs_started_at_once_on_one_out_one_passes_the_other_fails_at_once(
    tmp_path: Path, llm_server: str
) -> None:
    out = tmp_path / "run"
    args = [*FAST_RUN, "--llm-url", llm_server, "--out", str(out)]
    procs = [start(*args), start(*args)]
    done = {p.pid: finish(p) for p in procs}
    passed = [pid for pid, (code, _, _) in done.items() if code == 0]
    refused = [pid for pid, (code, _, _) in done.items() if code != 0]
    assert len(passed) == 1 and len(refused) == 1, done
    code, stdout, stderr = done[refused[0]]
    assert code == 2
    assert "Traceback" not in stdout + stderr
    assert stderr.strip() == (f"error: output folder {out} is in use by another chainmark run "
                              f"(pid {passed[0]}); choose another --out"), stderr
    # The winner's results are whole and its own; the lock went with it.
    saved = json.loads((out / RESULTS_NAME).read_text())
    assert [(r["contestant"], r["status"]) for r in saved["records"]] == [
        ("python-baseline", "passed")]
    assert not (out / LOCK_NAME).exists()


def test_a_held_folder_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    held = rf"in use by another chainmark run \(pid {os.getpid()}\)"
    with OutputDir.claim(tmp_path / "run"), pytest.raises(OutputDirError, match=held):
        OutputDir.claim(tmp_path / "run")
    # Released: the folder (left empty) is gone, and can be claimed again.
    assert not (tmp_path / "run").exists()
    with OutputDir.claim(tmp_path / "run") as again:
        assert (again.path / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_an_earlier_results_json_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / RESULTS_NAME).write_text('{"earlier": true}')
    with pytest.raises(OutputDirError, match=r"already holds results\.json"):
        OutputDir.claim(out)
    done = subprocess.run([*CHAINMARK, *FAST_RUN, "--out", str(out)], capture_output=True,
                          text=True, timeout=120, env=ENV, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "already holds results.json from an earlier run; choose another --out" in done.stderr
    assert (out / RESULTS_NAME).read_text() == '{"earlier": true}'
    assert sorted(p.name for p in out.iterdir()) == [RESULTS_NAME]


# -- default folders -------------------------------------------------------------------------


def test_default_folders_made_in_the_same_second_differ(tmp_path: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first, second = new_run_dir(tmp_path, now), new_run_dir(tmp_path, now)
    assert first.name == "20260102T030405Z" and second.name == "20260102T030405Z-2"
    made: list[Path] = []
    threads = [threading.Thread(target=lambda: made.append(new_run_dir(tmp_path, now)))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 16 and not {first, second} & set(made)
    with OutputDir.new(tmp_path, now) as a, OutputDir.new(tmp_path, now) as b:
        assert a.path != b.path


def test_default_folder_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("")
    with pytest.raises(OutputDirError, match="is a file, not a folder"):
        new_run_dir(tmp_path / "results")


def test_two_default_runs_at_once_get_their_own_folders(tmp_path: Path, llm_server: str) -> None:
    procs = [start(*FAST_RUN, "--llm-url", llm_server, cwd=tmp_path) for _ in range(2)]
    for proc in procs:
        code, stdout, stderr = finish(proc)
        assert code == 0, stdout + stderr
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2, folders
    for folder in folders:
        saved = json.loads((folder / RESULTS_NAME).read_text())
        assert [r["status"] for r in saved["records"]] == ["passed"]
        assert (folder / "report.md").exists() and not (folder / LOCK_NAME).exists()


# -- atomic saves ----------------------------------------------------------------------------


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_NAME
    results_file.save(results(1), path)
    results_file.save(results(2), path)
    assert [p.name for p in tmp_path.iterdir()] == [RESULTS_NAME]
    assert len(results_file.load(path).records) == 2
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_concurrent_saves_from_two_threads_give_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_NAME
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for _ in range(25):
                results_file.save(results(n), path)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (3, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len(results_file.load(path).records) in (3, 5)
    assert [p.name for p in tmp_path.iterdir()] == [RESULTS_NAME]


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / RESULTS_NAME
    results_file.save(results(1), path)

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results_file.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        results_file.save(results(2), path)
    monkeypatch.undo()
    assert len(results_file.load(path).records) == 1
    assert [p.name for p in tmp_path.iterdir()] == [RESULTS_NAME]


# -- a folder that vanishes mid-run ----------------------------------------------------------


def test_a_vanished_folder_is_recreated_and_keeps_every_result(tmp_path: Path) -> None:
    notes: list[str] = []
    out = tmp_path / "run"
    with OutputDir.claim(out) as output:
        output.save(results(1), notes.append)
        shutil.rmtree(out)
        output.save(results(2), notes.append)
        assert output.path == out
        assert len(results_file.load(out / RESULTS_NAME).records) == 2
        assert len(notes) == 1 and "vanished mid-run: recreated it" in notes[0]
        # Owned again: another run is still refused.
        with pytest.raises(OutputDirError, match="in use"):
            OutputDir.claim(out)
        # Deleted and made again by someone else (e.g. a work folder's mkdir): noticed too.
        shutil.rmtree(out)
        (out / "runs" / "x").mkdir(parents=True)
        output.save(results(3), notes.append)
        assert len(notes) == 2 and len(results_file.load(out / RESULTS_NAME).records) == 3
    assert not (out / LOCK_NAME).exists()


def test_a_folder_that_cannot_be_recreated_falls_back_to_a_temporary_one(
    tmp_path: Path,
) -> None:
    notes: list[str] = []
    parent = tmp_path / "parent"
    with OutputDir.claim(parent / "run") as output:
        output.save(results(1), notes.append)
        shutil.rmtree(parent)
        parent.write_text("now a file")
        output.save(results(2), notes.append)
        fallback = output.path
        assert fallback is not None and fallback.parent == Path(tempfile.gettempdir())
        try:
            assert len(notes) == 1
            assert "cannot be recreated" in notes[0] and str(fallback) in notes[0]
            output.save(results(3), notes.append)
            assert len(results_file.load(fallback / RESULTS_NAME).records) == 3
            assert len(notes) == 1
        finally:
            shutil.rmtree(fallback)


def test_with_nowhere_to_write_results_stay_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes: list[str] = []
    parent = tmp_path / "parent"
    with OutputDir.claim(parent / "run") as output:
        shutil.rmtree(parent)
        parent.write_text("now a file")

        def no_temp(**_: object) -> str:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(results_file.tempfile, "mkdtemp", no_temp)
        output.save(results(1), notes.append)  # no exception
        assert output.path is None and output.results_path is None
        assert len(notes) == 1 and "kept in memory only" in notes[0]
        output.save(results(2), notes.append)
        assert len(notes) == 1


SLOW = textwrap.dedent(
    """
    import sys, time
    time.sleep(4)
    sys.exit(3)
    """
)


def test_the_real_cli_keeps_every_result_when_the_folder_is_deleted_mid_run(
    tmp_path: Path, llm_server: str
) -> None:
    script = tmp_path / "slow.py"
    script.write_text(SLOW)
    contestants = tmp_path / "c.json"
    contestants.write_text(json.dumps([{"name": "slow", "command": [sys.executable, str(script)],
                                        "scenarios": ["llm.latency"]}]))
    out = tmp_path / "run"
    proc = start(*FAST_RUN[:4], "python-baseline,slow", *FAST_RUN[5:],
                 "--contestants-file", str(contestants), "--llm-url", llm_server,
                 "--out", str(out))
    deadline = time.monotonic() + 120
    while not (out / "runs" / "llm.latency__slow__r0" / "request.json").exists():
        assert proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline, "the slow contestant never started"
        time.sleep(0.05)
    shutil.rmtree(out)
    code, stdout, stderr = finish(proc)
    assert "Traceback" not in stdout + stderr
    assert code == 1, stdout + stderr  # the slow contestant fails; nothing else does
    assert f"output folder {out} vanished mid-run: recreated it" in stdout
    saved = json.loads((out / RESULTS_NAME).read_text())
    statuses = {r["contestant"]: r["status"] for r in saved["records"]}
    assert statuses["python-baseline"] == "passed"
    assert statuses["slow"] != "passed"
    assert saved["header"]["finished_at"] and (out / "report.md").exists()
    assert not (out / LOCK_NAME).exists()
