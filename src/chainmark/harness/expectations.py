"""What a correct result must contain, worked out by the harness itself.

Chunk counts come from chainmark's own splitter over the corpus, embedding dimensions from
asking the model server directly: never from a contestant, never from the library under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import httpx

from chainmark.corpus import CorpusInfo
from chainmark.reference.splitter import split_text


@dataclass
class CorpusFacts:
    info: CorpusInfo
    chunk_size: int = 1000
    chunk_overlap: int = 200

    def _chunks(self, path: Path) -> int:
        return len(split_text(path.read_text(encoding="utf-8"), self.chunk_size,
                              self.chunk_overlap))

    @cached_property
    def large_document_chunks(self) -> int:
        return self._chunks(self.info.large_document)

    @cached_property
    def docs_chunks(self) -> int:
        return sum(self._chunks(p) for p in sorted(self.info.docs_dir.glob("*.md")))

    def params(self) -> dict[str, str]:
        return {
            "large_document": str(self.info.large_document),
            "docs_dir": str(self.info.docs_dir),
            "sha256": self.info.sha256,
        }


def bounded(total: int, limit: int | None) -> int:
    return total if limit is None else min(total, limit)


def embedding_dim(llm_url: str, model: str) -> int:
    """Asks the server for one embedding and measures it."""
    response = httpx.post(
        llm_url.rstrip("/") + "/api/embed", json={"model": model, "input": "dimension probe"},
        timeout=120,
    )
    response.raise_for_status()
    return len(response.json()["embeddings"][0])


def for_scenario(
    scenario: str,
    params: dict,
    facts: CorpusFacts | None,
    embed_dim: Callable[[], int],
) -> dict:
    """The truths a scenario's verifier and rate metrics need; empty when none apply."""
    if facts is None:
        return {}
    if scenario == "rag.split":
        return {"chunks": facts.large_document_chunks, "bytes": facts.info.large_document_bytes}
    if scenario == "rag.embed":
        return {
            "chunks": bounded(facts.large_document_chunks, params["max_chunks"]),
            "embed_dim": embed_dim(),
        }
    if scenario in ("rag.ingest", "rag.prepare"):
        return {
            "documents": facts.info.docs_count,
            "split_chunks": facts.docs_chunks,
            "stored": bounded(facts.docs_chunks, params["max_chunks"]),
        }
    return {}
