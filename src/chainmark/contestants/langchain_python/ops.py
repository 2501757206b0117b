"""Operational cost: conversation memory growth, and what tracing callbacks cost.

`ops.memory` runs `ConversationChain` with `ConversationBufferMemory` (langchain-classic), the
article's Python classes. `ops.observability` runs the concurrent multi-hop agent three ways:
bare, with a callback handler that logs every chain, LLM, tool and agent event, and with a
handler that records the same events as OpenTelemetry spans (opentelemetry-sdk, in-memory
exporter: no network).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_classic.chains import ConversationChain
from langchain_classic.memory import ConversationBufferMemory
from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Tracer, set_span_in_context

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.langchain_python.agents import AgentRunner, outputs
from chainmark.contestants.langchain_python.llm import llm_for
from chainmark.contestants.tools import Counter
from chainmark.contestants.waves import in_waves, timed, wave_limits


def memory(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    with setup_timer(rec):
        buffer = ConversationBufferMemory()
        chain = ConversationChain(llm=llm_for(params, endpoints), memory=buffer)
    checkpoints = set(params["checkpoints"])
    rec.begin()
    for turn in range(1, params["turns"] + 1):
        with rec.op("turn") as op:
            said = params["first_turn"] if turn == 1 else params["next_turn"]
            op.output["text"] = chain.invoke({"input": said})["response"]
        op.output.update(turn=turn, history_chars=len(buffer.buffer))
        if turn in checkpoints and tracemalloc.is_tracing():
            current, peak = tracemalloc.get_traced_memory()
            op.output.update(tracemalloc_current_bytes=current, tracemalloc_peak_bytes=peak)
    rec.end()


class LoggingHandler(BaseCallbackHandler):
    """Logs every chain, LLM, tool and agent event, as an application's audit log would."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self.events = 0

    def _event(self, kind: str, run_id: UUID, detail: Any = "") -> None:
        self.events += 1
        self.log.info("%s run=%s %s", kind, run_id, str(detail)[:200])

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("chain_start", run_id, inputs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("chain_end", run_id, outputs)

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("llm_start", run_id, prompts)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("llm_end", run_id, response)

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **kw: Any) -> None:
        self._event("tool_start", run_id, input_str)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("tool_end", run_id, output)

    def on_agent_action(self, action: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("agent_action", run_id, action)

    def on_agent_finish(self, finish: Any, *, run_id: UUID, **kw: Any) -> None:
        self._event("agent_finish", run_id, finish)


class TracingHandler(BaseCallbackHandler):
    """One OpenTelemetry span per chain, LLM and tool run, nested by LangChain's parent ids."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.spans: dict[UUID, Span] = {}
        self.events = 0

    def _start(self, name: str, run_id: UUID, parent_run_id: UUID | None) -> None:
        self.events += 1
        parent = self.spans.get(parent_run_id) if parent_run_id else None
        context = set_span_in_context(parent) if parent is not None else None
        self.spans[run_id] = self.tracer.start_span(name, context=context)

    def _end(self, run_id: UUID) -> None:
        self.events += 1
        span = self.spans.pop(run_id, None)
        if span is not None:
            span.end()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kw: Any) -> None:
        self._start("chain", run_id, parent_run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kw: Any) -> None:
        self._start("llm", run_id, parent_run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kw: Any) -> None:
        self._start("tool", run_id, parent_run_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)


def _handlers(mode: str, log_dir: Path) -> tuple[list[BaseCallbackHandler], Any]:
    if mode == "bare":
        return [], None
    if mode == "logging":
        logger = logging.getLogger(f"chainmark.observability.{time.perf_counter_ns()}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(logging.FileHandler(log_dir / "events.log"))
        handler: BaseCallbackHandler = LoggingHandler(logger)
        return [handler], handler
    if mode == "otel":
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        handler = TracingHandler(provider.get_tracer("chainmark"))
        return [handler], (handler, exporter)
    raise ValueError(f"unknown observability mode {mode!r}")


def observability(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    min_s, max_waves = wave_limits(params, "min_phase_s")
    with setup_timer(rec):
        runner = AgentRunner(params, endpoints)
        log_dir = Path(tempfile.mkdtemp(prefix="chainmark-events-"))
    phases: list[dict[str, Any]] = []

    async def one(callbacks: list[BaseCallbackHandler]) -> dict[str, Any]:
        counter = Counter()
        result = await runner.executor(counter).ainvoke(
            {"input": params["question"]}, config={"callbacks": callbacks}
        )
        return outputs(result, counter)

    async def phase(mode: str) -> None:
        callbacks, state = _handlers(mode, log_dir)

        async def wave(n: int) -> None:
            await asyncio.gather(*(
                timed(rec, mode, params["timeout_s"], lambda: one(callbacks), wave=n)
                for _ in range(params["concurrency"])
            ))

        start = time.time_ns()
        # The burst again and again until the phase has lasted min_phase_s.
        waves = await in_waves(start, min_s, max_waves, wave)
        record: dict[str, Any] = {"mode": mode, "start_ns": start, "end_ns": time.time_ns(),
                                  "waves": waves}
        if mode == "logging":
            record["events"] = state.events
        elif mode == "otel":
            handler, exporter = state
            record.update(events=handler.events, spans=len(exporter.get_finished_spans()))
        phases.append(record)

    async def main() -> None:
        # One untimed bare burst first, so no measured phase pays for a cold process.
        await asyncio.gather(*(one([]) for _ in range(params["concurrency"])))
        rec.begin()
        # Modes alternate within each round, and every other round runs them in reverse
        # (ABC CBA ...), so drift on a shared machine hits every mode alike.
        for round_ in range(params["rounds"]):
            modes = params["modes"] if round_ % 2 == 0 else params["modes"][::-1]
            for mode in modes:
                await phase(mode)
        rec.end()

    asyncio.run(main())
    rec.outputs["phases"] = phases
