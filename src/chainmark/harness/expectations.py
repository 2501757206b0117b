"""The facts a correct result is checked against, worked out by the harness itself.

Chunk counts come from chainmark's own splitter over the corpus, embedding dimensions from
asking the model server directly: never from a contestant, never from the library under test.
Which facts a scenario needs is the scenario's own `truths` hook.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from chainmark.corpus import CorpusInfo
from chainmark.reference.splitter import split_text
from chainmark.scenarios import Scenario
from chainmark.scenarios.evidence import Truths

EMBED_PROBE_TIMEOUT_S = 120.0


@cache
def chunk_count(path: Path, chunk_size: int, chunk_overlap: int) -> int:
    return len(split_text(path.read_text(encoding="utf-8"), chunk_size, chunk_overlap))


def corpus_params(info: CorpusInfo) -> dict[str, str]:
    """The corpus's files as a contestant receives them in params["corpus"]."""
    return {
        "large_document": str(info.large_document),
        "docs_dir": str(info.docs_dir),
        "sha256": info.sha256,
    }


def embedding_dim(llm_url: str, model: str) -> int:
    """Asks the server for one embedding and measures it."""
    response = httpx.post(
        llm_url.rstrip("/") + "/api/embed", json={"model": model, "input": "dimension probe"},
        timeout=EMBED_PROBE_TIMEOUT_S,
    )
    response.raise_for_status()
    return len(response.json()["embeddings"][0])


def for_scenario(
    scenario: Scenario,
    params: dict[str, Any],
    corpus: CorpusInfo | None,
    embed_dim: Callable[[], int],
) -> dict[str, Any]:
    """The truths the scenario's verifier and metrics need; empty when it needs none."""
    if scenario.truths is None:
        return {}
    return scenario.truths(Truths(params=params, corpus=corpus, chunks=chunk_count,
                                  embed_dim=embed_dim))
