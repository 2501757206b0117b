"""Concurrency helpers every Python contestant shares, framework-free: one operation under a
deadline, recorded whatever happens, and bursts repeated in waves (the Go contestants' twins
are their timed and inWaves)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chainmark.contestants._protocol import Op, Recorder


def error_kind(exc: BaseException) -> str:
    """How a call failed, as the harness counts failures: timeout, connection, or the type."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "timeout"
    if "connect" in name:
        return "connection"
    return type(exc).__name__


async def timed(
    rec: Recorder, name: str, timeout_s: float, call: Callable[[], Awaitable[dict[str, Any]]],
    wave: int | None = None,
) -> None:
    """One operation under a deadline; failures are recorded with their kind, never raised.
    `wave`, when given, goes into its output whatever happens."""
    op = Op(name=name, start_ns=time.time_ns(), t0=time.perf_counter_ns())
    if wave is not None:
        op.output["wave"] = wave
    try:
        op.output.update(await asyncio.wait_for(call(), timeout_s))
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            raise
        op.ok = False
        op.error = f"{type(exc).__name__}: {exc}"[:500]
        op.output["error_kind"] = error_kind(exc)
    op.elapsed_ns = time.perf_counter_ns() - op.t0
    op.end_ns = op.start_ns + op.elapsed_ns  # as Recorder.op does: one span, two clocks
    rec.operations.append(op)


def wave_limits(params: dict[str, Any], minimum: str) -> tuple[float, int]:
    """`params[minimum]` (seconds, 0 for one wave) and `max_waves` (at least 1), checked."""
    min_s, max_waves = params[minimum], params["max_waves"]
    if min_s < 0:
        raise ValueError(f"params.{minimum} must not be negative, got {min_s}")
    if max_waves < 1:
        raise ValueError(f"params.max_waves must be at least 1, got {max_waves}")
    return min_s, max_waves


async def in_waves(start_ns: int, min_s: float, max_waves: int,
                   burst: Callable[[int], Awaitable[object]]) -> int:
    """Awaits burst(0), burst(1), ... one after another until `min_s` has passed since
    `start_ns` (always one, at most `max_waves`; none starts once the time is reached);
    returns how many ran. `start_ns` is the start stamp the result reports (the timed
    region's, a phase's), read on the same clock, so the contestant and the verifier time the
    same span. The Go twin is inWaves."""
    min_ns = min_s * 1e9
    waves = 0
    while True:
        await burst(waves)
        waves += 1
        if waves >= max_waves or time.time_ns() - start_ns >= min_ns:
            return waves
