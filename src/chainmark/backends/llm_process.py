"""chainmark-server (the Go LLM server) as a separate process, so its CPU is never charged to
the harness; optionally a recording proxy in front of a real Ollama or any compatible server."""

from __future__ import annotations

from pathlib import Path

from chainmark.backends.managed import BackendError, ManagedServer, free_port
from chainmark.gobuild import BuildError, server_binary

# The Go server is ready in milliseconds; the margin is for a loaded machine.
START_TIMEOUT_S = 30.0
PROFILES_PATH = Path(__file__).resolve().parent / "llm" / "profiles.json"


def llm_server(
    log_path: Path,
    *,
    port: int | None = None,
    upstream: str | None = None,
    profiles: Path | None = None,
    host: str = "127.0.0.1",
    extra_args: tuple[str, ...] = (),
) -> ManagedServer:
    """chainmark-server serving the synthetic models and, with ``upstream``, forwarding every
    other model to that server while logging each request."""
    try:
        binary = server_binary()
    except BuildError as exc:
        raise BackendError(f"cannot build chainmark-server: {exc}") from exc
    port = port or free_port(host)
    argv = [str(binary), "--host", host, "--port", str(port),
            "--profiles", str(profiles or PROFILES_PATH), *extra_args]
    if upstream:
        argv += ["--upstream", upstream]
    # chainmark's own health endpoint: unlike /api/version it stays out of the request log.
    # One process; ManagedServer has the kernel SIGKILL it if the harness dies.
    return ManagedServer("llm", argv, f"http://{host}:{port}", "/chainmark/health", log_path)
