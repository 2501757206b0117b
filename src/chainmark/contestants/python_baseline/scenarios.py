"""The framework-free contestant's dispatch table: scenario name -> "module:function".

Only names here, nothing imported: `--scenarios` lists this table without importing httpx.
"""

from __future__ import annotations

from chainmark.contestants._protocol import ScenarioRef

_LLM = "chainmark.contestants.python_baseline.llm"
_AGENTS = "chainmark.contestants.python_baseline.agents"
_RESILIENCE = "chainmark.contestants.python_baseline.resilience"

SCENARIOS: dict[str, ScenarioRef] = {
    "llm.latency": f"{_LLM}:llm_latency",
    "llm.ttft": f"{_LLM}:llm_ttft",
    "agent.single": f"{_AGENTS}:run_agent",
    "agent.multi": f"{_AGENTS}:run_agent",
    "agent.high_freq": f"{_AGENTS}:run_agent",
    "workflow.router": f"{_AGENTS}:workflow_router",
    "stress.concurrent_agent": f"{_AGENTS}:concurrent_agent",
    "resilience.timeout": f"{_RESILIENCE}:timeout",
    "resilience.tool_failure": f"{_RESILIENCE}:tool_failure",
    "resilience.parse_error": f"{_RESILIENCE}:parse_error",
}
