"""Real Ollama (``ollama serve``) as a server chainmark starts, with smollm2:135m imported.

Everything Ollama writes stays under one run folder: its HOME (where ``serve`` puts a key),
OLLAMA_MODELS (the imported GGUF blob and manifest) and the log. The model stays loaded
(OLLAMA_KEEP_ALIVE=-1), requests run one at a time (one model, one slot), nothing reaches out
to ollama.com (OLLAMA_NO_CLOUD).

``ollama serve`` runs the model in a child process (``ollama runner``), started at the first
request for the model and kept in the server's process group; it also starts short-lived
runners at startup to probe for GPUs. :meth:`OllamaServer.pids` lists every live process of
the group, so a caller charging the server's CPU must call it at measuring time, not once.

The runners are Ollama's children, not ours, and Ollama 0.17 starts them with no parent-death
signal: SIGKILL ``ollama serve`` and its runner is reparented to init and stays, listening and
holding the model (checked: still there 10 s later). On SIGTERM Ollama unloads its runners
(kills them) and exits. So the parent-death signal chainmark gives ``ollama serve`` is
SIGTERM, not SIGKILL: if the harness dies without stopping it, Ollama stops its runners
itself. No watchdog is needed for them.

    with ollama_server(run / "ollama", run / "logs" / "ollama.log") as server:
        server.start()    # build if needed, serve, import smollm2:135m, load it
        server.base_url, server.pids(), server.version, server.modelfile_text
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from chainmark.backends.managed import BackendError, ManagedServer, free_port, wait_healthy
from chainmark.backends.ollama.build import OLLAMA_VERSION, ollama_binary
from chainmark.backends.ollama.modelfile import (
    MODEL_NAME,
    GGUFError,
    default_model_path,
    modelfile,
)
from chainmark.processes import die_with_parent, register_server

START_TIMEOUT_S = 120.0
CREATE_TIMEOUT_S = 300.0
LOAD_TIMEOUT_S = 300.0
STOP_WAIT_S = 5.0

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _client_host(host: str) -> str:
    """The address a client on this machine uses to reach a server bound to host."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def server_env(root: Path, host: str, port: int) -> dict[str, str]:
    """Environment for ``ollama serve`` (and its client commands) under root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA_")}
    bind = f"[{host}]" if ":" in host and not host.startswith("[") else host
    env.update(
        HOME=str(root / "home"),
        OLLAMA_HOST=f"{bind}:{port}",
        OLLAMA_MODELS=str(root / "models"),
        OLLAMA_KEEP_ALIVE="-1",
        OLLAMA_NUM_PARALLEL="1",
        OLLAMA_MAX_LOADED_MODELS="1",
        OLLAMA_NOPRUNE="1",
        OLLAMA_NO_CLOUD="1",
        OLLAMA_NOHISTORY="1",
    )
    return env


def group_pids(pgid: int) -> list[int]:
    """Every live (non-zombie) process whose process group is pgid, the leader first."""
    found: list[int] = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE or os.getpgid(proc.pid) != pgid:
                continue
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
        found.append(proc.pid)
    return sorted(found, key=lambda pid: (pid != pgid, pid))


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return bool(group_pids(pgid))


class OllamaServer(ManagedServer):
    """``ollama serve`` on host:port with a run-private HOME and model store under root.

    :meth:`start` does everything: builds Ollama if needed (or takes ``binary``), starts the
    server, imports smollm2:135m and (``preload``) loads it into a runner. :meth:`stop` (or
    leaving the ``with`` block) stops the server and its runners.
    """

    # Not SIGKILL: on SIGTERM Ollama kills its runners, which nothing else would reach.
    death_signal = signal.SIGTERM

    def __init__(
        self,
        root: Path,
        log_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        gguf: Path | None = None,
        preload: bool = True,
        binary: Path | None = None,
        log: Log = _stderr,
    ) -> None:
        self.root = root.resolve()
        self.binary = binary
        self.gguf = gguf
        self.preload = preload
        self.port = port or free_port(host if host not in ("", "0.0.0.0", "::") else "127.0.0.1")
        self.env = server_env(self.root, host, self.port)
        self.log = log
        base_url = f"http://{_client_host(host)}:{self.port}"
        super().__init__("ollama", ["ollama", "serve"], base_url, "/api/version",
                         log_path or self.root / "ollama.log")
        self.pgid: int | None = None
        self.version: str | None = None
        self.modelfile_text: str | None = None
        self.timings: dict[str, float] = {}

    @property
    def pid(self) -> int | None:
        """The pid of ``ollama serve`` (also its process group id)."""
        return self.process.pid if self.process is not None else None

    def pids(self) -> list[int]:
        """``ollama serve`` and every process it started that is alive now (runners)."""
        return group_pids(self.pgid) if self.process is not None and self.pgid else []

    def _timed(self, step: str, started: float) -> None:
        self.timings[step] = time.monotonic() - started
        self.log(f"ollama: {step} {self.timings[step]:.2f} s")

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Build if needed, serve, import smollm2:135m, load it. Raises BackendError."""
        if self.binary is None:
            started = time.monotonic()
            self.binary = ollama_binary(lambda line: self.log(f"ollama build: {line}"))
            self._timed("binary ready", started)
        self.argv = [str(self.binary), "serve"]
        try:
            self.serve(timeout_s)
            self.import_model(self.gguf)
            if self.preload:
                self.load_model()
        except BaseException:
            self.stop()
            raise

    def serve(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Starts ``ollama serve`` alone and waits until it answers."""
        started = time.monotonic()
        for folder in ("home", "models"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=self.env, cwd=self.root, start_new_session=True,
                    preexec_fn=die_with_parent(self.death_signal),
                )
            except OSError as exc:
                raise BackendError(f"ollama: cannot start {self.argv[0]}: {exc}") from exc
        register_server(self.process.pid)
        self.pgid = self.process.pid
        try:
            wait_healthy(self.health_url, timeout_s, self.process)
            self.version = httpx.get(self.health_url, timeout=5).json().get("version")
        except (BackendError, httpx.HTTPError, ValueError) as exc:
            self.stop()
            raise BackendError(f"ollama: {exc}\n--- {self.log_path} ---\n{self.log_tail()}") \
                from None
        self._timed("serve healthy", started)
        if self.version != OLLAMA_VERSION:
            self.log(f"ollama: warning: /api/version says {self.version!r}, "
                     f"expected {OLLAMA_VERSION}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def import_model(self, gguf: Path | None = None) -> str:
        """``ollama create smollm2:135m`` from the GGUF; returns the Modelfile text."""
        if gguf is None:
            try:
                gguf = default_model_path()
            except GGUFError as exc:
                raise BackendError(f"ollama: {exc}") from None
        assert self.binary is not None, "serve() first"
        started = time.monotonic()
        text = modelfile(gguf)
        path = self.root / "Modelfile"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                [str(self.binary), "create", MODEL_NAME, "-f", str(path)],
                env=self.env, cwd=self.root, capture_output=True, text=True,
                timeout=CREATE_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent(),
            )
        except subprocess.TimeoutExpired:
            raise BackendError(f"ollama create {MODEL_NAME} took longer than "
                               f"{CREATE_TIMEOUT_S:.0f} s") from None
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-2000:]
            raise BackendError(f"ollama create {MODEL_NAME} failed (exit {done.returncode}): "
                               f"{output}")
        self.modelfile_text = text
        self._timed(f"create {MODEL_NAME}", started)
        return text

    def load_model(self) -> None:
        """Loads the model into a runner now, so no measured request pays for the load."""
        started = time.monotonic()
        try:
            response = httpx.post(f"{self.base_url}/api/generate", json={"model": MODEL_NAME},
                                  timeout=LOAD_TIMEOUT_S)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise BackendError(f"ollama: loading {MODEL_NAME} failed: {exc}\n"
                               f"--- {self.log_path} ---\n{self.log_tail()}") from None
        self._timed(f"load {MODEL_NAME}", started)

    def stop(self) -> None:
        """Stops ``ollama serve`` and its runners (the whole process group)."""
        pgid = self.pgid
        super().stop()
        if pgid is None:
            return
        deadline = time.monotonic() + STOP_WAIT_S
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> OllamaServer:
        return self


def ollama_server(
    root: Path,
    log_path: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    gguf: Path | None = None,
    preload: bool = True,
    binary: Path | None = None,
    log: Log = _stderr,
) -> OllamaServer:
    """An Ollama server to ``start()`` (not started yet); use it in a ``with`` block."""
    return OllamaServer(root, log_path, host=host, port=port, gguf=gguf, preload=preload,
                        binary=binary, log=log)


def start_ollama(root: Path, log_path: Path | None = None, **options: Any) -> OllamaServer:
    """Builds Ollama if needed, starts it, imports smollm2:135m and (by default) loads it.

    ``options`` are :func:`ollama_server`'s. The caller must ``stop()`` the returned server; on
    any failure here it is already stopped. Raises BackendError (OllamaBuildError for the
    build).
    """
    server = ollama_server(root, log_path, **options)
    server.start()
    return server


@contextlib.contextmanager
def running_ollama(root: Path, log_path: Path | None = None,
                   **options: Any) -> Iterator[OllamaServer]:
    """:func:`start_ollama` as a context manager that stops everything on exit."""
    server = start_ollama(root, log_path, **options)
    try:
        yield server
    finally:
        server.stop()
