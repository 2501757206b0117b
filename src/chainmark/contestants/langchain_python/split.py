"""rag.split with LangChain's loader and splitter only: its figures (and its memory) must not
include the vector store's or the model client's libraries, which it never uses."""

from __future__ import annotations

from typing import Any

from langchain_community.document_loaders import TextLoader
from langchain_text_splitters import RecursiveCharacterTextSplitter

from chainmark.contestants._protocol import Recorder, setup_timer


def _splitter(params: dict[str, Any]) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=params["chunk_size"], chunk_overlap=params["chunk_overlap"]
    )


def rag_split(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        docs = TextLoader(params["corpus"]["large_document"], encoding="utf-8").load()
        splitter = _splitter(params)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("split") as op:
            chunks = splitter.split_documents(docs)
            op.output["chunks"] = len(chunks)
    rec.end()
