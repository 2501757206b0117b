"""What a scenario is: its parameters, its output schema, how it is verified and measured.

Every scenario is one `Scenario` value in a part module (``llm``, ``rag``, ``agents``,
``stress``, ``ops``); the harness reads its traits and hooks and keeps no table of names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from chainmark.scenarios.evidence import Evidence, Truths

PROFILES = ("quick", "seed")
# The profile a run uses unless told otherwise (`chainmark run --profile`).
DEFAULT_PROFILE = "quick"
REAL_MODEL = "smollm2:135m"
SCRIPTED_MODEL = "synthetic:smollm2-cpu"
OVERHEAD_MODEL = "synthetic"


def zero_latency(model: str) -> bool:
    """A synthetic model family at the zero profile ("synthetic", "synthetic-malformed",
    "synthetic:zero"): its figures hold no model time at all."""
    family, _, tag = model.partition(":")
    return family.startswith("synthetic") and tag in ("", "latest", "zero")
# Any operation name: the scenario has one kind of operation and contestants name it freely.
ANY_OPERATION = "*"
# Per operation: the client's time beyond the LLM server's (chainmark.harness.metrics).
OVERHEAD_METRIC = "overhead_s"


class ModelKind(StrEnum):
    """Which model a scenario runs on by default."""

    REAL = "real"  # the real model can do the work
    SCRIPTED = "scripted"  # a 135M model cannot follow the prompt; the synthetic model plays it
    # Stress and tracing-cost scenarios measure the framework under load: on 2 CPU cores the
    # real model serves about one request a second, so they would only measure its queue.
    OVERHEAD = "overhead"


DEFAULT_MODELS = {
    ModelKind.REAL: REAL_MODEL,
    ModelKind.SCRIPTED: SCRIPTED_MODEL,
    ModelKind.OVERHEAD: OVERHEAD_MODEL,
}


class Output(BaseModel):
    """Base of every operation's `output` schema: the fields the harness reads are typed and
    checked; a contestant may add others (they are kept, never read)."""

    model_config = ConfigDict(extra="allow", strict=True)


@dataclass(frozen=True)
class Published:
    """One figure from the article, per language, in the unit of `metric`."""

    metric: str
    unit: str
    go: float | None
    python: float | None
    note: str = ""


@dataclass(frozen=True)
class ScriptedProbe:
    """A prompt exactly as a contestant sends it, and what the scripted synthetic model must
    answer to it: the scenario's own words are what chainmark-server has to recognise, and a
    test sends every probe to the real server."""

    prompt: str
    # Every one of these must appear in the reply.
    reply_contains: tuple[str, ...]
    # Which parameter the prompt comes from, for the failure message.
    source: str


# What a scenario contributes to the harness, beside its data.
Verifier = Callable[["Evidence"], None]
Derived = Callable[["Evidence"], dict[str, list[float]]]
Series = Callable[["Evidence"], dict[str, list[dict[str, Any]]]]
TruthsFor = Callable[["Truths"], dict[str, Any]]
Probes = Callable[[dict[str, Any]], list[ScriptedProbe]]


@dataclass(frozen=True)
class Scenario:
    name: str
    part: int
    title: str
    # One line for the specification: what is done and what is timed.
    summary: str
    # The operation output schema per operation name (ANY_OPERATION for every name).
    operations: dict[str, type[Output]]
    verify: Verifier
    # The metric that summarises the scenario in tables (a key of the harness's metrics).
    primary_metric: str = "latency_s"
    # The figure the language-vs-framework view compares across contestants (chainmark.
    # language_view), when it is not the primary metric. The rule: framework overhead per
    # operation (`overhead_s`) wherever the server's log gives it (one kind of operation, run
    # one at a time, each reaching the LLM server); else the primary metric, which is what the
    # scenario is about (a rate under concurrency, a step's time, a timeout's, a handler's cost).
    headline_metric: str | None = None
    model_kind: ModelKind = ModelKind.REAL
    # A model family other than the kind's default (e.g. the deliberately malformed agent).
    default_model_override: str | None = None
    # Another default model in one profile (e.g. quick runs a check the article published no
    # figure for on the zero-latency model, where the paced one would only add seconds).
    profile_models: dict[str, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout_s: dict[str, float] = field(default_factory=lambda: {"quick": 300, "seed": 7200})
    published: tuple[Published, ...] = ()
    # How the framework-free baselines (python-baseline, go-baseline) do the work where a
    # hand-written stack must choose (batching, streaming, endpoint): one choice, both languages.
    baseline_choice: str = ""
    # What a correct answer must show; the harness keeps it and never sends it to contestants.
    expect: dict[str, Any] = field(default_factory=dict)
    # Schema of the result's `outputs` (whole-run data such as phases), if the scenario has any.
    outputs: type[Output] | None = None
    # Traits, each read by every consumer that needs it.
    needs_chroma: bool = False
    # The harness passes the generated corpus's paths in params["corpus"].
    needs_corpus: bool = False
    # Reads a Chroma collection the harness has each contestant fill beforehand, untimed.
    needs_collection: bool = False
    # Fills a collection of its own: the harness names it in params["collection"].
    fills_collection: bool = False
    # Operations overlap in time (params["concurrency"] at once): the server's requests cannot
    # be attributed to one operation, and a --concurrency sweep applies.
    concurrent: bool = False
    # The figure is a rate over the whole timed region, not a mean over operations.
    throughput: bool = False
    # The harness's own truths the verifier and metrics need (chunk counts, dimensions).
    truths: TruthsFor | None = None
    # Scenario-specific metrics beside the common ones (rates, per-turn latency, ...).
    derive: Derived | None = None
    # Rows a report shows as they are (ops.memory's checkpoints).
    series: Series | None = None
    # An untimed helper the harness runs for others (filling a collection), never listed.
    internal: bool = False
    # The server paths each operation must reach, by operation name (ANY_OPERATION for all);
    # checked against the server's log wherever it tells operations apart.
    serves: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Scenarios the scripted model plays: its prompts, rendered from the params, and the
    # replies they must get (required for ModelKind.SCRIPTED; a test checks every one).
    scripted_probes: Probes | None = None

    def params_for(self, profile: str) -> dict[str, Any]:
        if profile not in PROFILES:
            raise KeyError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        return dict(self.params.get(profile, {}))

    @property
    def headline(self) -> str:
        """The metric the language-vs-framework view compares (see `headline_metric`)."""
        return self.headline_metric or self.primary_metric

    @property
    def default_model(self) -> str:
        return self.default_model_override or DEFAULT_MODELS[self.model_kind]

    def model_for(self, profile: str) -> str:
        """The model a run of this profile uses unless the user names one."""
        return self.profile_models.get(profile, self.default_model)

    def served_paths(self, operation: str) -> tuple[str, ...]:
        return self.serves.get(operation, self.serves.get(ANY_OPERATION, ()))

    def output_schema(self, operation: str) -> type[Output] | None:
        return self.operations.get(operation, self.operations.get(ANY_OPERATION))
