"""The framework-free Go contestant (go-baseline) end to end: every scenario through the real
CLI, the real built binary, the real chainmark-server on synthetic models and the real Chroma
server, small counts; and its splitter and calculator against chainmark's Python references,
through the binary's test hooks.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chainmark import scenarios
from chainmark.contestants.registry import BUILTIN, unknown_scenarios
from chainmark.contract import ContestantResult
from chainmark.corpus import default_corpus_dir, ensure_corpus
from chainmark.reference.splitter import split_text

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")

NAME = "go-baseline"
MAIN_GO = Path(__file__).parents[1] / "src/chainmark/contestants/go_baseline/main.go"
# Every scenario the zero-latency synthetic model can play, in one run; the two resilience
# scenarios that need another model family get their own.
SYNTHETIC = [
    "llm.latency", "llm.ttft", "rag.split", "rag.embed", "rag.ingest", "rag.retrieve", "rag.e2e",
    "agent.single", "agent.multi", "agent.high_freq", "workflow.router",
    "stress.concurrent_rag", "stress.concurrent_agent", "stress.saturation",
    "resilience.tool_failure", "ops.memory", "ops.observability",
]
SMALL = [
    "--iterations", "2", "--set", "max_chunks=6", "--set", "concurrency=4",
    "--set", "duration_s=1.0", "--set", "turns=3", "--set", "checkpoints=[1,3]",
    "--set", "rounds=1", "--set", "min_duration_s=0.3", "--set", "min_phase_s=0.1",
]


def binary() -> tuple[str, ...]:
    """The harness's own build of the contestant (cached by source hash)."""
    return next(c for c in BUILTIN if c.name == NAME).argv()


def run_cli(out: Path, llm: str, chroma: str, names: list[str], *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "chainmark.cli", "run", "-s", ",".join(names), "-c", NAME,
         "--rounds", "1", "--llm-url", llm, "--chroma-url", chroma, "--out", str(out), *extra],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    results = json.loads((out / "results.json").read_text())
    results["_stdout"] = done.stdout + done.stderr
    results["_exit"] = done.returncode
    return results


def records(results: dict) -> dict[str, dict]:
    return {r["scenario"]: r for r in results["records"] if r["contestant"] == NAME}


def raw_result(results: dict, scenario: str) -> ContestantResult:
    """What the contestant process itself wrote."""
    command = results["header"]["command"]
    out = Path(command[command.index("--out") + 1])
    [folder] = (out / "runs").glob(f"{scenario}__{NAME}__*r0")
    return ContestantResult.model_validate_json((folder / "result.json").read_text())


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory, llm_server, chroma_server) -> dict:
    return run_cli(tmp_path_factory.mktemp("gob"), llm_server, chroma_server, SYNTHETIC,
                   "--model", "synthetic", *SMALL)


def test_every_synthetic_scenario_passes_verification(synthetic_run):
    ran = records(synthetic_run)
    assert {n: r["status"] for n, r in ran.items()} == dict.fromkeys(SYNTHETIC, "passed"), (
        synthetic_run["_stdout"])
    assert synthetic_run["_exit"] == 0, synthetic_run["_stdout"]
    assert [p["status"] for p in synthetic_run["preparations"]] == ["passed"]
    # No framework: the standard library only.
    assert all(r["frameworks"] == {} for r in ran.values())


def test_rag_outputs(synthetic_run):
    embed = raw_result(synthetic_run, "rag.embed")
    assert {op.name for op in embed.operations} == {"sequential", "concurrent"}
    assert {op.output["vectors"] for op in embed.operations} == {6}
    retrieve = raw_result(synthetic_run, "rag.retrieve")
    k = records(synthetic_run)["rag.retrieve"]["params"]["k"]
    for op in retrieve.operations:
        # Every document came back with the file it was cut from.
        assert len(op.output["sources"]) == k
        assert all(str(s).endswith(".md") for s in op.output["sources"])


def test_agents_call_the_tools_the_question_needs(synthetic_run):
    high = raw_result(synthetic_run, "agent.high_freq")
    for op in high.operations:
        assert [c["observation"] for c in op.output["tool_calls"]] == ["1", "2", "3", "4", "5"]
        assert op.output["counter"] == 5
    multi = raw_result(synthetic_run, "agent.multi")
    for op in multi.operations:
        assert [(c["tool"], c["observation"]) for c in op.output["tool_calls"]] == [
            ("SimpleCalculator", "100"), ("WordLengthTool", "9")]
    router = raw_result(synthetic_run, "workflow.router")
    assert {op.output["query"]: op.output["route"] for op in router.operations} == {
        "What is 15 * 12?": "math", "Write a haiku about a sunset.": "prose"}


def test_a_failing_tool_is_surfaced(synthetic_run):
    failure = raw_result(synthetic_run, "resilience.tool_failure")
    assert {op.output["outcome"] for op in failure.operations} == {"surfaced"}
    assert all("simulated tool failure" in op.output["error"] and op.output["tool_error"]
               for op in failure.operations)


