"""Turns the user's selection into the list of (scenario, contestant, model, params) to run."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chainmark.contestants.registry import Contestant, ContestantError, all_contestants
from chainmark.harness.overrides import OverrideError
from chainmark.harness.overrides import check as overrides_check
from chainmark.scenarios import BY_NAME, PROFILES, SCENARIOS, Scenario


class PlanError(ValueError):
    """The selection cannot be run; the message says why and what would be valid."""


@dataclass
class Selection:
    scenarios: list[str] | None = None
    contestants: list[str] | None = None
    profile: str = "quick"
    # None: each scenario's default model; several: every scenario once per model.
    models: list[str] | None = None
    iterations: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    contestants_file: Path | None = None
    # A concurrency sweep: each scenario with a `concurrency` parameter runs once per level.
    concurrency: list[int] | None = None
    # Interleaved rounds per figure (A B C, C B A, ...); None: DEFAULT_ROUNDS.
    rounds: int | None = None


# Every figure is measured in at least this many rounds, the contestants alternating (A B C,
# C B A, A B C), so drift and noise on a shared machine hit every contestant alike.
DEFAULT_ROUNDS = 3


@dataclass(frozen=True)
class PlannedRun:
    scenario: Scenario
    contestant: Contestant
    model: str
    params: dict[str, Any]
    timeout_s: float
    round: int = 0


@dataclass
class Plan:
    runs: list[PlannedRun]
    not_implemented: list[tuple[Scenario, Contestant]]
    rounds: int = 1

    @property
    def models(self) -> set[str]:
        return {r.model for r in self.runs}

    @property
    def needs_chroma(self) -> bool:
        return any(r.scenario.needs_chroma for r in self.runs)


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as JSON when it parses (numbers, booleans, lists)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise PlanError(f"--set expects KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def _pick(names: list[str] | None, known: dict[str, Any], what: str) -> list[str]:
    if names is None:
        return list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PlanError(
            f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(names))


def _sweep(runs: list[PlannedRun], levels: list[int]) -> list[PlannedRun]:
    if any(level < 1 for level in levels):
        raise PlanError("--concurrency levels must be at least 1")
    if not any(r.scenario.concurrent for r in runs):
        concurrent = ", ".join(s.name for s in SCENARIOS if s.concurrent)
        raise PlanError("--concurrency: none of the selected scenarios runs operations "
                        f"concurrently (these do: {concurrent})")
    swept: list[PlannedRun] = []
    for run in runs:
        if not run.scenario.concurrent:
            swept.append(run)
            continue
        swept += [replace(run, params={**run.params, "concurrency": level})
                  for level in dict.fromkeys(levels)]
    return swept


def per_round(params: dict[str, Any], rounds: int) -> dict[str, Any]:
    """A scenario's `iterations` are per figure: each round runs its share (at least one)."""
    if "iterations" not in params:
        return params
    return {**params, "iterations": max(1, math.ceil(params["iterations"] / rounds))}


def _interleave(runs: list[PlannedRun], rounds: int) -> list[PlannedRun]:
    """Each (scenario, model, level) measured in `rounds` rounds, contestants alternating
    direction from round to round; per-round iterations are the figure's share."""
    groups: dict[tuple[str, str, Any], list[PlannedRun]] = {}
    for run in runs:
        key = (run.scenario.name, run.model, run.params.get("concurrency"))
        groups.setdefault(key, []).append(run)
    ordered = []
    for group in groups.values():
        for r in range(rounds):
            for run in (group if r % 2 == 0 else group[::-1]):
                ordered.append(replace(run, round=r, params=per_round(run.params, rounds)))
    return ordered


def build(selection: Selection) -> Plan:
    """The runs of a selection; PlanError (one line) for anything that cannot be run."""
    try:
        return _build(selection)
    except ContestantError as exc:
        # A contestant that cannot say what it implements (cannot be built or run, prints
        # no usable list) stops the plan with its own message.
        raise PlanError(str(exc)) from None


def _build(selection: Selection) -> Plan:
    if selection.profile not in PROFILES:
        raise PlanError(
            f"unknown profile {selection.profile!r}; choose {' or '.join(PROFILES)}"
        )
    if selection.iterations is not None and selection.iterations < 1:
        raise PlanError("--iterations must be at least 1")
    if selection.rounds is not None and selection.rounds < 1:
        raise PlanError("--rounds must be at least 1")
    if selection.timeout_s is not None and not (
            math.isfinite(selection.timeout_s) and selection.timeout_s > 0):
        raise PlanError(f"--timeout must be a positive, finite number of seconds, got "
                        f"{selection.timeout_s}")
    try:
        contestants = all_contestants(selection.contestants_file)
    except ValueError as exc:
        raise PlanError(str(exc)) from exc
    chosen_contestants = [contestants[n] for n in _pick(selection.contestants, contestants,
                                                         "contestant")]
    if selection.scenarios is None:
        chosen_scenarios = [
            s for s in SCENARIOS
            if any(c.implements(s.name) for c in chosen_contestants)
        ]
    else:
        names = _pick(selection.scenarios, BY_NAME, "scenario")
        chosen_scenarios = [BY_NAME[n] for n in names]

    overrides = dict(selection.overrides)
    if selection.iterations is not None:
        overrides["iterations"] = selection.iterations
    runs, missing = [], []
    for scenario in chosen_scenarios:
        for contestant in chosen_contestants:
            if not contestant.implements(scenario.name):
                missing.append((scenario, contestant))
                continue
            params = scenario.params_for(selection.profile)
            for key, value in overrides.items():
                if key in params:
                    try:
                        overrides_check(key, value, scenario)
                    except OverrideError as exc:
                        raise PlanError(str(exc)) from None
                    params[key] = value
            # --iterations is an exact count (pyperf's --loops): no sizing on top of it.
            if selection.iterations is not None and "min_round_s" not in selection.overrides:
                params.pop("min_round_s", None)
                params.pop("max_round_iterations", None)
            for model in selection.models or [scenario.model_for(selection.profile)]:
                runs.append(
                    PlannedRun(
                        scenario=scenario,
                        contestant=contestant,
                        model=model,
                        params=params,
                        timeout_s=selection.timeout_s or scenario.timeout_s[selection.profile],
                    )
                )
    if not runs:
        raise PlanError(
            "nothing to run: none of the selected contestants implements the selected "
            "scenarios (see `chainmark list`)"
        )
    if selection.concurrency:
        runs = _sweep(runs, selection.concurrency)
    rounds = selection.rounds or DEFAULT_ROUNDS
    runs = _interleave(runs, rounds)
    known_keys = {k for r in runs for k in r.params}
    stray = sorted(set(overrides) - known_keys)
    if stray:
        raise PlanError(
            f"--set: no selected scenario has parameter(s) {', '.join(stray)}; "
            f"they have: {', '.join(sorted(known_keys))}"
        )
    return Plan(runs=runs, not_implemented=missing, rounds=rounds)
