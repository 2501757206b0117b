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
