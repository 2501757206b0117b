"""rag.embed with LangChain's loader, splitter and OllamaEmbeddings, without the vector store
it never uses."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_community.document_loaders import TextLoader
from langchain_core.documents import Document
from langchain_ollama import OllamaEmbeddings

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.langchain_python.split import _splitter


def _embeddings(endpoints: dict[str, Any]) -> OllamaEmbeddings:
    return OllamaEmbeddings(model=endpoints["model"], base_url=endpoints["llm_url"])


def _bounded(chunks: list[Document], max_chunks: int | None) -> list[Document]:
    return chunks if max_chunks is None else chunks[:max_chunks]


def _vectors_output(vectors: list[list[float]]) -> dict[str, Any]:
    return {"vectors": len(vectors), "dims": sorted({len(v) for v in vectors})}


async def _embed_concurrently(
    embeddings: OllamaEmbeddings, texts: list[str], batch_size: int, workers: int
) -> list[list[float]]:
    # `workers` batches in flight at once, as the article's worker pool did.
    gate = asyncio.Semaphore(workers)

    async def one(batch: list[str]) -> list[list[float]]:
        async with gate:
            return await embeddings.aembed_documents(batch)

    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    results = await asyncio.gather(*(one(b) for b in batches))
    return [v for batch in results for v in batch]


def rag_embed(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        docs = TextLoader(params["corpus"]["large_document"], encoding="utf-8").load()
        chunks = _bounded(_splitter(params).split_documents(docs), params["max_chunks"])
        texts = [c.page_content for c in chunks]
        embeddings = _embeddings(endpoints)
        # One loop for every iteration: the async client's connections belong to it.
        loop = asyncio.new_event_loop()
    rec.outputs["texts"] = len(texts)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("sequential") as op:
            # One call with every chunk: batching, if any, is the framework's business.
            op.output.update(_vectors_output(embeddings.embed_documents(texts)))
        with rec.op("concurrent") as op:
            vectors = loop.run_until_complete(
                _embed_concurrently(embeddings, texts, params["batch_size"], params["workers"])
            )
            op.output.update(_vectors_output(vectors))
    rec.end()
    loop.close()
