"""Which contestants exist, how to launch them, and which scenarios each implements."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chainmark import scenarios

# Untimed helpers a contestant provides for the harness, not benchmarks in their own right.
INTERNAL_SCENARIOS = frozenset({"rag.prepare"})
RAG = frozenset({"rag.split", "rag.embed", "rag.ingest", "rag.retrieve", "rag.e2e"})
LLM = frozenset({"llm.latency", "llm.ttft"})
AGENTS = frozenset({"agent.single", "agent.multi", "agent.high_freq", "workflow.router"})
STRESS = frozenset({"stress.concurrent_rag", "stress.concurrent_agent", "stress.saturation",
                    "resilience.timeout", "resilience.tool_failure", "resilience.parse_error"})
OPS = frozenset({"ops.memory", "ops.observability"})


@dataclass(frozen=True)
class Contestant:
    name: str
    language: str
    description: str
    # argv prefix; the harness appends REQUEST.json RESULT.json.
    command: tuple[str, ...]
    scenarios: frozenset[str]
    # For compiled contestants: builds (or finds the cached build) and returns the argv
    # prefix; raises chainmark.gobuild.BuildError when it cannot.
    builder: Callable[[], tuple[str, ...]] | None = None
    # The article's column this contestant stands for ("python" or "go"), if any.
    article_side: str | None = None

    def implements(self, scenario: str) -> bool:
        return scenario in self.scenarios

    def argv(self) -> tuple[str, ...]:
        return self.builder() if self.builder is not None else self.command


_built: dict[str, tuple[str, ...] | Exception] = {}


def _go_binary() -> tuple[str, ...]:
    """Builds once per harness process; a failed build is not retried for every scenario."""
    from chainmark.gobuild import LANGCHAINGO_MODULE, BuildError, go_binary

    if "go" not in _built:
        try:
            _built["go"] = (str(go_binary(LANGCHAINGO_MODULE, "langchaingo")),)
        except BuildError as exc:
            _built["go"] = exc
    found = _built["go"]
    if isinstance(found, Exception):
        raise found
    return found


def _python_module(module: str) -> tuple[str, ...]:
    # -X frozen_modules and friends are left at defaults: we measure Python as users run it.
    return (sys.executable, "-m", module)


BUILTIN: tuple[Contestant, ...] = (
    Contestant(
        name="langchain-python",
        language="python",
        description="LangChain Python, classic APIs as the article used them (langchain-ollama,"
        " langchain-classic, langchain-chroma).",
        command=_python_module("chainmark.contestants.langchain_python"),
        scenarios=LLM | RAG | AGENTS | STRESS | OPS,
        article_side="python",
    ),
    Contestant(
        name="python-baseline",
        language="python",
        description="No framework: httpx against the Ollama API; what Python itself costs.",
        command=_python_module("chainmark.contestants.python_baseline"),
        scenarios=LLM,
    ),
    Contestant(
        name="langchaingo",
        language="go",
        description="LangChainGo (github.com/tmc/langchaingo), the article's Go side; built "
        "from src/chainmark/contestants/langchaingo on first use.",
        command=(),
        scenarios=LLM | RAG | AGENTS | STRESS | OPS,
        builder=_go_binary,
        article_side="go",
    ),
)


class ContestantFileError(ValueError):
    pass


def load_external(path: Path) -> list[Contestant]:
    """Reads extra contestants from JSON: a list of {name, language, command, scenarios}.

    This is how a user benchmarks their own stack without touching chainmark.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ContestantFileError(f"cannot read contestants file {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ContestantFileError(f"{path}: expected a JSON list of contestants")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict):
            raise ContestantFileError(f"{where}: expected an object")
        missing = {"name", "command", "scenarios"} - entry.keys()
        if missing:
            raise ContestantFileError(f"{where}: missing {', '.join(sorted(missing))}")
        command = entry["command"]
        if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            raise ContestantFileError(f"{where}: 'command' must be a non-empty list of strings")
        unknown = [s for s in entry["scenarios"] if s not in scenarios.BY_NAME]
        if unknown:
            raise ContestantFileError(f"{where}: unknown scenarios {', '.join(unknown)}")
        found.append(
            Contestant(
                name=str(entry["name"]),
                language=str(entry.get("language", "unknown")),
                description=str(entry.get("description", "external contestant")),
                command=tuple(command),
                scenarios=frozenset(entry["scenarios"]),
            )
        )
    return found


def all_contestants(extra_file: Path | None = None) -> dict[str, Contestant]:
    contestants = {c.name: c for c in BUILTIN}
    if extra_file is not None:
        for c in load_external(extra_file):
            if c.name in contestants:
                raise ContestantFileError(f"{extra_file}: contestant {c.name!r} already exists")
            contestants[c.name] = c
    return contestants
