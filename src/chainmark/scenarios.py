"""The scenario registry: the specification as data (rendered as docs/scenarios.md by
``chainmark.spec_doc``).

Every parameter a contestant needs (prompts, counts, limits) lives here and is passed to the
contestant in its request, so Python and Go contestants cannot drift apart. Published figures
are the article's claims, kept only to be printed beside what chainmark measures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROFILES = ("quick", "seed")
REAL_MODEL = "smollm2:135m"
SCRIPTED_MODEL = "synthetic:smollm2-cpu"
OVERHEAD_MODEL = "synthetic"


class ModelKind(StrEnum):
    """Which model a scenario runs on by default."""

    REAL = "real"  # the real model can do the work
    SCRIPTED = "scripted"  # a 135M model cannot follow the prompt; the synthetic model plays it
    # Stress and tracing-cost scenarios measure the framework under load: on 2 CPU cores the
    # real model serves about one request a second, so they would only measure its queue.
    OVERHEAD = "overhead"


@dataclass(frozen=True)
class Published:
    """One figure from the article, per language, in the unit of `metric`."""

    metric: str
    unit: str
    go: float | None
    python: float | None
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    part: int
    title: str
    summary: str
    # The metric that summarises the scenario in tables (a key of the harness's metrics).
    primary_metric: str = "latency_s"
    model_kind: ModelKind = ModelKind.REAL
    needs_chroma: bool = False
    # The harness passes the generated corpus's paths in params["corpus"].
    needs_corpus: bool = False
    # Reads a Chroma collection that the harness has each contestant fill beforehand, untimed.
    needs_collection: bool = False
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout_s: dict[str, float] = field(default_factory=lambda: {"quick": 300, "seed": 7200})
    published: tuple[Published, ...] = ()
    # What a correct answer must show; the harness keeps it and never sends it to contestants.
    expect: dict[str, Any] = field(default_factory=dict)
    # A model family other than the kind's default (e.g. the deliberately malformed agent).
    default_model_override: str | None = None

    def params_for(self, profile: str) -> dict[str, Any]:
        if profile not in PROFILES:
            raise KeyError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        return dict(self.params.get(profile, {}))


SKY_PROMPT = "Why is the sky blue?"

# The spec asks for "a long prompt" for TTFT without giving one; this one is fixed so every
# contestant and every run sends the same bytes (about 330 words).
LONG_PROMPT = (
    "You are reviewing the design of a service that answers questions about a large "
    "collection of technical documents. The service receives a question, looks up the most "
    "relevant passages in a vector database, builds a prompt that contains those passages, "
    "and sends the prompt to a language model. The team has noticed that users complain "
    "about slow answers, especially for the first words of a reply, and wants to know where "
    "the time goes. Some engineers believe the framework that glues the pieces together "
    "adds a large overhead, because it creates many small objects, runs callbacks for every "
    "step and serialises data more than once. Others believe the framework is irrelevant "
    "and that nearly all of the time is spent inside the model itself, evaluating the long "
    "prompt before it can produce the first token, and then generating tokens one at a "
    "time. A third group points at the network: every request crosses a socket, the "
    "response is streamed as many small JSON messages, and each message must be parsed by "
    "the client before the next one is read. The team lead asks for a careful answer that "
    "separates these costs, explains how each one could be measured on its own, and says "
    "which measurements would convince a sceptical reviewer. The answer should mention how "
    "to keep the model's own work constant while the framework changes, how to repeat the "
    "measurement often enough to report a mean with a confidence interval, how to record "
    "memory and processor time from outside the process so that different languages are "
    "measured the same way, and how to check that a fast result is also a correct one. "
    "Finally, the lead wants to know whether streaming the reply changes the time to the "
    "first token compared with waiting for the whole reply, and why. Please explain the "
    "plan step by step, starting with the single most important measurement."
)


def _llm(iterations: int, warmup: int, num_predict: int, **extra: Any) -> dict[str, Any]:
    # temperature 0 and a fixed seed: every contestant gets the same tokens from the real
    # model, so latency differences come from the stack, not from sampling luck.
    return {
        "iterations": iterations,
        "warmup": warmup,
        "num_predict": num_predict,
        "temperature": 0.0,
        "seed": 42,
        **extra,
    }


SPLIT = {"chunk_size": 1000, "chunk_overlap": 200}
RAG_QUERY = "What is the main topic of these documents?"
QA_QUERY = "Summarize the key themes from the documents in one paragraph."
# How many chunks of the 50-document set each contestant stores for rag.retrieve / rag.e2e.
# seed stores all of them (~850) as the article did; quick bounds the embedding work.
# On 2 CPU cores smollm2:135m embeds a 1000-character chunk in about a second, so quick keeps
# every embedding workload to a few dozen chunks.
# quick: enough chunks for k=5 retrieval to choose among, at ~2 s an embedding on Ollama.
PREPARE = {"seed": {**SPLIT, "max_chunks": None}, "quick": {**SPLIT, "max_chunks": 8}}


# The classic ReAct prompt (hwchase17/react), sent to every contestant so all show the model
# the same words.
REACT_PROMPT = """Answer the following questions as best you can. You have access to the \
following tools:

