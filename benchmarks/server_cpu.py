"""What the LLM server itself costs: CPU per request and its ceiling on one core.

chainmark subtracts the server's time from what a client observed to get a framework's
overhead, and on a 2-core machine the server's CPU competes with the contestant; a server that
costs more than the framework under test would blur every figure. This measures chainmark-server
on the zero-latency model, and optionally any other Ollama-compatible server command beside it
(e.g. the Python server it replaced), identically:

- CPU per request: one client, sequential requests, the server's user+sys CPU (whole process
  tree) divided by the requests served; non-streamed and a 48-token stream.
- Ceiling: many concurrent clients for a bounded time, the server pinned to core 0 and the load
  generator (Go, so it is not the bottleneck) to core 1.

Loopback only; bounded in time and count.

    .venv/bin/python benchmarks/server_cpu.py [--seconds 5] [--requests 3000] \\
        [--compare "NAME=COMMAND with {port}"] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from chainmark.backends.llm_process import START_TIMEOUT_S, llm_server
from chainmark.backends.managed import ManagedServer, free_port
from chainmark.gobuild import go_binary

LOADGEN = Path(__file__).resolve().parent / "loadgen"
PROMPT = "Why is the sky blue?"
WORKLOADS = {
    "non-streamed": {"model": "synthetic", "prompt": PROMPT, "stream": False,
                     "options": {"num_predict": 48, "temperature": 0}},
    "48-token stream": {"model": "synthetic", "prompt": PROMPT, "stream": True,
                        "options": {"num_predict": 48, "temperature": 0}},
}
CEILING_CLIENTS = 32


def _pinned(argv: list[str], core: int) -> list[str]:
    # taskset rather than sched_setaffinity in a preexec_fn: the server is started by
    # ManagedServer, which takes a plain argv.
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core), *argv] if taskset and psutil.cpu_count() > 1 else argv


def _tree_cpu(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _loadgen(binary: Path, url: str, body: dict[str, Any], clients: int, seconds: float,
             requests: int) -> dict[str, Any]:
    argv = _pinned([str(binary), "-url", f"{url}/api/generate", "-body", json.dumps(body),
                    "-c", str(clients), "-seconds", str(seconds), "-n", str(requests)], 1)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120,
                          check=True)
    return json.loads(done.stdout)


@contextmanager
def _server(name: str, command: str | None, logs: Path) -> Iterator[ManagedServer]:
    if command is None:
        server = llm_server(logs / f"{name}.log")
        server.argv = _pinned(server.argv, 0)
    else:
        port = free_port()
        argv = _pinned(shlex.split(command.format(port=port)), 0)
        server = ManagedServer(name, argv, f"http://127.0.0.1:{port}", "/api/version",
                               logs / f"{name}.log")
    with server:
        server.start(max(START_TIMEOUT_S, 120))
        yield server


def measure(name: str, command: str | None, loadgen: Path, seconds: float,
            requests: int, logs: Path) -> list[dict[str, Any]]:
    rows = []
    with _server(name, command, logs) as server:
        assert server.process is not None
        pid = server.process.pid
        for workload, body in WORKLOADS.items():
            _loadgen(loadgen, server.base_url, body, 4, 1.0, 2000)  # warm-up, untimed
            cpu0 = _tree_cpu(pid)
            serial = _loadgen(loadgen, server.base_url, body, 1, seconds, requests)
            cpu = _tree_cpu(pid) - cpu0
            ceiling = _loadgen(loadgen, server.base_url, body, CEILING_CLIENTS, seconds, 0)
            rows.append({
                "server": name, "workload": workload,
                "cpu_per_request_us": 1e6 * cpu / max(serial["requests"], 1),
                "serial_p50_ms": serial["p50_ms"], "serial_requests": serial["requests"],
                "ceiling_rps": ceiling["rps"], "ceiling_p99_ms": ceiling["p99_ms"],
                "failures": serial["failures"] + ceiling["failures"],
                "first_error": serial.get("first_error") or ceiling.get("first_error"),
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="time bound of each measurement")
    parser.add_argument("--requests", type=int, default=3000,
                        help="sequential requests for the CPU-per-request figure")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=COMMAND",
                        help="another server to measure the same way; {port} is replaced")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if not 0 < args.seconds <= 60 or not 0 < args.requests <= 100_000:
        parser.error("--seconds must be in (0, 60] and --requests in (0, 100000]")
    servers: list[tuple[str, str | None]] = [("chainmark-server", None)]
    for item in args.compare:
        name, sep, command = item.partition("=")
        if not sep or not command:
            parser.error(f"--compare wants NAME=COMMAND, got {item!r}")
        servers.append((name, command))

    loadgen = go_binary(LOADGEN, "loadgen")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, command in servers:
            rows += measure(name, command, loadgen, args.seconds, args.requests, Path(tmp))

    table = Table(title=f"LLM server cost, zero-latency model ({psutil.cpu_count()} cores; "
                        "server on core 0, load on core 1)")
    for column in ("server", "workload", "CPU/request", "p50", f"req/s ({CEILING_CLIENTS} cl.)",
                   "failed"):
        table.add_column(column, justify="left" if column in ("server", "workload") else "right")
    for r in rows:
        table.add_row(r["server"], r["workload"], f"{r['cpu_per_request_us']:.0f} µs",
                      f"{r['serial_p50_ms']:.2f} ms", f"{r['ceiling_rps']:,.0f}",
                      str(r["failures"]))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if any(r["failures"] for r in rows):
        print("some requests failed: " + "; ".join(
            f"{r['server']}/{r['workload']}: {r['first_error']}" for r in rows if r["failures"]),
            file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
