"""Runs a whole plan: backends up, every run in turn, results saved as they arrive."""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Protocol

import httpx

from chainmark.backends.chroma import chroma_server
from chainmark.backends.llm_process import START_TIMEOUT_S, llm_server
from chainmark.backends.managed import BackendError, wait_healthy
from chainmark.backends.ollama.process import ollama_server
from chainmark.contract import Endpoints
from chainmark.corpus import CorpusInfo, default_corpus_dir, ensure_corpus
from chainmark.harness import environment, expectations, rag_collections, results_file
from chainmark.harness.execute import INSTRUMENT, MODEL_SERVER, execute
from chainmark.harness.plan import Plan, PlannedRun
from chainmark.harness.records import (
    ContestantInfo,
    RunHeader,
    RunResults,
    ScenarioRecord,
    Status,
)
from chainmark.harness.server_log import ServerLog
from chainmark.scenarios import PREPARE
from chainmark.scenarios.evidence import MissingTruth

CHROMA_START_TIMEOUT_S = 60.0
RESULTS_NAME = results_file.RESULTS_NAME


class Reporter(Protocol):
    def note(self, message: str) -> None: ...
    def run_started(self, run: PlannedRun, index: int, total: int) -> None: ...
    def run_finished(self, record: ScenarioRecord) -> None: ...


@dataclass
class Backends:
    # chainmark-server: what every contestant talks to. It serves the synthetic models and
    # forwards every other model to the upstream, logging each request either way.
    llm_url: str
    # The server behind it for the real model (Ollama, or whatever --llm-url named), if any.
    upstream_url: str | None
    # True when chainmark started the upstream itself (embedded Ollama).
    upstream_embedded: bool
    chroma_url: str | None
    # Backend processes whose CPU is charged to each run, by group (see execute.INSTRUMENT).
    watch: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # What chainmark started for the real model (Ollama's version, its Modelfile), if it did.
    upstream_info: dict[str, object] = field(default_factory=dict)


def _is_real(model: str) -> bool:
    return not model.startswith("synthetic")


def check_models(llm_url: str, models: set[str]) -> None:
    """Fails before any contestant starts if the LLM server lacks a model the plan needs.

    Asks ``/api/show`` per model, as Ollama clients do, so the server's own aliases count.
    """
    base = llm_url.rstrip("/")
    missing = []
    for model in sorted(models):
        try:
            response = httpx.post(f"{base}/api/show", json={"model": model}, timeout=30)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the LLM server at {llm_url}: {exc}") from exc
        if response.status_code == 404:
            missing.append(model)
        elif not response.is_success:
            raise BackendError(f"{llm_url}/api/show answered {response.status_code} for "
                               f"{model}: {response.text[:200]}")
    if missing:
        try:
            served = [m.get("name", "?") for m in
                      httpx.get(f"{base}/api/tags", timeout=10).json().get("models", [])]
        except (httpx.HTTPError, ValueError):
            served = []
        raise BackendError(
            f"the LLM server at {llm_url} does not serve {', '.join(missing)}; "
            f"it serves: {', '.join(served) or 'nothing it would list'}"
        )


@contextmanager
def backends(
    plan: Plan,
    out_dir: Path,
    llm_url: str | None,
    chroma_url: str | None,
    reporter: Reporter,
) -> Iterator[Backends]:
    """Starts what the plan needs and was not given by URL; stops it all on the way out.

    The real model comes from ``llm_url`` when given, else from an Ollama chainmark builds and
    starts; either way chainmark-server sits in front as a recording proxy, so verification
    and overhead work against any server.
    """
    with ExitStack() as stack:
        logs = out_dir / "logs"
        upstream: str | None = llm_url
        watch: dict[str, tuple[int, ...]] = {}
        upstream_info: dict[str, object] = {}
        if llm_url is not None:
            try:
                wait_healthy(llm_url.rstrip("/") + "/api/version", timeout_s=10)
            except BackendError as exc:
                raise BackendError(f"cannot reach the LLM server at {llm_url}: {exc}") from exc
        elif any(_is_real(m) for m in plan.models):
            reporter.note("starting Ollama with smollm2:135m (built once, then cached)")
            # Its HOME and model store (a ~100 MB copy of the GGUF) live only as long as the
            # run; the log stays with the results.
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="chainmark-ollama-"))
            ollama = stack.enter_context(
                ollama_server(Path(root), logs / "ollama.log", log=reporter.note))
            ollama.start()
            upstream = ollama.base_url
            if ollama.pid is not None:
                # Its runners are its children: each run's watch resolves them afresh.
                watch[MODEL_SERVER] = (ollama.pid,)
            upstream_info = {"server": "ollama", "version": ollama.version,
                             "modelfile": ollama.modelfile_text}
        reporter.note("starting chainmark-server" + (f" in front of {upstream}" if upstream
                                                     else " (synthetic models only)"))
        server = stack.enter_context(llm_server(logs / "llm.log", upstream=upstream))
        server.start(START_TIMEOUT_S)
        assert server.process is not None
        check_models(server.base_url, plan.models)
        watch[INSTRUMENT] = (server.process.pid,)

        if plan.needs_chroma:
            if chroma_url is None:
                reporter.note("starting the Chroma server")
                chroma = stack.enter_context(
                    chroma_server(out_dir / "chroma-data", logs / "chroma.log")
                )
                chroma.start(CHROMA_START_TIMEOUT_S)
                chroma_url = chroma.base_url
            else:
                try:
                    wait_healthy(chroma_url.rstrip("/") + "/api/v2/heartbeat", timeout_s=10)
                except BackendError as exc:
                    raise BackendError(f"cannot reach Chroma at {chroma_url}: {exc}") from exc
        yield Backends(llm_url=server.base_url, upstream_url=upstream,
                       upstream_embedded=llm_url is None and upstream is not None,
                       chroma_url=chroma_url, watch=watch, upstream_info=upstream_info)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def not_implemented_records(plan: Plan, profile: str) -> list[ScenarioRecord]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [
        ScenarioRecord(
            scenario=s.name, contestant=c.name, language=c.language, model="-",
            profile=profile, status=Status.NOT_IMPLEMENTED,
            errors=[f"{c.name} does not implement {s.name}"], started_at=now, duration_s=0.0,
        )
        for s, c in plan.not_implemented
    ]


