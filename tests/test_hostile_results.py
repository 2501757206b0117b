"""Hostile contestants cannot abort the suite or pass verification.

Each fake contestant (tests/fakes/hostile_contestant.py, through `--contestants-file`, the way
a user adds their own) breaks the contract or lies in one way and makes no LLM call; the real
harness runs them all beside the real python-baseline against the real chainmark-server.
Every fake must end as a failed or crashed run with a one-line reason, while the honest
contestant passes in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).parent / "fakes" / "hostile_contestant.py"
# mode -> (status, words the one-line reason must contain)
MODES = {
    "wrong-type": ("failed", "output.text: Input should be a valid string"),
    "no-window": ("failed", "no measure window"),
    "no-requests": ("failed", "generation requests during it, expected 1"),
    "fast-clock": ("failed", "elapsed_ns 1000 disagrees with end_ns - start_ns"),
    "deep": ("crashed", "nested too deeply"),
    "huge": ("crashed", "more than the contract's 64 MiB"),
    "nan": ("crashed", "NaN is not a JSON number"),
    "not-utf8": ("crashed", "unreadable result"),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, llm_server) -> dict:
    tmp = tmp_path_factory.mktemp("hostile")
    entries = [{"name": f"fake-{mode}", "language": "python",
                "command": [sys.executable, str(FAKE), mode], "scenarios": ["llm.latency"]}
               for mode in MODES]
    contestants = tmp / "contestants.json"
    contestants.write_text(json.dumps(entries))
    out = tmp / "run"
    names = ",".join(["python-baseline", *(e["name"] for e in entries)])
    done = subprocess.run(
        [sys.executable, "-m", "chainmark.cli", "run", "-s", "llm.latency", "-c", names,
         "--contestants-file", str(contestants), "--model", "synthetic", "--iterations", "3",
         "--llm-url", llm_server, "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    results = json.loads((out / "results.json").read_text())
    return {"done": done, "records": {r["contestant"]: r for r in results["records"]}}


def test_the_honest_contestant_still_passes_and_the_run_exits_1(hostile_run):
    done = hostile_run["done"]
    assert hostile_run["records"]["python-baseline"]["status"] == "passed"
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_each_hostile_result_fails_with_a_one_line_reason(hostile_run, mode):
    record = hostile_run["records"][f"fake-{mode}"]
    status, reason = MODES[mode]
    assert record["status"] == status, record["errors"]
    assert any(reason in e for e in record["errors"]), record["errors"]
    assert all("\n" not in e for e in record["errors"])
    assert not record["metrics"]
