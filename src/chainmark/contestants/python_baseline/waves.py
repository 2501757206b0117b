"""Concurrency plumbing for the baseline's stress scenarios: asyncio, one deadline per call,
bursts repeated in waves. Standard library only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chainmark.contestants._protocol import Op, Recorder


def error_kind(exc: BaseException) -> str:
    """How a call failed, in the words the harness counts failures by."""
    if isinstance(exc, TimeoutError):  # asyncio.wait_for's deadline, and socket timeouts
        return "timeout"
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "timeout"
    if "connect" in name:
        return "connection"
    return type(exc).__name__


async def timed(rec: Recorder, name: str, timeout_s: float,
                call: Callable[[], Awaitable[dict[str, Any]]], wave: int | None = None) -> None:
    """One operation under its own deadline. A failure is recorded with its kind, never
    raised: under stress a failed call is data. `wave`, when given, is recorded either way."""
    op = Op(name=name, start_ns=time.time_ns(), t0=time.perf_counter_ns())
    if wave is not None:
        op.output["wave"] = wave
    try:
        op.output.update(await asyncio.wait_for(call(), timeout_s))
    except Exception as exc:
        op.ok = False
        op.error = f"{type(exc).__name__}: {exc}"[:500]
        op.output["error_kind"] = error_kind(exc)
    op.elapsed_ns = time.perf_counter_ns() - op.t0
    # One monotonic duration, placed on the wall clock at the start (as Recorder.op does).
    op.end_ns = op.start_ns + op.elapsed_ns
    rec.operations.append(op)


def wave_limits(params: dict[str, Any], minimum: str) -> tuple[float, int]:
    """`params[minimum]` in seconds (0: one wave) and `params["max_waves"]`, checked."""
    min_s, max_waves = params[minimum], params["max_waves"]
    if min_s < 0:
        raise ValueError(f"params.{minimum} must not be negative, got {min_s}")
    if max_waves < 1:
        raise ValueError(f"params.max_waves must be at least 1, got {max_waves}")
    return float(min_s), int(max_waves)


async def in_waves(start_ns: int, min_s: float, max_waves: int,
                   burst: Callable[[int], Awaitable[object]]) -> int:
    """Runs burst(0), burst(1), ... one after another: at least one, at most `max_waves`, and
    none once `min_s` has passed since `start_ns` (the wall-clock stamp the result reports,
    so the contestant and the verifier time the same span). Returns how many ran."""
    waves = 0
    while True:
        await burst(waves)
        waves += 1
        if waves >= max_waves or time.time_ns() - start_ns >= min_s * 1e9:
            return waves
