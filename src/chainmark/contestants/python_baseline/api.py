"""The one LLM call the baseline's agent, workflow and resilience scenarios make: a POST to
Ollama's /api/generate with `stream: false`, sync (httpx.Client) or async (httpx.AsyncClient).

Why not streaming: these callers need the whole reply before they can act on it (parse a
ReAct step, read a route label), so one JSON object is what a hand-written client asks for;
LangChain's OllamaLLM streams even for `invoke` and joins the chunks. The body carries the
same model, prompt and options (temperature, num_predict, seed, stop) as LangChain's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

GENERATE_PATH = "/api/generate"


def options(params: dict[str, Any], stop: Sequence[str] = ()) -> dict[str, Any]:
    """The scenario's sampling options, plus stop sequences when the caller has any."""
    opts: dict[str, Any] = {
        "temperature": params["temperature"],
        "num_predict": params["num_predict"],
        "seed": params["seed"],
    }
    if stop:
        opts["stop"] = list(stop)
    return opts


def body(model: str, prompt: str, opts: dict[str, Any]) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, "stream": False, "options": opts}


def client(endpoints: dict[str, Any]) -> httpx.Client:
    # No overall timeout: the harness bounds the whole process; a long generation is legal.
    return httpx.Client(base_url=endpoints["llm_url"], timeout=httpx.Timeout(None))


def async_client(endpoints: dict[str, Any], connections: int | None = None) -> httpx.AsyncClient:
    """`connections`: the pool's size, one connection per call in flight, all kept alive
    between calls (httpx keeps only 20 alive by default, so a burst of 25 would reconnect
    every time). None: httpx's defaults."""
    limits = (httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
              if connections else httpx.Limits())
    return httpx.AsyncClient(base_url=endpoints["llm_url"], timeout=httpx.Timeout(None),
                             limits=limits)


def _text(response: httpx.Response) -> str:
    if response.is_error:
        # Ollama says what went wrong in an {"error": ...} body: keep it in the message.
        raise RuntimeError(f"{GENERATE_PATH} answered {response.status_code}: "
                           f"{response.text[:300]}")
    return response.json()["response"]


def generate(http: httpx.Client, request: dict[str, Any]) -> str:
    return _text(http.post(GENERATE_PATH, json=request))


async def agenerate(http: httpx.AsyncClient, request: dict[str, Any]) -> str:
    return _text(await http.post(GENERATE_PATH, json=request))
