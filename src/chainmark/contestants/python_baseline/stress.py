"""Stress without a framework: asyncio, httpx.AsyncClient against Ollama and Chroma, each call
under asyncio.wait_for, bursts gathered with asyncio.gather."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api, embeddings
from chainmark.contestants.python_baseline.chroma import AsyncChroma
from chainmark.contestants.python_baseline.rag import qa_prompt
from chainmark.contestants.waves import in_waves, timed, wave_limits


def concurrent_rag(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: asyncio on one event loop; one AsyncClient for Ollama and one for Chroma, each
    # with a pool as wide as `concurrency`; per query: one /api/embed request (the query as a
    # one-element list), one Chroma query for the top k, one NON-streaming /api/generate with
    # the stuffed QA prompt; each query under asyncio.wait_for(timeout_s).
    min_s, max_waves = wave_limits(params, "min_duration_s")
    concurrency = params["concurrency"]
    cycle = [params["queries"][i % len(params["queries"])] for i in range(concurrency)]

    async def main() -> None:
        with setup_timer(rec):
            http = api.async_client(endpoints, connections=concurrency)
            opts = api.options(params)
            chroma = AsyncChroma(endpoints["chroma_url"], concurrency)
            collection_id = await chroma.collection_id(params["collection"])

        async def ask(query: str) -> dict[str, Any]:
            [vector] = await embeddings.aembed(http, endpoints["model"], [query])
            found = await chroma.query(collection_id, vector, params["k"])
            body = api.body(endpoints["model"], qa_prompt(query, found), opts)
            return {"query": query, "text": await api.agenerate(http, body),
                    "documents": len(found)}

        async def wave(n: int) -> None:
            await asyncio.gather(*(
                timed(rec, "qa", params["timeout_s"], lambda q=query: ask(q), wave=n)
                for query in cycle
            ))

        rec.begin()
        assert rec.measure_start_ns is not None
        await in_waves(rec.measure_start_ns, min_s, max_waves, wave)
        rec.end()
        await http.aclose()
        await chroma.http.aclose()

    asyncio.run(main())


def saturation(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    """`concurrency` workers call the model back to back until `duration_s` has passed."""
    # Choices: asyncio tasks as workers on one AsyncClient pooled as wide as `concurrency`;
    # NON-streaming /api/generate; each call under asyncio.wait_for(timeout_s); a call under
    # way at the deadline finishes.
    with setup_timer(rec):
        http = api.async_client(endpoints, connections=params["concurrency"])
        body = api.body(endpoints["model"], params["prompt"], api.options(params))

    async def call() -> dict[str, Any]:
        return {"text": await api.agenerate(http, body)}

    async def worker(deadline: float) -> None:
        while time.monotonic() < deadline:
            await timed(rec, "generate", params["timeout_s"], call)

    async def main() -> None:
        rec.begin()
        deadline = time.monotonic() + params["duration_s"]
        await asyncio.gather(*(worker(deadline) for _ in range(params["concurrency"])))
        rec.end()
        await http.aclose()

    asyncio.run(main())
