"""Reading chainmark-server's request log from tests (shared by the server's test modules)."""

from __future__ import annotations

import time
from typing import Any

import httpx


def log_since(url: str, seq: int, wait_for: int = 0) -> list[dict[str, Any]]:
    """Log entries from ``seq`` on, waiting (boundedly) for ``wait_for`` of them: a request is
    logged just after its last byte is sent, so a quick client can ask before it is there."""
    deadline = time.monotonic() + 5
    while True:
        entries = httpx.get(f"{url}/chainmark/requests", params={"since": seq}).json()["requests"]
        if len(entries) >= wait_for or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)


def next_seq(url: str) -> int:
    return int(httpx.get(f"{url}/chainmark/requests", params={"since": 1 << 60}).json()["next_seq"])
