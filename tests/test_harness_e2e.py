"""The harness end to end, through the real `chainmark` CLI, real contestants, real server.

The misbehaving contestants below are real processes speaking the contract (a crash, a hang,
a liar); they stand in for a broken framework, which is the thing under test here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]


def chainmark(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHAINMARK, *args], capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def load(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def records(results: dict) -> dict[tuple[str, str], dict]:
    return {(r["scenario"], r["contestant"]): r for r in results["records"]}


BUILTIN = ("langchain-python", "python-baseline", "langchaingo", "go-baseline")


def test_llm_latency_on_the_synthetic_model_gives_consistent_figures(tmp_path):
    # No --llm-url: the harness starts (and must stop) its own chainmark-server; synthetic
    # models only, so no Ollama behind it.
    out = tmp_path / "run"
    done = chainmark("run", "--scenario", "llm.latency", "--model", "synthetic",
                     "--iterations", "6", "--rounds", "1", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    results = load(out)
    assert results["header"]["llm_upstream"] is None
    env = results["header"]["environment"]
    assert env["cpu_count"] and env["python"] and "langchain-ollama" in env["packages"]
    ran = records(results)
    # Every built-in contestant, the real Go binaries included.
    assert set(ran) == {("llm.latency", c) for c in BUILTIN}
    for record in ran.values():
        assert record["status"] == "passed", record["errors"]
        assert record["model"] == "synthetic"
        latency = record["metrics"]["latency_s"]
        assert latency["count"] == 6
        assert latency["min"] <= latency["mean"] <= latency["max"]
        assert latency["min"] <= latency["p50"] <= latency["p99"] <= latency["max"]
        assert latency["ci95_low"] <= latency["mean"] <= latency["ci95_high"]
        assert latency["total"] == pytest.approx(latency["mean"] * 6)
        # The server's own time is part of the client's, so overhead is what is left.
        server, overhead = record["metrics"]["server_s"], record["metrics"]["overhead_s"]
        assert server["count"] == 6
        assert overhead["mean"] == pytest.approx(latency["mean"] - server["mean"], abs=1e-9)
        # LangChainGo calls /api/chat, the Python clients /api/generate: one call per op.
        by_path = record["server"]["by_path"]
        assert by_path.get("/api/generate", 0) + by_path.get("/api/chat", 0) == 6, by_path
        resources = record["resources"]
        # Measured, not defaulted: even the standard-library Go binary holds several MiB.
        assert resources["peak_rss_bytes"] > 2 * 2**20 and resources["cpu_s"] > 0
        # The instrument's own cost is measured with every result (warm-up calls included).
        assert record["server"]["run_requests"] >= 6 and record["server"]["run_cpu_s"] > 0
        assert record["server"]["model_cpu_s"] is None
        assert record["sample_output"]
    assert "llm.latency" in done.stdout and "passed" in done.stdout
    markdown = (out / "report.md").read_text()
    for contestant in BUILTIN:
        assert markdown.count(f"| llm.latency | {contestant} | `synthetic` | passed |") == 1

    again = chainmark("report", str(out / "results.json"), "--markdown", str(tmp_path / "r.md"))
    assert again.returncode == 0, again.stderr
    assert "1.191 s" in (tmp_path / "r.md").read_text()  # the article's Python mean, beside ours


BROKEN = textwrap.dedent(
    """
    import json, sys, time
    request = json.load(open(sys.argv[1]))
    if request["scenario"] == "llm.latency":
        print("simulated framework crash", file=sys.stderr)
        sys.exit(1)
    time.sleep(120)  # llm.ttft: hangs
    """
)

LIAR = textwrap.dedent(
    """
    import json, sys, time
    request = json.load(open(sys.argv[1]))
    ops = []
    for _ in range(request["params"]["iterations"]):
        t = time.time_ns()
        ops.append({"start_ns": t, "end_ns": t + 1000, "elapsed_ns": 1000,
                    "output": {"text": "made up", "ttft_ns": 10, "chunks": 1}})
    json.dump({"contract": 1, "contestant": "liar", "scenario": request["scenario"],
               "language": "python", "runtime": "none", "measure_start_ns": ops[0]["start_ns"],
               "measure_end_ns": time.time_ns(), "operations": ops}, open(sys.argv[2], "w"))
    """
)


def _contestants_file(tmp_path: Path) -> Path:
    entries = []
    for name, source in (("broken", BROKEN), ("liar", LIAR)):
        script = tmp_path / f"{name}.py"
        script.write_text(source)
        entries.append({"name": name, "language": "python",
                        "command": [sys.executable, str(script)],
                        "scenarios": ["llm.latency", "llm.ttft"]})
    path = tmp_path / "contestants.json"
    path.write_text(json.dumps(entries))
    return path


def test_crash_hang_and_lies_are_recorded_and_the_suite_goes_on(tmp_path, llm_server):
    out = tmp_path / "run"
    done = chainmark(
        "run", "--scenario", "llm.latency,llm.ttft",
        "--contestant", "broken,liar,python-baseline",
        "--contestants-file", str(_contestants_file(tmp_path)),
        "--model", "synthetic", "--iterations", "3", "--timeout", "8", "--rounds", "1",
        "--llm-url", llm_server, "--out", str(out),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    ran = records(load(out))
    crashed = ran[("llm.latency", "broken")]
    assert crashed["status"] == "crashed"
    assert any("simulated framework crash" in e for e in crashed["errors"])
    hung = ran[("llm.ttft", "broken")]
    assert hung["status"] == "timeout" and "8 s timeout" in hung["errors"][0]
    # The liar reported plausible answers without calling the server: caught by the log.
    for scenario in ("llm.latency", "llm.ttft"):
        lie = ran[(scenario, "liar")]
        assert lie["status"] == "failed"
        assert any("server saw 0 generation requests" in e for e in lie["errors"])
        # The runs after each failure still happened and passed.
        assert ran[(scenario, "python-baseline")]["status"] == "passed"
    assert "did not pass" in done.stderr


def test_unreachable_server_and_bad_names_fail_fast_with_clear_errors(tmp_path):
    cases = [
        (["--llm-url", "http://127.0.0.1:9", "--model", "synthetic"], "cannot reach"),
        (["--scenario", "llm.bogus"], "unknown scenario 'llm.bogus'"),
        (["--contestant", "nobody"], "unknown contestant 'nobody'"),
    ]
    for args, message in cases:
        done = chainmark("run", *args, "--out", str(tmp_path / "x"), timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}")
    done = chainmark("report", str(garbage))
    assert done.returncode == 2 and "not a chainmark results file" in done.stderr


def test_model_missing_on_the_server_is_refused_before_running(tmp_path, llm_server):
    done = chainmark("run", "--scenario", "llm.latency", "--model", "llama3:8b",
                     "--llm-url", llm_server, "--out", str(tmp_path / "x"), timeout=60)
    assert done.returncode == 2
    assert "does not serve llama3:8b" in done.stderr


def _cmdline(process: psutil.Process) -> list[str]:
    """A process may exit (or be a zombie) between listing and reading: then it has none."""
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def test_ctrl_c_stops_every_process_and_keeps_results(tmp_path):
    out = tmp_path / "run"
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(120)\n")
    contestants = tmp_path / "c.json"
    contestants.write_text(json.dumps([{
        "name": "slow", "command": [sys.executable, str(script)], "scenarios": ["llm.latency"]
    }]))
    proc = subprocess.Popen(
        [*CHAINMARK, "run", "--scenario", "llm.latency", "--contestant", "slow",
         "--contestants-file", str(contestants), "--model", "synthetic", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell without job control starts background jobs (a CI runner's, say) with SIGINT
        # ignored, and Python then installs no KeyboardInterrupt handler: give the harness
        # the default, as a terminal does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    harness = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    started: list[psutil.Process] = []
    while time.monotonic() < deadline:
        started = harness.children(recursive=True)
        if any("slow.py" in " ".join(_cmdline(p)) for p in started):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the contestant never started")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    time.sleep(0.5)
    survivors = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"still running after Ctrl-C: {[p.cmdline() for p in survivors]}"
    results = load(out)
    assert results["header"]["interrupted"] is True
