"""Concurrent scenarios repeat their burst in waves until the timed region (or, for
ops.observability, each phase) has lasted its minimum: the harness's verifier holds a
contestant to it. Results are built here by hand and verified as the harness verifies them
(no process runs), and the Python contestant's wave loop is run on its own."""

from __future__ import annotations

import asyncio
import time

import pytest

from chainmark.contract import ContestantResult, Operation
from chainmark.harness import metrics
from chainmark.harness.verify import verify
from chainmark.scenarios import get
from chainmark.scenarios.evidence import Evidence

MS = 1_000_000
S = 1_000_000_000
ANSWER = {
    "text": "25 multiplied by 4 is 100, and 'knowledge' has 9 characters.",
    "tool_calls": [{"tool": "SimpleCalculator", "input": "25*4", "observation": "100"},
                   {"tool": "WordLengthTool", "input": "knowledge", "observation": "9"}],
    "counter": 0,
}


def _wave_ops(name: str, concurrency: int, waves: int, wave_ns: int, start_ns: int = 0,
              **output: object) -> list[Operation]:
    """`waves` bursts of `concurrency` operations, each lasting `wave_ns`, back to back."""
    ops = []
    for w in range(waves):
        begin = start_ns + w * wave_ns
        for _ in range(concurrency):
            end = begin + wave_ns - MS
            ops.append(Operation(name=name, start_ns=begin, end_ns=end, elapsed_ns=end - begin,
                                 output={**ANSWER, **output, "wave": w}))
    return ops


def _result(scenario: str, ops: list[Operation], end_ns: int | None = None,
            outputs: dict | None = None) -> ContestantResult:
    return ContestantResult(
        contract=2, contestant="t", scenario=scenario, language="x", runtime="x",
        operations=ops, measure_start_ns=0,
        measure_end_ns=end_ns if end_ns is not None else max(op.end_ns for op in ops) + MS,
        outputs=outputs or {})


def _params(scenario: str, **changes: object) -> dict:
    return get(scenario).params_for("quick") | changes


def _problems(result: ContestantResult, params: dict) -> list[str]:
    scenario = get(result.scenario)
    return verify(scenario, Evidence(result=result, params=params, server=None, model="synthetic",
                                     expect=scenario.expect, concurrent=scenario.concurrent))


AGENT = "stress.concurrent_agent"


def test_the_defaults_ask_for_a_second_of_work_in_waves() -> None:
    for name in (AGENT, "stress.concurrent_rag"):
        for profile in ("quick", "seed"):
            params = get(name).params_for(profile)
            assert params["min_duration_s"] == 1.0 and params["max_waves"] == 1000
    obs = get("ops.observability")
    assert obs.params_for("quick")["min_phase_s"] == 0.3
    assert obs.params_for("seed")["min_phase_s"] == 1.0


def test_whole_waves_lasting_the_minimum_pass_and_give_the_time_per_wave() -> None:
    # 4 waves of 3 agents, 300 ms each: the minimum (1 s) was passed during the fourth.
    result = _result(AGENT, _wave_ops("agent", 3, 4, 300 * MS))
    params = _params(AGENT, concurrency=3)
    assert _problems(result, params) == []
    scenario = get(AGENT)
    figures = metrics.compute(scenario, Evidence(result=result, params=params, server=None,
                                                 model="m", expect=scenario.expect,
                                                 concurrent=True))
    wall = result.measure_end_ns / S
    assert figures["wall_s"].mean == pytest.approx(wall)
    assert figures["ops_per_s"].mean == pytest.approx(12 / wall)
    assert figures["wave_s"].mean == pytest.approx(wall / 4)


def test_a_region_shorter_than_the_minimum_fails_with_its_figures() -> None:
    result = _result(AGENT, _wave_ops("agent", 3, 2, 200 * MS))
    problems = _problems(result, _params(AGENT, concurrency=3))
    assert problems == ["the timed region lasted 0.400 s over 2 wave(s) of 3, less than "
                        "min_duration_s=1.0 s, and max_waves=1000 was not reached"]


def test_a_short_region_passes_when_max_waves_was_reached() -> None:
    result = _result(AGENT, _wave_ops("agent", 3, 2, 200 * MS))
    assert _problems(result, _params(AGENT, concurrency=3, max_waves=2)) == []
    # More waves than the cap is a contestant that ran away.
    problems = _problems(result, _params(AGENT, concurrency=3, max_waves=1))
    assert problems == ["2 waves, more than max_waves=1"]


