"""The scenario specification as a document, generated from the scenario definitions
(``chainmark.scenarios``) so the two cannot disagree:
``python -m chainmark.spec_doc > docs/scenarios.md``.

A test fails when the committed document is stale.
"""

from __future__ import annotations

import json
from typing import Any

from chainmark import scenarios
from chainmark.scenarios.spec import ANY_OPERATION, PROFILES

PART_TITLES = {1: "Core LLM", 2: "RAG", 3: "Agents and workflows", 4: "Stress and resilience",
               5: "Operational cost"}
# Long texts (prompts, documents) are shown cut; the full text is in the scenario modules.
MAX_VALUE_CHARS = 90

HEADER = """# chainmark scenarios — the specification

Generated from `src/chainmark/scenarios/` (one module per part) by
`python -m chainmark.spec_doc`; edit the scenario definitions, not this file (a test fails when
the two disagree). What each scenario's operations must return is in
[the contestant contract](../src/chainmark/contestants/CONTRACT.md).

chainmark runs the scenarios of a widely shared article that compared LangChainGo with
LangChain Python (Ollama `llama3:8b`, ChromaDB) through several contestants against the same
backends. The "published" figures are that article's own numbers, quoted so a report can put
them beside what chainmark measures: claims, not measurements of ours.

Common rules: every contestant initialises outside the timed region; each scenario has a
`seed` profile (the article's counts) and a `quick` one (scaled to run in minutes on 2 cores);
the harness, never the contestant, verifies every result against its own expectations and
chainmark-server's request log, and a fast but wrong run is failed, not reported; every
figure names its model and profile.
"""


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(str(text).split())
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def _params(scenario: scenarios.Scenario) -> list[str]:
    keys = sorted({k for p in scenarios.PROFILES for k in scenario.params_for(p)})
    if not keys:
        return []
    lines = ["| parameter | " + " | ".join(scenarios.PROFILES) + " |",
             "|---|" + "---|" * len(scenarios.PROFILES)]
    for key in keys:
        cells = []
        for profile in scenarios.PROFILES:
            params = scenario.params_for(profile)
            cells.append(f"`{_value(params[key])}`" if key in params else "-")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def _published(scenario: scenarios.Scenario) -> list[str]:
    if not scenario.published:
        return ["Published: none (a chainmark addition)."]
    lines = ["| published metric | unit | LangChainGo | LangChain Python | note |",
             "|---|---|--:|--:|---|"]
    for p in scenario.published:
        lines.append(f"| {p.metric} | {p.unit} | {p.go if p.go is not None else '-'} | "
                     f"{p.python if p.python is not None else '-'} | {p.note} |")
    return lines


def render() -> str:
    out = [HEADER]
    for part in sorted({s.part for s in scenarios.SCENARIOS}):
        out += [f"## Part {part}: {PART_TITLES.get(part, '')}".rstrip(": "), ""]
        for s in (s for s in scenarios.SCENARIOS if s.part == part):
            models = " · ".join(f"{profile} `{s.model_for(profile)}`" for profile in PROFILES) \
                if s.profile_models else f"`{s.default_model}`"
            traits = [f"default model {models}",
                      f"primary metric `{s.primary_metric}`",
                      f"the language-vs-framework view compares `{s.headline}`"]
            traits += [t for t, on in (("needs Chroma", s.needs_chroma),
                                       ("reads the corpus", s.needs_corpus),
                                       ("reads a collection filled untimed beforehand",
                                        s.needs_collection),
                                       ("fills a collection of its own", s.fills_collection),
                                       ("operations run concurrently", s.concurrent),
                                       ("figure is a rate over the whole timed region",
                                        s.throughput)) if on]
            traits += [f"each {'operation' if name == ANY_OPERATION else f'`{name}` step'} "
                       f"must reach the server on {' or '.join(f'`{p}`' for p in paths)}"
                       for name, paths in s.serves.items()]
            out += [f"### `{s.name}` — {s.title}", "", s.summary, "", "; ".join(traits) + ".",
                    ""]
            if s.baseline_choice:
                out += ["Without a framework (python-baseline and go-baseline alike): "
                        f"{s.baseline_choice}.", ""]
            out += [*_params(s), ""]
            if s.expect:
                out += ["Verified beyond the common checks: " + ", ".join(
                    f"`{k}` = `{_value(v)}`" for k, v in sorted(s.expect.items())) + ".", ""]
            out += [*_published(s), ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
