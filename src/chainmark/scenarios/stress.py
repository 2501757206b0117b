"""Part 4: stress and resilience — concurrent pipelines, a saturated server, a client timeout,
a failing tool, a malformed model reply.

Under concurrency a failed operation is data (counted by kind and shown), a wrong success is
not; the figure is a rate over the whole timed region.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chainmark.harness.server_log import GENERATION_PATHS
from chainmark.scenarios import checks
from chainmark.scenarios.common import (
    MULTI_EXPECT,
    MULTI_QUESTION,
    SAMPLING,
    SINGLE_EXPECT,
    SINGLE_QUESTION,
    SIZED,
    SKY_PROMPT,
    AgentOutput,
    TextOutput,
    ToolCall,
    agent_params,
    react_probe,
)
from chainmark.scenarios.evidence import Evidence
from chainmark.scenarios.spec import (
    ANY_OPERATION,
    OVERHEAD_METRIC,
    OVERHEAD_MODEL,
    PROFILES,
    ModelKind,
    Output,
    Published,
    Scenario,
)

STRESS_QUERIES = [
    "What are the main themes?",
    "Tell me about the introduction.",
    "Is there a conclusion section?",
    "What is the most complex topic discussed?",
]


def tool_call_counts(e: Evidence) -> dict[str, list[float]]:
    return {"tool_calls": [float(len(calls)) for _, op in e.ok_ops()
                           if isinstance(calls := op.output.get("tool_calls"), list)]}


def wave_seconds(e: Evidence) -> dict[str, list[float]]:
    """The timed region over its waves: how long one burst of `concurrency` took, the wall
    time the article gives for its single burst."""
    start, end = e.result.measure_start_ns, e.result.measure_end_ns
    waves = {op.output.get("wave") for op in e.operations}
    if start is None or end is None or end <= start or not waves:
        return {}
    return {"wave_s": [(end - start) / 1e9 / len(waves)]}


def agent_figures(e: Evidence) -> dict[str, list[float]]:
    return tool_call_counts(e) | wave_seconds(e)


WAVE_DESCRIPTION = ("the wave the operation ran in, from 0: waves of `concurrency` "
                    "operations run one after another")

# A burst of simultaneous operations on the zero-latency model lasts a fraction of a second
# (LangChainGo's 25 agents: 0.14-0.2 s), too short for a stable rate: the contestant repeats
# the burst back to back, each a wave of `concurrency` operations, until at least
# `min_duration_s` has passed since the timed region began, so each figure comes from at
# least ~1 s of measured work (as pyperf sizes its loops, the count adapts to each stack and
# model). It starts no wave once the time is reached, runs at least one and at most
# `max_waves`; a real model's burst already lasts longer, so it runs one wave there.
WAVES = {"min_duration_s": 1.0, "max_waves": 1000}


class StressQAOutput(TextOutput):
    query: str = Field(description="the query asked")
    documents: int = Field(description="how many documents were stuffed into the prompt")
    wave: int = Field(description=WAVE_DESCRIPTION)


class StressAgentOutput(AgentOutput):
    wave: int = Field(description=WAVE_DESCRIPTION)


def verify_concurrent_rag(e: Evidence) -> None:
    def each(i: int, op) -> None:  # type: ignore[no-untyped-def]
        checks.equals(e, i, op, "documents", e.params["k"], "documents stuffed into the prompt")
        checks.answer(e, i, op, "answer incomplete")

    checks.timed_waves(e)
    checks.concurrent(e, each)


CONCURRENT_RAG = Scenario(
    name="stress.concurrent_rag",
    baseline_choice=(
        "rag.e2e's retrieve-then-answer on goroutines / asyncio tasks, one client pooled as wide "
        "as `concurrency`, each operation under `timeout_s`, in whole waves"
    ),
    part=4,
    title="50 simultaneous retrieval-QA queries",
    summary="Top-3, 30 s timeout each, in waves of 50 for at least 1 s; wall time, ops/s, "
    "failures.",
    operations={ANY_OPERATION: StressQAOutput},
    verify=verify_concurrent_rag,
    derive=wave_seconds,
    primary_metric="ops_per_s",
    model_kind=ModelKind.OVERHEAD,
    needs_chroma=True,
    needs_corpus=True,
    needs_collection=True,
    concurrent=True,
    throughput=True,
    params={
        profile: {"concurrency": 50, **WAVES, "queries": STRESS_QUERIES, "k": 3,
                  "timeout_s": 30.0, **SAMPLING, "num_predict": 64}
        for profile in PROFILES
    },
    published=(
        # The article's wall time is one burst's: wave_s, not the whole region's wall_s.
        Published("wave_s", "s", 6.5, 18.2),
        Published("ops_per_s", "ops/s", 7.69, 2.75),
    ),
)


def verify_concurrent_agent(e: Evidence) -> None:
    checks.timed_waves(e)
    checks.concurrent(e, lambda i, op: checks.agent_answer(e, i, op))


CONCURRENT_AGENT = Scenario(
    name="stress.concurrent_agent",
    baseline_choice=(
        "the baselines' ReAct loop (see agent.single) on goroutines / asyncio tasks, one client "
        "pooled as wide as `concurrency`, each run under `timeout_s`, in whole waves"
    ),
    part=4,
    title="25 simultaneous multi-hop agents",
    summary="In waves of 25 for at least 1 s; wall time and ops/s.",
    operations={ANY_OPERATION: StressAgentOutput},
    verify=verify_concurrent_agent,
    derive=agent_figures,
    primary_metric="ops_per_s",
    model_kind=ModelKind.OVERHEAD,
    concurrent=True,
    throughput=True,
    params={
        profile: {**agent_params(MULTI_QUESTION, 1), "concurrency": 25, **WAVES,
                  "timeout_s": 60.0}
        for profile in PROFILES
    },
    expect=MULTI_EXPECT,
    scripted_probes=lambda params: [react_probe(params, "SimpleCalculator")],
    published=(
        Published("wave_s", "s", 10.5, 32.1),
        Published("ops_per_s", "ops/s", 2.38, 0.78),
    ),
)


def verify_saturation(e: Evidence) -> None:
    ok = e.ok_ops()
    if not ok:
        e.fail("no request completed")
    for i, op in ok:
        checks.answer(e, i, op, "answer incomplete")
    checks.enough_requests(e, len(ok))
    checks.failed_without_kind(e)


SATURATION = Scenario(
    name="stress.saturation",
    baseline_choice=(
        "`concurrency` workers (goroutines / asyncio tasks) sending non-streamed `/api/generate` "
        "calls for `duration_s`, each under `timeout_s`"
    ),
    part=4,
    title="Saturating the LLM server",
    summary="100 workers for 60 s; completed requests and req/s.",
    operations={ANY_OPERATION: TextOutput},
    verify=verify_saturation,
    primary_metric="ops_per_s",
    model_kind=ModelKind.OVERHEAD,
    concurrent=True,
    throughput=True,
    params={
        "seed": {"concurrency": 100, "duration_s": 60.0, "prompt": SKY_PROMPT, **SAMPLING,
                 "num_predict": 48, "timeout_s": 30.0},
        # quick: 3 s in each of 3 rounds.
        "quick": {"concurrency": 20, "duration_s": 2.0, "prompt": SKY_PROMPT, **SAMPLING,
                  "num_predict": 48, "timeout_s": 30.0},
    },
    published=(
        Published("completed", "requests", 395, 255),
        Published("ops_per_s", "req/s", 6.58, 4.25),
    ),
)


class TimeoutOutput(Output):
    outcome: Literal["completed", "error"] = Field(
        description="`error` when the call failed (the expected outcome), `completed` when it "
        "returned an answer")
    error_kind: str | None = Field(default=None, description="`timeout` for a client timeout")
    error: str | None = Field(default=None, description="the error as the client raised it")
    text: str | None = Field(default=None, description="the answer, if the call completed")


def verify_timeout(e: Evidence) -> None:
    low, high = e.expect["window_s"]
    timed = [(i, op) for i, op in enumerate(e.operations) if op.name == "timeout"]
    if len(timed) != e.params["iterations"]:
        e.fail(f"expected {e.params['iterations']} timed-out calls, got {len(timed)}")
    for i, op in timed:
        outcome, kind = op.output.get("outcome"), op.output.get("error_kind")
        if outcome != "error":
            e.fail(f"operation {i}: the call returned normally ({outcome}) instead of timing out")
        elif kind != "timeout":
            e.fail(f"operation {i}: failed with {kind} ({op.output.get('error')}), not a "
                   "timeout")
        if not low <= op.seconds < high:
            e.fail(f"operation {i}: returned after {op.seconds:.3f} s, outside "
                   f"[{low}, {high}) s")
    health = [(i, op) for i, op in enumerate(e.operations) if op.name == "health"]
    if len(health) != len(timed):
        e.fail("the server's health was not checked after every timeout")
    for i, op in health:
        if not op.ok or not str(op.output.get("text", "")).strip():
            e.fail(f"operation {i}: the server did not answer after the timeout: {op.error}")


def timeout_seconds(e: Evidence) -> dict[str, list[float]]:
    # Every timed-out call counts, whatever the contestant marked it: it is the figure.
    return {"timeout_s": [op.seconds for op in e.operations if op.name == "timeout"]}


TIMEOUT = Scenario(
    name="resilience.timeout",
    baseline_choice=(
        "a deadline around the whole non-streamed call (`context.WithTimeout` / "
        "`asyncio.wait_for`) that cancels the request itself"
    ),
    part=4,
    title="2 s client timeout on a long generation",
    summary="Must fail with a timeout error within [2.0, 2.5) s.",
    operations={"timeout": TimeoutOutput, "health": TextOutput},
    verify=verify_timeout,
    serves={"timeout": GENERATION_PATHS, "health": GENERATION_PATHS},
    derive=timeout_seconds,
    primary_metric="timeout_s",
    params={
        # num_predict bounds the abandoned generation so the server is free again soon.
        profile: {"prompt": "Tell me a long story about the history of the internet.",
                  "client_timeout_s": 2.0, "iterations": n, **SAMPLING, "num_predict": 600}
        for profile, n in (("seed", 5), ("quick", 3))
    },
    expect={"window_s": [2.0, 2.5]},
    published=(Published("timeout_s", "s", 2.0015, 2.0081),),
)


class AgentOutcome(Output):
    """An agent run that may end in an error on purpose: what it said either way."""

    error: str | None = Field(default=None, description="the error, when it stopped")
    error_kind: str | None = Field(default=None, description="the error's type")
    text: str | None = Field(default=None, description="the answer, when it answered")
    tool_calls: list[ToolCall] | None = Field(
        default=None, description="the tool calls, when it answered (parse failures left out)")
    counter: int | None = Field(default=None, description="the CounterTool's final value")


class ToolFailureOutput(AgentOutcome):
    outcome: Literal["surfaced", "recovered"] = Field(
        description="`surfaced`: the agent raised the tool's error; `recovered`: it answered")


def verify_tool_failure(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        if op.output["outcome"] == "surfaced":
            if e.params["failure_message"] not in str(op.output.get("error") or ""):
                e.fail(f"operation {i}: surfaced an error that is not the tool's: "
                       f"{op.output.get('error')!r}")
        elif not str(op.output.get("text") or "").strip():
            e.fail(f"operation {i}: recovered but gave no answer")


TOOL_FAILURE = Scenario(
    name="resilience.tool_failure",
    baseline_choice=(
        "the ReAct loop of agent.single; the tool's error ends the run and is reported as surfaced"
    ),
    part=4,
    title="A tool that raises",
    summary="The agent surfaces or recovers; never hangs or crashes.",
    operations={ANY_OPERATION: ToolFailureOutput},
    verify=verify_tool_failure,
    serves={ANY_OPERATION: GENERATION_PATHS},
    headline_metric=OVERHEAD_METRIC,
    model_kind=ModelKind.SCRIPTED,
    # The article published no figure here: quick checks the behaviour on the zero-latency
    # model (a sized loop), where the paced one would add seconds of sleep per run.
    profile_models={"quick": OVERHEAD_MODEL},
    params={
        profile: {**agent_params(SINGLE_QUESTION, n, warmup), **SIZED, "failing_tool": "word",
                  "failure_message": "simulated tool failure"}
        for profile, n, warmup in (("seed", 10, 1), ("quick", 3, 1))
    },
    scripted_probes=lambda params: [react_probe(params, "WordLengthTool")],
)


class ParseErrorOutput(AgentOutcome):
    outcome: Literal["recovered", "error"] = Field(
        description="`recovered`: the agent answered despite the malformed reply; `error`: "
        "it stopped with a clear error")
    parse_errors: int | None = Field(
        default=None, description="how many model replies the framework could not parse")


def verify_parse_error(e: Evidence) -> None:
    checks.operations(e)
    malformed = e.model.startswith("synthetic-malformed")
    for i, op in e.ok_ops():
        if op.output["outcome"] == "recovered":
            checks.agent_answer(e, i, op)
            if malformed and not op.output.get("parse_errors"):
                e.fail(f"operation {i}: the malformed reply was never reported as a parse "
                       "error")
        elif not str(op.output.get("error") or "").strip():
            e.fail(f"operation {i}: failed without a clear error")


PARSE_ERROR = Scenario(
    name="resilience.parse_error",
    baseline_choice=(
        "the ReAct loop of agent.single; the parser's feedback goes back to the model as the "
        "observation"
    ),
    part=4,
    title="Malformed agent output",
    summary="The framework recovers or returns a clear error.",
    operations={ANY_OPERATION: ParseErrorOutput},
    verify=verify_parse_error,
    serves={ANY_OPERATION: GENERATION_PATHS},
    headline_metric=OVERHEAD_METRIC,
    model_kind=ModelKind.SCRIPTED,
    # The scripted model's first reply in every run lacks its Action Input line.
    default_model_override="synthetic-malformed:smollm2-cpu",
    profile_models={"quick": "synthetic-malformed"},
    params={
        profile: {**agent_params(SINGLE_QUESTION, n, warmup), **SIZED,
                  "handle_parsing_errors": True}
        for profile, n, warmup in (("seed", 10, 1), ("quick", 3, 1))
    },
    expect={"answer_contains": SINGLE_EXPECT["answer_contains"]},
    # The probes ask the well-formed family: the malformed one breaks its first reply on
    # purpose, after recognising the same prompt.
    scripted_probes=lambda params: [react_probe(params, "WordLengthTool")],
)

SCENARIOS = (CONCURRENT_RAG, CONCURRENT_AGENT, SATURATION, TIMEOUT, TOOL_FAILURE, PARSE_ERROR)
