"""Runs one planned (scenario, contestant) and turns what happened into a record."""

from __future__ import annotations

import json
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chainmark.contract import ContestantRequest, ContestantResult, Endpoints
from chainmark.gobuild import BuildError
from chainmark.harness import metrics, verify
from chainmark.harness.launcher import ProcessLaunchError, ProcessOutcome, run_measured
from chainmark.harness.plan import PlannedRun
from chainmark.harness.records import Resources, ScenarioRecord, ServerSummary, Status
from chainmark.harness.server_log import ServerLog, ServerRequest, within
from chainmark.scenarios.evidence import Evidence

NOT_IMPLEMENTED_EXIT = 3
# Names of the watched backend process groups (see ``run_measured``'s ``watch``).
INSTRUMENT = "instrument"
MODEL_SERVER = "model"
SAMPLE_OUTPUT_CHARS = 300
HARNESS_ERROR_LOG = "harness-error.log"
# The largest result file the harness reads (the contract says so): thousands of operations
# fit in a few MiB, and a larger file is a fault, not data.
MAX_RESULT_BYTES = 64 * 2**20
# How much of a parse error, and of a contestant's stderr (its last lines), a record keeps.
PARSE_ERROR_CHARS = 500
STDERR_HINT_LINES = 6
STDERR_HINT_CHARS = 1500


def _resources(outcome: ProcessOutcome, result: ContestantResult | None) -> Resources:
    start = result.measure_start_ns if result else None
    end = result.measure_end_ns if result else None
    rss_start = outcome.rss_at(start) if start else None
    rss_end = outcome.rss_at(end) if end else None
    return Resources(
        wall_s=outcome.wall_s,
        cpu_s=outcome.cpu_s,
        cpu_measured_s=outcome.cpu_between(start, end) if start and end else None,
        peak_rss_bytes=outcome.max_rss_bytes,
        rss_start_bytes=rss_start,
        rss_end_bytes=rss_end,
        rss_growth_bytes=(rss_end - rss_start) if rss_start and rss_end else None,
    )


def _server_summary(requests: list[ServerRequest]) -> ServerSummary:
    by_path: dict[str, int] = {}
    for r in requests:
        by_path[r.path] = by_path.get(r.path, 0) + 1

    def total(field: str) -> float:
        values = (r.raw.get(field) for r in requests)
        return sum(v for v in values if isinstance(v, int | float))

    return ServerSummary(
        requests=len(requests), server_s=sum(r.server_s for r in requests), by_path=by_path,
        prompt_tokens=int(total("prompt_eval_count")), load_s=total("load_s"),
        prompt_eval_s=total("prompt_eval_s"), eval_s=total("eval_s"),
    )


def _no_constant(name: str) -> None:
    # json.loads accepts NaN and Infinity, which are not JSON and which no figure may hold.
    raise ValueError(f"{name} is not a JSON number")


