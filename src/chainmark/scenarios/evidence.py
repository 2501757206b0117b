"""What a scenario's verifier and metrics see of one run: the contestant's result, the
parameters it was given, the harness's own truths and, where chainmark-server logged the
calls, what the server itself saw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainmark.contract import ContestantResult, Operation
from chainmark.corpus import CorpusInfo
from chainmark.harness.server_log import ServerRequest, within


@dataclass
class Evidence:
    result: ContestantResult
    params: dict[str, Any]
    # The requests chainmark-server served during the timed region; None when it has no log.
    server: list[ServerRequest] | None
    # The model the run used (the request's endpoints.model).
    model: str
    # Harness-computed truths, e.g. {"chunks": 12345, "embed_dim": 576, "documents": 50}.
    truths: dict[str, Any] = field(default_factory=dict)
    # The scenario's static expectations (answers, tool calls).
    expect: dict[str, Any] = field(default_factory=dict)
    # Operations overlap (the scenario's `concurrent` trait).
    concurrent: bool = False
    # The contestant's CPU seconds and RSS, sampled from outside, for a window / an instant.
    cpu_between: Callable[[int, int], float | None] | None = None
    rss_at: Callable[[int], int | None] | None = None
    problems: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.problems.append(message)

    @property
    def operations(self) -> list[Operation]:
        return self.result.operations

    def ok_ops(self, name: str | None = None) -> list[tuple[int, Operation]]:
        return [
            (i, op) for i, op in enumerate(self.result.operations)
            if op.ok and (name is None or op.name == name)
        ]

    def served(self, op: Operation, paths: tuple[str, ...]) -> list[ServerRequest] | None:
        """The server's requests on `paths` during `op`; None when they cannot be told apart
        (no log, or operations overlap)."""
        if self.server is None or self.concurrent:
            return None
        return [r for r in within(self.server, op.start_ns, op.end_ns) if r.path in paths]


class MissingTruth(LookupError):
    """A verifier needs a truth the harness did not work out (a harness bug, not the
    contestant's)."""


@dataclass
class Truths:
    """What a scenario's `truths` hook may use to work out a correct answer by itself."""

    params: dict[str, Any]
    corpus: CorpusInfo | None
    # Counts chunks of a file with chainmark's own reference splitter (cached).
    chunks: Callable[[Path, int, int], int]
    # Asks the model server for one embedding and measures its width.
    embed_dim: Callable[[], int]

    def need_corpus(self) -> CorpusInfo:
        if self.corpus is None:
            raise MissingTruth("this scenario needs the corpus, which was not prepared")
        return self.corpus
