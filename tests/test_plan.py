"""Selection and bad input: every mistake gets a clear error naming what would be valid."""

import json

import pytest

from chainmark import scenarios
from chainmark.contestants.registry import BUILTIN
from chainmark.harness.plan import PlanError, Selection, build, parse_override


def test_default_plan_runs_every_implemented_pair_on_the_quick_profile():
    plan = build(Selection(rounds=1))
    pairs = {(r.scenario.name, r.contestant.name) for r in plan.runs}
    expected = {(s, c.name) for c in BUILTIN for s in c.scenarios}
    assert pairs == expected
    assert all(r.params == r.scenario.params_for("quick") for r in plan.runs)


def test_models_default_to_real_where_it_can_do_the_work():
    plan = build(Selection(scenarios=["llm.latency"], rounds=1))
    assert {r.model for r in plan.runs} == {scenarios.REAL_MODEL}
    plan = build(Selection(scenarios=["llm.latency"], models=["synthetic"], rounds=1))
    assert {r.model for r in plan.runs} == {"synthetic"}
    plan = build(Selection(scenarios=["llm.latency"], contestants=["langchain-python"], rounds=1,
                           models=["smollm2:135m", "synthetic:smollm2-cpu"]))
    assert [r.model for r in plan.runs] == ["smollm2:135m", "synthetic:smollm2-cpu"]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(scenarios=["llm.nope"]), "unknown scenario 'llm.nope'"),
        (Selection(contestants=["nobody"]), "unknown contestant 'nobody'"),
        (Selection(profile="huge"), "unknown profile 'huge'"),
        (Selection(iterations=0), "at least 1"),
        (Selection(overrides={"nonsense": 1}), "no selected scenario has parameter"),
    ],
)
def test_bad_selections_are_refused_with_a_reason(selection, message):
    with pytest.raises(PlanError, match=message):
        build(selection)


def test_overrides_apply_only_where_the_parameter_exists():
    plan = build(Selection(iterations=3, overrides={"num_predict": 5}, rounds=1))
    assert all(r.params["iterations"] == 3 for r in plan.runs if "iterations" in r.params)
    for r in plan.runs:
        has_it = "num_predict" in r.scenario.params_for("quick")
        assert r.params.get("num_predict") == (5 if has_it else None), r.scenario.name
    assert any("num_predict" in r.params for r in plan.runs)
    assert parse_override("temperature=0.5") == ("temperature", 0.5)
    assert parse_override("prompt=hello world") == ("prompt", "hello world")
    with pytest.raises(PlanError):
        parse_override("novalue")


def test_concurrency_sweep_expands_only_scenarios_with_a_level():
    plan = build(Selection(scenarios=["stress.concurrent_rag", "llm.latency"], rounds=1,
                           contestants=["langchain-python"], concurrency=[1, 4, 4, 16]))
    levels = [r.params.get("concurrency") for r in plan.runs]
    assert levels == [1, 4, 16, None]
    with pytest.raises(PlanError, match="none of the selected scenarios"):
        build(Selection(scenarios=["llm.latency"], concurrency=[2]))
    with pytest.raises(PlanError, match="at least 1"):
        build(Selection(scenarios=["stress.saturation"], concurrency=[0]))


def test_a_selection_no_contestant_implements_is_refused(tmp_path):
    extra = tmp_path / "contestants.json"
    extra.write_text(json.dumps([
        {"name": "only-latency", "command": ["true"], "scenarios": ["llm.latency"]}
    ]))
    with pytest.raises(PlanError, match="nothing to run"):
        build(Selection(scenarios=["rag.split"], contestants=["only-latency"],
                        contestants_file=extra))


def test_unimplemented_pairs_are_listed_not_dropped(tmp_path):
    extra = tmp_path / "contestants.json"
    extra.write_text(json.dumps([
        {"name": "only-latency", "command": ["true"], "scenarios": ["llm.latency"]}
    ]))
    plan = build(Selection(scenarios=["llm.latency", "llm.ttft"], contestants_file=extra))
    missing = {(s.name, c.name) for s, c in plan.not_implemented}
    assert ("llm.ttft", "only-latency") in missing


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read"),
        ('{"name": "x"}', "expected a JSON list"),
        ('[{"name": "x", "scenarios": []}]', "missing command"),
        ('[{"name": "x", "command": "ls", "scenarios": []}]', "non-empty list"),
        ('[{"name": "x", "command": ["ls"], "scenarios": ["rag.zzz"]}]',
         "contestant 'x': unknown scenarios rag.zzz"),
        ('[{"command": ["ls"]}]', "missing name"),
        ('[{"name": "x", "command": ["ls"], "scenarios": 5}]',
         "contestant 'x': 'scenarios' must be a list of scenario names, got 5"),
        ('[{"name": "x", "command": ["ls"], "scenarios": null}]',
         "'scenarios' must be a list of scenario names, got null"),
        ('[{"name": "x", "command": ["ls"], "scenarios": [{}]}]',
         r"'scenarios' must be a list of scenario names, got \[\{\}\]"),
        ('[{"name": "x", "command": ["ls"], "scenarios": "llm.latency"}]',
         "'scenarios' must be a list of scenario names"),
        ('[{"name": "langchain-python", "command": ["ls"], "scenarios": []}]', "already exists"),
    ],
)
def test_bad_contestants_file_is_refused(tmp_path, content, message):
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(PlanError, match=message):
        build(Selection(contestants_file=path))


