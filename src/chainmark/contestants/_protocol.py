"""The contestant side of the contract, for Python contestants.

Standard library only: whatever this module imports is charged to every Python contestant's
memory and start-up figures, so it must stay as small as the Go side's equivalent.
"""

from __future__ import annotations

import gc
import importlib
import json
import platform
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

CONTRACT_VERSION = 2


@dataclass
class Op:
    name: str
    start_ns: int = 0
    end_ns: int = 0
    elapsed_ns: int = 0
    ok: bool = True
    error: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    # Monotonic start, so scenarios can stamp intra-operation events (first token) on it.
    t0: int = 0

    def since_start_ns(self) -> int:
        return time.perf_counter_ns() - self.t0


class Recorder:
    """Times operations and collects what the scenario wants the harness to see."""

    def __init__(self) -> None:
        self.operations: list[Op] = []
        self.outputs: dict[str, Any] = {}
        self.extras: dict[str, Any] = {}
        self.measure_start_ns: int | None = None
        self.measure_end_ns: int | None = None

    def begin(self) -> None:
        """Marks the start of the timed region (after setup and warm-up)."""
        self.measure_start_ns = time.time_ns()

    def end(self) -> None:
        self.measure_end_ns = time.time_ns()

    def iterations(self, params: dict[str, Any]) -> Iterator[int]:
        """The timed loop's counter: ``params["iterations"]`` at least; then, while the loop has
        run for less than ``params["min_round_s"]``, more, up to ``max_round_iterations``.

        pyperf sizes its loops the same way: on a zero-latency model one call is a millisecond,
        and a figure needs enough work for the clock to mean something. Without those params
        it yields exactly ``iterations``.
        """
        least = params["iterations"]
        floor_s = params.get("min_round_s") or 0.0
        cap = max(least, params.get("max_round_iterations") or least)
        start = time.perf_counter()
        done = 0
        while done < least or (done < cap and time.perf_counter() - start < floor_s):
            yield done
            done += 1

    @contextmanager
    def op(self, name: str = "op") -> Iterator[Op]:
        """Times the body; an exception marks the operation failed and is recorded, not raised.

        A benchmark loop must go on after one failed call so the harness sees every failure.
        """
        if self.measure_start_ns is None:
            self.begin()
        record = Op(name=name)
        record.start_ns = time.time_ns()
        record.t0 = time.perf_counter_ns()
        try:
            yield record
        except Exception as exc:
            record.ok = False
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            record.elapsed_ns = time.perf_counter_ns() - record.t0
            # The end on the wall clock is the start plus the monotonic duration: a second
            # wall-clock read could land after a GC pause and disagree with elapsed_ns.
            record.end_ns = record.start_ns + record.elapsed_ns
            self.operations.append(record)


ScenarioFn = Callable[[dict[str, Any], dict[str, Any], Recorder], None]
# A scenario is a function or "package.module:function", imported only when that scenario
# runs: a contestant's memory figures must not include libraries the scenario never uses.
ScenarioRef = ScenarioFn | str


def resolve(ref: ScenarioRef) -> ScenarioFn:
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def package_versions(*names: str) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run(
    contestant: str,
    scenarios: dict[str, ScenarioRef],
    frameworks: dict[str, str] | Callable[[], dict[str, str]],
) -> int:
    """Entry point: ``main.py REQUEST.json RESULT.json``; returns the exit code.

    ``main.py --scenarios`` prints the names in ``scenarios`` (the dispatch table itself, so the
    list cannot drift from what runs) as a sorted JSON list. It imports no scenario module, so
    keep the table's values "module:function" strings. ``frameworks`` may be a function, called
    only when a scenario runs.
    """
    if sys.argv[1:] == ["--scenarios"]:
        print(json.dumps(sorted(scenarios)))
        return 0
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} REQUEST.json RESULT.json | --scenarios", file=sys.stderr)
        return 2
    request_path, result_path = sys.argv[1], sys.argv[2]
    if callable(frameworks):
        frameworks = frameworks()
    try:
        with open(request_path, encoding="utf-8") as fh:
            request = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"cannot read request: {exc}", file=sys.stderr)
        return 2

    recorder = Recorder()
    result: dict[str, Any] = {
        "contract": CONTRACT_VERSION,
        "contestant": contestant,
        "scenario": request.get("scenario"),
        "language": "python",
        "runtime": f"{platform.python_implementation()} {platform.python_version()}",
        "frameworks": frameworks,
        "error": None,
    }
    scenario = scenarios.get(request.get("scenario", ""))
    exit_code = 0
    if scenario is None:
        result["error"] = f"not implemented: {request.get('scenario')!r} in {contestant}"
        exit_code = 3
    else:
        # tracemalloc slows allocation-heavy code a lot, so only scenarios that ask for it
        # (memory studies) pay for it; the harness measures RSS from outside for everyone.
        trace = bool(request["params"].get("tracemalloc"))
        gc_before = [s["collections"] for s in gc.get_stats()]
        try:
            function = resolve(scenario)
            # Started after the scenario's imports: tracing them (LangChain's take seconds)
            # would cost far more than the conversation it is there to measure, and count
            # the modules' memory as the scenario's.
            if trace:
                tracemalloc.start()
            function(request["params"], request["endpoints"], recorder)
        except Exception:
            result["error"] = traceback.format_exc(limit=8)
            exit_code = 1
        if recorder.measure_start_ns is not None and recorder.measure_end_ns is None:
            recorder.end()
        recorder.extras["gc_collections"] = sum(
            s["collections"] for s in gc.get_stats()
        ) - sum(gc_before)
        if trace:
            current, peak = tracemalloc.get_traced_memory()
            recorder.extras["tracemalloc_current_bytes"] = current
            recorder.extras["tracemalloc_peak_bytes"] = peak

    result.update(
        setup_s=recorder.outputs.pop("setup_s", 0.0),
        measure_start_ns=recorder.measure_start_ns,
        measure_end_ns=recorder.measure_end_ns,
        operations=[
            {k: v for k, v in vars(op).items() if k != "t0"} for op in recorder.operations
        ],
        outputs=recorder.outputs,
        extras=recorder.extras,
    )
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return exit_code


@contextmanager
def setup_timer(recorder: Recorder) -> Iterator[None]:
    """Times initialisation (clients, chains) so the report can show it apart from the runs."""
    t0 = time.perf_counter()
    yield
    recorder.outputs["setup_s"] = time.perf_counter() - t0
