"""Plain-Python LLM scenarios: the Ollama HTTP API with httpx and nothing else."""

from __future__ import annotations

import json
from typing import Any

import httpx

from chainmark.contestants._protocol import Recorder, setup_timer


def _body(params: dict[str, Any], endpoints: dict[str, Any], stream: bool) -> dict[str, Any]:
    return {
        "model": endpoints["model"],
        "prompt": params["prompt"],
        "stream": stream,
        "options": {
            "temperature": params["temperature"],
            "num_predict": params["num_predict"],
            "seed": params["seed"],
        },
    }


def _client(endpoints: dict[str, Any]) -> httpx.Client:
    # No overall timeout: the harness bounds the whole process; a long generation is legal.
    return httpx.Client(base_url=endpoints["llm_url"], timeout=httpx.Timeout(None))


def _generate(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/api/generate", json=body)
    response.raise_for_status()
    return response.json()["response"]


def _stream(client: httpx.Client, body: dict[str, Any], op: Any = None) -> list[str]:
    parts: list[str] = []
    with client.stream("POST", "/api/generate", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line:
                continue
            message = json.loads(line)
            if "error" in message:
                raise RuntimeError(message["error"])
            text = message.get("response", "")
            if op is not None and text and "ttft_ns" not in op.output:
                op.output["ttft_ns"] = op.since_start_ns()
            if text:
                parts.append(text)
    return parts


def llm_latency(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        client = _client(endpoints)
        body = _body(params, endpoints, stream=False)
    for _ in range(params["warmup"]):
        _generate(client, body)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("generate") as op:
            op.output["text"] = _generate(client, body)
    rec.end()


def llm_ttft(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        client = _client(endpoints)
        body = _body(params, endpoints, stream=True)
    for _ in range(params["warmup"]):
        _stream(client, body)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("stream") as op:
            parts = _stream(client, body, op)
            op.output.update(text="".join(parts), chunks=len(parts))
    rec.end()
