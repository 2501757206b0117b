"""Every LangChain Python scenario end to end: real CLI, real contestant processes, the real
chainmark-server on synthetic models, the real Chroma server; small counts.

Where a test needs a wrong result, it takes a real contestant's real output and changes one
field, then asks the harness's verifier: that is exactly the check that must catch it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainmark import scenarios
from chainmark.backends.llm_process import PROFILES_PATH
from chainmark.contract import ContestantResult, Operation
from chainmark.harness import verify
from chainmark.scenarios import INTERNAL, SKY_PROMPT
from chainmark.scenarios.evidence import Evidence

RAG_SMALL = ["--iterations", "2", "--set", "max_chunks=6"]
OPS_SMALL = [
    "--iterations", "2", "--set", "concurrency=4", "--set", "duration_s=1.5",
    "--set", "turns=3", "--set", "checkpoints=[1,3]", "--set", "rounds=1",
    "--set", "min_duration_s=0.3", "--set", "min_phase_s=0.1",
]


def chainmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainmark.cli", *args], capture_output=True, text=True,
        timeout=600, check=False, env={**os.environ, "COLUMNS": "200"},
    )


def run_scenarios(tmp: Path, llm: str, chroma: str, names: list[str], *extra: str) -> dict:
    out = tmp / "run"
    # One round: these tests check each scenario's behaviour, not the interleaving.
    done = chainmark("run", "-s", ",".join(names), "-c", "langchain-python", "--rounds", "1",
                     "--llm-url", llm, "--chroma-url", chroma, "--out", str(out), *extra)
    results = json.loads((out / "results.json").read_text())
    results["_stdout"] = done.stdout + done.stderr
    results["_exit"] = done.returncode
    return results


def by_scenario(results: dict) -> dict[str, dict]:
    return {r["scenario"]: r for r in results["records"] if r["contestant"] == "langchain-python"}


@pytest.fixture(scope="module")
def rag_run(tmp_path_factory, llm_server, chroma_server) -> dict:
    names = ["rag.split", "rag.embed", "rag.ingest", "rag.retrieve", "rag.e2e"]
    return run_scenarios(tmp_path_factory.mktemp("rag"), llm_server, chroma_server, names,
                         "--model", "synthetic", *RAG_SMALL)


def test_rag_scenarios_pass_against_real_chroma(rag_run):
    assert rag_run["_exit"] == 0, rag_run["_stdout"]
    ran = by_scenario(rag_run)
    assert {r["status"] for r in ran.values()} == {"passed"}, rag_run["_stdout"]
    corpus = rag_run["header"]["corpus"]
    assert corpus["docs_count"] == 50 and len(corpus["sha256"]) == 64
    assert ran["rag.split"]["metrics"]["mb_per_s"]["count"] == 2
    embed = ran["rag.embed"]["metrics"]
    assert embed["docs_per_s"]["mean"] > 0 and embed["docs_per_s_concurrent"]["mean"] > 0
    assert set(ran["rag.ingest"]["metrics"]) >= {"load_s", "split_s", "embed_store_s"}
    assert ran["rag.retrieve"]["metrics"]["latency_s"]["count"] == 2
    assert [p["status"] for p in rag_run["preparations"]] == ["passed"]


INTERNAL_NAMES = {s.name for s in INTERNAL}


def _raw_result(results: dict, scenario: str, level: str = "",
                contestant: str = "langchain-python") -> ContestantResult:
    """What the contestant process itself wrote, from the run's output folder."""
    command = results["header"]["command"]
    out = Path(command[command.index("--out") + 1])
    folder = f"{scenario}__{contestant}__" + (f"{level}__" if level else "") + "r0"
    return ContestantResult.model_validate_json((out / "runs" / folder / "result.json")
                                                .read_text())


def _verify(result: ContestantResult, params: dict, truths: dict | None = None) -> list[str]:
    """The harness's verification of a result as it was written, without the server's log."""
    scenario = scenarios.get(result.scenario)
    return verify.verify(scenario, Evidence(
        result=result, params=params, server=None, model="synthetic", truths=truths or {},
        expect=scenario.expect, concurrent=scenario.concurrent))


def test_a_retriever_returning_fewer_than_k_is_caught(rag_run):
    result = _raw_result(rag_run, "rag.retrieve")
    params = by_scenario(rag_run)["rag.retrieve"]["params"]
    assert _verify(result, params) == []
    result.operations[1].output["documents"] = params["k"] - 1
    problems = _verify(result, params)
    assert problems == [f"operation 1 (retrieve): documents retrieved: expected {params['k']}, "
                        f"got {params['k'] - 1}"]


