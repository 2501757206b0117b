"""The scenarios: the specification as data (rendered as docs/scenarios.md by
``chainmark.spec_doc``), one module per part of the article.

Each scenario is defined once, in its part's module: parameters per profile (everything a
contestant needs, passed in its request, so Python and Go contestants cannot drift apart),
the schema of the output it must return, its verifier, its derived metrics and its traits.
Published figures are the article's claims, kept only to be printed beside what chainmark
measures.
"""

from __future__ import annotations

from chainmark.scenarios import agents, llm, ops, rag, stress
from chainmark.scenarios.common import SKY_PROMPT
from chainmark.scenarios.spec import (
    OVERHEAD_METRIC,
    OVERHEAD_MODEL,
    PROFILES,
    REAL_MODEL,
    SCRIPTED_MODEL,
    ModelKind,
    Output,
    Published,
    Scenario,
)

# In the article's order: part 1 to part 5.
SCENARIOS: tuple[Scenario, ...] = (
    *llm.SCENARIOS, *rag.SCENARIOS, *agents.SCENARIOS, *stress.SCENARIOS, *ops.SCENARIOS,
)
# Untimed helpers the harness runs for other scenarios; contestants implement them too.
INTERNAL: tuple[Scenario, ...] = (rag.PREPARE,)
PREPARE = rag.PREPARE

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}
# Every scenario a contestant may be asked to run, internal ones included.
ALL_BY_NAME: dict[str, Scenario] = {s.name: s for s in (*SCENARIOS, *INTERNAL)}


def get(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(BY_NAME)}") from None


def default_model(scenario: Scenario) -> str:
    return scenario.default_model


__all__ = [
    "ALL_BY_NAME", "BY_NAME", "INTERNAL", "OVERHEAD_METRIC", "OVERHEAD_MODEL", "PREPARE",
    "PROFILES", "REAL_MODEL", "SCENARIOS", "SCRIPTED_MODEL", "SKY_PROMPT", "ModelKind", "Output",
    "Published", "Scenario", "default_model", "get",
]
