"""What a run writes down: one header, then one record per (scenario, contestant)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from chainmark.stats import Summary

RESULTS_SCHEMA = 1
# Fraction of one core above which the embedded server, not the contestant, is the limit.
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
    # The server process's own CPU over the run, when chainmark started it: a single-threaded
    # server near one full core is the bottleneck, not the contestant.
    cpu_s: float | None = None
    cpu_utilisation: float | None = None

    @property
    def saturated(self) -> bool:
        return self.cpu_utilisation is not None and self.cpu_utilisation >= SERVER_SATURATED


class ScenarioRecord(BaseModel):
    scenario: str
    contestant: str
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

    @property
    def ok(self) -> bool:
        return self.status is Status.PASSED


class RunHeader(BaseModel):
    schema_version: int = RESULTS_SCHEMA
    run_id: str
    started_at: str
    finished_at: str | None = None
    interrupted: bool = False
    profile: str
    command: list[str]
    llm_url: str
    llm_embedded: bool
    chroma_url: str | None = None
    # Which corpus (and which bytes) the RAG scenarios read, when any ran.
    corpus: dict[str, Any] | None = None
    environment: dict[str, Any] = Field(default_factory=dict)


class RunResults(BaseModel):
    header: RunHeader
    records: list[ScenarioRecord] = Field(default_factory=list)
    # Untimed set-up runs (filling a contestant's Chroma collection), kept for the record.
    preparations: list[ScenarioRecord] = Field(default_factory=list)