def test_a_partial_wave_fails() -> None:
    ops = _wave_ops("agent", 3, 4, 300 * MS)[:-1]
    problems = _problems(_result(AGENT, ops, end_ns=1201 * MS), _params(AGENT, concurrency=3))
    assert problems == ["11 operations are not whole waves of 3 (concurrency)",
                        "wave 3 has 2 operations, expected 3 (concurrency)"]


def test_a_single_burst_of_the_old_kind_fails() -> None:
    # Exactly `concurrency` operations, as before waves, lasting 0.15 s.
    ops = _wave_ops("agent", 3, 1, 150 * MS)
    problems = _problems(_result(AGENT, ops), _params(AGENT, concurrency=3))
    assert problems == ["the timed region lasted 0.150 s over 1 wave(s) of 3, less than "
                        "min_duration_s=1.0 s, and max_waves=1000 was not reached"]
    for op in ops:
        del op.output["wave"]
    assert _problems(_result(AGENT, ops), _params(AGENT, concurrency=3)) == [
        f"operation {i} (agent) output.wave: Field required" for i in range(3)]


def test_waves_must_be_numbered_from_zero_without_gaps() -> None:
    ops = _wave_ops("agent", 2, 4, 300 * MS)
    for op in ops[4:6]:  # wave 2 becomes wave 5
        op.output["wave"] = 5
    problems = _problems(_result(AGENT, ops), _params(AGENT, concurrency=2))
    assert problems == ["waves numbered 0, 1, 3, 5, expected 0..3"]


def test_waves_run_one_after_another() -> None:
    ops = _wave_ops("agent", 2, 4, 300 * MS)
    ops[2].start_ns, ops[2].elapsed_ns = 100 * MS, ops[2].end_ns - 100 * MS  # wave 1 starts early
    problems = _problems(_result(AGENT, ops), _params(AGENT, concurrency=2))
    assert problems == ["wave 1 began before wave 0 ended: waves run one after another"]


def test_no_wave_starts_once_the_minimum_has_passed() -> None:
    # Waves of 600 ms: the second ended 1.2 s in, so a third should never have started.
    ops = _wave_ops("agent", 2, 3, 600 * MS)
    problems = _problems(_result(AGENT, ops), _params(AGENT, concurrency=2))
    assert problems == ["wave 2 was started 1.199 s in, after min_duration_s=1.0 s had passed"]


def test_failed_operations_count_in_their_wave() -> None:
    ops = _wave_ops("agent", 2, 4, 300 * MS)
    ops[3].ok, ops[3].error, ops[3].output = False, "timeout", {"error_kind": "timeout",
                                                                "wave": 1}
    assert _problems(_result(AGENT, ops), _params(AGENT, concurrency=2)) == []
    ops[3].output = {"error_kind": "timeout"}
    assert _problems(_result(AGENT, ops), _params(AGENT, concurrency=2)) == [
        "operation 3 (agent): output.wave must be the wave's number (an integer from 0), "
        "got None"]


def test_concurrent_rag_is_held_to_the_same_waves() -> None:
    rag = "stress.concurrent_rag"
    qa = {"query": "q", "documents": 3}
    params = _params(rag, concurrency=2)
    assert _problems(_result(rag, _wave_ops("qa", 2, 3, 400 * MS, **qa)), params) == []
    short = _problems(_result(rag, _wave_ops("qa", 2, 1, 400 * MS, **qa)), params)
    assert short == ["the timed region lasted 0.400 s over 1 wave(s) of 2, less than "
                     "min_duration_s=1.0 s, and max_waves=1000 was not reached"]


OBS = "ops.observability"


def _observability(phase_waves: list[int], wave_ns: int) -> ContestantResult:
    """Phases bare, logging, otel (one round), each of `phase_waves[i]` waves of 2."""
    ops, phases, start = [], [], 0
    for mode, waves in zip(("bare", "logging", "otel"), phase_waves, strict=True):
        ops += _wave_ops(mode, 2, waves, wave_ns, start_ns=start)
        end = start + waves * wave_ns
        phase = {"mode": mode, "start_ns": start, "end_ns": end, "waves": waves}
        if mode != "bare":
            phase["events"] = 10
        phases.append(phase)
        start = end + MS
    return _result(OBS, ops, end_ns=start, outputs={"phases": phases})


