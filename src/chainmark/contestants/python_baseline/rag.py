"""RAG without a framework: files read with pathlib, the baseline's own splitter, Ollama's
/api/embed and /api/generate and Chroma's v2 REST API over httpx."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api, embeddings
from chainmark.contestants.python_baseline.chroma import Chroma, Found
from chainmark.contestants.python_baseline.splitter import RecursiveSplitter

# The "stuff" question-answering prompt the frameworks use (LangChain's and LangChainGo's
# default words), so every contestant sends the model the same text.
QA_TEMPLATE = (
    "Use the following pieces of context to answer the question at the end. If you don't "
    "know the answer, just say that you don't know, don't try to make up an answer.\n\n"
    "{context}\n\nQuestion: {question}\nHelpful Answer:"
)


class Chunk(NamedTuple):
    text: str
    source: str


def splitter_for(params: dict[str, Any]) -> RecursiveSplitter:
    return RecursiveSplitter(params["chunk_size"], params["chunk_overlap"])


def load_directory(docs_dir: str) -> list[tuple[str, str]]:
    """(path, text) of the *.md files directly in docs_dir, sorted by path so that "the
    first N chunks" names the same chunks in every contestant."""
    paths = sorted(str(p) for p in Path(docs_dir).glob("*.md"))
    return [(path, Path(path).read_text(encoding="utf-8")) for path in paths]


def bounded(items: list[Any], max_chunks: int | None) -> list[Any]:
    return items if max_chunks is None else items[:max_chunks]


def qa_prompt(question: str, found: list[Found]) -> str:
    return QA_TEMPLATE.format(context="\n\n".join(f.text for f in found), question=question)