def test_every_spec_scenario_is_registered_with_both_profiles_where_implemented():
    assert len(scenarios.SCENARIOS) == 19
    implemented = {s for c in BUILTIN for s in c.scenarios}
    for name in implemented:
        scenario = scenarios.get(name)
        for profile in scenarios.PROFILES:
            params = scenario.params_for(profile)
            count = params.get("iterations") or params.get("concurrency") or params.get("turns")
            assert count and count >= 1, (name, profile)
    seed = scenarios.get("llm.latency").params_for("seed")
    assert seed["iterations"] == 200 and seed["prompt"] == "Why is the sky blue?"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("iterations=0", "must be at least 1"),
        ("iterations=abc", "expects an integer"),
        ("iterations=2.5", "expects an integer"),
        ("iterations=true", "expects an integer"),
        ("temperature=[1,2]", "expects a number"),
        ("num_predict=-2", "must be at least -1"),
        ("prompt=5", "expects a string"),
    ],
)
def test_set_values_are_checked_against_the_parameter(override, message):
    with pytest.raises(PlanError, match=message):
        build(Selection(scenarios=["llm.latency"], contestants=["python-baseline"],
                        overrides=dict([parse_override(override)])))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("duration_s=0", "must be greater than 0"),
        ("timeout_s=Infinity", "must be a finite number"),
        ("timeout_s=NaN", "must be a finite number"),
        ("checkpoints=[1,\"x\"]", "expects a list of integers"),
    ],
)
def test_set_bounds_for_durations_and_lists(override, message):
    with pytest.raises(PlanError, match=message):
        build(Selection(scenarios=["stress.saturation", "ops.memory"],
                        contestants=["langchain-python"],
                        overrides=dict([parse_override(override)])))


def test_valid_set_values_reach_the_params():
    plan = build(Selection(scenarios=["llm.latency", "rag.embed"], rounds=1,
                           contestants=["langchain-python"],
                           overrides=dict(map(parse_override, [
                               "iterations=3", "temperature=1", "max_chunks=null"]))))
    by_name = {r.scenario.name: r.params for r in plan.runs}
    assert by_name["llm.latency"]["iterations"] == 3
    assert by_name["llm.latency"]["temperature"] == 1
    assert by_name["rag.embed"]["max_chunks"] is None


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0.0, -1.0])
def test_timeouts_must_be_finite_and_positive(timeout):
    with pytest.raises(PlanError, match="--timeout must be a positive, finite number"):
        build(Selection(scenarios=["llm.latency"], contestants=["python-baseline"],
                        timeout_s=timeout))


def test_rounds_interleave_contestants_and_share_the_iterations():
    plan = build(Selection(scenarios=["llm.latency", "llm.ttft"],
                           contestants=["langchain-python", "python-baseline", "langchaingo"],
                           iterations=8, rounds=3))
    assert plan.rounds == 3
    order = [(r.scenario.name, r.round, r.contestant.name) for r in plan.runs]
    abc = ["langchain-python", "python-baseline", "langchaingo"]
    expected = [(s, r, c) for s in ("llm.latency", "llm.ttft") for r in range(3)
                for c in (abc if r % 2 == 0 else abc[::-1])]
    assert order == expected
    # 8 iterations per figure over 3 rounds: 3 each (never fewer than asked in total).
    assert {r.params["iterations"] for r in plan.runs} == {3}


def test_rounds_default_to_three_and_must_be_positive():
    plan = build(Selection(scenarios=["llm.latency"], contestants=["python-baseline"]))
    assert plan.rounds == 3 and [r.round for r in plan.runs] == [0, 1, 2]
    with pytest.raises(PlanError, match="--rounds must be at least 1"):
        build(Selection(scenarios=["llm.latency"], contestants=["python-baseline"], rounds=0))
