"""The Chroma backend: ``chroma run`` from the chromadb package, on loopback.

One process (the Rust server inside the Python entry point, no workers), so the SIGKILL
ManagedServer has the kernel send it when the harness dies reaches all of it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from chainmark.backends.managed import BackendError, ManagedServer, free_port

HEALTH_PATH = "/api/v2/heartbeat"


def chroma_executable() -> str:
    # Prefer the one installed beside this interpreter, so the venv's chromadb is used.
    beside = Path(sys.executable).with_name("chroma")
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found is None:
        raise BackendError("the 'chroma' command is missing: install the chromadb package")
    return found


def chroma_server(data_dir: Path, log_path: Path, port: int | None = None) -> ManagedServer:
    port = port or free_port()
    argv = [
        chroma_executable(), "run", "--path", str(data_dir),
        "--host", "127.0.0.1", "--port", str(port),
    ]
    return ManagedServer("chroma", argv, f"http://127.0.0.1:{port}", HEALTH_PATH, log_path)
