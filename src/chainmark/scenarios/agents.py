"""Part 3: ReAct agents and a router workflow, played by the scripted synthetic model (a
135M model cannot follow a ReAct prompt). Every tool observation is recomputed by the
harness, and every LLM call is counted on the server's side."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chainmark.harness.server_log import GENERATION_PATHS, within
from chainmark.scenarios import checks
from chainmark.scenarios.common import (
    COUNT_EXPECT,
    COUNT_QUESTION,
    MULTI_EXPECT,
    MULTI_QUESTION,
    SAMPLING,
    SINGLE_EXPECT,
    SINGLE_QUESTION,
    SIZED,
    AgentOutput,
    TextOutput,
    agent_params,
    react_probe,
)
from chainmark.scenarios.evidence import Evidence
from chainmark.scenarios.spec import (
    ANY_OPERATION,
    OVERHEAD_METRIC,
    OVERHEAD_MODEL,
    ModelKind,
    Published,
    Scenario,
    ScriptedProbe,
)


def server_llm_calls(e: Evidence) -> dict[str, list[float]]:
    """LLM calls per operation as the server counted them, not as the contestant claims."""
    if e.server is None:
        return {}
    server = e.server
    return {"llm_calls": [
        float(sum(r.path in GENERATION_PATHS for r in within(server, op.start_ns, op.end_ns)))
        for _, op in e.ok_ops()
    ]}


def agent_metrics(e: Evidence) -> dict[str, list[float]]:
    return {**server_llm_calls(e),
            "tool_calls": [float(len(op.output["tool_calls"])) for _, op in e.ok_ops()]}


def verify_agent(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        checks.agent_answer(e, i, op)
        calls = op.output["tool_calls"]
        llm_calls = e.served(op, GENERATION_PATHS)
        if llm_calls is not None and len(llm_calls) < len(calls) + 1:
            e.fail(f"operation {i}: {len(calls)} tool calls but only {len(llm_calls)} LLM "
                   "calls reached the server")


# quick runs the agents on the zero-latency model, sized: 4 contestants × 3 rounds of the
# paced model's seconds of sleep per run would take minutes and add nothing the overhead does
# not show; seed runs them paced, and only paced runs are set beside the article's times.
QUICK_ON_ZERO_LATENCY = {"quick": OVERHEAD_MODEL}


# How both baselines run an agent (python-baseline and go-baseline alike).
REACT_BASELINE = (
    "a ReAct loop written for the baseline: the scenario's prompt with each tool as a `Name: "
    "description` line, the classic scratchpad (reply, `Observation: …`, `Thought: `), stop "
    "`\\nObservation`, LangChain's parser rules and parse-error feedback, the classic "
    "iteration-limit answer; one non-streamed `/api/generate` per step on one keep-alive client"
)


def _agent(name: str, title: str, summary: str, question: str, counts: dict[str, int],
           expect: dict[str, Any], published: Published, first_tool: str) -> Scenario:
    return Scenario(
        name=name,
        part=3,
        baseline_choice=REACT_BASELINE,
        title=title,
        summary=summary,
        operations={ANY_OPERATION: AgentOutput},
        verify=verify_agent,
        derive=agent_metrics,
        headline_metric=OVERHEAD_METRIC,
        model_kind=ModelKind.SCRIPTED,
        profile_models=QUICK_ON_ZERO_LATENCY,
        params={"seed": {**agent_params(question, counts["seed"]), **SIZED},
                "quick": {**agent_params(question, counts["quick"]), **SIZED}},
        expect=expect,
        published=(published,),
        scripted_probes=lambda params: [react_probe(params, first_tool)],
    )


SINGLE = _agent("agent.single", "ReAct agent, one tool call",
                "Character length of 'phenomenon' (10).", SINGLE_QUESTION,
                {"seed": 20, "quick": 3}, SINGLE_EXPECT, Published("latency_s", "s", 1.95, 3.05),
                "WordLengthTool")
MULTI = _agent("agent.multi", "ReAct agent, two tools",
               "25 x 4 and the length of 'knowledge' (100 and 9).", MULTI_QUESTION,
               {"seed": 20, "quick": 3}, MULTI_EXPECT, Published("latency_s", "s", 3.98, 6.88),
               "SimpleCalculator")
HIGH_FREQ = _agent("agent.high_freq", "ReAct agent, five counter calls",
                   "Count from 1 to 5 with CounterTool.", COUNT_QUESTION,
                   {"seed": 20, "quick": 3}, COUNT_EXPECT,
                   Published("latency_s", "s", 9.12, 18.51), "CounterTool")


# The router's queries and the route each must take.
ROUTER_QUERIES = {"What is 15 * 12?": "math", "Write a haiku about a sunset.": "prose"}
ROUTER = {
    "router_prompt": 'Given the user query, classify it as either "math" or "prose". '
    "Respond with only one of these two words.\nQuery: {input}",
    "math_prompt": "Evaluate this math expression: {input}",
    "prose_prompt": "Write a creative piece based on this prompt: {input}",
    "queries": list(ROUTER_QUERIES),
    **SAMPLING,
    "num_predict": 64,
}


class RouteOutput(TextOutput):
    query: str = Field(description="the query routed")
    route: str = Field(description="the route the router chose: `math` or `prose`")


def verify_router(e: Evidence) -> None:
    checks.operations(e, per_iteration=len(e.params["queries"]))
    routes = e.expect["routes"]
    for i, op in e.ok_ops():
        query, route = op.output["query"], op.output["route"]
        if query not in routes:
            e.fail(f"operation {i}: unknown query {query!r}")
            continue
        if route != routes[query]:
            e.fail(f"operation {i}: {query!r} routed to {route!r}, expected {routes[query]!r}")
        if not op.output["text"].strip():
            e.fail(f"operation {i}: empty answer")
        llm_calls = e.served(op, GENERATION_PATHS)
        if llm_calls is not None and len(llm_calls) != 2:
            e.fail(f"operation {i}: expected 2 LLM calls (router, chain), the server saw "
                   f"{len(llm_calls)}")


# What the math chain must answer for the router's math query.
MATH_ANSWER = "The answer is 180."


def router_probes(params: dict[str, Any]) -> list[ScriptedProbe]:
    """The router must label each query with its route, and the math chain must answer."""
    probes = [ScriptedProbe(params["router_prompt"].format(input=query), (route,),
                            "router_prompt")
              for query, route in ROUTER_QUERIES.items()]
    math_query = next(q for q, route in ROUTER_QUERIES.items() if route == "math")
    probes.append(ScriptedProbe(params["math_prompt"].format(input=math_query),
                                (MATH_ANSWER,), "math_prompt"))
    return probes


def per_route(e: Evidence) -> dict[str, list[float]]:
    """The two routes are different workloads (a one-word label then an arithmetic answer, or
    a creative piece): each gets its own latency, never one pooled distribution."""
    values = server_llm_calls(e)
    for route in dict.fromkeys(ROUTER_QUERIES.values()):
        values[f"{route}_latency_s"] = [op.seconds for _, op in e.ok_ops()
                                        if op.output["route"] == route]
    return values


ROUTER_SCENARIO = Scenario(
    name="workflow.router",
    profile_models=QUICK_ON_ZERO_LATENCY,
    baseline_choice=(
        "two non-streamed `/api/generate` calls: the router prompt, then the chosen route's; "
        "`math` when the label starts with it, else prose"
    ),
    part=3,
    title="Router chain to a math or prose chain",
    summary="Two queries, route verified; LLM-only time and framework overhead.",
    operations={ANY_OPERATION: RouteOutput},
    verify=verify_router,
    derive=per_route,
    headline_metric=OVERHEAD_METRIC,
    model_kind=ModelKind.SCRIPTED,
    params={
        "seed": {**ROUTER, "iterations": 20, "warmup": 1, **SIZED},
        "quick": {**ROUTER, "iterations": 3, "warmup": 1, **SIZED},
    },
    expect={"routes": ROUTER_QUERIES},
    scripted_probes=router_probes,
    published=(Published("latency_s", "s", 1.402, 2.153, "Go overhead 2.0 ms"),),
)

SCENARIOS = (SINGLE, MULTI, HIGH_FREQ, ROUTER_SCENARIO)
