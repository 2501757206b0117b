"""Which contestants exist and how to launch them.

What each one implements is not written down here: every contestant program declares it
itself (``COMMAND --scenarios`` prints a JSON list of names, taken from its own dispatch table),
and the harness asks once per process, the first time it needs to know.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from chainmark import scenarios
from chainmark.gobuild import BuildError
from chainmark.processes import kill_group

# Untimed steps the harness asks contestants for (not benchmarks in their own right): a
# contestant may declare these besides the spec's scenarios.
HELPERS = frozenset(s.name for s in scenarios.INTERNAL)
# How long `COMMAND --scenarios` may take (a compiled contestant is built before, untimed).
SCENARIOS_TIMEOUT_S = 120.0


class ContestantError(ValueError):
    """A contestant cannot say what it implements, or says something this chainmark cannot use."""


class ContestantFileError(ContestantError):
    pass


@dataclass(frozen=True)
class Contestant:
    name: str
    language: str
    description: str
    # argv prefix; the harness appends REQUEST.json RESULT.json.
    command: tuple[str, ...]
    # What it implements, when stated up front (a contestants file's "scenarios"). None: the
    # program is asked (`COMMAND --scenarios`) the first time the harness needs to know.
    declared: frozenset[str] | None = None
    # For compiled contestants: builds (or finds the cached build) and returns the argv
    # prefix; raises chainmark.gobuild.BuildError when it cannot.
    builder: Callable[[], tuple[str, ...]] | None = None
    # The article's column this contestant stands for ("python" or "go"), if any.
    article_side: str | None = None
    # Framework-free: what its language costs without a framework (the language-vs-framework
    # view's baseline for `language`).
    baseline: bool = False

    @property
    def implemented(self) -> frozenset[str]:
        """Every name it runs, the harness's untimed helpers (``rag.prepare``) included.

        Raises ContestantError, naming the contestant, its command and the cause, when the
        program cannot be asked or its answer is unusable; the failure is remembered too.
        """
        if self.declared is not None:
            return self.declared
        with _asking:
            if self not in _asked:
                try:
                    _asked[self] = ask_scenarios(self)
                except ContestantError as exc:
                    _asked[self] = exc
        found = _asked[self]
        if isinstance(found, ContestantError):
            raise found.with_traceback(None)
        return found

    @property
    def scenarios(self) -> frozenset[str]:
        """The benchmark scenarios it implements (the untimed helpers left out)."""
        return self.implemented - HELPERS

    def implements(self, scenario: str) -> bool:
        return scenario in self.implemented

    def argv(self) -> tuple[str, ...]:
        return self.builder() if self.builder is not None else self.command


# What each contestant declared (or why it could not), asked once per process.
_asked: dict[Contestant, frozenset[str] | ContestantError] = {}
_asking = threading.Lock()


def unknown_scenarios(names: Iterable[str]) -> list[str]:
    """The names that are neither a scenario of this chainmark nor one of its helpers."""
    return sorted(set(names) - scenarios.BY_NAME.keys() - HELPERS)


def _unknown_message(unknown: list[str]) -> str:
    known = ", ".join([*scenarios.BY_NAME, *sorted(HELPERS)])
    return f"unknown scenarios {', '.join(unknown)} (this chainmark knows {known})"


def _one_line(text: str, limit: int = 300) -> str:
    line = " / ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def ask_scenarios(contestant: Contestant) -> frozenset[str]:
    """Runs ``COMMAND --scenarios`` and returns the names it prints (a JSON list of strings)."""
    try:
        argv = contestant.argv()
    except (BuildError, OSError) as exc:
        raise ContestantError(
            f"contestant {contestant.name!r} cannot be built, so it cannot say which scenarios "
            f"it implements: {_one_line(str(exc))}"
        ) from exc
    command = shlex.join((*argv, "--scenarios"))
    where = f"contestant {contestant.name!r} (`{command}`)"
    try:
        # Its own session, so a timeout kills whatever it started too.
        proc = subprocess.Popen(
            [*argv, "--scenarios"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise ContestantError(f"{where}: cannot be run: {exc}") from exc
    try:
        out, err = proc.communicate(timeout=SCENARIOS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, grace_s=0.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
        raise ContestantError(
            f"{where}: printed no scenario list within {SCENARIOS_TIMEOUT_S:g} s"
        ) from None
    finally:
        if proc.poll() is None:
            kill_group(proc.pid, grace_s=0.0)
            proc.wait()
    if proc.returncode != 0:
        status = (f"was killed by signal {-proc.returncode}" if proc.returncode < 0
                  else f"exited with status {proc.returncode}")
        said = err.decode(errors="replace").strip().splitlines()
        raise ContestantError(f"{where}: {status}" + (f": {_one_line(said[-1])}" if said else ""))
    try:
        names = json.loads(out)
    except ValueError:
        names = None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        printed = out.decode(errors="replace").strip()
        shown = repr(_one_line(printed, 120)) if printed else "nothing"
        raise ContestantError(
            f"{where}: printed {shown}, not a JSON list of scenario names"
        )
    unknown = unknown_scenarios(names)
    if unknown:
        raise ContestantError(f"{where}: declares {_unknown_message(unknown)}")
    return frozenset(names)


_built: dict[str, tuple[str, ...] | Exception] = {}


def _go_binary(name: str) -> tuple[str, ...]:
    """The Go program chainmark.gobuild.MODULES[name], built once per harness process; a
    failed build is not retried for every scenario."""
    from chainmark.gobuild import MODULES, BuildError, go_binary

    if name not in _built:
        try:
            _built[name] = (str(go_binary(MODULES[name], name)),)
        except BuildError as exc:
            _built[name] = exc
    found = _built[name]
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
        article_side="python",
    ),
    Contestant(
        name="python-baseline",
        language="python",
        description="No framework: httpx against the Ollama API; what Python itself costs.",
        command=_python_module("chainmark.contestants.python_baseline"),
        baseline=True,
    ),
    Contestant(
        name="langchaingo",
        language="go",
        description="LangChainGo (github.com/tmc/langchaingo), the article's Go side; built "
        "from src/chainmark/contestants/langchaingo on first use.",
        command=(),
        builder=functools.partial(_go_binary, "langchaingo"),
        article_side="go",
    ),
    Contestant(
        name="go-baseline",
        language="go",
        description="No framework: Go's standard library (net/http, encoding/json, goroutines)"
        " against the Ollama and Chroma APIs; what Go itself costs. Built from "
        "src/chainmark/contestants/go_baseline on first use.",
        command=(),
        builder=functools.partial(_go_binary, "go-baseline"),
        baseline=True,
    ),
)


def load_external(path: Path) -> list[Contestant]:
    """Reads extra contestants from JSON: a list of {name, command, language?, description?,
    scenarios?, baseline?}; without "scenarios" the program is asked (``COMMAND --scenarios``);
    "baseline": true marks a framework-free contestant (the language-vs-framework view).

    This is how a user benchmarks their own stack without touching chainmark.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ContestantFileError(
            f"cannot read contestants file {path}: not UTF-8 text (byte "
            f"0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ContestantFileError(f"cannot read contestants file {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ContestantFileError(f"{path}: expected a JSON list of contestants")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict):
            raise ContestantFileError(f"{where}: expected an object")
        missing = {"name", "command"} - entry.keys()
        if missing:
            raise ContestantFileError(f"{where}: missing {', '.join(sorted(missing))}")
        where = f"{path}: contestant {entry['name']!r}"
        command = entry["command"]
        if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            raise ContestantFileError(f"{where}: 'command' must be a non-empty list of strings")
        declared = None
        if "scenarios" in entry:
            listed = entry["scenarios"]
            if not (isinstance(listed, list) and all(isinstance(s, str) for s in listed)):
                raise ContestantFileError(
                    f"{where}: 'scenarios' must be a list of scenario names, got "
                    f"{_one_line(json.dumps(listed), 80)} (leave it out to have the program "
                    f"asked with --scenarios)"
                )
            unknown = unknown_scenarios(listed)
            if unknown:
                raise ContestantFileError(f"{where}: {_unknown_message(unknown)}")
            declared = frozenset(listed)
        baseline = entry.get("baseline", False)
        if not isinstance(baseline, bool):
            raise ContestantFileError(f"{where}: 'baseline' must be true or false")
        found.append(
            Contestant(
                name=str(entry["name"]),
                language=str(entry.get("language", "unknown")),
                description=str(entry.get("description", "external contestant")),
                command=tuple(command),
                declared=declared,
                baseline=baseline,
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
