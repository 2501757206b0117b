"""Reads chainmark-server's own per-request timings (``/chainmark/requests``) and its CPU
(``/chainmark/usage``).

A server without those endpoints (a plain Ollama given directly) yields None: then overhead
and server-side checks are simply not reported.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import httpx

# The server's paths for generation and for embeddings (Ollama's API).
GENERATION_PATHS = ("/api/generate", "/api/chat")
EMBED_PATHS = ("/api/embed", "/api/embeddings")


@dataclass(frozen=True)
class ServerRequest:
    path: str
    start_ns: int
    end_ns: int
    server_s: float
    response_chars: int | None
    raw: dict[str, Any]


class ServerLog:
    def __init__(self, llm_url: str) -> None:
        self.base = llm_url.rstrip("/")
        self.next_seq = 0
        self.available = True
        # One client for the run: a new httpx client per call builds an SSL context each
        # time (~30 ms of the harness's CPU, five times per contestant run), on loopback HTTP.
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def cpu_s(self) -> float | None:
        """The server process's own CPU seconds so far (getrusage: microsecond resolution,
        where /proc's clock ticks could not see a few hundred 50 µs requests)."""
        if not self.available:
            return None
        try:
            response = self.http.get(f"{self.base}/chainmark/usage")
            return float(response.json()["cpu_s"]) if response.is_success else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None

    def mark(self) -> None:
        """Skips everything logged so far, so the next read covers only what follows."""
        self.read()

    def evict_prompt_cache(self) -> None:
        """Empties the paced synthetic models' imitation of the model's prompt cache, so each
        run starts as if its model had just been loaded: whichever contestant ran before (and
        how its framework renders the same prompt) then neither charges nor spares this run's
        first prompt. Real Ollama behind the proxy keeps its own cache; its scenarios warm up.
        """
        if not self.available:
            return
        # An older or foreign server has nothing to evict: the run goes on.
        with contextlib.suppress(httpx.HTTPError):
            self.http.post(f"{self.base}/chainmark/evict")

    def read(self) -> list[ServerRequest] | None:
        if not self.available:
            return None
        found: list[ServerRequest] = []
        while True:
            try:
                response = self.http.get(
                    f"{self.base}/chainmark/requests", params={"since": self.next_seq}
                )
            except httpx.HTTPError:
                return None
            if response.status_code == 404:
                self.available = False
                return None
            response.raise_for_status()
            body = response.json()
            entries = body.get("requests", [])
            found.extend(_parse(e) for e in entries)
            previous, self.next_seq = self.next_seq, int(body.get("next_seq", self.next_seq))
            if not entries or self.next_seq == previous:
                return found


def _parse(entry: dict[str, Any]) -> ServerRequest:
    return ServerRequest(
        path=entry.get("path", ""),
        start_ns=int(entry["start_ns"]),
        end_ns=int(entry["end_ns"]),
        server_s=float(entry["server_s"]),
        response_chars=entry.get("response_chars"),
        raw=entry,
    )


def within(requests: list[ServerRequest], start_ns: int, end_ns: int) -> list[ServerRequest]:
    """Requests the server received inside a client-side window (same machine, same clock)."""
    return [r for r in requests if start_ns <= r.start_ns <= end_ns]
