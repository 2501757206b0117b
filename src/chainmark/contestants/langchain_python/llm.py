"""LLM scenarios with OllamaLLM, the article's client: set up untimed, then time each call."""

from __future__ import annotations

from typing import Any

from langchain_ollama import OllamaLLM

from chainmark.contestants._protocol import Recorder, setup_timer


def llm_for(params: dict[str, Any], endpoints: dict[str, Any]) -> OllamaLLM:
    """The article's client: OllamaLLM with the scenario's sampling options."""
    return OllamaLLM(
        model=endpoints["model"],
        base_url=endpoints["llm_url"],
        temperature=params["temperature"],
        num_predict=params["num_predict"],
        seed=params["seed"],
    )


def llm_latency(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        llm = llm_for(params, endpoints)
    prompt = params["prompt"]
    for _ in range(params["warmup"]):
        llm.invoke(prompt)
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("invoke") as op:
            op.output["text"] = llm.invoke(prompt)
    rec.end()


def llm_ttft(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        llm = llm_for(params, endpoints)
    prompt = params["prompt"]
    for _ in range(params["warmup"]):
        for _chunk in llm.stream(prompt):
            pass
    rec.begin()
    for _ in rec.iterations(params):
        with rec.op("stream") as op:
            parts: list[str] = []
            ttft_ns = None
            for chunk in llm.stream(prompt):
                if ttft_ns is None and chunk:
                    ttft_ns = op.since_start_ns()
                parts.append(chunk)
            op.output.update(text="".join(parts), chunks=len(parts), ttft_ns=ttft_ns)
    rec.end()