def test_stress_runs_in_whole_waves(synthetic_run):
    for name in ("stress.concurrent_rag", "stress.concurrent_agent"):
        raw = raw_result(synthetic_run, name)
        assert raw.measure_start_ns is not None and raw.measure_end_ns is not None
        assert (raw.measure_end_ns - raw.measure_start_ns) / 1e9 >= 0.3, name
        waves = len(raw.operations) // 4
        assert waves >= 1 and len(raw.operations) == 4 * waves, name
        assert sorted(op.output["wave"] for op in raw.operations) == sorted(
            list(range(waves)) * 4), name
    saturation = records(synthetic_run)["stress.saturation"]
    assert saturation["metrics"]["ops_per_s"]["mean"] > 0


def test_ops_memory_and_the_hooks(synthetic_run):
    rows = records(synthetic_run)["ops.memory"]["series"]["checkpoints"]
    assert [r["turn"] for r in rows] == [1, 3]
    assert rows[1]["prompt_tokens"] > rows[0]["prompt_tokens"]  # the history grows
    raw = raw_result(synthetic_run, "ops.observability")
    phases = {p["mode"]: p for p in raw.outputs["phases"]}
    assert set(phases) == {"bare", "logging", "otel"}
    logging, otel = phases["logging"], phases["otel"]
    runs = {mode: sum(op.name == mode for op in raw.operations) for mode in phases}
    # Each agent.multi run: 3 model calls and 2 tool calls inside one run.
    assert otel["spans"] == 6 * runs["otel"] and otel["events"] == 2 * otel["spans"]
    # ... and the log also has 2 actions and the final answer.
    assert logging["events"] == 15 * runs["logging"]
    assert "events" not in phases["bare"]


def test_parse_errors_are_fed_back_on_the_malformed_model(tmp_path, llm_server, chroma_server):
    results = run_cli(tmp_path, llm_server, chroma_server, ["resilience.parse_error"],
                      "--iterations", "1", "--model", "synthetic-malformed")
    assert records(results)["resilience.parse_error"]["status"] == "passed", results["_stdout"]
    [op] = raw_result(results, "resilience.parse_error").operations
    assert op.output["outcome"] == "recovered" and op.output["parse_errors"] == 1


def test_timeout_fires_within_the_window(tmp_path, llm_server, chroma_server):
    # The calibrated profile generates 600 tokens in ~6 s, so the 2 s timeout must fire.
    results = run_cli(tmp_path, llm_server, chroma_server, ["resilience.timeout"],
                      "--iterations", "1", "--model", "synthetic:smollm2-cpu")
    record = records(results)["resilience.timeout"]
    assert record["status"] == "passed", results["_stdout"]
    [timed, health] = raw_result(results, "resilience.timeout").operations
    assert timed.output["error_kind"] == "timeout" and health.output["text"].strip()


def test_it_lists_its_dispatch_table():
    done = subprocess.run([*binary(), "--scenarios"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    dispatched = re.findall(r'^\s*"([a-z]+\.[a-z0-9_]+)":\s*\w+,', MAIN_GO.read_text(), re.M)
    assert listed == sorted(dispatched) and unknown_scenarios(listed) == []
    assert set(listed) == {s.name for s in scenarios.SCENARIOS} | {"rag.prepare"}


# --- the splitter against the reference, chunk for chunk -------------------------------------

WORDS = ["alpha", "beta", "a", "of", "the", "structure", "naïve", "日本語", "x" * 40]
SPACES = [" ", " ", "  ", ". ", "\t", "\u00a0", "\u2003", "\x1c"]


def _random_text(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < length:
        roll = rng.random()
        if roll < 0.05:
            parts.append("\n\n")
        elif roll < 0.10:
            parts.append("\n")
        elif roll < 0.12:
            parts.append("y" * rng.randint(100, 1500))  # a word longer than a chunk
        else:
            parts.append(rng.choice(WORDS) + rng.choice(SPACES))
    return "".join(parts)


def go_split(texts: list[str], size: int, overlap: int) -> list[list[str]]:
    done = subprocess.run(
        [*binary(), "--split", str(size), str(overlap)],
        input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(("size", "overlap"), [(1000, 200), (100, 20), (50, 0), (300, 299)])
def test_splitter_matches_the_reference_on_random_text(size, overlap):
    rng = random.Random(size * 1000 + overlap)
    texts = [_random_text(rng, rng.randint(0, 6000)) for _ in range(40)]
    assert go_split(texts, size, overlap) == [split_text(t, size, overlap) for t in texts]


def test_splitter_matches_the_reference_on_the_corpus():
    corpus = ensure_corpus(default_corpus_dir())
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.docs_dir.glob("*.md"))]
    texts.append(corpus.large_document.read_text(encoding="utf-8")[:1_000_000])
    got = go_split(texts, 1000, 200)
    assert got == [split_text(t, 1000, 200) for t in texts]
    assert 800 <= sum(map(len, got[:-1])) <= 900  # the 50 documents' ~850 chunks
