"""What tracing costs without a framework: the baseline's ReAct agent (react.py) run
concurrently three ways — bare, with stdlib `logging` of every event, and with OpenTelemetry
spans (opentelemetry-sdk, in-memory exporter: no network).

The hooks sit where the frameworks' callbacks fire: the agent run (the frameworks' chain),
each model call, each tool call, each parsed action and the final answer. A run is driven
here, step by step, through the agent's own state machine (`ReactRun.prompt`/`take`), so the
bare phase and the observed phases make the same requests.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Tracer, set_span_in_context

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api, react
from chainmark.contestants.tools import Counter
from chainmark.contestants.waves import in_waves, timed, wave_limits

# Each event's detail is cut to this many characters in the log, as the frameworks'
# logging handlers in chainmark do.
MAX_LOGGED_CHARS = 200


class Observer(Protocol):
    events: int

    def start(self, kind: str, run_id: int, detail: object) -> None: ...
    def end(self, kind: str, run_id: int, detail: object) -> None: ...
    def error(self, kind: str, run_id: int, exc: BaseException) -> None: ...
    def agent(self, kind: str, run_id: int, detail: object) -> None: ...


class LoggingObserver:
    """One log line per chain, LLM, tool and agent event, as an application's audit log."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self.events = 0

    def _event(self, kind: str, run_id: int, detail: object) -> None:
        self.events += 1
        self.log.info("%s run=%d %s", kind, run_id, str(detail)[:MAX_LOGGED_CHARS])

    def start(self, kind: str, run_id: int, detail: object) -> None:
        self._event(f"{kind}_start", run_id, detail)

    def end(self, kind: str, run_id: int, detail: object) -> None:
        self._event(f"{kind}_end", run_id, detail)

    def error(self, kind: str, run_id: int, exc: BaseException) -> None:
        self._event(f"{kind}_error", run_id, repr(exc))

    def agent(self, kind: str, run_id: int, detail: object) -> None:
        self._event(kind, run_id, detail)


class TracingObserver:
    """One span per agent run, model call and tool call, each nested in the innermost span
    of its run still open; starts and ends are counted as events (agent actions are not
    spans, as in the frameworks' tracing handlers)."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.open: dict[int, list[Span]] = {}
        self.events = 0

    def start(self, kind: str, run_id: int, detail: object) -> None:
        self.events += 1
        stack = self.open.setdefault(run_id, [])
        context = set_span_in_context(stack[-1]) if stack else None
        stack.append(self.tracer.start_span(kind, context=context))

    def end(self, kind: str, run_id: int, detail: object) -> None:
        self.events += 1
        stack = self.open.get(run_id)
        if stack:
            stack.pop().end()
            if not stack:
                del self.open[run_id]

    def error(self, kind: str, run_id: int, exc: BaseException) -> None:
        self.end(kind, run_id, exc)

    def agent(self, kind: str, run_id: int, detail: object) -> None:
        return None


def _observed_tool(tool: react.Tool, observer: Observer, run_id: int) -> react.Tool:
    func = tool.func

    # functools.wraps keeps the signature the prompt's tool line shows.
    @functools.wraps(func)
    def call(text: str) -> str:
        observer.start("tool", run_id, text)
        try:
            result = func(text)
        except Exception as exc:
            observer.error("tool", run_id, exc)
            raise
        observer.end("tool", run_id, result)
        return result

    return react.Tool(tool.name, tool.description, call)


async def run_observed(agent: react.Agent, http: httpx.AsyncClient, question: str,
                       tools: list[react.Tool], observer: Observer, run_id: int
                       ) -> react.ReactRun:
    """`agent.arun` with the hooks: the same prompts, requests and tool calls."""
    run = agent.start(question, [_observed_tool(t, observer, run_id) for t in tools])
    observer.start("chain", run_id, {"input": question})
    try:
        while (prompt := run.prompt()) is not None:
            observer.start("llm", run_id, prompt)
            try:
                reply = await api.agenerate(http, api.body(agent.model, prompt, agent.options))
            except BaseException as exc:  # a deadline cancels the call: the span still ends
                observer.error("llm", run_id, exc)
                raise
            observer.end("llm", run_id, reply)
            # The loop parses the reply again in take(): an action event must come before
            # its tool runs, and the hook sits outside the loop.
            step = react.parse(reply)
            if isinstance(step, react.Action):
                observer.agent("agent_action", run_id, step)
            run.take(reply)
        observer.agent("agent_finish", run_id, run.answer)
    except BaseException as exc:
        observer.error("chain", run_id, exc)
        raise
    observer.end("chain", run_id, {"output": run.answer})
    return run


class Phase:
    """One mode's observer (None for bare) and what the phase record reports about it."""

    def __init__(self, mode: str, log_dir: Path) -> None:
        self.mode = mode
        self.observer: Observer | None = None
        self._file: logging.FileHandler | None = None
        self._exporter: InMemorySpanExporter | None = None
        if mode == "bare":
            return
        if mode == "logging":
            # A logger of its own per phase, writing to a file, not propagated to the root.
            logger = logging.getLogger(f"chainmark.baseline.events.{time.perf_counter_ns()}")
            logger.setLevel(logging.INFO)
            logger.propagate = False
            self._file = logging.FileHandler(log_dir / "events.log")
            logger.addHandler(self._file)
            self.observer = LoggingObserver(logger)
        elif mode == "otel":
            self._exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(self._exporter))
            self.observer = TracingObserver(provider.get_tracer("chainmark"))
        else:
            raise ValueError(f"unknown observability mode {mode!r}")

    def record(self, start_ns: int, waves: int) -> dict[str, Any]:
        record: dict[str, Any] = {"mode": self.mode, "start_ns": start_ns,
                                  "end_ns": time.time_ns(), "waves": waves}
        if self.observer is not None:
            record["events"] = self.observer.events
        if self._exporter is not None:
            record["spans"] = len(self._exporter.get_finished_spans())
        if self._file is not None:
            self._file.close()
        return record


