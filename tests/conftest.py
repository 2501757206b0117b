"""Shared fixtures: the real backends, started as subprocesses exactly as the harness does.

``llm_server`` is one embedded LLM server with the real model loaded, shared by the whole
session (the model load is the slow part); ``llm_server_factory`` starts more, e.g. with other
latency profiles. ``chroma_server`` is a real ``chroma run``. All yield base URLs like
``http://127.0.0.1:PORT`` and are stopped at session end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from chainmark.backends.chroma import chroma_server as chroma_process
from chainmark.backends.llm_process import START_TIMEOUT_S
from chainmark.backends.llm_process import llm_server as llm_process


@pytest.fixture(scope="session")
def llm_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """``start(*args)`` -> URL of a new server (args as on the command line)."""
    with contextlib.ExitStack() as stack:
        logs = tmp_path_factory.mktemp("llm-server")

        def start(*args: str) -> str:
            log_path = logs / f"server-{len(list(logs.iterdir()))}.log"
            server = stack.enter_context(
                llm_process(log_path, load_real="--no-real" not in args, extra_args=args)
            )
            server.start(START_TIMEOUT_S)
            return server.base_url

        yield start


@pytest.fixture(scope="session")
def llm_server(llm_server_factory: Callable[..., str]) -> str:
    """The server with the real model (smollm2:135m) and every synthetic model."""
    return llm_server_factory()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run`` from the chromadb package) on loopback."""
    root = tmp_path_factory.mktemp("chroma")
    with chroma_process(root / "data", root / "chroma.log") as server:
        server.start(60)
        yield server.base_url
