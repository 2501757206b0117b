"""The framework-free contestant's dispatch table: scenario name -> "module:function".

Only names here, nothing imported: `--scenarios` lists this table without importing httpx.
"""

from __future__ import annotations

from chainmark.contestants._protocol import ScenarioRef

_LLM = "chainmark.contestants.python_baseline.llm"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": f"{_LLM}:llm_latency",
    "llm.ttft": f"{_LLM}:llm_ttft",
}
