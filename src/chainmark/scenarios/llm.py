"""Part 1: the core LLM call — latency of a whole answer, and time to the first token."""

from __future__ import annotations

from pydantic import Field

from chainmark.scenarios import checks
from chainmark.scenarios.common import LONG_PROMPT, SKY_PROMPT, TextOutput, llm_params
from chainmark.scenarios.evidence import Evidence
from chainmark.scenarios.spec import ANY_OPERATION, OVERHEAD_METRIC, Published, Scenario


def verify_latency(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        checks.answer(e, i, op, "answer incomplete")


class StreamOutput(TextOutput):
    text: str = Field(description="the whole streamed answer, every chunk joined")
    chunks: int = Field(description="how many chunks were read from the stream")
    ttft_ns: int = Field(description="monotonic time from the call to the first non-empty "
                         "chunk, in nanoseconds")


def verify_ttft(e: Evidence) -> None:
    checks.operations(e)
    for i, op in e.ok_ops():
        ttft = op.output["ttft_ns"]
        if ttft <= 0:
            e.fail(f"operation {i}: no time to first token reported")
        elif ttft > op.elapsed_ns:
            e.fail(f"operation {i}: first token after the stream ended")
        if op.output["chunks"] < 1:
            e.fail(f"operation {i}: no chunks received")
        checks.answer(e, i, op, "stream not consumed to the end")


def ttft_seconds(e: Evidence) -> dict[str, list[float]]:
    return {"ttft_s": [op.output["ttft_ns"] / 1e9 for _, op in e.ok_ops()]}


LATENCY = Scenario(
    name="llm.latency",
    baseline_choice=(
        "one non-streamed `/api/generate` per call on one keep-alive HTTP client"
    ),
    part=1,
    title="Single-turn completion latency",
    summary="`Why is the sky blue?` through one reused client; latency per call.",
    operations={ANY_OPERATION: TextOutput},
    verify=verify_latency,
    headline_metric=OVERHEAD_METRIC,
    params={
        # seed: the article's 200 calls; num_predict -1 lets the model answer in full.
        "seed": llm_params(200, 3, -1, prompt=SKY_PROMPT),
        # quick: bounded answers keep the real model at seconds per scenario on 2 cores; one
        # call in each of the 3 rounds (the figure's interval is over rounds).
        "quick": llm_params(3, 1, 48, prompt=SKY_PROMPT),
    },
    published=(
        Published("latency_s", "s", 0.9992, 1.19076, "mean; std Go 28.5 ms, Python 89.31 ms"),
    ),
)

TTFT = Scenario(
    name="llm.ttft",
    baseline_choice=(
        "`/api/generate` streamed, NDJSON read line by line to the `done` message; the first token "
        "is the first non-empty chunk"
    ),
    part=1,
    title="Streaming time to first token",
    summary="A long prompt, streamed; time to the first non-empty chunk, stream consumed.",
    operations={ANY_OPERATION: StreamOutput},
    verify=verify_ttft,
    derive=ttft_seconds,
    primary_metric="ttft_s",
    headline_metric=OVERHEAD_METRIC,
    params={
        "seed": llm_params(200, 3, -1, prompt=LONG_PROMPT),
        "quick": llm_params(3, 1, 24, prompt=LONG_PROMPT),
    },
    published=(Published("ttft_s", "s", 0.14075, 0.21337, "mean TTFT"),),
)

SCENARIOS = (LATENCY, TTFT)
