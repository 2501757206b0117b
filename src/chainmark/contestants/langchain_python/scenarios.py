"""LangChain Python scenario functions: initialise outside the timed region, then time."""

from __future__ import annotations

from typing import Any

from langchain_ollama import OllamaLLM

from chainmark.contestants._protocol import Recorder, ScenarioRef, setup_timer


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
    for _ in range(params["iterations"]):
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
    for _ in range(params["iterations"]):
        with rec.op("stream") as op:
            parts: list[str] = []
            ttft_ns = None
            for chunk in llm.stream(prompt):
                if ttft_ns is None and chunk:
                    ttft_ns = op.since_start_ns()
                parts.append(chunk)
            op.output.update(text="".join(parts), chunks=len(parts), ttft_ns=ttft_ns)
    rec.end()


_RAG = "chainmark.contestants.langchain_python.rag"
_AGENTS = "chainmark.contestants.langchain_python.agents"
_STRESS = "chainmark.contestants.langchain_python.stress"
_OPS = "chainmark.contestants.langchain_python.ops"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": llm_latency,
    "llm.ttft": llm_ttft,
    "rag.split": f"{_RAG}:rag_split",
    "rag.embed": f"{_RAG}:rag_embed",
    "rag.ingest": f"{_RAG}:rag_ingest",
    "rag.retrieve": f"{_RAG}:rag_retrieve",
    "rag.e2e": f"{_RAG}:rag_e2e",
    "agent.single": f"{_AGENTS}:run_agent",
    "agent.multi": f"{_AGENTS}:run_agent",
    "agent.high_freq": f"{_AGENTS}:run_agent",
    "workflow.router": f"{_AGENTS}:workflow_router",
    "stress.concurrent_rag": f"{_STRESS}:concurrent_rag",
    "stress.concurrent_agent": f"{_STRESS}:concurrent_agent",
    "stress.saturation": f"{_STRESS}:saturation",
    "resilience.timeout": f"{_STRESS}:timeout",
    "resilience.tool_failure": f"{_STRESS}:tool_failure",
    "resilience.parse_error": f"{_STRESS}:parse_error",
    "ops.memory": f"{_OPS}:memory",
    "ops.observability": f"{_OPS}:observability",
    # Not a benchmark: the harness calls it, untimed, to fill the collection retrieval reads.
    "rag.prepare": f"{_RAG}:rag_prepare",
}
