"""Part 5: operational cost — memory over a long conversation, and what tracing costs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from chainmark.contract import Operation
from chainmark.harness.server_log import GENERATION_PATHS, within
from chainmark.scenarios import checks
from chainmark.scenarios.common import (
    MULTI_EXPECT,
    MULTI_QUESTION,
    SAMPLING,
    AgentOutput,
    TextOutput,
    agent_params,
    react_probe,
)
from chainmark.scenarios.evidence import Evidence
from chainmark.scenarios.spec import (
    ANY_OPERATION,
    OVERHEAD_METRIC,
    ModelKind,
    Output,
    Published,
    Scenario,
)

CONVERSATION = {
    "first_turn": "My name is John.",
    "next_turn": "That's interesting. Can you tell me more about the last thing you said? "
    "My name is still John.",
    **SAMPLING,
    "tracemalloc": True,
}


class TurnOutput(TextOutput):
    turn: int = Field(description="the turn's number, from 1")
    history_chars: int = Field(description="characters of history the buffer memory holds "
                               "after the turn")
    tracemalloc_current_bytes: int | None = Field(
        default=None, description="Python only, when `tracemalloc` is asked: traced memory")
    tracemalloc_peak_bytes: int | None = None


def verify_memory(e: Evidence) -> None:
    if len(e.operations) != e.params["turns"]:
        e.fail(f"expected {e.params['turns']} turns, got {len(e.operations)}")
    for i, op in enumerate(e.operations):
        if not op.ok:
            e.fail(f"turn {i + 1} failed: {op.error}")
        elif not op.output["text"].strip():
            e.fail(f"turn {i + 1}: empty answer")
    history = [op.output["history_chars"] for _, op in e.ok_ops()]
    if history != sorted(history):
        e.fail("the buffer memory shrank: the whole history must be kept")


def checkpoint_latency(e: Evidence) -> dict[str, list[float]]:
    marks = set(e.params["checkpoints"])
    return {f"turn{op.output['turn']}_latency_s": [op.seconds] for _, op in e.ok_ops()
            if op.output["turn"] in marks}


def checkpoint_rows(e: Evidence) -> dict[str, list[dict[str, Any]]]:
    """Latency, prompt size (as the server counted it) and memory at each checkpoint."""
    marks = set(e.params["checkpoints"])
    rows = []
    for _, op in e.ok_ops():
        if op.output["turn"] not in marks:
            continue
        prompt_tokens = None
        if e.server is not None:
            seen = [r for r in within(e.server, op.start_ns, op.end_ns)
                    if r.path in GENERATION_PATHS]
            if seen:
                prompt_tokens = seen[-1].raw.get("prompt_eval_count")
        rows.append({
            "turn": op.output["turn"],
            "latency_s": op.seconds,
            "prompt_tokens": prompt_tokens,
            "history_chars": op.output["history_chars"],
            "rss_bytes": e.rss_at(op.end_ns) if e.rss_at else None,
            "tracemalloc_current_bytes": op.output.get("tracemalloc_current_bytes"),
            "tracemalloc_peak_bytes": op.output.get("tracemalloc_peak_bytes"),
        })
    return {"checkpoints": rows}


MEMORY = Scenario(
    name="ops.memory",
    baseline_choice=(
        "the conversation buffer is a list / slice of turns rendered into the classic conversation "
        "prompt every turn; one non-streamed `/api/generate` per turn"
    ),
    part=5,
    title="100-turn conversation with buffer memory",
    summary="Checkpoints at turns 1, 10, 50, 100: latency and memory.",
    operations={ANY_OPERATION: TurnOutput},
    verify=verify_memory,
    serves={ANY_OPERATION: GENERATION_PATHS},
    derive=checkpoint_latency,
    series=checkpoint_rows,
    # Its memory is in the view's resources table (peak RSS, RSS growth over the conversation).
    headline_metric=OVERHEAD_METRIC,
    params={
        "seed": {**CONVERSATION, "turns": 100, "checkpoints": [1, 10, 50, 100],
                 "num_predict": 64},
        # quick: the real model re-reads the growing history every turn, and each of the 3
        # rounds holds the whole conversation, so few turns.
        "quick": {**CONVERSATION, "turns": 3, "checkpoints": [1, 2, 3], "num_predict": 24},
    },
    published=(Published("turn100_latency_s", "s", 11.25, 19.86),),
)


class ObservedAgentOutput(AgentOutput):
    wave: int = Field(description="the wave the run belongs to within its phase, from 0: "
                      "waves of `concurrency` agents run one after another")


class Phase(Output):
    mode: str = Field(description="the handler mode of the phase: one of params.modes")
    start_ns: int = Field(description="wall-clock epoch ns when the phase began")
    end_ns: int = Field(description="wall-clock epoch ns when its last agent finished")
    # Optional in the schema only so older results still parse; the verifier requires it.
    waves: int | None = Field(default=None, description="how many waves of `concurrency` "
                              "agents the phase ran, one after another (required by the "
                              "verifier)")
    events: int | None = Field(default=None, description="events the handler saw (logging, "
                               "otel)")
    spans: int | None = Field(default=None, description="spans exported (otel)")


class ObservabilityOutputs(Output):
    phases: list[Phase] = Field(description="one entry per phase, in the order run")


def _inside(e: Evidence, phase: dict[str, Any]) -> list[tuple[int, Operation]]:
    """The phase's operations (failed ones included): its mode, begun within it."""
    start, end = int(phase["start_ns"]), int(phase["end_ns"])
    return [(i, op) for i, op in enumerate(e.operations)
            if op.name == phase["mode"] and start <= op.start_ns <= end]


