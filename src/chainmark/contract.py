"""The language-neutral contestant contract, as the harness reads and writes it.

A contestant is any program invoked as ``COMMAND REQUEST.json RESULT.json``. It reads the
request, initialises its stack (untimed), runs the scenario's operations, writes the result
and exits 0. It reports what it did and saw; it never grades itself: the harness verifies.
See ``src/chainmark/contestants/CONTRACT.md`` for the prose version.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONTRACT_VERSION = 2


class Endpoints(BaseModel):
    llm_url: str
    # The model every call uses, embeddings included.
    model: str
    chroma_url: str | None = None


class ContestantRequest(BaseModel):
    contract: int = CONTRACT_VERSION
    scenario: str
    params: dict[str, Any]
    endpoints: Endpoints
    # The harness kills the process after this; contestants may use it to bound their own waits.
    timeout_s: float


class Operation(BaseModel):
    """One timed operation (a call, a retrieval, a pipeline step)."""

    model_config = ConfigDict(extra="allow")

    name: str = "op"
    # Wall-clock epoch nanoseconds, to align with the server's request log and RSS samples.
    start_ns: int
    end_ns: int
    # Monotonic-clock duration; this is what latency statistics use.
    elapsed_ns: int = Field(ge=0)
    ok: bool = True
    error: str | None = None
    # Whatever the harness needs to verify the operation (text, ttft_ns, chunk counts, ...).
    output: dict[str, Any] = Field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.elapsed_ns / 1e9


class ContestantResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    contract: int
    contestant: str
    scenario: str
    language: str
    runtime: str
    frameworks: dict[str, str] = Field(default_factory=dict)
    setup_s: float = 0.0
    measure_start_ns: int | None = None
    measure_end_ns: int | None = None
    operations: list[Operation] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict)
    # Language-native figures (tracemalloc, GC counts, Go MemStats): shown, never compared.
    extras: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
