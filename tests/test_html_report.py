"""The HTML report: a pure render of `RunResults`, opened in a real headless Chromium.

The data is built directly (as in test_report.py) to cover every chart: three contestants in
three rounds, overhead and server time on two models, a concurrency sweep over three levels
(and a concurrent scenario at one level only), ops.memory checkpoints, published figures with
verdicts, a failed run whose error message is hostile HTML, and a scenario not implemented.

The browser test drives Chromium over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: NUL-separated JSON on file descriptors 3 and 4), so it needs no
WebSocket client: it loads report.html from disk with the network emulated offline and every
host unresolvable, then checks that nothing was logged as an error, nothing was fetched but
the file itself, the injected markup never ran, and every plotly chart drew its SVG with its
data points. Chromium comes from `make browser` (Debian's package); CHAINMARK_CHROMIUM names
another binary. CHAINMARK_HTML_ARTIFACTS=DIR keeps the page and a full-page screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import random
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

from chainmark import html_report
from chainmark.harness import results_file
from chainmark.harness.records import (
    ContestantInfo,
    Resources,
    RunHeader,
    RunResults,
    ScenarioRecord,
    ServerSummary,
    Status,
)
from chainmark.stats import summarize

PY, GO, BARE, GO_BARE = "langchain-python", "langchaingo", "python-baseline", "go-baseline"
ROUNDS = 3
LEVELS = (1, 2, 4)
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
REAL, SYNTH, MEMORY_MODEL = "smollm2:135m", "synthetic:smollm2-cpu", "smollm2:135m"


def _record(scenario: str, contestant: str, round_: int, metrics: dict[str, list[float]], *,
            model: str, status: Status = Status.PASSED, params: dict[str, Any] | None = None,
            server_s: float | None = None, errors: list[str] | None = None,
            series: dict[str, list[dict[str, Any]]] | None = None) -> ScenarioRecord:
    summaries = {name: s for name, values in metrics.items() if (s := summarize(values))}
    server = None
    if server_s is not None:
        server = ServerSummary(requests=len(next(iter(metrics.values()), [])), server_s=server_s,
                               by_path={"/api/generate": 1}, prompt_tokens=120,
                               prompt_eval_s=server_s * 0.2, eval_s=server_s * 0.8,
                               cpu_utilisation=0.02)
    return ScenarioRecord(
        scenario=scenario, contestant=contestant, round=round_,
        language="go" if contestant in (GO, GO_BARE) else "python", model=model, profile="quick",
        status=status, errors=errors or [], params=params or {}, metrics=summaries,
        resources=Resources(wall_s=3.0, cpu_s=1.2, peak_rss_bytes=80 * 2**20),
        server=server, series=series or {}, counts={"ok": 10, "failed": 0},
        started_at="2026-01-01T00:00:00Z", duration_s=3.0)


def sample_results() -> RunResults:
    rng = random.Random(7)

    def noisy(mean: float, n: int, spread: float = 0.05) -> list[float]:
        return [mean * (1 + rng.uniform(-spread, spread)) for _ in range(n)]

    records: list[ScenarioRecord] = []
    # Sequential, with the server's log: end-to-end time = server + overhead.
    sequential = {
        # All four: the language-vs-framework view has its three differences here.
        ("llm.latency", REAL): {PY: (0.150, 0.0032), GO: (0.150, 0.00028), BARE: (0.150, 0.0005),
                                GO_BARE: (0.150, 0.00015)},
        # agent.single: Python ~1.56× Go, the article's ratio (reproduced).
        ("agent.single", SYNTH): {PY: (2.50, 0.62), GO: (1.95, 0.012)},
    }
    for r in range(ROUNDS):
        for (scenario, model), sides in sequential.items():
            for contestant, (server, overhead) in sides.items():
                servers, overheads = noisy(server, 12, 0.03), noisy(overhead, 12, 0.2)
                latencies = [s + o for s, o in zip(servers, overheads, strict=True)]
                records.append(_record(
                    scenario, contestant, r, {"latency_s": latencies, "server_s": servers,
                                              "overhead_s": overheads},
                    model=model, server_s=sum(servers)))
        # A sweep over three levels: Go scales, Python flattens.
        for level in LEVELS:
            for contestant, per_op in ((PY, 0.40), (GO, 0.18)):
                speedup = level ** (0.85 if contestant == GO else 0.45)
                latencies = noisy(per_op * level / speedup, 8 * level, 0.3)
                records.append(_record(
                    "stress.concurrent_rag", contestant, r,
                    {"ops_per_s": noisy(speedup / per_op, 1), "wall_s": noisy(8 * per_op, 1),
                     "latency_s": latencies},
                    model="synthetic", params={"concurrency": level}))
        # One level only: the page must say there is no curve for it. Here Go is slower:
        # the article's claim is not reproduced.
        for contestant, rate in ((PY, 2.0), (GO, 1.6)):
            records.append(_record("stress.concurrent_agent", contestant, r,
                                   {"ops_per_s": noisy(rate, 1), "latency_s": noisy(2.0, 4)},
                                   model="synthetic", params={"concurrency": 4}))
        # ops.memory: latency and RSS grow with the history.
        for contestant, base, growth in ((PY, 0.4, 0.12), (GO, 0.35, 0.09)):
            rows = [{"turn": t, "latency_s": noisy(base + growth * t, 1)[0],
                     "prompt_tokens": 30 * t, "history_chars": 120 * t,
                     "rss_bytes": int((60 + t * (0.4 if contestant == PY else 0.05)) * 2**20),
                     "tracemalloc_current_bytes": None, "tracemalloc_peak_bytes": None}
                    for t in (1, 10, 50, 100)]
            records.append(_record(
                "ops.memory", contestant, r,
                {"latency_s": [row["latency_s"] for row in rows],
                 "turn100_latency_s": [rows[-1]["latency_s"]]},
                model=MEMORY_MODEL, series={"checkpoints": rows}))
        # A rate with a published figure (Go ÷ Python 1.41 in the article).
        for contestant, rate in ((PY, 98.0), (GO, 180.0)):
            records.append(_record("rag.embed", contestant, r, {"docs_per_s": noisy(rate, 1)},
                                   model=REAL))
        # A failure whose message is hostile markup, and a scenario not implemented.
        records.append(_record("resilience.timeout", BARE, r, {"timeout_s": noisy(2.0, 3, 0.01)},
                               model=REAL,
                               status=Status.FAILED if r == 1 else Status.PASSED,
                               errors=[f"verification: {HOSTILE}"] if r == 1 else []))
        records.append(_record("rag.split", BARE, r, {}, model=REAL,
                               status=Status.NOT_IMPLEMENTED))
    header = RunHeader(
        run_id="20260101T000000Z", started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:30:00Z", profile="quick", command=["chainmark", "run"],
        llm_url="http://127.0.0.1:11434", llm_upstream="http://127.0.0.1:11435",
        llm_upstream_embedded=True, rounds=ROUNDS,
        environment={"cpu_model": "AMD EPYC", "cpu_count": 2, "python": "CPython 3.11.7",
                     "go": "go version go1.26.8 linux/amd64", "platform": "Linux-x86_64",
                     "git_commit": "abc1234"},
        contestants={
            PY: ContestantInfo(language="python", description="LangChain Python",
                               article_side="python"),
            GO: ContestantInfo(language="go", description="LangChainGo", article_side="go"),
            BARE: ContestantInfo(language="python", description="httpx, no framework"),
            GO_BARE: ContestantInfo(language="go", description="net/http, no framework",
                                    baseline=True),
        })
    return RunResults(header=header, records=records)


# --- pure -----------------------------------------------------------------------------------


def hostile_results() -> RunResults:
    results = sample_results()
    bad = '"><script>alert("x")</script><a href="javascript:alert(1)">click</a>'
    results.header.run_id = f"run{bad}"
    results.header.environment["cpu_model"] = bad
    results.header.contestants[BARE].description = bad
    for record in results.records:
        if record.contestant == BARE:
            record.errors = [f"error {bad}"]
            record.status = Status.ERROR if record.status is Status.PASSED else record.status
        if record.contestant == PY:
            record.model = f"model{bad}"
    return results


def test_render_escapes_every_string_from_the_results():
    page = html_report.render(hostile_results())
    # Nowhere as markup: not in the page, not in a chart's data (plotly's JSON escapes `<`).
    assert '<script>alert("x")' not in page
    assert "<a href=\"javascript" not in page
    assert page.count("<script") == page.count("</script>")
    # Shown as text: escaped in the header, the failures and the tables...
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "error &quot;&gt;&lt;script&gt;" in page
    # ... and for plotly's text (titles, legends, hover), which reads a few tags and decodes
    # `&lt;` but not `&quot;`: `<` and `>` escaped, quotes kept, inside its JSON.
    assert 'model\\"&gt;&lt;script&gt;alert(\\"x\\")&lt;\\u002fscript&gt;' in page


def test_the_page_is_self_contained():
    page = html_report.render(sample_results())
    assert not re.search(r"<script[^>]*\ssrc=", page, re.I)
    assert not re.search(r"<link[^>]*\shref=", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    # plotly.js inlined once (its defaults name a CDN for map data no chart here uses), and
    # every chart's own script without it.
    assert page.count(get_plotlyjs()) == 1
    assert page.count("Plotly.newPlot") == 13
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_empty_sections_say_so():
    results = sample_results()
    results.records = [r for r in results.records if r.scenario == "rag.embed"]
    page = html_report.render(results)
    assert "No scenario in this run recorded overhead" in page
    assert "No concurrent scenario ran in this run." in page
    assert "ops.memory did not run" in page
    assert "plotly-graph-div" not in page
    empty = RunResults(header=results.header, records=[])
    assert "No scenario ran." in html_report.render(empty)


def test_one_level_only_is_a_sentence_not_a_chart():
    page = html_report.render(sample_results())
    assert ("stress.concurrent_agent on <code>synthetic</code> ran at one concurrency level"
            in page)
    assert "stress.concurrent_rag: throughput and p99 latency by concurrency" in page


def test_chainmark_report_writes_report_html(tmp_path):
    from chainmark.cli import app

    path = tmp_path / "results.json"
    results_file.save(sample_results(), path)
    done = CliRunner().invoke(app, ["report", str(path)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert (tmp_path / "report.md").is_file()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in page
    assert "report.html" in done.output


# --- in a real browser ----------------------------------------------------------------------


def chromium() -> str:
    for name in (os.environ.get("CHAINMARK_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    pytest.fail("no Chromium found: `make browser` installs Debian's chromium "
                "(or set CHAINMARK_CHROMIUM to a Chromium/Chrome binary)")


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (fd 3: its input, fd 4: output)."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.log_path = profile.with_suffix(".log")
        self._log = self.log_path.open("wb")
        to_browser_r, self._out = os.pipe()
        self._in, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the pipes become its fds 3 and 4
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update",
             # No network at all: every host unresolvable, every request to a dead proxy.
             "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
             "--window-size=1400,1000", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
            pass_fds=(3, 4), preexec_fn=wire)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer over the DevTools pipe")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                log = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium closed the DevTools pipe; its log ends:\n{log}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._in, self._out):
            os.close(fd)
        self._log.close()


CHARTS_JS = """[...document.querySelectorAll('div.plotly-graph-div')].map(d => ({
  id: d.id, section: d.closest('section').id,
  svg: d.querySelectorAll('svg.main-svg').length,
  points: d.querySelectorAll('.point').length,
  title: (d.querySelector('.gtitle') || {}).textContent || '',
  xtitle: (d.querySelector('.xtitle') || {}).textContent || '',
  ytitle: (d.querySelector('.ytitle') || {}).textContent || ''}))"""


@pytest.fixture(scope="module")
def opened(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("html")
    page = tmp / "report.html"
    html_report.write(sample_results(), page)
    browser = DevTools(chromium(), tmp / "profile")
    try:
        target = next(t for t in browser.send("Target.getTargets")["targetInfos"]
                      if t["type"] == "page")
        session = browser.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                         "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
        }, session)
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session)
        browser.events.clear()
        browser.send("Page.navigate", {"url": page.as_uri()}, session)
        browser.wait_for("Page.loadEventFired", timeout=60)
        # plotly draws on load; wait until every chart has its SVG (or give up after 30 s).
        deadline = time.monotonic() + 30
        while True:
            charts = browser.evaluate(session, CHARTS_JS)
            if all(c["svg"] for c in charts) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # let late console messages arrive
        pwned = browser.evaluate(session, "window.__pwned === undefined ? null : window.__pwned")
        text = browser.evaluate(session, "document.body.innerText")
        height = browser.evaluate(session, "document.documentElement.scrollHeight")
        shot = browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1400, "height": height, "scale": 1}},
            session, timeout=60)
        screenshot = tmp / "report.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        browser.send("Runtime.evaluate", {"expression": "1"}, session)  # drain events
        events = list(browser.events)
    finally:
        browser.close()
    if keep := os.environ.get("CHAINMARK_HTML_ARTIFACTS"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        for path in (page, screenshot):
            shutil.copy(path, Path(keep) / path.name)
    return {"page": page, "charts": charts, "events": events, "pwned": pwned, "text": text,
            "screenshot": screenshot}


def test_no_console_errors_and_nothing_fetched(opened):
    events = opened["events"]
    errors = [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"
               and e["params"]["type"] in ("error", "assert")]
    errors += [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"
               and e["params"]["entry"]["level"] == "error"]
    assert errors == []
    requested = [e["params"]["request"]["url"] for e in events
                 if e.get("method") == "Network.requestWillBeSent"]
    assert requested, "the navigation itself should have been seen"
    assert [u for u in requested if not u.startswith(("file:", "data:", "blob:"))] == []
    failed = [e["params"] for e in events if e.get("method") == "Network.loadingFailed"]
    assert failed == []


def test_every_chart_drew_with_titles_axes_and_its_model(opened):
    charts = opened["charts"]
    by_section: dict[str, int] = {}
    for chart in charts:
        assert chart["svg"] >= 1, chart
        assert chart["points"] > 0, chart  # bars or markers were actually drawn
        assert "model:" in chart["title"], chart
        assert chart["xtitle"] and chart["ytitle"], chart
        assert re.search(r"\((µs|ms|s|ops/s|MiB)\)", chart["ytitle"]), chart
        by_section[chart["section"]] = by_section.get(chart["section"], 0) + 1
    # overhead and split: two models each; one sweep; one memory chart; six distributions;
    # the three differences of the one scenario all four contestants ran.
    assert by_section == {"overhead": 2, "split": 2, "concurrency": 1, "memory": 1,
                          "distributions": 6, "language": 1}


def test_tables_and_header_in_the_browser(opened):
    text = opened["text"]
    assert opened["pwned"] is None  # the hostile error message was shown, never run
    assert "window.__pwned = 1" in text
    for expected in ("20260101T000000Z", "AMD EPYC", "rounds", "smollm2:135m",
                     "llama3:8b on other hardware", "reproduced", "not reproduced",
                     "no significant difference", "ran at one concurrency level only",
                     "Language or framework?", "framework cost in Python",
                     "What each contestant cost the machine"):
        assert expected in text, expected
    assert opened["screenshot"].stat().st_size > 50_000
