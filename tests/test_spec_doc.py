"""docs/scenarios.md is generated from the scenario registry and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from chainmark import scenarios, spec_doc

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"


def test_the_committed_specification_matches_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == spec_doc.render(), (
        "docs/scenarios.md is stale: run `.venv/bin/python -m chainmark.spec_doc > "
        "docs/scenarios.md`")


def test_every_scenario_and_published_figure_is_in_it() -> None:
    text = spec_doc.render()
    for s in scenarios.SCENARIOS:
        assert f"### `{s.name}`" in text
        for p in s.published:
            assert f"| {p.metric} | {p.unit} |" in text


def test_every_scenario_says_how_the_baselines_do_it() -> None:
    """Where a hand-written stack must choose (batching, streaming, endpoint), the spec says
    what both baselines chose, and the specification shows it."""
    text = spec_doc.render()
    for s in (*scenarios.SCENARIOS, *scenarios.INTERNAL):
        assert s.baseline_choice.strip(), f"{s.name} does not say how the baselines do it"
    for s in scenarios.SCENARIOS:
        assert f"alike): {s.baseline_choice}." in text, s.name
