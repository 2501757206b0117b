"""RAG scenarios with the article's LangChain classes: TextLoader/DirectoryLoader,
RecursiveCharacterTextSplitter, OllamaEmbeddings, Chroma (langchain-chroma) and RetrievalQA."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlparse

import chromadb
from langchain_chroma import Chroma
from langchain_classic.chains import RetrievalQA
from langchain_community.document_loaders import DirectoryLoader, TextLoader
from langchain_core.documents import Document
from langchain_ollama import OllamaEmbeddings

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.langchain_python.embed import _bounded, _embeddings
from chainmark.contestants.langchain_python.llm import llm_for
from chainmark.contestants.langchain_python.split import _splitter


def _chroma_client(endpoints: dict[str, Any]) -> chromadb.ClientAPI:
    url = urlparse(endpoints["chroma_url"])
    return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000)


def _store(
    endpoints: dict[str, Any], collection: str, embeddings: OllamaEmbeddings
) -> tuple[chromadb.ClientAPI, Chroma]:
    client = _chroma_client(endpoints)
    return client, Chroma(
        client=client, collection_name=collection, embedding_function=embeddings
    )


def _load_directory(docs_dir: str) -> list[Document]:
    loader = DirectoryLoader(
        docs_dir, glob="*.md", loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}
    )
    # Sorted so that "the first N chunks" names the same chunks in every contestant.
    return sorted(loader.load(), key=lambda d: d.metadata["source"])


def _ingest(
    params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder, collection: str
) -> None:
    """Load → split → embed and store, each step timed; the collection is left in place."""
    embeddings = _embeddings(endpoints)
    client = _chroma_client(endpoints)
    with rec.op("load") as op:
        docs = _load_directory(params["corpus"]["docs_dir"])
        op.output["documents"] = len(docs)
    with rec.op("split") as op:
        chunks = _splitter(params).split_documents(docs)
        op.output["chunks"] = len(chunks)
    with rec.op("embed_store") as op:
        selected = _bounded(chunks, params["max_chunks"])
        store = Chroma.from_documents(
            selected, embeddings, client=client, collection_name=collection
        )
        op.output.update(chunks=len(selected), stored=store._collection.count())


def rag_ingest(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    client = _chroma_client(endpoints)
    rec.begin()
    for i in rec.iterations(params):
        collection = f"{params['collection']}-{i}"
        try:
            _ingest(params, endpoints, rec, collection)
        finally:
            client.delete_collection(collection)
    rec.end()


def rag_prepare(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """Not a benchmark: fills the collection that rag.retrieve and rag.e2e read."""
    client = _chroma_client(endpoints)
    # A leftover from an interrupted run; absent is fine (chromadb raises several types).
    with contextlib.suppress(Exception):
        client.delete_collection(params["collection"])
    _ingest(params, endpoints, rec, params["collection"])


def rag_retrieve(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        _, store = _store(endpoints, params["collection"], _embeddings(endpoints))
        retriever = store.as_retriever(search_kwargs={"k": params["k"]})
    for _ in range(params["warmup"]):
        retriever.invoke(params["query"])
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("retrieve") as op:
            found = retriever.invoke(params["query"])
            op.output.update(
                documents=len(found), sources=[d.metadata.get("source") for d in found]
            )
    rec.end()


def rag_e2e(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        _, store = _store(endpoints, params["collection"], _embeddings(endpoints))
        llm = llm_for(params, endpoints)
        qa = RetrievalQA.from_chain_type(
            llm=llm,
            chain_type="stuff",
            retriever=store.as_retriever(search_kwargs={"k": params["k"]}),
            return_source_documents=True,
        )
    for _ in range(params["warmup"]):
        qa.invoke({"query": params["query"]})
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("qa") as op:
            answer = qa.invoke({"query": params["query"]})
            op.output.update(
                text=answer["result"], documents=len(answer["source_documents"])
            )
    rec.end()