def _corpus(plan: Plan, reporter: Reporter) -> CorpusInfo | None:
    if not any(r.scenario.needs_corpus for r in plan.runs):
        return None
    reporter.note("preparing the corpus (generated once, then checked against its manifest)")
    return ensure_corpus(default_corpus_dir())


def _corpus_record(info: CorpusInfo) -> dict[str, object]:
    return {
        "root": str(info.root),
        "sha256": info.sha256,
        "source": info.source,
        "large_document_bytes": info.large_document_bytes,
        "docs_count": info.docs_count,
        "docs_bytes": info.docs_bytes,
    }


class _Runner:
    """Carries the run's shared state so each planned pair is one small step."""

    def __init__(
        self, plan: Plan, profile: str, out_dir: Path, live: Backends, results: RunResults,
        corpus: CorpusInfo | None, reporter: Reporter,
    ) -> None:
        self.profile = profile
        self.out_dir = out_dir
        self.live = live
        self.results = results
        self.corpus = corpus
        self.reporter = reporter
        self.server_log = ServerLog(live.llm_url)
        self.prepared: dict[tuple[str, str], ScenarioRecord] = {}
        self.collections: list[str] = []
        self.embed_dim = cache(lambda model: expectations.embedding_dim(live.llm_url, model))

    def endpoints(self, run: PlannedRun) -> Endpoints:
        return Endpoints(
            llm_url=self.live.llm_url, model=run.model,
            chroma_url=self.live.chroma_url,
        )

    def work_dir(self, *parts: str) -> Path:
        return self.out_dir / "runs" / _slug("__".join(p for p in parts if p))

    def _collection(self, run: PlannedRun) -> str | ScenarioRecord:
        """The prepared collection's name, or the failed preparation's record."""
        key = (run.contestant.name, run.model)
        name = rag_collections.collection_name(
            self.results.header.run_id, f"{run.contestant.name}-{run.model}", "rag"
        )
        if key not in self.prepared:
            self.reporter.note(f"{run.contestant.name}: filling Chroma collection {name} "
                               "(untimed)")
            self.collections.append(name)
            assert self.corpus is not None
            record = rag_collections.prepare(
                run, self.endpoints(run), self.profile,
                self.work_dir(PREPARE.name, run.contestant.name, run.model),
                self.server_log, self.corpus, name,
            )
            self.prepared[key] = record
            self.results.preparations.append(record)
        record = self.prepared[key]
        return name if record.status is Status.PASSED else record

    def run(self, run: PlannedRun) -> ScenarioRecord:
        params = dict(run.params)
        if run.scenario.needs_corpus and self.corpus is not None:
            params["corpus"] = expectations.corpus_params(self.corpus)
        if run.scenario.fills_collection:
            params["collection"] = rag_collections.collection_name(
                self.results.header.run_id, run.contestant.name, run.scenario.name
            )
            # The contestant deletes it; a crash would leave it behind otherwise.
            self.collections.append(params["collection"])
        if run.scenario.needs_collection:
            prepared = self._collection(run)
            if isinstance(prepared, ScenarioRecord):
                return _blocked(run, self.profile, prepared)
            params["collection"] = prepared
        run = replace(run, params=params)
        try:
            truths = expectations.for_scenario(
                run.scenario, params, self.corpus, lambda: self.embed_dim(run.model)
            )
        except (MissingTruth, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            return _harness_error(run, self.profile,
                                  f"could not work out what a correct result holds: {exc}")
        return execute(
            run, self.endpoints(run), self.profile,
            self.work_dir(run.scenario.name, run.contestant.name, _level(run)),
            self.server_log, truths, watch=self.live.watch,
        )

    def cleanup(self) -> None:
        self.server_log.close()
        if self.collections and self.live.chroma_url:
            left = rag_collections.delete_collections(self.live.chroma_url, self.collections)
            if left:
                self.reporter.note(f"could not delete Chroma collections: {', '.join(left)}")


def _level(run: PlannedRun) -> str:
    level = f"c{run.params['concurrency']}__" if run.scenario.concurrent else ""
    return f"{level}r{run.round}"


def _harness_error(run: PlannedRun, profile: str, message: str) -> ScenarioRecord:
    return ScenarioRecord(
        scenario=run.scenario.name, contestant=run.contestant.name, round=run.round,
        language=run.contestant.language, model=run.model, profile=profile,
        status=Status.ERROR, errors=[message], params=run.params,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=0.0,
    )


def _blocked(run: PlannedRun, profile: str, preparation: ScenarioRecord) -> ScenarioRecord:
    return ScenarioRecord(
        scenario=run.scenario.name, contestant=run.contestant.name, round=run.round,
        language=run.contestant.language, model=run.model, profile=profile,
        status=Status.ERROR,
        errors=[f"the untimed collection preparation {preparation.status.value}:",
                *preparation.errors],
        params=run.params, started_at=preparation.started_at, duration_s=0.0,
    )


def _contestant_infos(plan: Plan) -> dict[str, ContestantInfo]:
    chosen = [r.contestant for r in plan.runs] + [c for _, c in plan.not_implemented]
    return {
        c.name: ContestantInfo(language=c.language, description=c.description,
                               article_side=c.article_side, baseline=c.baseline)
        for c in chosen
    }


def run_plan(
    plan: Plan,
    profile: str,
    out_dir: Path | results_file.OutputDir,
    command: list[str],
    reporter: Reporter,
    llm_url: str | None = None,
    chroma_url: str | None = None,
) -> RunResults:
    """Runs every planned pair; on Ctrl-C saves what was measured, stops everything, re-raises.

    The run owns its output folder: the CLI claims it (``results_file.OutputDir``) before
    calling, so a busy or already used folder is refused before anything starts and stays
    locked while the report is written; given a plain path, it is claimed here for the run.
    A folder that vanishes mid-run costs no result (see ``OutputDir.save``).
    """
    if not isinstance(out_dir, results_file.OutputDir):
        with results_file.OutputDir.claim(out_dir) as owned:
            return run_plan(plan, profile, owned, command, reporter, llm_url, chroma_url)
    output = out_dir
    assert output.path is not None
    folder = output.path
    started = datetime.now(UTC)
    corpus = _corpus(plan, reporter)
    with backends(plan, folder, llm_url, chroma_url, reporter) as live:
        results = RunResults(
            header=RunHeader(
                # The second alone could repeat: two runs started at once against one Chroma
                # would share collection names.
                run_id=f"{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}",
                started_at=started.isoformat(timespec="seconds"),
                profile=profile,
                command=command,
                llm_url=live.llm_url,
                llm_upstream=live.upstream_url,
                llm_upstream_embedded=live.upstream_embedded,
                chroma_url=live.chroma_url,
                corpus=_corpus_record(corpus) if corpus else None,
                environment={**environment.collect(live.llm_url),
                             "llm_upstream": live.upstream_info},
                contestants=_contestant_infos(plan),
                rounds=plan.rounds,
            ),
            records=not_implemented_records(plan, profile),
        )
        output.save(results, reporter.note)
        runner = _Runner(plan, profile, folder, live, results, corpus, reporter)
        try:
            for index, run in enumerate(plan.runs):
                # Work folders follow results.json if it had to move to a fallback folder.
                runner.out_dir = output.path or runner.out_dir
                reporter.run_started(run, index, len(plan.runs))
                try:
                    record = runner.run(run)
                except OSError as exc:
                    # E.g. its work folder cannot be made (the output folder vanished):
                    # this run's error, and the remaining runs still happen.
                    record = _harness_error(run, profile, f"harness file error: {exc}")
                results.records.append(record)
                output.save(results, reporter.note)
                reporter.run_finished(record)
        except BaseException:
            results.header.interrupted = True
            raise
        finally:
            runner.cleanup()
            results.header.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            output.save(results, reporter.note)
    return results
