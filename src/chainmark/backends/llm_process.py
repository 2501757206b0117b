"""The embedded LLM server as a separate process, so its CPU is never charged to the harness."""

from __future__ import annotations

import sys
from pathlib import Path

from chainmark.backends.managed import ManagedServer, free_port

# Loading the real model takes seconds; a cold page cache on a busy machine, much longer.
START_TIMEOUT_S = 180.0


def llm_server(
    log_path: Path, load_real: bool, port: int | None = None, extra_args: tuple[str, ...] = ()
) -> ManagedServer:
    port = port or free_port()
    argv = [sys.executable, "-m", "chainmark.backends.llm", "--host", "127.0.0.1",
            "--port", str(port), *extra_args]
    if not load_real and "--no-real" not in extra_args:
        argv.append("--no-real")
    # chainmark's own health endpoint: unlike /api/version it stays out of the request log.
    return ManagedServer("llm", argv, f"http://127.0.0.1:{port}", "/chainmark/health", log_path)
