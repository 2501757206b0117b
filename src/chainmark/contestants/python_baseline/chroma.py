"""Chroma's v2 REST API with httpx: the handful of calls a RAG application makes.

Not the `chromadb` package: the baseline measures what the language and an HTTP client cost,
and the Go baseline talks to the same endpoints with net/http, so both do the same work.
Embeddings travel as JSON lists of floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections"


class ChromaError(RuntimeError):
    def __init__(self, response: httpx.Response) -> None:
        request = response.request
        super().__init__(f"chroma {request.method} {request.url.path}: "
                         f"{response.status_code} {response.text.strip()[:300]}")
        self.status = response.status_code


@dataclass(frozen=True)
class Found:
    text: str
    metadata: dict[str, Any]
    distance: float | None


def _json(response: httpx.Response) -> Any:
    if not response.is_success:
        raise ChromaError(response)
    return response.json() if response.content else None


def _query_body(embedding: list[float], k: int) -> dict[str, Any]:
    return {"query_embeddings": [embedding], "n_results": k,
            # What the caller uses, as the Go baseline asks: no distances, no embeddings.
            "include": ["documents", "metadatas"]}


def _found(result: dict[str, Any]) -> list[Found]:
    """The matches of the (only) query embedding, nearest first."""
    texts = result["documents"][0]
    metadatas = result.get("metadatas") or [[None] * len(texts)]
    distances = result.get("distances") or [[None] * len(texts)]
    return [Found(text or "", metadata or {}, distance)
            for text, metadata, distance in zip(texts, metadatas[0], distances[0], strict=True)]


class Chroma:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=httpx.Timeout(None))

    def create(self, name: str) -> str:
        """The id of the named collection, created if absent."""
        body = {"name": name, "get_or_create": True}
        return str(_json(self.http.post(COLLECTIONS, json=body))["id"])

    def collection_id(self, name: str) -> str:
        """The id of an existing collection (an error if there is none)."""
        return str(_json(self.http.get(f"{COLLECTIONS}/{name}"))["id"])

    def delete(self, name: str, missing_ok: bool = False) -> None:
        response = self.http.delete(f"{COLLECTIONS}/{name}")
        if missing_ok and response.status_code == 404:
            return
        _json(response)

    def max_batch_size(self) -> int:
        """The most records one add call may carry, as the server reports it."""
        return int(_json(self.http.get("/api/v2/pre-flight-checks"))["max_batch_size"])

    def add(self, collection_id: str, ids: list[str], embeddings: list[list[float]],
            documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        body = {"ids": ids, "embeddings": embeddings, "documents": documents,
                "metadatas": metadatas}
        _json(self.http.post(f"{COLLECTIONS}/{collection_id}/add", json=body))

    def count(self, collection_id: str) -> int:
        return int(_json(self.http.get(f"{COLLECTIONS}/{collection_id}/count")))

    def query(self, collection_id: str, embedding: list[float], k: int) -> list[Found]:
        response = self.http.post(f"{COLLECTIONS}/{collection_id}/query",
                                  json=_query_body(embedding, k))
        return _found(_json(response))


class AsyncChroma:
    """The read side, for concurrent retrieval on one event loop."""

    def __init__(self, url: str, pool: int) -> None:
        size = max(pool, 1)
        self.http = httpx.AsyncClient(
            base_url=url, timeout=httpx.Timeout(None),
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        )

    async def collection_id(self, name: str) -> str:
        return str(_json(await self.http.get(f"{COLLECTIONS}/{name}"))["id"])

    async def query(self, collection_id: str, embedding: list[float], k: int) -> list[Found]:
        response = await self.http.post(f"{COLLECTIONS}/{collection_id}/query",
                                        json=_query_body(embedding, k))
        return _found(_json(response))
