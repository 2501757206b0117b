"""How many requests per second the embedded server's zero-latency synthetic model serves.

A stress scenario is only about the contestant if the server keeps up. This measures the
server's ceiling on this machine: concurrent httpx clients (a separate process, so client and
server do not share an interpreter) hammer `/api/generate` on loopback for a bounded time
per concurrency level, non-streamed and streamed. Bounded in time and count; loopback only.

    .venv/bin/python benchmarks/server_capacity.py [--seconds 5] [--levels 1,4,16,64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from chainmark.backends.llm_process import START_TIMEOUT_S, llm_server

BODY = {"model": "synthetic", "prompt": "Why is the sky blue?",
        "options": {"num_predict": 48, "temperature": 0}}
MAX_REQUESTS_PER_LEVEL = 200_000


async def _level(url: str, concurrency: int, seconds: float, stream: bool) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal failures
            while time.monotonic() < deadline and len(latencies) < MAX_REQUESTS_PER_LEVEL:
                t0 = time.perf_counter()
                try:
                    if stream:
                        async with client.stream("POST", "/api/generate",
                                                 json={**BODY, "stream": True}) as response:
                            response.raise_for_status()
                            async for _ in response.aiter_lines():
                                pass
                    else:
                        response = await client.post("/api/generate",
                                                     json={**BODY, "stream": False})
                        response.raise_for_status()
                    latencies.append(time.perf_counter() - t0)
                except httpx.HTTPError:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "failures": failures,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--levels", default="1,4,16,64")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp, \
            llm_server(Path(tmp) / "llm.log", load_real=False) as server:
        server.start(START_TIMEOUT_S)
        assert server.process is not None
        proc = psutil.Process(server.process.pid)
        print(f"{'mode':<8} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'failed':>6} {'server CPU':>10}")
        for stream in (False, True):
            for level in levels:
                cpu0 = sum(proc.cpu_times()[:2])
                row = asyncio.run(_level(server.base_url, level, args.seconds, stream))
                cpu = (sum(proc.cpu_times()[:2]) - cpu0) / row["wall"]
                print(f"{'stream' if stream else 'single':<8} {level:>7} {row['rps']:>9.0f} "
                      f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['failures']:>6.0f} "
                      f"{cpu:>9.0%}")


if __name__ == "__main__":
    main()
