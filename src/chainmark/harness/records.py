"""What a run writes down: one header, then one record per (scenario, contestant)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chainmark.stats import Summary

RESULTS_SCHEMA = 4
# Fraction of one core above which chainmark-server, not the contestant, is the limit.
SERVER_SATURATED = 0.85


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # ran, but the harness's verification rejected the result
    CRASHED = "crashed"  # exited non-zero or wrote no usable result
    TIMEOUT = "timeout"
    ERROR = "error"  # the harness could not run it (backend down, launch failed)
    NOT_IMPLEMENTED = "not implemented"


class Resources(BaseModel):
    """Measured from outside the contestant process, identically for every language."""

    wall_s: float
    cpu_s: float  # user + sys over the whole process life (wait4)
    cpu_measured_s: float | None = None  # CPU inside the timed region, from samples
    peak_rss_bytes: int
    rss_start_bytes: int | None = None  # at the start of the timed region
    rss_end_bytes: int | None = None
    rss_growth_bytes: int | None = None


class ServerSummary(BaseModel):
    """What the embedded LLM server saw while the contestant ran its timed region."""

    requests: int
    server_s: float
    by_path: dict[str, int] = Field(default_factory=dict)
    # Where the server's time went, summed over the timed region's requests: prompt tokens
    # evaluated, and the model server's own durations (Ollama's load, prompt-eval and eval
    # time as it reported them; the synthetic model's as it paced them).
    prompt_tokens: int = 0
    load_s: float = 0.0
    prompt_eval_s: float = 0.0
    eval_s: float = 0.0
    # chainmark-server's own CPU over the timed region (the instrument's cost), when chainmark
    # started it; near one full core the server, not the contestant, is the bottleneck.
    cpu_s: float | None = None
    cpu_utilisation: float | None = None
    # The model server's CPU behind it (Ollama and its runner) over the timed region, when
    # chainmark started it.
    model_cpu_s: float | None = None
    # Over the contestant's whole life (set-up and warm-up included), read exactly at launch
    # and exit: every request chainmark-server served and the CPU it spent on them.
    run_requests: int | None = None
    run_cpu_s: float | None = None

    @property
    def cpu_per_request_s(self) -> float | None:
        """The instrument's CPU per request it served (its cost beside what it measures)."""
        if self.run_cpu_s is None or not self.run_requests:
            return None
        return self.run_cpu_s / self.run_requests

    @property
    def saturated(self) -> bool:
        return self.cpu_utilisation is not None and self.cpu_utilisation >= SERVER_SATURATED


class ScenarioRecord(BaseModel):
    scenario: str
    contestant: str
    # Which interleaved round this run was (0-based; schema 4). A figure pools its rounds.
    round: int = 0
    language: str
    model: str
    profile: str
    status: Status
    errors: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Summary] = Field(default_factory=dict)
    resources: Resources | None = None
    server: ServerSummary | None = None
    setup_s: float | None = None
    runtime: str | None = None
    frameworks: dict[str, str] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)
    # Outcome counts of the operations: ok, failed, and failures by kind (timeout, ...).
    counts: dict[str, int] = Field(default_factory=dict)
    # Rows a table shows as they are (e.g. ops.memory's checkpoints).
    series: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    # One example output, so a reader can see what was actually answered.
    sample_output: str | None = None
    started_at: str
    duration_s: float


class ContestantInfo(BaseModel):
    """Who a contestant is, as the run saw it, so a report needs no list of names."""

    language: str
    description: str = ""
    # The article's column this contestant stands for ("python": LangChain Python, "go":
    # LangChainGo), so its figures are printed beside the published ones; None for the rest.
    article_side: str | None = None
    # Framework-free (what its language costs without a framework): the language-vs-framework
    # view's baseline for `language`. Absent from older results (see chainmark.language_view).
    baseline: bool = False


class RunHeader(BaseModel):
    schema_version: int = RESULTS_SCHEMA
    run_id: str
    started_at: str
    finished_at: str | None = None
    interrupted: bool = False
    profile: str
    command: list[str]
    # chainmark-server, which every contestant talked to ...
    llm_url: str
    # ... and the server it forwarded the real model's requests to (None: synthetic only).
    llm_upstream: str | None = None
    # True when chainmark started that upstream itself (Ollama), False for --llm-url.
    llm_upstream_embedded: bool = False
    chroma_url: str | None = None
    # Which corpus (and which bytes) the RAG scenarios read, when any ran.
    corpus: dict[str, Any] | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
    # How many interleaved rounds each figure was measured in (schema 4).
    rounds: int = 1
    # Every contestant the plan selected, by name (schema 3).
    contestants: dict[str, ContestantInfo] = Field(default_factory=dict)


class RunResults(BaseModel):
    header: RunHeader
    records: list[ScenarioRecord] = Field(default_factory=list)
    # Untimed set-up runs (filling a contestant's Chroma collection), kept for the record.
    preparations: list[ScenarioRecord] = Field(default_factory=list)
