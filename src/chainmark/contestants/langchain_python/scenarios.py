"""LangChain Python's dispatch table: scenario name -> "module:function".

Only names here, nothing imported: a scenario's module (and LangChain with it) is imported
when that scenario runs, and `--scenarios` lists this table without importing LangChain.
"""

from __future__ import annotations

from chainmark.contestants._protocol import ScenarioRef

_LLM = "chainmark.contestants.langchain_python.llm"
_RAG = "chainmark.contestants.langchain_python.rag"
_AGENTS = "chainmark.contestants.langchain_python.agents"
_STRESS = "chainmark.contestants.langchain_python.stress"
_OPS = "chainmark.contestants.langchain_python.ops"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": f"{_LLM}:llm_latency",
    "llm.ttft": f"{_LLM}:llm_ttft",
    "rag.split": "chainmark.contestants.langchain_python.split:rag_split",
    "rag.embed": "chainmark.contestants.langchain_python.embed:rag_embed",
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