def rag_split(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: the file read whole with pathlib (UTF-8) outside the timed region, as the
    # frameworks' loaders run in set-up; each operation splits the text into strings (no
    # per-chunk document objects: nothing downstream needs them).
    with setup_timer(rec):
        text = Path(params["corpus"]["large_document"]).read_text(encoding="utf-8")
        splitter = splitter_for(params)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("split") as op:
            op.output["chunks"] = len(splitter.split(text))
    rec.end()


def _vectors_output(vectors: list[list[float]]) -> dict[str, Any]:
    return {"vectors": len(vectors), "dims": sorted({len(v) for v in vectors})}


async def _embed_concurrently(http: httpx.AsyncClient, model: str, texts: list[str],
                              batch_size: int, workers: int) -> list[list[float]]:
    # Choice: asyncio on one async client; batches of `batch_size` texts, one /api/embed
    # request per batch, at most `workers` requests in flight (a semaphore); vectors come
    # back in text order.
    if batch_size < 1 or workers < 1:
        raise ValueError(f"batch_size {batch_size} and workers {workers} must be positive")
    gate = asyncio.Semaphore(workers)

    async def one(batch: list[str]) -> list[list[float]]:
        async with gate:
            return await embeddings.aembed(http, model, batch)

    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    results = await asyncio.gather(*(one(b) for b in batches))
    return [vector for batch in results for vector in batch]


def rag_embed(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices (the Go baseline's too): `sequential` sends the chunks in batches of
    # `batch_size`, one /api/embed request after another; `concurrent` sends the same batches
    # with at most `workers` in flight, on asyncio. The two modes differ only in concurrency.
    with setup_timer(rec):
        text = Path(params["corpus"]["large_document"]).read_text(encoding="utf-8")
        texts = bounded(splitter_for(params).split(text), params["max_chunks"])
        model = endpoints["model"]
        http = api.client(endpoints)
        async_http = api.async_client(endpoints, connections=params["workers"])
        # One loop for every iteration: the async client's connections belong to it.
        loop = asyncio.new_event_loop()
    rec.outputs["texts"] = len(texts)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("sequential") as op:
            op.output.update(_vectors_output(
                _embed_in_batches(http, model, texts, params["batch_size"])))
        with rec.op("concurrent") as op:
            vectors = loop.run_until_complete(_embed_concurrently(
                async_http, model, texts, params["batch_size"], params["workers"]))
            op.output.update(_vectors_output(vectors))
    rec.end()
    loop.run_until_complete(async_http.aclose())
    loop.close()


# How many chunks one /api/embed request carries where the scenario names no batch size
# (rag.ingest, rag.prepare): the article's batch size, as the Go baseline's. Batches keep a
# request and its answer small whatever the corpus; one request per chunk would pay a round
# trip each.
DEFAULT_EMBED_BATCH = 100


def _embed_in_batches(http: httpx.Client, model: str, texts: list[str],
                      batch_size: int) -> list[list[float]]:
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size} must be positive")
    return [vector for lo in range(0, len(texts), batch_size)
            for vector in embeddings.embed(http, model, texts[lo:lo + batch_size])]


def store(chroma: Chroma, http: httpx.Client, endpoints: dict[str, Any], collection: str,
          chunks: list[Chunk], max_batch: int) -> str:
    """Embeds the chunks, adds them to the collection (created if absent), returns its id."""
    # Choices (the Go baseline's too): batches of DEFAULT_EMBED_BATCH chunks (or fewer, if
    # the Chroma server takes fewer at once), each embedded in one /api/embed request and
    # added to Chroma before the next is embedded; random UUIDs as ids, the source path as
    # each record's metadata.
    collection_id = chroma.create(collection)
    step = max(1, min(DEFAULT_EMBED_BATCH, max_batch))
    for lo in range(0, len(chunks), step):
        batch = chunks[lo:lo + step]
        texts = [c.text for c in batch]
        vectors = embeddings.embed(http, endpoints["model"], texts)
        chroma.add(collection_id, [str(uuid.uuid4()) for _ in batch], vectors, texts,
                   [{"source": c.source} for c in batch])
    return collection_id


def _ingest(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder, chroma: Chroma,
            http: httpx.Client, max_batch: int, collection: str) -> None:
    """Load → split → embed and store, each step timed; the collection is left in place."""
    with rec.op("load") as op:
        docs = load_directory(params["corpus"]["docs_dir"])
        op.output["documents"] = len(docs)
    with rec.op("split") as op:
        splitter = splitter_for(params)
        chunks = [Chunk(text, path) for path, body in docs for text in splitter.split(body)]
        op.output["chunks"] = len(chunks)
    with rec.op("embed_store") as op:
        selected = bounded(chunks, params["max_chunks"])
        collection_id = store(chroma, http, endpoints, collection, selected, max_batch)
        op.output.update(chunks=len(selected), stored=chroma.count(collection_id))


def rag_ingest(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: sync httpx throughout; `load` reads the *.md files directly in docs_dir,
    # sorted by path; `split` splits each file's text; `embed_store` creates the collection
    # (get_or_create), embeds and adds the chunks batch by batch (see `store`; the server's
    # max_batch_size is read once in set-up) and asks Chroma for the count; each
    # iteration's collection is deleted after it, outside its steps.
    with setup_timer(rec):
        chroma = Chroma(endpoints["chroma_url"])
        http = api.client(endpoints)
        max_batch = chroma.max_batch_size()
    rec.begin()
    for i in rec.iterations(params):
        collection = f"{params['collection']}-{i}"
        try:
            _ingest(params, endpoints, rec, chroma, http, max_batch, collection)
        finally:
            chroma.delete(collection, missing_ok=True)
    rec.end()


def rag_prepare(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """Not a benchmark: fills the collection that rag.retrieve and rag.e2e read."""
    chroma = Chroma(endpoints["chroma_url"])
    http = api.client(endpoints)
    # A leftover from an interrupted run is replaced; none is fine.
    chroma.delete(params["collection"], missing_ok=True)
    _ingest(params, endpoints, rec, chroma, http, chroma.max_batch_size(), params["collection"])


class Retriever:
    """Top-k retrieval from the prepared collection: embed the question, query Chroma."""

    def __init__(self, params: dict[str, Any], endpoints: dict[str, Any]) -> None:
        self.model = endpoints["model"]
        self.k = params["k"]
        self.http = api.client(endpoints)
        self.chroma = Chroma(endpoints["chroma_url"])
        self.collection_id = self.chroma.collection_id(params["collection"])

    def __call__(self, question: str) -> list[Found]:
        # Choice: the question goes to /api/embed as a one-element list, one request.
        [vector] = embeddings.embed(self.http, self.model, [question])
        return self.chroma.query(self.collection_id, vector, self.k)


def rag_retrieve(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: sync httpx; per retrieval one /api/embed request (the query as a one-element
    # list) and one Chroma v2 query (n_results k; documents and metadatas).
    with setup_timer(rec):
        retrieve = Retriever(params, endpoints)
    for _ in range(params["warmup"]):
        retrieve(params["query"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("retrieve") as op:
            found = retrieve(params["query"])
            op.output.update(documents=len(found),
                             sources=[f.metadata.get("source") for f in found])
    rec.end()


def rag_e2e(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: retrieve (one /api/embed + one Chroma query), stuff the k documents into the
    # frameworks' QA prompt joined by blank lines, one NON-streaming /api/generate request.
    with setup_timer(rec):
        retrieve = Retriever(params, endpoints)
        opts = api.options(params)
    question = params["query"]

    def answer() -> tuple[str, int]:
        found = retrieve(question)
        body = api.body(retrieve.model, qa_prompt(question, found), opts)
        return api.generate(retrieve.http, body), len(found)

    for _ in range(params["warmup"]):
        answer()
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("qa") as op:
            text, documents = answer()
            op.output.update(text=text, documents=documents)
    rec.end()
