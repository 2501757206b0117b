"""Reading chainmark-server's request log from tests (shared by the server's test modules)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx


def log_since(url: str, seq: int, wait_for: int = 0) -> list[dict[str, Any]]:
    """Log entries from ``seq`` on, waiting (boundedly) for ``wait_for`` of them: a request is
    logged just after its last byte is sent, so a quick client can ask before it is there."""
    deadline = time.monotonic() + 5
    while True:
        entries = httpx.get(f"{url}/chainmark/requests", params={"since": seq}).json()["requests"]
        if len(entries) >= wait_for or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)


def next_seq(url: str) -> int:
    return int(httpx.get(f"{url}/chainmark/requests", params={"since": 1 << 60}).json()["next_seq"])


def _wall_minus_monotonic() -> tuple[int, int]:
    """``time_ns() - monotonic_ns()`` now, and the most that reading can be off: the wall clock
    is read between two monotonic reads, so their gap bounds the error; a few tries find a gap
    that no preemption widened."""
    best = (0, 1 << 62)
    for _ in range(1000):
        before, wall, after = time.monotonic_ns(), time.time_ns(), time.monotonic_ns()
        if after - before < best[1]:
            best = (wall - (before + after) // 2, after - before)
        if best[1] <= 20_000:
            break
    return best[0], best[1] // 2 + 1


class ClientWindow:
    """A client's own window around requests, to hold the server's log of them against:
    ``start_ns``/``end_ns`` on the wall clock (``time.time_ns``, as the log's start_ns and
    end_ns), ``seconds`` on the monotonic clock (as the log's server_s and every contestant's
    elapsed_ns).

    The server reads its start after a request has arrived and its end before it writes the
    answer's last byte (the server's timing_test.go forces the client to read first and checks
    it), and both processes read the same clocks, so the log's window lies inside this one and
    server_s <= seconds, with no margin for scheduling. One thing alone can move a wall-clock
    time against the other side's: the wall clock being set back (a time-sync step) while the
    window is open, since the server's end_ns is its wall-clock start plus the monotonic time it
    took while the client reads the wall clock again. ``slack_ns`` bounds that: how far the wall
    clock was set back against the monotonic one between entering and leaving (assuming at most
    one adjustment in between), plus both readings' errors, a few microseconds; without a step
    it is no more than those. Durations need no slack: no step changes the monotonic clock.
    """

    def __enter__(self) -> ClientWindow:
        self._offset0, self._error0 = _wall_minus_monotonic()
        self.start_ns = time.time_ns()
        self._mono0 = time.monotonic_ns()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._mono1 = time.monotonic_ns()
        self.end_ns = time.time_ns()
        self._offset1, self._error1 = _wall_minus_monotonic()

    @property
    def elapsed_ns(self) -> int:
        return self._mono1 - self._mono0

    @property
    def seconds(self) -> float:
        return self.elapsed_ns / 1e9

    @property
    def slack_ns(self) -> int:
        return max(0, self._offset0 - self._offset1 + self._error0 + self._error1)