def test_observability_phases_each_last_the_minimum() -> None:
    params = _params(OBS, concurrency=2, rounds=1)  # min_phase_s 0.3
    assert _problems(_observability([3, 3, 3], 120 * MS), params) == []
    short = _problems(_observability([3, 1, 3], 120 * MS), params)
    assert short == ["phase 1 (logging) lasted 0.120 s over 1 wave(s) of 2, less than "
                     "min_phase_s=0.3 s, and max_waves=1000 was not reached"]


def test_a_phase_must_say_how_many_waves_it_ran() -> None:
    params = _params(OBS, concurrency=2, rounds=1)
    result = _observability([3, 3, 3], 120 * MS)
    result.outputs["phases"][2]["waves"] = 2
    assert _problems(result, params) == ["phase 2 (otel) says it ran 2 waves, its operations "
                                         "show 3"]
    del result.outputs["phases"][2]["waves"]
    assert _problems(result, params) == [
        "phase 2 (otel): waves must be the number of waves it ran (at least 1), got None",
        "6 operations lie in no phase of their mode (the first: operation 12)"]


def test_a_partial_wave_in_a_phase_fails() -> None:
    params = _params(OBS, concurrency=2, rounds=1)
    result = _observability([3, 3, 3], 120 * MS)
    del result.operations[8]  # the logging phase's second wave loses an agent
    assert _problems(result, params) == [
        "5 operations in phase 1 (logging) are not whole waves of 2 (concurrency)",
        "wave 1 in phase 1 (logging) has 1 operations, expected 2 (concurrency)"]


def test_handler_cost_counts_every_wave_of_a_phase() -> None:
    # bare: 3 waves of 2 in 0.36 s; logging: 2 waves of 2 in 0.36 s (180 ms waves).
    ops = _wave_ops("bare", 2, 3, 120 * MS) + _wave_ops("logging", 2, 2, 180 * MS,
                                                        start_ns=400 * MS)
    phases = [{"mode": "bare", "start_ns": 0, "end_ns": 360 * MS, "waves": 3},
              {"mode": "logging", "start_ns": 400 * MS, "end_ns": 760 * MS, "waves": 2,
               "events": 4}]
    result = _result(OBS, ops, end_ns=800 * MS, outputs={"phases": phases})
    scenario = get(OBS)
    figures = metrics.compute(scenario, Evidence(result=result, params=_params(OBS),
                                                 server=None, model="m", concurrent=True))
    assert figures["bare_ops_per_s"].mean == pytest.approx(6 / 0.36)
    assert figures["logging_ops_per_s"].mean == pytest.approx(4 / 0.36)
    assert figures["logging_throughput_change_pct"].mean == pytest.approx(100 * (4 / 6 - 1))


# The Python contestant's wave loop (the Go twin, inWaves, has its own unit test).

def test_in_waves_runs_at_least_one_and_stops_at_the_minimum_or_the_cap() -> None:
    from chainmark.contestants.waves import in_waves, wave_limits

    started: list[tuple[int, int]] = []

    async def burst(n: int) -> None:
        started.append((n, time.time_ns()))
        await asyncio.sleep(0.01)

    assert asyncio.run(in_waves(time.time_ns(), 0.0, 1000, burst)) == 1
    started.clear()
    t0 = time.time_ns()
    n = asyncio.run(in_waves(t0, 0.055, 1000, burst))
    assert n == len(started) >= 2 and time.time_ns() - t0 >= 0.055 * S
    assert [w for w, _ in started] == list(range(n))
    # None started once the minimum had passed since the start stamp.
    assert started[-1][1] - t0 < 0.055 * S
    # The time counts from the stamp given, not from the call.
    assert asyncio.run(in_waves(time.time_ns() - 55 * MS, 0.055, 1000, burst)) == 1
    assert asyncio.run(in_waves(time.time_ns(), 3600.0, 3, burst)) == 3
    with pytest.raises(ValueError, match="max_waves"):
        wave_limits({"min_duration_s": 1.0, "max_waves": 0}, "min_duration_s")
    with pytest.raises(ValueError, match="min_phase_s"):
        wave_limits({"min_phase_s": -1.0, "max_waves": 5}, "min_phase_s")
