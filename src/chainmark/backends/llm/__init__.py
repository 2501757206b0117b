"""The embedded LLM server: Ollama's HTTP API over SmolLM2 (llama.cpp) and synthetic models.

Run it with ``python -m chainmark.backends.llm`` or ``serve()``; build the app with
``create_app()``. Heavy imports (Starlette, llama.cpp) happen only when those are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainmark.backends.llm.profiles import LatencyProfile, load_profiles
from chainmark.backends.llm.server import serve

if TYPE_CHECKING:
    from chainmark.backends.llm.app import create_app

__all__ = ["LatencyProfile", "create_app", "load_profiles", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from chainmark.backends.llm.app import create_app

        return create_app
    raise AttributeError(name)
