"""Part 2: retrieval-augmented generation — split, embed, ingest, retrieve, answer.

Chunk counts and embedding widths are worked out by the harness (`truths`), never taken from
a contestant or from the library under test; rates are computed from them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chainmark.harness.server_log import EMBED_PATHS
from chainmark.scenarios import checks
from chainmark.scenarios.common import (
    QUICK_WARMUP_SLOW_CALLS,
    SIZED,
    SPLIT,
    TextOutput,
    llm_params,
)
from chainmark.scenarios.evidence import Evidence, Truths
from chainmark.scenarios.spec import (
    ANY_OPERATION,
    OVERHEAD_METRIC,
    Output,
    Published,
    Scenario,
)

RAG_QUERY = "What is the main topic of these documents?"
QA_QUERY = "Summarize the key themes from the documents in one paragraph."


# rag.embed's quick chunks: a quarter of the article's size (see its params).
QUICK_EMBED_SPLIT: dict[str, Any] = {"chunk_size": 250, "chunk_overlap": 50}


def bounded(total: int, limit: int | None) -> int:
    return total if limit is None else min(total, limit)


def _large_document_chunks(t: Truths) -> int:
    corpus = t.need_corpus()
    return t.chunks(corpus.large_document, t.params["chunk_size"], t.params["chunk_overlap"])


def _docs_chunks(t: Truths) -> int:
    corpus = t.need_corpus()
    return sum(t.chunks(p, t.params["chunk_size"], t.params["chunk_overlap"])
               for p in sorted(corpus.docs_dir.glob("*.md")))


# --- rag.split ---------------------------------------------------------------------------

class SplitOutput(Output):
    chunks: int = Field(description="how many chunks the splitter produced")


def split_truths(t: Truths) -> dict[str, Any]:
    return {"chunks": _large_document_chunks(t),
            "bytes": t.need_corpus().large_document_bytes}


def verify_split(e: Evidence) -> None:
    checks.operations(e)
    counts = {op.output["chunks"] for _, op in e.ok_ops()}
    if len(counts) > 1:
        e.fail(f"chunk count changed between iterations: {sorted(counts)}")
    for i, op in e.ok_ops():
        checks.equals(e, i, op, "chunks", e.truths["chunks"], "chunks (harness's own count)")


def split_rates(e: Evidence) -> dict[str, list[float]]:
    timed = [op.seconds for _, op in e.ok_ops() if op.seconds > 0]
    return {"mb_per_s": [e.truths["bytes"] / 1e6 / s for s in timed],
            "chunks_per_s": [e.truths["chunks"] / s for s in timed]}


SPLIT_SCENARIO = Scenario(
    name="rag.split",
    baseline_choice=(
        "the baseline's own recursive character splitter (the reference's algorithm, lengths in "
        "characters), returning plain strings"
    ),
    part=2,
    title="Recursive character splitting of a 10 MB document",
    summary="Chunk size 1000, overlap 200, 5 runs; MB/s and chunks/s.",
    operations={ANY_OPERATION: SplitOutput},
    verify=verify_split,
    truths=split_truths,
    derive=split_rates,
    needs_corpus=True,
    # Splitting needs no model, but the registry still names one for the record.
    params={"seed": {**SPLIT, "iterations": 5, **SIZED},
            "quick": {**SPLIT, "iterations": 5, **SIZED}},
    published=(
        Published("latency_s", "s", 0.1512, 3.5476, "per run"),
        Published("mb_per_s", "MB/s", 66.47, 2.83),
        Published("chunks_per_s", "chunks/s", 83088, 3543),
    ),
)


# --- rag.embed ---------------------------------------------------------------------------

class EmbedOutput(Output):
    vectors: int = Field(description="how many embeddings came back")
    dims: list[int] = Field(description="the distinct embedding widths seen (one, normally)")


def embed_truths(t: Truths) -> dict[str, Any]:
    return {"chunks": bounded(_large_document_chunks(t), t.params["max_chunks"]),
            "embed_dim": t.embed_dim()}


def verify_embed(e: Evidence) -> None:
    checks.operations(e, per_iteration=2)
    for i, op in e.ok_ops():
        checks.equals(e, i, op, "vectors", e.truths["chunks"], "embeddings returned")
        checks.equals(e, i, op, "dims", [e.truths["embed_dim"]], "embedding dimensions")
    for mode in ("sequential", "concurrent"):
        if not e.ok_ops(mode):
            e.fail(f"no successful {mode} embedding run")


def embed_rates(e: Evidence) -> dict[str, list[float]]:
    def rate(name: str) -> list[float]:
        return [e.truths["chunks"] / op.seconds for _, op in e.ok_ops(name) if op.seconds]

    return {"docs_per_s": rate("sequential"), "docs_per_s_concurrent": rate("concurrent")}


EMBED = Scenario(
    name="rag.embed",
    baseline_choice=(
        "`/api/embed` with a list of texts per request: sequential sends batches of `batch_size` "
        "one after another, concurrent the same batches with at most `workers` in flight "
        "(goroutines / asyncio); the modes differ only in concurrency"
    ),
    part=2,
    title="Embedding the large document's chunks",
    summary="Sequential (framework batches) and concurrent (batches of 100, 8 workers).",
    operations={"sequential": EmbedOutput, "concurrent": EmbedOutput},
    verify=verify_embed,
    serves={"sequential": EMBED_PATHS, "concurrent": EMBED_PATHS},
    truths=embed_truths,
    derive=embed_rates,
    primary_metric="docs_per_s",
    needs_corpus=True,
    params={
        # seed: every chunk of the 10 MB document; quick: the first 2, one per batch so two
        # workers get work, and a quarter of the article's chunk size: the real model embeds
        # ~80 tokens a second on its one thread here, and 4 contestants × 3 rounds embed them.
        "seed": {**SPLIT, "iterations": 1, "max_chunks": None, "batch_size": 100,
                 "workers": 8},
        "quick": {**QUICK_EMBED_SPLIT, "iterations": 1, "max_chunks": 2, "batch_size": 1,
                  "workers": 8},
    },
    published=(
        Published("docs_per_s", "docs/s", 138, 98, "sequential"),
        Published("docs_per_s_concurrent", "docs/s", 558, 252, "concurrent"),
    ),
)


# --- rag.ingest, and rag.prepare (the same steps, untimed, to fill a collection) -----------

class LoadOutput(Output):
    documents: int = Field(description="how many documents were loaded")


class StoreOutput(Output):
    stored: int = Field(description="how many vectors the collection holds afterwards")
    chunks: int | None = Field(default=None, description="how many chunks were embedded")


INGEST_STEPS: dict[str, type[Output]] = {"load": LoadOutput, "split": SplitOutput,
                                         "embed_store": StoreOutput}


def ingest_truths(t: Truths) -> dict[str, Any]:
    chunks = _docs_chunks(t)
    return {"documents": t.need_corpus().docs_count, "split_chunks": chunks,
            "stored": bounded(chunks, t.params["max_chunks"])}


def _ingest_steps(e: Evidence) -> None:
    for i, op in e.ok_ops("load"):
        checks.equals(e, i, op, "documents", e.truths["documents"], "documents loaded")
    for i, op in e.ok_ops("split"):
        checks.equals(e, i, op, "chunks", e.truths["split_chunks"],
                      "chunks (harness's own count)")
    for i, op in e.ok_ops("embed_store"):
        checks.equals(e, i, op, "stored", e.truths["stored"], "vectors stored in Chroma")


def verify_ingest(e: Evidence) -> None:
    checks.operations(e, per_iteration=len(INGEST_STEPS))
    _ingest_steps(e)


def verify_prepare(e: Evidence) -> None:
    for i, op in enumerate(e.operations):
        if not op.ok:
            e.fail(f"step {i} ({op.name}) failed: {op.error}")
    if len(e.ok_ops("embed_store")) != 1:
        e.fail("the collection was not filled")
    _ingest_steps(e)


INGEST = Scenario(
    name="rag.ingest",
    baseline_choice=(
        "the `*.md` files of `docs_dir` read sorted by path; chunks embedded in batches of 100 "
        "(one `/api/embed` each), each batch added through Chroma's v2 REST API before the next is "
        "embedded; the step ends with a count"
    ),
    part=2,
    title="Load, split, embed and store 50 documents in Chroma",
    summary="Per-step times; collection deleted afterwards.",
    operations=INGEST_STEPS,
    verify=verify_ingest,
    serves={"embed_store": EMBED_PATHS},
    truths=ingest_truths,
    primary_metric="embed_store_s",
    needs_chroma=True,
    needs_corpus=True,
    fills_collection=True,
    params={
        "seed": {**SPLIT, "iterations": 1, "max_chunks": None},
        # quick: one chunk: load, split and store still each run whole.
        "quick": {**SPLIT, "iterations": 1, "max_chunks": 1},
    },
    published=(
        Published("load_s", "s", 0.0178, 0.1105),
        Published("split_s", "s", 0.0451, 0.6158, "853 chunks"),
        Published("embed_store_s", "s", 78, 135.7),
    ),
)

# How many chunks of the 50-document set each contestant stores for the scenarios that read a
# prepared collection. seed stores all of them (~850) as the article did; quick keeps enough
# for k=5 retrieval to choose among, at ~2 s an embedding on Ollama on 2 cores.
PREPARE = Scenario(
    name="rag.prepare",
    baseline_choice=(
        "as rag.ingest's steps, into the named collection"
    ),
    part=2,
    title="Fill a contestant's collection (untimed, for the retrieval scenarios)",
    summary="The ingest steps with the contestant's own stack, outside any timed region.",
    operations=INGEST_STEPS,
    verify=verify_prepare,
    serves={"embed_store": EMBED_PATHS},
    truths=ingest_truths,
    needs_chroma=True,
    needs_corpus=True,
    fills_collection=True,
    internal=True,
    # quick: the 5 chunks rag.retrieve's top 5 needs, embedded once per contestant.
    params={"seed": {**SPLIT, "max_chunks": None}, "quick": {**SPLIT, "max_chunks": 5}},
)


# --- rag.retrieve and rag.e2e ------------------------------------------------------------

class RetrieveOutput(Output):
    documents: int = Field(description="how many documents came back")


def verify_retrieve(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        checks.equals(e, i, op, "documents", e.params["k"], "documents retrieved")


RETRIEVE = Scenario(
    name="rag.retrieve",
    baseline_choice=(
        "the query embedded by one `/api/embed` request, then one Chroma v2 query (`k` results; "
        "documents and metadatas only)"
    ),
    part=2,
    title="Top-5 retrieval",
    summary="100 retrievals of one question; k documents must come back.",
    operations={ANY_OPERATION: RetrieveOutput},
    verify=verify_retrieve,
    serves={ANY_OPERATION: EMBED_PATHS},
    headline_metric=OVERHEAD_METRIC,
    needs_chroma=True,
    needs_corpus=True,
    needs_collection=True,
    params={
        "seed": {"iterations": 100, "warmup": 3, "query": RAG_QUERY, "k": 5, **SIZED},
        "quick": {"iterations": 12, "warmup": 1, "query": RAG_QUERY, "k": 5, **SIZED},
    },
    published=(
        Published("latency_s", "s", 0.2378, 0.34852, "std Go 5.9 ms, Python 18.55 ms"),
    ),
)


class QAOutput(TextOutput):
    documents: int = Field(description="how many documents were stuffed into the prompt")


def verify_e2e(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        checks.equals(e, i, op, "documents", e.params["k"], "documents stuffed into the prompt")
        checks.answer(e, i, op, "answer incomplete")


E2E = Scenario(
    name="rag.e2e",
    baseline_choice=(
        "retrieval as rag.retrieve, then the classic \"stuff\" QA prompt (documents joined by "
        "blank lines) in one non-streamed `/api/generate`"
    ),
    part=2,
    title="Retrieval QA, stuff strategy",
    summary="20 runs of a summary question over top-5 documents.",
    operations={ANY_OPERATION: QAOutput},
    verify=verify_e2e,
    serves={ANY_OPERATION: EMBED_PATHS},
    headline_metric=OVERHEAD_METRIC,
    needs_chroma=True,
    needs_corpus=True,
    needs_collection=True,
    params={
        "seed": llm_params(20, 1, -1, query=QA_QUERY, k=5),
        # quick: one answer per round, no warm-up, top 2: each answer still reads ~400 words
        # of context (~5 s of prompt evaluation on Ollama here), beside which one-time
        # set-up is noise; seed keeps the article's top 5.
        "quick": llm_params(3, QUICK_WARMUP_SLOW_CALLS, 48, query=QA_QUERY, k=2),
    },
    published=(Published("latency_s", "s", 2.70, 4.18),),
)

SCENARIOS = (SPLIT_SCENARIO, EMBED, INGEST, RETRIEVE, E2E)
