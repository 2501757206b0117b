"""A server process that chainmark started and therefore must stop."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from chainmark.processes import die_with_parent, forget_server, kill_group, register_server


class BackendError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Polls url until it answers 2xx; fails fast if the process died meanwhile."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise BackendError(f"exited with code {process.returncode} before becoming healthy")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.is_success:
                return
            last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last_error = str(exc) or type(exc).__name__
        time.sleep(0.1)
    raise BackendError(f"{url} not healthy after {timeout_s:.0f} s ({last_error})")


class ManagedServer:
    """Starts a command in its own process group and stops the whole group.

    The server also gets ``death_signal`` from the kernel if the harness dies without stopping
    it (SIGKILL, a crash): no server stays listening after chainmark is gone.
    """

    # SIGKILL: chainmark-server and ``chroma run`` keep nothing that needs a clean shutdown.
    death_signal: int = signal.SIGKILL

    def __init__(
        self, name: str, argv: list[str], base_url: str, health_path: str, log_path: Path
    ) -> None:
        self.name = name
        self.argv = argv
        self.base_url = base_url
        self.health_url = base_url + health_path
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=die_with_parent(self.death_signal),
                )
            except OSError as exc:
                raise BackendError(f"{self.name}: cannot start {self.argv[0]}: {exc}") from exc
        register_server(self.process.pid)
        try:
            wait_healthy(self.health_url, timeout_s, self.process)
        except BackendError as exc:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise BackendError(f"{self.name}: {exc}\n--- {self.log_path} ---\n{tail}") from None

    def stop(self) -> None:
        if self.process is None:
            return
        kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        forget_server(self.process.pid)
        self.process = None

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
