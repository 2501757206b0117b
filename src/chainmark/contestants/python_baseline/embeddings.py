"""Ollama's /api/embed with httpx, sync or async (the clients come from api.py).

/api/embed takes a list of inputs and returns one vector per input, in order: one request
embeds a whole batch, so the caller decides how texts are grouped into requests.
"""

from __future__ import annotations

from typing import Any

import httpx

EMBED_PATH = "/api/embed"


def body(model: str, texts: list[str]) -> dict[str, Any]:
    return {"model": model, "input": texts}


def _vectors(response: httpx.Response, expected: int) -> list[list[float]]:
    if response.is_error:
        raise RuntimeError(f"{EMBED_PATH} answered {response.status_code}: "
                           f"{response.text[:300]}")
    vectors = response.json()["embeddings"]
    if len(vectors) != expected:
        raise RuntimeError(f"{EMBED_PATH} returned {len(vectors)} vectors for {expected} texts")
    return vectors


def embed(http: httpx.Client, model: str, texts: list[str]) -> list[list[float]]:
    return _vectors(http.post(EMBED_PATH, json=body(model, texts)), len(texts))


async def aembed(http: httpx.AsyncClient, model: str, texts: list[str]) -> list[list[float]]:
    return _vectors(await http.post(EMBED_PATH, json=body(model, texts)), len(texts))
