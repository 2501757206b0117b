"""Shared fixtures: the embedded LLM server, started for real as a subprocess.

``llm_server`` is one server with the real model loaded, shared by the whole session (the model
load is the slow part); ``llm_server_factory`` starts more, e.g. with other latency profiles.
Both yield base URLs like ``http://127.0.0.1:PORT`` and stop their servers at session end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def spawn_llm_server(args: list[str], log_path: Path) -> Iterator[str]:
    """Runs ``python -m chainmark.backends.llm`` until the block ends; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "chainmark.backends.llm", "--host", "127.0.0.1",
            "--port", str(port), *args]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"LLM server exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{url}/chainmark/health", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"LLM server not healthy after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def llm_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """``start(*args)`` -> URL of a new server (args as on the command line)."""
    with contextlib.ExitStack() as stack:
        logs = tmp_path_factory.mktemp("llm-server")

        def start(*args: str) -> str:
            log_path = logs / f"server-{len(list(logs.iterdir()))}.log"
            return stack.enter_context(spawn_llm_server(list(args), log_path))

        yield start


@pytest.fixture(scope="session")
def llm_server(llm_server_factory: Callable[..., str]) -> str:
    """The server with the real model (smollm2:135m) and every synthetic model."""
    return llm_server_factory()