def test_a_wrong_chunk_count_is_caught(rag_run):
    result = _raw_result(rag_run, "rag.split")
    record = by_scenario(rag_run)["rag.split"]
    true_chunks = result.operations[0].output["chunks"]
    expect = {"chunks": true_chunks, "bytes": rag_run["header"]["corpus"]["large_document_bytes"]}
    assert _verify(result, record["params"], expect) == []
    result.operations[1].output["chunks"] = true_chunks - 1
    problems = _verify(result, record["params"], expect)
    assert any("chunk count changed between iterations" in p for p in problems)
    assert any("chunks (harness's own count)" in p for p in problems)


def _check_waves(results: dict, contestant: str, concurrency: int, min_duration_s: float,
                 min_phase_s: float) -> dict[str, tuple[float, int]]:
    """The concurrent scenarios' bursts repeated until the timed region (each observability
    phase) lasted its minimum, in whole waves; returns each scenario's region and waves."""
    seen = {}
    for name in ("stress.concurrent_rag", "stress.concurrent_agent"):
        raw = _raw_result(results, name, f"c{concurrency}", contestant)
        region = (raw.measure_end_ns - raw.measure_start_ns) / 1e9
        waves = len(raw.operations) // concurrency
        assert region >= min_duration_s, (name, region)
        assert waves >= 1 and len(raw.operations) == waves * concurrency, name
        assert sorted(op.output["wave"] for op in raw.operations) == sorted(
            list(range(waves)) * concurrency), name
        seen[name] = (region, waves)
    raw = _raw_result(results, "ops.observability", f"c{concurrency}", contestant)
    for phase in raw.outputs["phases"]:
        lasted = (phase["end_ns"] - phase["start_ns"]) / 1e9
        inside = [op for op in raw.operations if op.name == phase["mode"]
                  and phase["start_ns"] <= op.start_ns <= phase["end_ns"]]
        assert lasted >= min_phase_s and len(inside) == phase["waves"] * concurrency, phase
    return seen


def test_stress_resilience_and_ops_scenarios_pass(tmp_path, llm_server, chroma_server):
    names = ["stress.concurrent_rag", "stress.concurrent_agent", "stress.saturation",
             "resilience.tool_failure", "resilience.parse_error", "ops.memory",
             "ops.observability"]
    # Each scenario on its default model family, at zero latency.
    results = run_scenarios(tmp_path, llm_server, chroma_server, names, *OPS_SMALL,
                            "--model", "synthetic")
    ran = by_scenario(results)
    assert {n: r["status"] for n, r in ran.items()} == dict.fromkeys(names, "passed"), (
        results["_stdout"])
    # Whole waves of 4, repeated until the timed region lasted min_duration_s (0.3 s).
    ok = ran["stress.concurrent_rag"]["counts"]["ok"]
    assert ok >= 4 and ok % 4 == 0
    assert ran["stress.concurrent_agent"]["metrics"]["wall_s"]["mean"] >= 0.3
    _check_waves(results, "langchain-python", 4, 0.3, 0.1)
    assert ran["stress.saturation"]["metrics"]["ops_per_s"]["mean"] > 0
    # LangChain lets a plain exception from a tool escape AgentExecutor.invoke: surfaced.
    failure = _raw_result(results, "resilience.tool_failure")
    assert {op.output["outcome"] for op in failure.operations} == {"surfaced"}
    assert all("simulated tool failure" in op.output["error"] for op in failure.operations)
    obs = ran["ops.observability"]["metrics"]
    assert {"bare_ops_per_s", "logging_ops_per_s", "otel_ops_per_s",
            "logging_throughput_change_pct", "otel_cpu_s"} <= set(obs)
    rows = ran["ops.memory"]["series"]["checkpoints"]
    assert [r["turn"] for r in rows] == [1, 3]
    assert rows[1]["prompt_tokens"] > rows[0]["prompt_tokens"]  # the history grows
    assert rows[0]["tracemalloc_peak_bytes"] > 0 and rows[0]["rss_bytes"] > 0


def test_parse_errors_are_recovered_on_the_malformed_model(tmp_path, llm_server, chroma_server):
    results = run_scenarios(tmp_path, llm_server, chroma_server, ["resilience.parse_error"],
                            "--iterations", "1", "--model", "synthetic-malformed")
    record = by_scenario(results)["resilience.parse_error"]
    assert record["status"] == "passed", results["_stdout"]


def test_timeout_returns_within_the_window_and_the_server_survives(tmp_path, llm_server,
                                                                   chroma_server):
    # The calibrated profile generates 600 tokens in ~6 s, so the 2 s timeout must fire.
    results = run_scenarios(tmp_path, llm_server, chroma_server, ["resilience.timeout"],
                            "--iterations", "1", "--model", "synthetic:smollm2-cpu")
    record = by_scenario(results)["resilience.timeout"]
    assert record["status"] == "passed", results["_stdout"]
    assert 2.0 <= record["metrics"]["timeout_s"]["mean"] < 2.5