{tools}

Use the following format:

Question: the input question you must answer
Thought: you should always think about what to do
Action: the action to take, should be one of [{tool_names}]
Action Input: the input to the action
Observation: the result of the action
... (this Thought/Action/Action Input/Observation can repeat N times)
Thought: I now know the final answer
Final Answer: the final answer to the original input question

Begin!

Question: {input}
Thought:{agent_scratchpad}"""

TOOLS = {
    "word": {
        "name": "WordLengthTool",
        "description": "Calculates the character length of a single word. Input must be one "
        "word.",
    },
    "calc": {
        "name": "SimpleCalculator",
        "description": "A simple calculator that can evaluate basic arithmetic expressions "
        "like '1+2*3'.",
    },
    "counter": {
        "name": "CounterTool",
        "description": "Increments a global counter by one and returns the new value.",
    },
}


def _agent(question: str, iterations: int) -> dict[str, Any]:
    return {
        "question": question,
        "iterations": iterations,
        "warmup": 1,
        "react_prompt": REACT_PROMPT,
        "tools": TOOLS,
        "max_iterations": 10,
        "temperature": 0.0,
        "seed": 42,
        # A ReAct step is a sentence or two; the bound keeps a rambling model from running on.
        "num_predict": 256,
    }


ROUTER = {
    "router_prompt": 'Given the user query, classify it as either "math" or "prose". '
    "Respond with only one of these two words.\nQuery: {input}",
    "math_prompt": "Evaluate this math expression: {input}",
    "prose_prompt": "Write a creative piece based on this prompt: {input}",
    "queries": ["What is 15 * 12?", "Write a haiku about a sunset."],
    "temperature": 0.0,
    "seed": 42,
    "num_predict": 64,
}


SINGLE_QUESTION = "What is the character length of the word 'phenomenon'?"
MULTI_QUESTION = (
    "What is 25 multiplied by 4, and what is the character length of the word 'knowledge'?"
)
STRESS_QUERIES = [
    "What are the main themes?",
    "Tell me about the introduction.",
    "Is there a conclusion section?",
    "What is the most complex topic discussed?",
]
CONVERSATION = {
    "first_turn": "My name is John.",
    "next_turn": "That's interesting. Can you tell me more about the last thing you said? "
    "My name is still John.",
    "temperature": 0.0,
    "seed": 42,
    "tracemalloc": True,
}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="llm.latency",
        part=1,
        title="Single-turn completion latency",
        summary="`Why is the sky blue?` through one reused client; latency per call.",
        params={
            # seed: the article's 200 calls; num_predict -1 lets the model answer in full.
            "seed": _llm(200, 3, -1, prompt=SKY_PROMPT),
            # quick: bounded answers keep the real model at seconds per scenario on 2 cores.
            "quick": _llm(8, 1, 48, prompt=SKY_PROMPT),
        },
        published=(
            Published("latency_s", "s", 0.9992, 1.19076, "mean; std Go 28.5 ms, Python 89.31 ms"),
        ),
    ),
    Scenario(
        name="llm.ttft",
        part=1,
        title="Streaming time to first token",
        summary="A long prompt, streamed; time to the first non-empty chunk, stream consumed.",
        primary_metric="ttft_s",
        params={
            "seed": _llm(200, 3, -1, prompt=LONG_PROMPT),
            "quick": _llm(8, 1, 24, prompt=LONG_PROMPT),
        },
        published=(Published("ttft_s", "s", 0.14075, 0.21337, "mean TTFT"),),
    ),
    Scenario(
        name="rag.split",
        part=2,
        title="Recursive character splitting of a 10 MB document",
        summary="Chunk size 1000, overlap 200, 5 runs; MB/s and chunks/s.",
        needs_corpus=True,
        # Splitting needs no model, but the registry still names one for the record.
        params={"seed": {**SPLIT, "iterations": 5}, "quick": {**SPLIT, "iterations": 5}},
        published=(
            Published("latency_s", "s", 0.1512, 3.5476, "per run"),
            Published("mb_per_s", "MB/s", 66.47, 2.83),
            Published("chunks_per_s", "chunks/s", 83088, 3543),
        ),
    ),
    Scenario(
        name="rag.embed",
        part=2,
        title="Embedding the large document's chunks",
        summary="Sequential (framework batches) and concurrent (batches of 100, 8 workers).",
        primary_metric="docs_per_s",
        needs_corpus=True,
        params={
            # seed: every chunk of the 10 MB document; quick: the first 4 (two seconds each on
            # real Ollama on 2 cores), in batches small enough that two workers get work.
            "seed": {**SPLIT, "iterations": 1, "max_chunks": None, "batch_size": 100,
                     "workers": 8},
            "quick": {**SPLIT, "iterations": 1, "max_chunks": 4, "batch_size": 2,
                      "workers": 8},
        },
        published=(
            Published("docs_per_s", "docs/s", 138, 98, "sequential"),
            Published("docs_per_s_concurrent", "docs/s", 558, 252, "concurrent"),
        ),
    ),
    Scenario(
        name="rag.ingest",
        part=2,
        title="Load, split, embed and store 50 documents in Chroma",
        summary="Per-step times; collection deleted afterwards.",
        primary_metric="embed_store_s",
        needs_chroma=True,
        needs_corpus=True,
        params={
            "seed": {**SPLIT, "iterations": 1, "max_chunks": None},
            "quick": {**SPLIT, "iterations": 1, "max_chunks": 4},
        },
        published=(
            Published("load_s", "s", 0.0178, 0.1105),
            Published("split_s", "s", 0.0451, 0.6158, "853 chunks"),
            Published("embed_store_s", "s", 78, 135.7),
        ),
    ),
    Scenario(
        name="rag.retrieve",
        part=2,
        title="Top-5 retrieval",
        summary="100 retrievals of one question; k documents must come back.",
        needs_chroma=True,
        needs_corpus=True,
        needs_collection=True,
        params={
            "seed": {"iterations": 100, "warmup": 3, "query": RAG_QUERY, "k": 5},
            "quick": {"iterations": 20, "warmup": 1, "query": RAG_QUERY, "k": 5},
        },
        published=(
            Published("latency_s", "s", 0.2378, 0.34852, "std Go 5.9 ms, Python 18.55 ms"),
        ),
    ),
    Scenario(
        name="rag.e2e",
        part=2,
        title="Retrieval QA, stuff strategy",
        summary="20 runs of a summary question over top-5 documents.",
        needs_chroma=True,
        needs_corpus=True,
        needs_collection=True,
        params={
            "seed": _llm(20, 1, -1, query=QA_QUERY, k=5),
            # quick: 2, as each answer reads ~1,000 words of context (~20 s on Ollama here).
            "quick": _llm(2, 1, 48, query=QA_QUERY, k=5),
        },
        published=(Published("latency_s", "s", 2.70, 4.18),),
    ),
    Scenario(
        name="agent.single",
        part=3,
        title="ReAct agent, one tool call",
        summary="Character length of 'phenomenon' (10).",
        model_kind=ModelKind.SCRIPTED,
        params={
            "seed": _agent("What is the character length of the word 'phenomenon'?", 20),
            "quick": _agent("What is the character length of the word 'phenomenon'?", 2),
        },
        expect={"answer_contains": ["10"], "tool_calls": {"WordLengthTool": 1}},
        published=(Published("latency_s", "s", 1.95, 3.05),),
    ),
    Scenario(
        name="agent.multi",
        part=3,
        title="ReAct agent, two tools",
        summary="25 x 4 and the length of 'knowledge' (100 and 9).",
        model_kind=ModelKind.SCRIPTED,
        params={
            profile: _agent("What is 25 multiplied by 4, and what is the character length of "
                            "the word 'knowledge'?", n)
            for profile, n in (("seed", 20), ("quick", 2))
        },
        expect={"answer_contains": ["100", "9"],
                "tool_calls": {"SimpleCalculator": 1, "WordLengthTool": 1}},
        published=(Published("latency_s", "s", 3.98, 6.88),),
    ),
    Scenario(
        name="agent.high_freq",
        part=3,
        title="ReAct agent, five counter calls",
        summary="Count from 1 to 5 with CounterTool.",
        model_kind=ModelKind.SCRIPTED,
        params={
            profile: _agent("Using the CounterTool, count from 1 to 5 by calling the tool for "
                            "each number.", n)
            for profile, n in (("seed", 20), ("quick", 1))
        },
        expect={"answer_contains": ["5"], "tool_calls": {"CounterTool": 5}, "counter": 5},
        published=(Published("latency_s", "s", 9.12, 18.51),),
    ),
    Scenario(
        name="workflow.router",
        part=3,
        title="Router chain to a math or prose chain",
        summary="Two queries, route verified; LLM-only time and framework overhead.",
        model_kind=ModelKind.SCRIPTED,
        params={
            "seed": {**ROUTER, "iterations": 20, "warmup": 1},
            "quick": {**ROUTER, "iterations": 2, "warmup": 1},
        },
        expect={"routes": {"What is 15 * 12?": "math", "Write a haiku about a sunset.": "prose"}},
        published=(Published("latency_s", "s", 1.402, 2.153, "Go overhead 2.0 ms"),),
    ),
    Scenario(
        name="stress.concurrent_rag",
        part=4,
        title="50 simultaneous retrieval-QA queries",
        summary="Top-3, 30 s timeout each; wall time, ops/s, failures.",
        primary_metric="ops_per_s",
        model_kind=ModelKind.OVERHEAD,
        needs_chroma=True,
        needs_corpus=True,
        needs_collection=True,
        params={
            profile: {"concurrency": 50, "queries": STRESS_QUERIES, "k": 3,
                      "timeout_s": 30.0, "temperature": 0.0, "seed": 42, "num_predict": 64}
            for profile in PROFILES
        },
        published=(
            Published("wall_s", "s", 6.5, 18.2),
            Published("ops_per_s", "ops/s", 7.69, 2.75),
        ),
    ),
    Scenario(
        name="stress.concurrent_agent",
        part=4,
        title="25 simultaneous multi-hop agents",
        summary="Wall time and ops/s.",
        primary_metric="ops_per_s",
        model_kind=ModelKind.OVERHEAD,
        params={
            profile: {**_agent(MULTI_QUESTION, 1), "concurrency": 25, "timeout_s": 60.0}
            for profile in PROFILES
        },
        expect={"answer_contains": ["100", "9"],
                "tool_calls": {"SimpleCalculator": 1, "WordLengthTool": 1}},
        published=(
            Published("wall_s", "s", 10.5, 32.1),
            Published("ops_per_s", "ops/s", 2.38, 0.78),
        ),
    ),
    Scenario(
        name="stress.saturation",
        part=4,
        title="Saturating the LLM server",
        summary="100 workers for 60 s; completed requests and req/s.",
        primary_metric="ops_per_s",
        model_kind=ModelKind.OVERHEAD,
        params={
            "seed": {"concurrency": 100, "duration_s": 60.0, "prompt": SKY_PROMPT,
                     "temperature": 0.0, "seed": 42, "num_predict": 48, "timeout_s": 30.0},
            "quick": {"concurrency": 20, "duration_s": 8.0, "prompt": SKY_PROMPT,
                      "temperature": 0.0, "seed": 42, "num_predict": 48, "timeout_s": 30.0},
        },
        published=(
            Published("completed", "requests", 395, 255),
            Published("ops_per_s", "req/s", 6.58, 4.25),
        ),
    ),
    Scenario(
        name="resilience.timeout",
        part=4,
        title="2 s client timeout on a long generation",
        summary="Must fail with a timeout error within [2.0, 2.5) s.",
        primary_metric="timeout_s",
        params={
            # num_predict bounds the abandoned generation so the server is free again soon.
            profile: {"prompt": "Tell me a long story about the history of the internet.",
                      "client_timeout_s": 2.0, "iterations": n, "temperature": 0.0,
                      "seed": 42, "num_predict": 600}
            for profile, n in (("seed", 5), ("quick", 2))
        },
        expect={"window_s": [2.0, 2.5]},
        published=(Published("timeout_s", "s", 2.0015, 2.0081),),
    ),
    Scenario(
        name="resilience.tool_failure",
        part=4,
        title="A tool that raises",
        summary="The agent surfaces or recovers; never hangs or crashes.",
        model_kind=ModelKind.SCRIPTED,
        params={
            profile: {**_agent(SINGLE_QUESTION, n), "failing_tool": "word",
                      "failure_message": "simulated tool failure"}
            for profile, n in (("seed", 10), ("quick", 2))
        },
    ),
    Scenario(
        name="resilience.parse_error",
        part=4,
        title="Malformed agent output",
        summary="The framework recovers or returns a clear error.",
        model_kind=ModelKind.SCRIPTED,
        # The scripted model's first reply in every run lacks its Action Input line.
        default_model_override="synthetic-malformed:smollm2-cpu",
        params={
            profile: {**_agent(SINGLE_QUESTION, n), "handle_parsing_errors": True}
            for profile, n in (("seed", 10), ("quick", 2))
        },
        expect={"answer_contains": ["10"]},
    ),
    Scenario(
        name="ops.memory",
        part=5,
        title="100-turn conversation with buffer memory",
        summary="Checkpoints at turns 1, 10, 50, 100: latency and memory.",
        primary_metric="latency_s",
        params={
            "seed": {**CONVERSATION, "turns": 100, "checkpoints": [1, 10, 50, 100],
                     "num_predict": 64},
            # quick: the real model re-reads the growing history every turn, so fewer turns.
            "quick": {**CONVERSATION, "turns": 10, "checkpoints": [1, 5, 10],
                      "num_predict": 24},
        },
        published=(Published("turn100_latency_s", "s", 11.25, 19.86),),
    ),
    Scenario(
        name="ops.observability",
        part=5,
        title="Callback-handler overhead on concurrent agents",
        summary="Bare vs. logging handler vs. OpenTelemetry: throughput, latency, CPU.",
        primary_metric="logging_throughput_change_pct",
        model_kind=ModelKind.OVERHEAD,
        params={
            profile: {**_agent(MULTI_QUESTION, 1), "concurrency": 25, "rounds": n,
                      "modes": ["bare", "logging", "otel"], "timeout_s": 60.0}
            # A phase of 25 zero-latency agents lasts tens of milliseconds: several rounds
            # keep one noisy phase from deciding the figure.
            for profile, n in (("seed", 10), ("quick", 4))
        },
        expect={"answer_contains": ["100", "9"],
                "tool_calls": {"SimpleCalculator": 1, "WordLengthTool": 1}},
        published=(
            Published("logging_throughput_change_pct", "%", -3.43, -35.11),
            Published("logging_latency_change_pct", "%", None, 53.0),
            Published("logging_cpu_change_pct", "%", None, 92.0),
        ),
    ),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def get(name: str) -> Scenario:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown scenario {name!r}; known: {', '.join(BY_NAME)}"
        ) from None


def default_model(scenario: Scenario) -> str:
    if scenario.default_model_override:
        return scenario.default_model_override
    return {
        ModelKind.REAL: REAL_MODEL,
        ModelKind.SCRIPTED: SCRIPTED_MODEL,
        ModelKind.OVERHEAD: OVERHEAD_MODEL,
    }[scenario.model_kind]
