"""The ``chainmark`` command line."""

from __future__ import annotations

import signal
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from chainmark import claims, claims_view, export, report, scenarios, tables
from chainmark import compare as compare_
from chainmark.backends.managed import BackendError
from chainmark.contestants.registry import ContestantError, ContestantFileError, all_contestants
from chainmark.harness import results_file
from chainmark.harness.plan import PlanError, PlannedRun, Selection, build, parse_override
from chainmark.harness.records import ScenarioRecord, Status
from chainmark.harness.suite import run_plan
from chainmark.scenarios.spec import DEFAULT_PROFILE

app = typer.Typer(
    help="chainmark: the same LLM-application scenarios, through several frameworks, "
    "against the same backends, measured the same way.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> NoReturn:
    # One line however long (soft_wrap), and a path or URL with brackets is printed as is.
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False,
              soft_wrap=True)
    raise typer.Exit(code)


def _check_url(option: str, url: str) -> None:
    """A server URL must be http(s) with a host and a port that parses: checked before
    anything starts, so a typo is one line, not a traceback from deep in a client."""
    example = f"e.g. http://127.0.0.1:{8000 if option == '--chroma-url' else 11434}"
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when it does not parse or is out of range
        httpx.URL(url)  # what every client will make of it
    except (ValueError, httpx.InvalidURL) as exc:
        _fail(f"{option} {url!r} is not a valid URL: {exc} ({example})")
    if parts.scheme not in ("http", "https"):
        _fail(f"{option} {url!r} must start with http:// or https:// ({example})")
    if not parts.hostname or any(c.isspace() for c in parts.hostname):
        _fail(f"{option} {url!r} names no valid host ({example})")
    if port == 0:
        _fail(f"{option} {url!r}: port 0 is not a port a server listens on ({example})")