def observability(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: asyncio with one httpx.AsyncClient pooled as wide as `concurrency`; the agent
    # is react.py's (non-streaming /api/generate per step, fresh tools and counter per run);
    # `bare` runs it as stress.concurrent_agent does, `logging` logs every event with stdlib
    # logging to a file, `otel` makes spans with the OpenTelemetry SDK (SimpleSpanProcessor,
    # in-memory exporter); run ids are a process-wide counter; each run under
    # asyncio.wait_for(timeout_s).
    min_s, max_waves = wave_limits(params, "min_phase_s")
    run_ids = itertools.count(1)
    phases: list[dict[str, Any]] = []
    question = params["question"]

    async def main() -> None:
        with setup_timer(rec):
            http = api.async_client(endpoints, connections=params["concurrency"])
            agent = react.Agent(params, endpoints["model"])
            log_dir = Path(tempfile.mkdtemp(prefix="chainmark-events-"))

        async def one(observer: Observer | None) -> dict[str, Any]:
            counter = Counter()
            tools = react.make_tools(params, counter)
            if observer is None:
                run = await agent.arun(http, question, tools)
            else:
                run = await run_observed(agent, http, question, tools, observer,
                                         next(run_ids))
            return react.outputs(run, counter)

        async def phase(mode: str) -> None:
            current = Phase(mode, log_dir)

            async def wave(n: int) -> None:
                await asyncio.gather(*(
                    timed(rec, mode, params["timeout_s"], lambda: one(current.observer),
                          wave=n)
                    for _ in range(params["concurrency"])
                ))

            start = time.time_ns()
            # The burst again and again until the phase has lasted min_phase_s.
            waves = await in_waves(start, min_s, max_waves, wave)
            phases.append(current.record(start, waves))

        try:
            # One untimed bare burst first, so no measured phase pays for a cold process.
            await asyncio.gather(*(one(None) for _ in range(params["concurrency"])))
            rec.begin()
            # Modes alternate within each round, every other round in reverse (ABC CBA ...),
            # so drift on a shared machine hits every mode alike.
            for round_ in range(params["rounds"]):
                modes = params["modes"] if round_ % 2 == 0 else params["modes"][::-1]
                for mode in modes:
                    await phase(mode)
            rec.end()
        finally:
            await http.aclose()
            shutil.rmtree(log_dir, ignore_errors=True)

    asyncio.run(main())
    rec.outputs["phases"] = phases
