"""The framework-free Python contestant's RAG, stress and ops scenarios: its own splitter
against the harness's reference, and every scenario end to end through the real CLI, the
real chainmark-server (synthetic models) and the real Chroma server, beside LangChain Python
so the two can be held to the same requests.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from react_prompts import signature_words

from chainmark.contestants.python_baseline import ops, rag
from chainmark.contestants.python_baseline.splitter import RecursiveSplitter
from chainmark.corpus import default_corpus_dir, ensure_corpus
from chainmark.reference.splitter import split_text

BASE, LC = "python-baseline", "langchain-python"
RAG = ["rag.split", "rag.embed", "rag.ingest", "rag.retrieve", "rag.e2e"]
STRESS_OPS = ["stress.concurrent_rag", "stress.saturation", "ops.memory", "ops.observability"]
SMALL_RAG = ["--iterations", "2", "--set", "max_chunks=6"]
SMALL_OPS = ["--set", "concurrency=4", "--set", "min_duration_s=0.3", "--set", "duration_s=1",
             "--set", "turns=3", "--set", "checkpoints=[1,3]", "--set", "rounds=1",
             "--set", "min_phase_s=0.1"]


# --- the splitter -----------------------------------------------------------------------------

def test_the_splitter_gives_the_reference_chunks_on_the_whole_corpus():
    corpus = ensure_corpus(default_corpus_dir())
    splitter = RecursiveSplitter(1000, 200)
    large = corpus.large_document.read_text(encoding="utf-8")
    chunks = splitter.split(large)
    assert len(chunks) > 10_000
    assert chunks == split_text(large, 1000, 200)
    docs = sorted(corpus.docs_dir.glob("*.md"))
    assert len(docs) == 50
    for path in docs:
        text = path.read_text(encoding="utf-8")
        assert splitter.split(text) == split_text(text, 1000, 200), path.name


WORDS = ["alpha", "beta", "a", "of", "structure", "x" * 40]


def _varied_text(rng: random.Random, length: int) -> str:
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
            parts.append(rng.choice(WORDS) + rng.choice([" ", "  ", ". ", " \n "]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("size", "overlap"), [(1000, 200), (100, 20), (50, 0), (300, 299),
                                               (10, 10)])
def test_the_splitter_agrees_with_the_reference_on_edge_cases(seed, size, overlap):
    text = _varied_text(random.Random(seed), random.Random(seed).randint(0, 5000))
    assert RecursiveSplitter(size, overlap).split(text) == split_text(text, size, overlap)


def test_the_splitter_on_degenerate_input():
    splitter = RecursiveSplitter(1000, 200)
    assert splitter.split("") == [] and splitter.split(" \n\n  ") == []
    assert splitter.split("short") == ["short"]
    for size, overlap in [(0, 0), (10, 20), (10, -1)]:
        with pytest.raises(ValueError):
            RecursiveSplitter(size, overlap)


# --- the prompts are the frameworks' words ------------------------------------------------------

def test_prompts_are_langchains_words():
    # The test may import LangChain; the contestant may not.
    from langchain_classic.chains.conversation.prompt import PROMPT as CONVERSATION
    from langchain_classic.chains.retrieval_qa.prompt import PROMPT as QA
    from langchain_core.messages import AIMessage, HumanMessage, get_buffer_string

    assert QA.template == rag.QA_TEMPLATE
    assert CONVERSATION.template == ops.CONVERSATION_TEMPLATE
    turns = [("My name is John.", " Hello John!\n"), ("More?", "Yes.")]
    messages = [m for said, answered in turns
                for m in (HumanMessage(content=said), AIMessage(content=answered))]
    assert ops.history_text(turns) == get_buffer_string(messages)
    assert ops.history_text([]) == get_buffer_string([])


# --- end to end through the CLI ---------------------------------------------------------------

def _run(tmp: Path, llm: str, chroma: str, names: list[str], *extra: str) -> dict:
    out = tmp / "run"
    done = subprocess.run(
        [sys.executable, "-m", "chainmark.cli", "run", "-s", ",".join(names), "-c", f"{BASE},{LC}",
         "--rounds", "1", "--model", "synthetic", "--llm-url", llm, "--chroma-url", chroma,
         "--out", str(out), *extra],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    results = json.loads((out / "results.json").read_text())
    results["_stdout"] = done.stdout + done.stderr
    results["_out"] = out
    return results


def _records(results: dict, contestant: str) -> dict[str, dict]:
    return {r["scenario"]: r for r in results["records"] if r["contestant"] == contestant}


def _raw(results: dict, folder_prefix: str) -> dict:
    [folder] = [p for p in (results["_out"] / "runs").iterdir()
                if p.name.startswith(folder_prefix)]
    return json.loads((folder / "result.json").read_text())


@pytest.fixture(scope="module")
def rag_run(tmp_path_factory, llm_server, chroma_server) -> dict:
    return _run(tmp_path_factory.mktemp("baseline-rag"), llm_server, chroma_server, RAG,
                *SMALL_RAG)


@pytest.fixture(scope="module")
def ops_run(tmp_path_factory, llm_server, chroma_server) -> dict:
    return _run(tmp_path_factory.mktemp("baseline-ops"), llm_server, chroma_server, STRESS_OPS,
                *SMALL_OPS)


def test_every_rag_scenario_passes(rag_run):
    ran = _records(rag_run, BASE)
    assert {n: r["status"] for n, r in ran.items()} == dict.fromkeys(RAG, "passed"), (
        rag_run["_stdout"])
    assert {p["contestant"]: p["status"] for p in rag_run["preparations"]} == {
        BASE: "passed", LC: "passed"}
    assert ran["rag.split"]["metrics"]["latency_s"]["count"] == 2
    assert ran["rag.retrieve"]["metrics"]["latency_s"]["count"] == 2


def test_rag_makes_the_frameworks_requests(rag_run):
    """The same prompts (the server counts the words it was sent) as LangChain Python for the
    same work, and the same requests but where the baselines batch embeddings their way."""
    base, lc = _records(rag_run, BASE), _records(rag_run, LC)
    for name in RAG:
        assert base[name]["server"]["prompt_tokens"] == lc[name]["server"]["prompt_tokens"], name
        if name != "rag.embed":
            assert base[name]["server"]["by_path"] == lc[name]["server"]["by_path"], name
    # The embedding choice (the Go baseline's too): batches of `batch_size` (quick's 1), sent
    # one after another, then the same batches concurrently: 6 + 6 per iteration.
    assert base["rag.embed"]["server"]["by_path"] == {"/api/embed": 2 * (6 + 6)}
    # Ingest embeds every stored chunk in one request; retrieval embeds the question once.
    assert base["rag.ingest"]["server"]["by_path"] == {"/api/embed": 2}
    assert base["rag.e2e"]["server"]["by_path"] == {"/api/embed": 2, "/api/generate": 2}


def test_ingest_leaves_no_collection_behind_and_retrieval_names_sources(rag_run):
    ingest = _raw(rag_run, f"rag.ingest__{BASE}__")
    stored = [op["output"]["stored"] for op in ingest["operations"] if op["name"] == "embed_store"]
    assert stored == [6, 6]
    retrieve = _raw(rag_run, f"rag.retrieve__{BASE}__")
    for op in retrieve["operations"]:
        assert all(str(s).endswith(".md") for s in op["output"]["sources"])


def test_every_stress_and_ops_scenario_passes(ops_run):
    ran = _records(ops_run, BASE)
    assert {n: r["status"] for n, r in ran.items()} == dict.fromkeys(STRESS_OPS, "passed"), (
        ops_run["_stdout"])
    raw = _raw(ops_run, f"stress.concurrent_rag__{BASE}__")
    waves = len(raw["operations"]) // 4
    assert waves >= 1 and len(raw["operations"]) == 4 * waves
    assert (raw["measure_end_ns"] - raw["measure_start_ns"]) / 1e9 >= 0.3
    assert ran["stress.saturation"]["counts"]["ok"] > 0
    rows = ran["ops.memory"]["series"]["checkpoints"]
    assert [r["turn"] for r in rows] == [1, 3]
    assert rows[1]["prompt_tokens"] > rows[0]["prompt_tokens"]  # the whole history is sent
    assert rows[0]["tracemalloc_peak_bytes"] > 0


def test_stress_and_memory_send_the_frameworks_prompts(ops_run):
    base, lc = _records(ops_run, BASE), _records(ops_run, LC)
    # A fixed conversation: the very same requests.
    assert base["ops.memory"]["server"]["by_path"] == lc["ops.memory"]["server"]["by_path"]
    assert (base["ops.memory"]["server"]["prompt_tokens"]
            == lc["ops.memory"]["server"]["prompt_tokens"])
    # Under concurrency the counts depend on speed, the request per query does not.
    for name, paths in (("stress.concurrent_rag", {"/api/embed", "/api/generate"}),
                        ("stress.saturation", {"/api/generate"}),
                        ("ops.observability", {"/api/generate"})):
        per_op = []
        for record in (base[name], lc[name]):
            by_path = record["server"]["by_path"]
            assert set(by_path) == paths, (name, by_path)
            generated = by_path["/api/generate"]
            assert all(n == generated for n in by_path.values())
            per_op.append(record["server"]["prompt_tokens"] / generated)
        # The agents' prompts lack only LangChain's tool signatures (see react_prompts).
        fewer = signature_words() if name == "ops.observability" else 0
        assert per_op[0] == pytest.approx(per_op[1] - fewer), name


def test_observability_hooks_fire_at_every_event(ops_run):
    """Per agent run with T tool calls (and T + 1 model calls): the logging hooks see the
    run's start and end, each model call's and each tool call's start and end, T actions and
    one finish; the tracer makes one span for the run, each model call and each tool call."""
    raw = _raw(ops_run, f"ops.observability__{BASE}__")
    assert [p["mode"] for p in raw["outputs"]["phases"]] == ["bare", "logging", "otel"]
    for phase in raw["outputs"]["phases"]:
        runs = [op for op in raw["operations"] if op["name"] == phase["mode"]
                and phase["start_ns"] <= op["start_ns"] <= phase["end_ns"]]
        assert runs and all(op["ok"] for op in runs)
        tool_calls = sum(len(op["output"]["tool_calls"]) for op in runs)
        assert tool_calls >= 2 * len(runs)  # the multi-hop question: two tools at least
        if phase["mode"] == "logging":
            assert phase["events"] == 5 * tool_calls + 5 * len(runs)
        elif phase["mode"] == "otel":
            assert phase["spans"] == 2 * tool_calls + 2 * len(runs)
            assert phase["events"] == 2 * phase["spans"]
        else:
            assert "events" not in phase