def _check_bind(host: str, port: int | None) -> None:
    """``serve``'s --host must be an address of this machine, --port within 1..65535 (0 is
    refused: the servers would pick a port and nobody would know which)."""
    if port is not None and not 1 <= port <= 65535:
        _fail(f"--port must be between 1 and 65535, got {port}")
    if not host or any(c.isspace() or c == "/" for c in host):
        _fail(f"--host {host!r} is not an address to bind (e.g. 127.0.0.1 or 0.0.0.0)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.bind(address)  # port 0: only asks whether the address is ours
    except (OSError, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        _fail(f"--host {host!r} is not an address this machine can bind: {why}")


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    return names or None


def _levels(value: str | None) -> list[int] | None:
    names = _split(value)
    if names is None:
        return None
    try:
        return [int(n) for n in names]
    except ValueError:
        raise PlanError(
            f"--concurrency expects whole numbers like 1,2,4,8, got {value!r}"
        ) from None


class ProgressReporter:
    """Prints each result as it lands, with a bar over the whole plan."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None)

    def note(self, message: str) -> None:
        self.progress.console.print(f"[dim]{message}[/]")

    def run_started(self, run: PlannedRun, index: int, total: int) -> None:
        self.progress.update(
            self.task,
            total=total,
            completed=index,
            description=f"{run.scenario.name} · {run.contestant.name} · {run.model} · "
                        f"round {run.round + 1}",
        )

    def run_finished(self, record: ScenarioRecord) -> None:
        metric, summary = report.primary(record)
        figure = (
            f"{metric} mean {report.fmt_value(summary.mean, report.unit_of(metric))}"
            if summary else ""
        )
        style = report.STATUS_STYLE[record.status]
        self.progress.console.print(
            f"[{style}]{record.status.value:>8}[/] {record.scenario} · {record.contestant} "
            f"· {record.model} · r{record.round + 1}  {figure}"
        )
        self.progress.advance(self.task)


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM and SIGHUP (the terminal closed) take the same path as Ctrl-C, so every server
    # and contestant is stopped, the run is marked interrupted and its collections deleted.
    # Only the first one: a closing terminal can send SIGHUP twice (the kernel, then the
    # shell), and a second KeyboardInterrupt would cut that bounded cleanup short. Not SIG_IGN,
    # which a process started meanwhile would inherit through exec.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    if signum == signal.SIGHUP:
        import errno
        import os
        import termios

        # A hung-up terminal answers every write with EIO, which would turn the orderly exit
        # into a traceback: what is left to print goes to /dev/null instead.
        for fd in (1, 2):
            try:
                termios.tcgetattr(fd)
            except termios.error as exc:
                if exc.args[0] == errno.EIO:
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, fd)
                    os.close(devnull)
    raise KeyboardInterrupt


@app.command()
def run(
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Comma-separated scenario names.")
    ] = None,
    contestant: Annotated[
        str | None, typer.Option("--contestant", "-c", help="Comma-separated contestant names.")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Parameter profile: quick or seed.")
    ] = DEFAULT_PROFILE,
    model: Annotated[
        str | None,
        typer.Option(help="Model(s) for every scenario, comma-separated to compare several in "
                     "one run (default: smollm2:135m where it can do the work, a synthetic "
                     "model where it cannot)."),
    ] = None,
    llm_url: Annotated[
        str | None,
        typer.Option(help="Serve the real model from this Ollama-compatible server instead of "
                     "starting Ollama (requests still go through chainmark's recording proxy)."),
    ] = None,
    chroma_url: Annotated[
        str | None, typer.Option(help="Use this Chroma server instead of starting one.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: results/<timestamp>).")
    ] = None,
    iterations: Annotated[
        int | None, typer.Option(help="Override every scenario's iteration count (per figure, "
                                 "shared out over the rounds).")
    ] = None,
    rounds: Annotated[
        int | None, typer.Option(help="Interleaved rounds per figure (default 3): contestants "
                                 "alternate A B C, C B A, ... so drift hits all alike.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario parameter, KEY=VALUE (repeatable)."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Per-scenario timeout in seconds (overrides the profile).")
    ] = None,
    contestants_file: Annotated[
        Path | None, typer.Option(help="JSON file with extra contestants (see CONTRACT.md).")
    ] = None,
    concurrency: Annotated[
        str | None,
        typer.Option(help="Concurrency sweep, e.g. 1,2,4,8: each stress scenario runs once per "
                     "level."),
    ] = None,
) -> None:
    """Run scenarios through contestants; print the table and write results.json."""
    for option, url in (("--llm-url", llm_url), ("--chroma-url", chroma_url)):
        if url is not None:
            _check_url(option, url)
    try:
        overrides = dict(parse_override(s) for s in set_ or [])
        levels = _levels(concurrency)
        plan = build(
            Selection(
                scenarios=_split(scenario),
                contestants=_split(contestant),
                profile=profile,
                models=_split(model),
                iterations=iterations,
                overrides=overrides,
                timeout_s=timeout,
                contestants_file=contestants_file,
                concurrency=levels,
                rounds=rounds,
            )
        )
    except PlanError as exc:
        _fail(str(exc))
    # The run owns its folder from here (locked; see results_file.OutputDir): a busy, used or
    # unwritable one is refused now, before any server starts.
    try:
        output = (results_file.OutputDir.claim(out) if out is not None
                  else results_file.OutputDir.new(Path("results")))
    except results_file.OutputDirError as exc:
        _fail(str(exc))
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    columns = (
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with output:
        try:
            with Progress(*columns, console=console, transient=True) as progress:
                results = run_plan(
                    plan,
                    profile,
                    output,
                    command=["chainmark", *sys.argv[1:]],
                    reporter=ProgressReporter(progress),
                    llm_url=llm_url,
                    chroma_url=chroma_url,
                )
        except BackendError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            where = output.results_path or "memory only (lost)"
            err.print(
                f"[yellow]interrupted: every server and contestant stopped; results so far "
                f"in {escape(str(where))}[/]"
            )
            raise typer.Exit(130) from None

        report.print_results(results, console)
        if output.path is None:
            err.print("[yellow]results.json could not be written anywhere: the table above "
                      "is all there is[/]")
        else:
            from chainmark import html_report, language_view

            markdown_path = output.path / "report.md"
            html_path = output.path / "report.html"
            for path, render in ((markdown_path, report.markdown),
                                 (html_path, html_report.render),
                                 (output.path / "figures.csv", export.csv_text),
                                 (output.path / "language.csv", language_view.csv_text)):
                try:
                    path.write_text(render(results), encoding="utf-8")
                except OSError as exc:
                    err.print(f"[yellow]cannot write {escape(str(path))}: "
                              f"{escape(exc.strerror or str(exc))}[/]")
            console.print(f"results: {output.results_path}  ·  report: {markdown_path}  ·  "
                          f"{html_path}", markup=False)
    failed = [r for r in results.records if r.status not in (Status.PASSED,
                                                              Status.NOT_IMPLEMENTED)]
    if failed:
        err.print(f"[red]{len(failed)} of {len(plan.runs)} runs did not pass:[/] " + ", ".join(
            f"{r.scenario}/{r.contestant} ({r.status.value})" for r in failed))
        raise typer.Exit(1)


@app.command("list")
def list_(
    contestants_file: Annotated[
        Path | None, typer.Option(help="JSON file with extra contestants.")
    ] = None,
) -> None:
    """Scenarios and contestants, and which contestant implements which."""
    try:
        contestants = all_contestants(contestants_file)
    except ContestantFileError as exc:
        _fail(str(exc))
    # Each program says what it implements; one that cannot is shown as unknown, not fatal.
    implemented: dict[str, frozenset[str] | None] = {}
    problems = []
    for c in contestants.values():
        try:
            implemented[c.name] = c.implemented
        except ContestantError as exc:
            implemented[c.name] = None
            problems.append(str(exc))
    # A column per contestant when the names fit the width, numbered columns with a legend
    # when they do not: no name is ever cut (see chainmark.tables).
    console.print(tables.contestant_matrix(scenarios.SCENARIOS, list(contestants.values()),
                                           implemented))
    for problem in problems:
        console.print(f"? {problem}", markup=False, style="yellow")


@app.command("claims")
def claims_(
    results_path: Annotated[Path, typer.Argument(help="A results.json written by `run`.")],
) -> None:
    """A verdict for each of the article's published figures, from a run's results."""
    try:
        results = results_file.load(results_path)
    except results_file.ResultsFileError as exc:
        _fail(str(exc))
    console.print(claims_view.table(claims.claims(results)))


# --- compare ----------------------------------------------------------------------------------

VERDICT_STYLE = {
    compare_.Verdict.FASTER: "green", compare_.Verdict.SLOWER: "red",
    compare_.Verdict.HIGHER: "yellow", compare_.Verdict.LOWER: "yellow",
    compare_.Verdict.SAME: "dim", compare_.Verdict.NO_INTERVAL: "dim",
    compare_.Verdict.NOT_COMPARABLE: "yellow",
}
COMPARE_CAPTION = (
    "change: B/A, B's mean ÷ A's mean, and its 95 % interval: Fieller's method (Welch's t) "
    "on each side's mean, std and count, or Welch's t on the logs of the round means when "
    "each side has 2 rounds or more (a ratio of geometric means). Durations: below 1× B is "
    "faster; rates: above 1× B is faster. Percentages and counts: B − A, with its interval.")


def _times(x: float) -> str:
    """A ratio with the digits it needs: three close to 1, fewer far from it."""
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if 0.95 < x < 1.05:
        return f"{x:.3f}"
    return f"{x:.2f}" if x >= 0.01 else f"{x:.1g}"


def _ratio(x: float) -> str:
    return f"{_times(x)}×"


def _ratio_range(low: float, high: float) -> str:
    return f"{_times(low)}–{_times(high)}×"


def _signed(value: float, unit: str) -> str:
    text = report.fmt_value(value, unit)
    return text if text.startswith("-") else f"+{text}"


def _side_cell(s: compare_.Side | None, unit: str) -> Text:
    if s is None:
        return Text("-")
    # Over rounds, the rounds are the sample; within one, the operations are.
    size = f"{s.rounds} rounds" if s.rounds > 1 else f"n={s.count}"
    return tables.stacked(report.fmt_value(s.mean, unit), Text(size, style="dim"))


def _change_cell(c: compare_.Change) -> Text:
    unit = report.unit_of(c.metric)
    if c.ratio is not None:
        interval = _ratio_range(c.low, c.high) if c.low is not None and c.high is not None else None
        return tables.stacked(_ratio(c.ratio), Text(interval, style="dim") if interval else None)
    if c.difference is not None:
        interval = (f"{_signed(c.diff_low, unit)} – {_signed(c.diff_high, unit)}"
                    if c.diff_low is not None and c.diff_high is not None else None)
        return tables.stacked(_signed(c.difference, unit),
                              Text(interval, style="dim") if interval else None)
    return Text("-")


def _verdict_cell(c: compare_.Change) -> Text:
    text = Text(c.verdict.value, style=VERDICT_STYLE.get(c.verdict, ""))
    if c.verdict is compare_.Verdict.NOT_COMPARABLE and c.note:
        text.append(f" ({c.note})", style="dim")
    return text


def _level(c: compare_.Change) -> str:
    return "-" if c.level is None else str(c.level)


def compare_view(changes: list[compare_.Change]) -> tables.Fit:
    """The figures both files hold, B against A: a row each when they fit the width; else a
    block per scenario, model and metric; else a few lines each."""
    shown = compare_.in_common(changes)
    levels = any(c.level is not None for c in shown)
    level_cols = [tables.Col("c", justify="right")] if levels else []
    value_cols = [tables.Col("A", justify="right"), tables.Col("B", justify="right"),
                  tables.Col("change", justify="right"), tables.Col("verdict", wrap=True)]

    def level(c: compare_.Change) -> list[tables.Cell]:
        return [_level(c)] if levels else []

    def values(c: compare_.Change) -> list[tables.Cell]:
        unit = report.unit_of(c.metric)
        return [_side_cell(c.a, unit), _side_cell(c.b, unit), _change_cell(c), _verdict_cell(c)]

    flat = tables.Flat(
        cols=[tables.Col("scenario"), tables.Col("contestant"), tables.Col("model"),
              *level_cols, tables.Col("metric"), *value_cols],
        rows=[[c.scenario, c.contestant, c.model, *level(c), c.metric, *values(c)]
              for c in shown],
        after=[Text(COMPARE_CAPTION, style="dim")],
    )
    grouped: dict[tuple[str, str, str], list[compare_.Change]] = {}
    for c in shown:
        grouped.setdefault((c.scenario, c.model, c.metric), []).append(c)
    blocks = tables.Blocks(
        cols=[tables.Col("contestant"), *level_cols, *value_cols],
        blocks=[(Text(" · ".join(key)), [[c.contestant, *level(c), *values(c)] for c in group])
                for key, group in grouped.items()],
        caption=COMPARE_CAPTION,
    )
    lines: list[RenderableType] = []
    for key, group in grouped.items():
        lines.append(Text.assemble("\n", (" · ".join(key), "bold")))
        for c in group:
            unit = report.unit_of(c.metric)
            line = Text.assemble((c.contestant, "bold"),
                                 f" c={c.level}" if c.level is not None else "", ": ",
                                 _verdict_cell(c))
            for label, s in (("A", c.a), ("B", c.b)):
                line.append(f" · {label} " + _side_cell(s, unit).plain.replace("\n", " "))
            ratio, _, interval = _change_cell(c).plain.partition("\n")
            label = "B/A" if c.ratio is not None else "B − A"
            line.append(f" · {label} {ratio}" + (f" ({interval})" if interval else ""))
            lines.append(Padding(line, (0, 0, 0, 2)))
    lines.append(Text(COMPARE_CAPTION, style="dim"))
    return tables.Fit(flat, blocks, tables.Lines(lines))


@app.command("compare")
def compare_cmd(
    a_path: Annotated[Path, typer.Argument(metavar="A.json",
                                           help="The results file to compare against (A).")],
    b_path: Annotated[Path, typer.Argument(metavar="B.json", help="The results file (B).")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Compare this metric (repeatable, or comma-"
                     "separated; default: each scenario's primary metric)."),
    ] = None,
    all_metrics: Annotated[
        bool, typer.Option("--all-metrics", help="Compare every metric either file recorded.")
    ] = False,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write every comparison to this CSV file.")
    ] = None,
) -> None:
    """B against A on every figure both results files hold: means, the ratio B/A with a 95 %
    interval, and faster / slower / no significant difference."""
    import csv

    metrics = [m for value in metric or [] for m in _split(value) or []]
    if metrics and all_metrics:
        _fail("--metric and --all-metrics exclude each other: give one")
    loaded = []
    for path in (a_path, b_path):
        try:
            loaded.append(results_file.load(path))
        except results_file.ResultsFileError as exc:
            _fail(str(exc))
    a, b = loaded
    changes = compare_.compare(a, b, metrics or None, all_metrics)
    if not compare_.in_common(changes):
        what = f" with metric {', '.join(metrics)}" if metrics else ""
        _fail(f"{a_path} and {b_path} have no figure in common{what} (same scenario, "
              "contestant, model and concurrency level)")
    if csv_path is not None:
        try:
            with csv_path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=compare_.CSV_FIELDS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(compare_.csv_rows(changes))
        except OSError as exc:
            _fail(f"cannot write {csv_path}: {exc.strerror or exc}", code=1)
    for label, path, results in (("A", a_path, a), ("B", b_path, b)):
        console.print(Text.assemble((f"{label}: ", "bold"), str(path),
                                    (f" (run {results.header.run_id}, profile "
                                     f"{results.header.profile})", "dim")))
    console.print(compare_view(changes))
    for verdict, label in ((compare_.Verdict.ONLY_A, "only in A"),
                           (compare_.Verdict.ONLY_B, "only in B")):
        only = [c for c in changes if c.verdict is verdict]
        if only:
            console.print(Text(f"{label}: " + ", ".join(
                " · ".join([c.scenario, c.contestant, c.model,
                            *([f"c={c.level}"] if c.level is not None else []), c.metric])
                for c in only), style="dim"))
    notes = [c for c in compare_.in_common(changes)
             if c.note and c.verdict is not compare_.Verdict.NOT_COMPARABLE]
    for c in notes:
        console.print(Text(f"{c.scenario} · {c.contestant} · {c.metric}: {c.note}", style="dim"))
    if csv_path is not None:
        console.print(f"csv: {csv_path}", markup=False)


@app.command("report")
def report_(
    results_path: Annotated[Path, typer.Argument(help="A results.json written by `run`.")],
    markdown: Annotated[
        Path | None, typer.Option(help="Where to write the Markdown report "
                                  "(default: report.md beside the results).")
    ] = None,
    html: Annotated[
        Path | None, typer.Option(help="Where to write the HTML report, charts included, "
                                  "self-contained (default: report.html beside the results).")
    ] = None,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write every figure to this CSV file "
                                  "(one row per scenario, contestant, model, level, round "
                                  "and metric).")
    ] = None,
    language_csv: Annotated[
        Path | None, typer.Option("--language-csv", help="Also write the language-vs-framework "
                                  "view to this CSV file (one row per scenario and figure, "
                                  "difference or resource figure).")
    ] = None,
) -> None:
    """Print a saved run's table again and write its Markdown and HTML reports."""
    from chainmark import html_report, language_view

    try:
        results = results_file.load(results_path)
    except results_file.ResultsFileError as exc:
        _fail(str(exc))
    report.print_results(results, console)
    target = markdown or results_path.with_name("report.md")
    try:
        target.write_text(report.markdown(results), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write the Markdown report {target}: {exc.strerror or exc}", code=1)
    html_target = html or results_path.with_name("report.html")
    try:
        html_report.write(results, html_target)
    except OSError as exc:
        _fail(f"cannot write the HTML report {html_target}: {exc.strerror or exc}", code=1)
    if csv_path is not None:
        try:
            export.write_csv(results, csv_path)
        except OSError as exc:
            _fail(f"cannot write the CSV file {csv_path}: {exc.strerror or exc}", code=1)
    if language_csv is not None:
        try:
            language_csv.write_text(language_view.csv_text(results), encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write the CSV file {language_csv}: {exc.strerror or exc}", code=1)
    console.print(f"report: {target}  ·  {html_target}"
                  + "".join(f"  ·  {p}" for p in (csv_path, language_csv) if p is not None),
                  markup=False)


@app.command()
def data(
    out: Annotated[
        Path | None, typer.Option(help="Corpus folder (default: .cache/chainmark/corpus-vN, or "
                                  "$CHAINMARK_CORPUS_DIR).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Regenerate even if the corpus is intact.")] = False,
) -> None:
    """Generate the RAG corpus (deterministic; `run` does this on demand)."""
    from chainmark.corpus import default_corpus_dir, ensure_corpus, generate_corpus

    root = out or default_corpus_dir()
    info = generate_corpus(root) if force else ensure_corpus(root)
    console.print(f"corpus: {info.root}")
    console.print(f"  {info.large_document.name}: {info.large_document_bytes:,} bytes")
    console.print(
        f"  {info.docs_dir.name}/: {info.docs_count} documents, {info.docs_bytes:,} bytes"
    )
    console.print(f"  source: {info.source}")
    console.print(f"  sha256: {info.sha256}")


class Backend(StrEnum):
    llm = "llm"
    chroma = "chroma"
    ollama = "ollama"


def _serve_ollama(host: str, port: int) -> None:
    """Real Ollama in the foreground: build if needed, start, import smollm2:135m, wait."""
    import tempfile

    from chainmark.backends.ollama.process import start_ollama

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    with tempfile.TemporaryDirectory(prefix="chainmark-ollama-") as root:
        server = None
        try:
            server = start_ollama(Path(root), host=host, port=port,
                                  log=lambda line: err.print(line, markup=False,
                                                             highlight=False))
            console.print(f"Ollama {server.version} serving smollm2:135m at {server.base_url} "
                          f"(pid {server.pid}, log {server.log_path}); Ctrl-C stops it")
            assert server.process is not None
            code = server.process.wait()
            _fail(f"ollama serve exited with code {code}:\n{server.log_tail()}", code=1)
        except BackendError as exc:
            _fail(str(exc), code=1)
        except KeyboardInterrupt:
            err.print("stopping Ollama")
        finally:
            if server is not None:
                server.stop()


@app.command()
def serve(
    backend: Annotated[Backend, typer.Argument(help="llm, ollama or chroma")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port (llm, ollama: 11434; chroma: 8000).")
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(help="llm: forward every non-synthetic model to this Ollama or "
                     "OpenAI-compatible server, recording each request."),
    ] = None,
    path: Annotated[Path, typer.Option(help="chroma: data folder.")] = Path("chroma-data"),
) -> None:
    """Run a backend in the foreground (Ctrl-C stops it)."""
    import os

    _check_bind(host, port)
    if upstream is not None:
        if backend is not Backend.llm:
            _fail(f"--upstream is for `serve llm` only, not `serve {backend.value}`")
        _check_url("--upstream", upstream)
    if backend is Backend.ollama:
        _serve_ollama(host, port or 11434)
        return
    if backend is Backend.llm:
        from chainmark.backends.llm_process import PROFILES_PATH
        from chainmark.gobuild import BuildError, server_binary

        try:
            binary = str(server_binary())
        except BuildError as exc:
            _fail(str(exc))
        argv = [binary, "--host", host, "--port", str(port or 11434),
                "--profiles", str(PROFILES_PATH)]
        os.execv(binary, argv + (["--upstream", upstream] if upstream else []))

    from chainmark.backends.chroma import chroma_executable

    try:
        executable = chroma_executable()
    except BackendError as exc:
        _fail(str(exc))
    argv = [executable, "run", "--path", str(path), "--host", host, "--port", str(port or 8000)]
    os.execv(executable, argv)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
