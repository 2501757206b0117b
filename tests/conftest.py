"""Shared fixtures: the real backends, started as subprocesses exactly as the harness does.

``llm_server`` is one chainmark-server (the Go server: synthetic models, request log) shared
by the session; ``llm_server_factory`` starts more, e.g. with other latency profiles or in
front of an upstream. ``real_server`` is chainmark-server as the harness runs it for the real
model: a recording proxy in front of ``ollama_server``, real Ollama (built from the Go module
proxy on first use) with smollm2:135m imported and loaded, which yields the ``OllamaServer``
(``.base_url``, ``.pids()``, ...). ``chroma_server`` is a real ``chroma run``. URLs look like
``http://127.0.0.1:PORT``; everything is stopped at session end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from chainmark.backends.chroma import chroma_server as chroma_process
from chainmark.backends.llm_process import START_TIMEOUT_S
from chainmark.backends.llm_process import llm_server as llm_process
from chainmark.backends.ollama.process import OllamaServer, running_ollama


@pytest.fixture(scope="session")
def llm_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """``start(*args, upstream=None)`` -> URL of a new chainmark-server (args as on its
    command line)."""
    with contextlib.ExitStack() as stack:
        logs = tmp_path_factory.mktemp("llm-server")

        def start(*args: str, upstream: str | None = None) -> str:
            log_path = logs / f"server-{len(list(logs.iterdir()))}.log"
            server = stack.enter_context(
                llm_process(log_path, upstream=upstream, extra_args=args)
            )
            server.start(START_TIMEOUT_S)
            return server.base_url

        yield start


@pytest.fixture(scope="session")
def llm_server(llm_server_factory: Callable[..., str]) -> str:
    """chainmark-server with every synthetic model and no upstream."""
    return llm_server_factory()


@pytest.fixture(scope="session")
def real_server(llm_server_factory: Callable[..., str], ollama_server: OllamaServer) -> str:
    """chainmark-server recording every request in front of real Ollama (smollm2:135m)."""
    return llm_server_factory(upstream=ollama_server.base_url)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run`` from the chromadb package) on loopback."""
    root = tmp_path_factory.mktemp("chroma")
    with chroma_process(root / "data", root / "chroma.log") as server:
        server.start(60)
        yield server.base_url


@pytest.fixture(scope="session")
def ollama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OllamaServer]:
    """Real ``ollama serve`` on loopback, smollm2:135m imported and loaded, stopped at the end."""
    with running_ollama(tmp_path_factory.mktemp("ollama")) as server:
        yield server
