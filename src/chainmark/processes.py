"""Stopping the processes chainmark starts (contestants, servers, compilers).

Each is started in its own process group, so a group kill also reaches the children it
started (Ollama's runners, a contestant's workers). Shared by the harness and the backends,
so it lives below both.
"""

from __future__ import annotations

import os
import signal
import time

# How long a process group gets to exit after SIGTERM before SIGKILL.
KILL_GRACE_S = 2.0


def kill_group(pid: int, grace_s: float = KILL_GRACE_S) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)