def _timeout_result(seconds: float, outcome: str, kind: str | None) -> ContestantResult:
    ns = int(seconds * 1e9)
    timed = Operation(name="timeout", start_ns=0, end_ns=ns, elapsed_ns=ns,
                      output={"outcome": outcome, "error_kind": kind, "error": "x"})
    health = Operation(name="health", start_ns=ns, end_ns=ns + 1, elapsed_ns=1,
                       output={"text": "OK"})
    return ContestantResult(contract=2, contestant="t", scenario="resilience.timeout",
                            language="python", runtime="t", operations=[timed, health],
                            measure_start_ns=0, measure_end_ns=ns + 1)


@pytest.mark.parametrize(
    ("seconds", "outcome", "kind", "message"),
    [
        (2.1, "completed", None, "returned normally"),  # no timeout at all
        (1.2, "error", "timeout", "outside [2.0, 2.5)"),  # early
        (2.7, "error", "timeout", "outside [2.0, 2.5)"),  # late
        (2.1, "error", "connection", "not a timeout"),  # the wrong error
    ],
)
def test_timeout_verifier_rejects_early_late_and_wrong_errors(seconds, outcome, kind, message):
    scenario = scenarios.get("resilience.timeout")
    params = scenario.params_for("quick") | {"iterations": 1}
    assert _verify(_timeout_result(2.1, "error", "timeout"), params) == []
    problems = _verify(_timeout_result(seconds, outcome, kind), params)
    assert any(message in p for p in problems), problems


def test_failed_requests_count_as_failures_not_fast_successes(tmp_path, llm_server,
                                                             chroma_server):
    # One slot at the calibrated pace and a deadline of 2.5 requests' time: requests queued
    # behind others time out while the first ones complete. Sized from the shipped profile,
    # so a recalibration does not break the test.
    profile = json.loads(PROFILES_PATH.read_text())["profiles"]["smollm2-cpu"]
    one = (profile["ttft_s"] + len(SKY_PROMPT.split()) / profile["prompt_tokens_per_s"]
           + 48 / profile["tokens_per_s"])
    results = run_scenarios(
        tmp_path, llm_server, chroma_server, ["stress.saturation"],
        "--model", "synthetic:smollm2-cpu", "--set", "concurrency=6",
        "--set", f"duration_s={2 * one:.2f}", "--set", f"timeout_s={2.5 * one:.2f}",
    )
    record = by_scenario(results)["stress.saturation"]
    counts, metrics = record["counts"], record["metrics"]
    assert counts["ok"] > 0 and counts.get("failed:timeout", 0) > 0, counts
    assert metrics["completed"]["mean"] == counts["ok"]
    assert metrics["ops_per_s"]["mean"] == pytest.approx(
        counts["ok"] / metrics["wall_s"]["mean"])
    assert "failed (timeout" in results["_stdout"]


def test_every_go_scenario_passes_through_the_harness(tmp_path, llm_server, chroma_server):
    """The real LangChainGo binary, built by the harness, on every scenario it implements."""
    from chainmark.contestants.registry import BUILTIN

    go = next(c for c in BUILTIN if c.name == "langchaingo")
    # resilience.timeout needs a slow model to time out against: run below on its own.
    names = sorted(go.scenarios - {"resilience.timeout", *INTERNAL_NAMES})
    small = ["--iterations", "1", "--set", "max_chunks=4", "--set", "concurrency=3",
             "--set", "duration_s=1", "--set", "turns=2", "--set", "checkpoints=[1,2]",
             "--set", "rounds=1", "--set", "min_duration_s=0.3", "--set", "min_phase_s=0.1"]
    out = tmp_path / "run"
    done = chainmark("run", "-s", ",".join(names), "-c", "langchaingo", "--model", "synthetic",
                     "--rounds", "1",
                     "--llm-url", llm_server, "--chroma-url", chroma_server, "--out", str(out),
                     *small)
    results = json.loads((out / "results.json").read_text())
    statuses = {r["scenario"]: r["status"] for r in results["records"]
                if r["contestant"] == "langchaingo"}
    assert statuses == dict.fromkeys(names, "passed"), done.stdout + done.stderr
    assert all(r["runtime"].startswith("go") for r in results["records"]
               if r["contestant"] == "langchaingo")
    # A Go burst of 3 zero-latency agents lasts milliseconds: it must have been repeated.
    seen = _check_waves(results, "langchaingo", 3, 0.3, 0.1)
    assert all(waves > 1 for _, waves in seen.values()), seen
    out = tmp_path / "timeout"
    done = chainmark("run", "-s", "resilience.timeout", "-c", "langchaingo", "--iterations",
                     "1", "--rounds", "1", "--model", "synthetic:smollm2-cpu",
                     "--llm-url", llm_server,
                     "--chroma-url", chroma_server, "--out", str(out))
    record = json.loads((out / "results.json").read_text())["records"][0]
    assert record["status"] == "passed", done.stdout + done.stderr