def verify_observability(e: Evidence) -> None:
    modes = e.params["modes"]
    phases = e.result.outputs.get("phases") or []
    placed: set[int] = set()
    for n, phase in enumerate(phases):
        where = f"phase {n} ({phase.get('mode')})"
        waves = phase.get("waves")
        if isinstance(waves, bool) or not isinstance(waves, int) or waves < 1:
            e.fail(f"{where}: waves must be the number of waves it ran (at least 1), got "
                   f"{waves!r}")
            continue
        inside = _inside(e, phase)
        placed.update(i for i, _ in inside)
        rule = checks.Waves(e.params["concurrency"], e.params["min_phase_s"],
                            e.params["max_waves"], "min_phase_s", where)
        seen = checks.waves(e, inside, rule, int(phase["start_ns"]), int(phase["end_ns"]))
        if seen and seen != waves:
            e.fail(f"{where} says it ran {waves} waves, its operations show {seen}")
    if stray := [i for i in range(len(e.operations)) if i not in placed]:
        e.fail(f"{len(stray)} operations lie in no phase of their mode (the first: operation "
               f"{stray[0]})")
    checks.concurrent(e, lambda i, op: checks.agent_answer(e, i, op))
    for mode in modes:
        seen = [p for p in phases if p.get("mode") == mode]
        if len(seen) != e.params["rounds"]:
            e.fail(f"expected {e.params['rounds']} {mode} phases, got {len(seen)}")
        if mode != "bare" and any(not p.get("events") for p in seen):
            e.fail(f"the {mode} handler saw no events: it was not attached")


def handler_cost(e: Evidence) -> dict[str, list[float]]:
    """Per mode: throughput over its phases (every wave of each), CPU seconds, and change
    against bare in %."""
    per_mode: dict[str, dict[str, float]] = {}
    for phase in e.result.outputs.get("phases") or []:
        mode, start, end = phase["mode"], int(phase["start_ns"]), int(phase["end_ns"])
        inside = [op for _, op in _inside(e, phase) if op.ok]
        totals = per_mode.setdefault(mode, {"ops": 0.0, "wall": 0.0, "cpu": 0.0, "lat": 0.0})
        totals["ops"] += len(inside)
        totals["wall"] += (end - start) / 1e9
        totals["cpu"] += (e.cpu_between(start, end) if e.cpu_between else None) or 0.0
        totals["lat"] += sum(op.seconds for op in inside)
    values: dict[str, list[float]] = {}
    for mode, t in per_mode.items():
        if t["wall"] > 0:
            values[f"{mode}_ops_per_s"] = [t["ops"] / t["wall"]]
            values[f"{mode}_cpu_s"] = [t["cpu"]]
    bare = per_mode.get("bare")
    for mode, t in per_mode.items():
        if mode == "bare" or not bare or not bare["ops"] or not t["ops"] or not t["wall"]:
            continue
        bare_rate, rate = bare["ops"] / bare["wall"], t["ops"] / t["wall"]
        values[f"{mode}_throughput_change_pct"] = [100.0 * (rate / bare_rate - 1.0)]
        bare_lat, lat = bare["lat"] / bare["ops"], t["lat"] / t["ops"]
        values[f"{mode}_latency_change_pct"] = [100.0 * (lat / bare_lat - 1.0)]
        if bare["cpu"] > 0:
            values[f"{mode}_cpu_change_pct"] = [100.0 * (t["cpu"] / bare["cpu"] - 1.0)]
    return values


OBSERVABILITY = Scenario(
    name="ops.observability",
    baseline_choice=(
        "hooks at the run's, each model call's and each tool call's start and end (plus actions "
        "and the finish), fewer events than LangChain's nested callbacks; logging: the standard "
        "logger (`logging` / `log/slog`) to a file; tracing: Python the OpenTelemetry SDK with an "
        "in-memory exporter, Go a span recorder in OpenTelemetry's model written with the standard "
        "library (the SDK is a third-party module) — the one choice that differs by language"
    ),
    part=5,
    title="Callback-handler overhead on concurrent agents",
    summary="Bare vs. logging handler vs. OpenTelemetry, phases of repeated 25-agent bursts: "
    "throughput, latency, CPU.",
    operations={ANY_OPERATION: ObservedAgentOutput},
    outputs=ObservabilityOutputs,
    verify=verify_observability,
    derive=handler_cost,
    primary_metric="logging_throughput_change_pct",
    model_kind=ModelKind.OVERHEAD,
    concurrent=True,
    params={
        profile: {**agent_params(MULTI_QUESTION, 1), "concurrency": 25, "rounds": n,
                  "min_phase_s": min_phase_s, "max_waves": 1000,
                  "modes": ["bare", "logging", "otel"], "timeout_s": 60.0}
        # One burst of 25 zero-latency agents lasts tens of milliseconds in Go, and the
        # logging handler's cost swung from -1 % to -25 % between runs: each phase repeats
        # its burst back to back (waves) until it has lasted `min_phase_s` (at least one
        # wave, at most `max_waves`), and several rounds keep one noisy phase from deciding
        # the figure.
        # quick: two rounds of phases per process: with one, LangChain Python's phase is a
        # single wave and the change flipped verdicts between two runs.
        for profile, n, min_phase_s in (("seed", 10, 1.0), ("quick", 2, 0.3))
    },
    expect=MULTI_EXPECT,
    scripted_probes=lambda params: [react_probe(params, "SimpleCalculator")],
    published=(
        Published("logging_throughput_change_pct", "%", -3.43, -35.11),
        Published("logging_latency_change_pct", "%", None, 53.0),
        Published("logging_cpu_change_pct", "%", None, 92.0),
    ),
)

SCENARIOS = (MEMORY, OBSERVABILITY)
