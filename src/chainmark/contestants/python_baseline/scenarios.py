"""The framework-free contestant's dispatch table: scenario name -> "module:function".

Only names here, nothing imported: `--scenarios` lists this table without importing httpx.
"""

from __future__ import annotations

from chainmark.contestants._protocol import ScenarioRef

_LLM = "chainmark.contestants.python_baseline.llm"
_RAG = "chainmark.contestants.python_baseline.rag"
_AGENTS = "chainmark.contestants.python_baseline.agents"
_STRESS = "chainmark.contestants.python_baseline.stress"
_RESILIENCE = "chainmark.contestants.python_baseline.resilience"
_OPS = "chainmark.contestants.python_baseline.ops"
_OBSERVABILITY = "chainmark.contestants.python_baseline.observability"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": f"{_LLM}:llm_latency",
    "llm.ttft": f"{_LLM}:llm_ttft",
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
    "stress.concurrent_agent": f"{_AGENTS}:concurrent_agent",
    "stress.saturation": f"{_STRESS}:saturation",
    "resilience.timeout": f"{_RESILIENCE}:timeout",
    "resilience.tool_failure": f"{_RESILIENCE}:tool_failure",
    "resilience.parse_error": f"{_RESILIENCE}:parse_error",
    "ops.memory": f"{_OPS}:memory",
    "ops.observability": f"{_OBSERVABILITY}:observability",
    # Not a benchmark: the harness calls it, untimed, to fill the collection retrieval reads.
    "rag.prepare": f"{_RAG}:rag_prepare",
}
