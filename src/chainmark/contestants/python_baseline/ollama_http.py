"""Ollama's HTTP API by hand: /api/generate and /api/embed with httpx, sync and async.

No client-side timeout: the harness bounds the whole process, and the scenarios that need a
per-call deadline set it themselves (asyncio.wait_for), as the frameworks' callers do.
"""

from __future__ import annotations

from typing import Any

import httpx

# httpx's default pool (100 connections, 20 kept alive) would close connections between
# bursts wider than 20; a pool as wide as the scenario's concurrency keeps them all.
DEFAULT_POOL = 100


def client(endpoints: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=endpoints["llm_url"], timeout=httpx.Timeout(None))


def async_client(endpoints: dict[str, Any], pool: int = DEFAULT_POOL) -> httpx.AsyncClient:
    size = max(pool, 1)
    return httpx.AsyncClient(
        base_url=endpoints["llm_url"], timeout=httpx.Timeout(None),
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
    )


def generate_body(params: dict[str, Any], endpoints: dict[str, Any], prompt: str
                  ) -> dict[str, Any]:
    """A non-streaming /api/generate request with the scenario's sampling options: a caller
    that needs the whole answer before it can use it has no reason to stream."""
    return {
        "model": endpoints["model"],
        "prompt": prompt,
        "stream": False,
        "options": {
            "temperature": params["temperature"],
            "num_predict": params["num_predict"],
            "seed": params["seed"],
        },
    }


def _answer(response: httpx.Response) -> str:
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise RuntimeError(f"ollama: {body['error']}")
    return str(body["response"])


def generate(http: httpx.Client, body: dict[str, Any]) -> str:
    return _answer(http.post("/api/generate", json=body))


async def agenerate(http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    return _answer(await http.post("/api/generate", json=body))


def embed_body(endpoints: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """/api/embed takes a list of inputs: one request embeds a whole batch."""
    return {"model": endpoints["model"], "input": texts}


def _vectors(response: httpx.Response, expected: int) -> list[list[float]]:
    response.raise_for_status()
    vectors = response.json()["embeddings"]
    if len(vectors) != expected:
        raise RuntimeError(f"ollama returned {len(vectors)} embeddings for {expected} texts")
    return vectors


def embed(http: httpx.Client, endpoints: dict[str, Any], texts: list[str]
          ) -> list[list[float]]:
    return _vectors(http.post("/api/embed", json=embed_body(endpoints, texts)), len(texts))


async def aembed(http: httpx.AsyncClient, endpoints: dict[str, Any], texts: list[str]
                 ) -> list[list[float]]:
    response = await http.post("/api/embed", json=embed_body(endpoints, texts))
    return _vectors(response, len(texts))