def _read_result(path: Path) -> tuple[ContestantResult | None, str | None]:
    """The contestant's result, or why it cannot be used, in one line. Whatever the file
    holds (huge, nested 200,000 deep, not UTF-8, NaN, wrong types) ends here as a reason."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, "wrote no result file"
    except OSError as exc:
        return None, f"wrote a result that cannot be read: {exc}"
    if size > MAX_RESULT_BYTES:
        return None, (f"wrote a {size / 2**20:.0f} MiB result, more than the contract's "
                      f"{MAX_RESULT_BYTES // 2**20} MiB")
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant)
        # Lone surrogates parse but cannot be written back as UTF-8 results.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
        return ContestantResult.model_validate(data), None
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        return None, f"wrote a result that breaks the contract: {field}: {error['msg']}"
    except RecursionError:
        return None, "wrote a result nested too deeply to read"
    except (OSError, ValueError, MemoryError) as exc:
        return None, f"wrote an unreadable result: {_one_line(str(exc))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:PARSE_ERROR_CHARS]


def _sample_output(result: ContestantResult) -> str | None:
    for op in result.operations:
        text = op.output.get("text")
        if isinstance(text, str) and text:
            return text[:SAMPLE_OUTPUT_CHARS]
    return None


def execute(
    run: PlannedRun,
    endpoints: Endpoints,
    profile: str,
    work_dir: Path,
    server_log: ServerLog | None,
    truths: dict[str, Any] | None = None,
    watch: dict[str, tuple[int, ...]] | None = None,
) -> ScenarioRecord:
    """Runs one contestant process for one scenario and records the verified outcome."""
    scenario = run.scenario
    name = scenario.name
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    work_dir.mkdir(parents=True, exist_ok=True)
    request_path, result_path = work_dir / "request.json", work_dir / "result.json"
    result_path.unlink(missing_ok=True)
    request = ContestantRequest(
        scenario=name, params=run.params, endpoints=endpoints, timeout_s=run.timeout_s
    )
    request_path.write_text(request.model_dump_json(indent=2), encoding="utf-8")

    record = ScenarioRecord(
        scenario=name,
        contestant=run.contestant.name,
        round=run.round,
        language=run.contestant.language,
        model=endpoints.model,
        profile=profile,
        status=Status.ERROR,
        params=run.params,
        started_at=started_at,
        duration_s=0.0,
    )

    def finish(status: Status, *errors: str) -> ScenarioRecord:
        record.status = status
        record.errors.extend(e for e in errors if e)
        record.duration_s = time.monotonic() - t0
        return record

    try:
        argv = [*run.contestant.argv(), str(request_path), str(result_path)]
    except BuildError as exc:
        return finish(Status.ERROR, str(exc))
    if server_log is not None:
        server_log.evict_prompt_cache()
        server_log.mark()
    cpu_before = server_log.cpu_s() if server_log is not None else None
    try:
        outcome = run_measured(argv, run.timeout_s, log_dir=work_dir, watch=watch)
    except ProcessLaunchError as exc:
        return finish(Status.ERROR, str(exc))
    cpu_after = server_log.cpu_s() if server_log is not None else None
    server_all = server_log.read() if server_log is not None else None

    result, read_error = _read_result(result_path)
    record.resources = _resources(outcome, result)
    if outcome.timed_out:
        return finish(
            Status.TIMEOUT,
            f"killed after the {run.timeout_s:g} s timeout",
            _stderr_hint(outcome),
        )
    if result is None:
        return finish(
            Status.CRASHED, f"exited with code {outcome.exit_code} and {read_error}",
            _stderr_hint(outcome),
        )
    record.setup_s = result.setup_s
    record.runtime = result.runtime
    record.frameworks = result.frameworks
    record.extras = result.extras
    if outcome.exit_code == NOT_IMPLEMENTED_EXIT and result.error:
        return finish(Status.NOT_IMPLEMENTED, result.error)
    if outcome.exit_code != 0 or result.error:
        return finish(
            Status.CRASHED,
            f"exited with code {outcome.exit_code}",
            result.error or _stderr_hint(outcome),
        )
    if result.scenario != name:
        return finish(Status.FAILED, f"answered scenario {result.scenario!r}")

    server = None
    if server_all is not None and result.measure_start_ns and result.measure_end_ns:
        server = within(server_all, result.measure_start_ns, result.measure_end_ns)
        record.server = _server_summary(server)
        # Over the timed region only: start-up and set-up would dilute a saturated burst.
        window = (result.measure_start_ns, result.measure_end_ns)
        instrument = outcome.watched_cpu_between(INSTRUMENT, *window)
        if instrument is not None:
            cpu, wall = instrument
            record.server.cpu_s, record.server.cpu_utilisation = cpu, cpu / wall
        model = outcome.watched_cpu_between(MODEL_SERVER, *window)
        if model is not None:
            record.server.model_cpu_s = model[0]
        if cpu_before is not None and cpu_after is not None:
            record.server.run_requests = len(server_all)
            record.server.run_cpu_s = cpu_after - cpu_before
    evidence = Evidence(
        result=result, params=run.params, server=server, model=endpoints.model,
        truths=truths or {}, expect=scenario.expect, concurrent=scenario.concurrent,
        cpu_between=outcome.cpu_between, rss_at=outcome.rss_at,
    )
    try:
        problems = verify.verify(scenario, evidence)
        if not problems:
            record.metrics = metrics.compute(scenario, evidence)
            record.series = metrics.series(scenario, evidence)
        record.counts = metrics.counts(result)
        record.sample_output = _sample_output(result)
    except Exception as exc:
        # A result the checks did not foresee must not stop the suite: this run fails with
        # one line, and the traceback is kept beside it for whoever fixes the harness.
        (work_dir / HARNESS_ERROR_LOG).write_text(traceback.format_exc(), encoding="utf-8")
        record.metrics, record.series = {}, {}
        return finish(Status.FAILED, f"the harness could not judge this result "
                      f"({type(exc).__name__}: {_one_line(str(exc))}); see "
                      f"{work_dir / HARNESS_ERROR_LOG}")
    if problems:
        return finish(Status.FAILED, *problems)
    return finish(Status.PASSED)


def _stderr_hint(outcome: ProcessOutcome) -> str:
    lines = [line for line in outcome.stderr_tail.strip().splitlines() if line.strip()]
    text = "stderr: " + " | ".join(lines[-STDERR_HINT_LINES:])
    return text[:STDERR_HINT_CHARS] if lines else ""
