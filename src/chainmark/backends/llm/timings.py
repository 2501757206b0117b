"""The server's own per-request timing log, behind ``/chainmark/requests``.

A harness subtracts these server times from what its clients measured to get the framework's
overhead, so the window must be as wide as the server's part: from the first ASGI event in to
the last body byte out. That is why an ASGI middleware takes the times, not the handlers (which
return before a streamed body is sent).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainmark.backends.llm.base import RunStats

DEFAULT_CAPACITY = 200_000
STATE_KEY = "chainmark_record"


@dataclass(slots=True)
class RequestRecord:
    """Filled by the middleware (times, status) and the handler (model, counts)."""

    path: str
    method: str
    start_ns: int
    start_perf_ns: int
    seq: int = 0
    end_ns: int = 0
    status: int = 0
    model: str | None = None
    stream: bool | None = None
    stats: RunStats | None = None
    response_chars: int | None = None
    done_reason: str | None = None
    error: str | None = None

    def elapsed_ns(self) -> int:
        """Server time so far, on the monotonic clock (for Ollama's total_duration)."""
        return time.perf_counter_ns() - self.start_perf_ns

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "seq": self.seq,
            "path": self.path,
            "method": self.method,
            "model": self.model,
            "status": self.status,
            "stream": self.stream,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "server_s": (self.end_ns - self.start_ns) / 1e9,
            "queue_s": s.queue_s if s else None,
            "load_s": s.load_s if s else None,
            "prompt_eval_s": s.prompt_eval_s if s else None,
            "eval_s": s.eval_s if s else None,
            "prompt_eval_count": s.prompt_eval_count if s else None,
            "prompt_cached_count": s.prompt_cached_count if s else None,
            "eval_count": s.eval_count if s else None,
            "inputs": s.inputs if s else None,
            "response_chars": self.response_chars,
            "done_reason": self.done_reason,
            "error": self.error,
        }


class RequestLog:
    """Bounded, append-only; sequence numbers keep counting across resets and evictions."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[RequestRecord] = deque(maxlen=capacity)
        self._next_seq = 1

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, record: RequestRecord) -> None:
        record.seq = self._next_seq
        self._next_seq += 1
        self._entries.append(record)

    def since(self, seq: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Entries with ``seq >= seq`` (oldest first, at most ``limit``) and the seq to ask
        for next time."""
        entries = self._entries
        if not entries:
            return [], self._next_seq
        # Sequence numbers in the deque are contiguous, so the start is an index, not a scan.
        first = max(seq - entries[0].seq, 0)
        if first >= len(entries):
            return [], self._next_seq
        chosen = [entries[i] for i in range(first, min(first + limit, len(entries)))]
        return [r.to_json() for r in chosen], chosen[-1].seq + 1

    def clear(self) -> None:
        self._entries.clear()


class TimingMiddleware:
    """Times every request except the log's own endpoints and appends it to the log."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/chainmark/"):
            await self.app(scope, receive, send)
            return
        record = RequestRecord(
            path=scope["path"], method=scope["method"],
            start_ns=time.time_ns(), start_perf_ns=time.perf_counter_ns(),
        )
        scope.setdefault("state", {})[STATE_KEY] = record

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record.end_ns = time.time_ns()

        try:
            await self.app(scope, receive, timed_send)
        except BaseException as exc:
            record.error = record.error or f"{type(exc).__name__}: {exc}"
            record.status = record.status or 500
            raise
        finally:
            if not record.end_ns:
                record.end_ns = time.time_ns()
            self.log.append(record)
