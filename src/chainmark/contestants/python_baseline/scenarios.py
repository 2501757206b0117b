"""The framework-free contestant's dispatch table: scenario name -> "module:function".

Only names here, nothing imported: `--scenarios` lists this table without importing httpx.
"""

from __future__ import annotations

from chainmark.contestants._protocol import ScenarioRef

_LLM = "chainmark.contestants.python_baseline.llm"
_RAG = "chainmark.contestants.python_baseline.rag"
_STRESS = "chainmark.contestants.python_baseline.stress"
_OPS = "chainmark.contestants.python_baseline.ops"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": f"{_LLM}:llm_latency",
    "llm.ttft": f"{_LLM}:llm_ttft",
    "rag.split": f"{_RAG}:rag_split",
    "rag.embed": f"{_RAG}:rag_embed",
    "rag.ingest": f"{_RAG}:rag_ingest",
    "rag.retrieve": f"{_RAG}:rag_retrieve",
    "rag.e2e": f"{_RAG}:rag_e2e",
    "stress.concurrent_rag": f"{_STRESS}:concurrent_rag",
    "stress.saturation": f"{_STRESS}:saturation",
    "ops.memory": f"{_OPS}:memory",
    # Not a benchmark: the harness calls it, untimed, to fill the collection retrieval reads.
    "rag.prepare": f"{_RAG}:rag_prepare",
}
