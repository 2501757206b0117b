"""The Starlette app: Ollama's HTTP API over the synthetic and real models, plus chainmark's
own ``/chainmark/*`` endpoints (timing log, health)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from chainmark.backends.llm.base import (
    ApiError,
    GenerationOptions,
    ModelCard,
    Prompt,
    RunStats,
    TextModel,
)
from chainmark.backends.llm.profiles import LatencyProfile, load_profiles
from chainmark.backends.llm.protocol import (
    ChatIn,
    EmbeddingsIn,
    EmbedIn,
    GenerateIn,
    ShowIn,
    created_at,
    dumps,
    not_found,
    parse_body,
)
from chainmark.backends.llm.real import REAL_MODEL_ALIASES, RealModel
from chainmark.backends.llm.scripted import BEHAVIOURS, scripted_reply_fn
from chainmark.backends.llm.synthetic import ReplyFn, SyntheticModel
from chainmark.backends.llm.timings import (
    DEFAULT_CAPACITY,
    STATE_KEY,
    RequestLog,
    RequestRecord,
    TimingMiddleware,
)

# Reported by /api/version. Clients only gate features on it; this is the API level mimicked.
OLLAMA_API_VERSION = "0.12.0"
JSON = "application/json; charset=utf-8"
NDJSON = "application/x-ndjson"
MAX_LOG_PAGE = 10_000

log = logging.getLogger("chainmark.llm")


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class ModelRegistry:
    """Model names to models: ``synthetic[:<profile>]`` and, when loaded, ``smollm2:135m``."""

    def __init__(self, profiles: Mapping[str, LatencyProfile], real: RealModel | None,
                 reply_fn: ReplyFn | None = None) -> None:
        self.profiles = dict(profiles)
        # Every behaviour (synthetic, synthetic-liar, synthetic-malformed) at every profile.
        # Ollama model names are case-insensitive; lookups lower-case the requested name.
        self.synthetic = {
            f"{behaviour}:{name}".lower(): SyntheticModel(
                f"{behaviour}:{name}", p, reply_fn or scripted_reply_fn(behaviour)
            )
            for behaviour in BEHAVIOURS
            for name, p in profiles.items()
        }
        self.real = real

    def resolve(self, name: str) -> TextModel:
        key = name.strip().lower()
        family, _, tag = key.partition(":")
        if family in BEHAVIOURS and tag in ("", "latest"):
            key = f"{family}:zero"
        model = self.synthetic.get(key)
        if model is not None:
            return model
        if self.real is not None and key in REAL_MODEL_ALIASES:
            return self.real
        raise not_found(name)

    def models(self) -> list[TextModel]:
        found: list[TextModel] = [self.real] if self.real is not None else []
        return found + list(self.synthetic.values())


def _record(request: Request) -> RequestRecord:
    record = request.scope.get("state", {}).get(STATE_KEY)
    if record is None:  # app used without the middleware (e.g. mounted elsewhere)
        import time

        record = RequestRecord(request.url.path, request.method, time.time_ns(),
                               time.perf_counter_ns())
    return record


def _error(status: int, message: str) -> Response:
    return Response(dumps({"error": message}), status_code=status, media_type=JSON)


Handler = Callable[[Request], Awaitable[Response]]


def _api(handler: Handler) -> Handler:
    """Answers errors as Ollama does, and notes them in the request's timing record."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            _record(request).error = exc.message
            return _error(exc.status, exc.message)
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.url.path)
            _record(request).error = f"{type(exc).__name__}: {exc}"
            return _error(500, str(exc) or type(exc).__name__)

    return wrapped


def _tag(card: ModelCard) -> dict[str, Any]:
    return {
        "name": card.name,
        "model": card.name,
        "modified_at": card.modified_at or created_at(),
        "size": card.size,
        "digest": card.digest,
        "details": _details(card),
    }


def _details(card: ModelCard) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": card.format,
        "family": card.family,
        "families": [card.family],
        "parameter_size": card.parameter_size,
        "quantization_level": card.quantization_level,
    }


def create_app(
    *,
    load_real: bool = True,
    real_model_path: str | Path | None = None,
    profiles: Mapping[str, LatencyProfile] | None = None,
    profiles_path: str | Path | None = None,
    reply_fn: ReplyFn | None = None,
    log_capacity: int = DEFAULT_CAPACITY,
    prompt_cache: bool = True,
) -> Starlette:
    """The server app. With ``load_real`` the real model loads during startup (lifespan), so
    the server answers nothing, /api/version included, until it is ready.

    ``prompt_cache=False`` makes the real model evaluate every prompt from scratch: slower,
    but its answers then never depend on which request came before.
    """
    profile_map = dict(profiles) if profiles is not None else load_profiles(profiles_path)
    real = RealModel(real_model_path, prompt_cache=prompt_cache) if load_real else None
    registry = ModelRegistry(profile_map, real, reply_fn)
    request_log = RequestLog(log_capacity)

    async def respond(request: Request, model: TextModel, name: str, prompt: Prompt,
                      options: GenerationOptions, stream: bool, chat: bool) -> Response:
        record = _record(request)
        stats = RunStats()
        record.stats = stats

        def piece(text: str, done: bool) -> dict[str, Any]:
            if chat:
                return {"model": name, "created_at": created_at(),
                        "message": {"role": "assistant", "content": text}, "done": done}
            return {"model": name, "created_at": created_at(), "response": text, "done": done}

        def final(text: str) -> dict[str, Any]:
            record.done_reason = stats.done_reason
            body = piece(text, True)
            body.update(
                done_reason=stats.done_reason,
                total_duration=record.elapsed_ns(),
                load_duration=_ns(stats.load_s),
                prompt_eval_count=stats.prompt_eval_count,
                prompt_eval_duration=_ns(stats.prompt_eval_s),
                eval_count=stats.eval_count,
                eval_duration=_ns(stats.eval_s),
            )
            return body

        # aclosing: a model holds its slot until its generator ends, so end it as soon as
        # the response does (client gone included), not whenever it is garbage-collected.
        if not stream:
            async with contextlib.aclosing(model.generate(prompt, options, stats)) as pieces:
                text = "".join([text async for text in pieces])
            record.response_chars = len(text)
            return Response(dumps(final(text)), media_type=JSON)

        async def lines() -> AsyncIterator[bytes]:
            record.response_chars = 0
            finished = False
            try:
                async with contextlib.aclosing(model.generate(prompt, options, stats)) as pieces:
                    async for text in pieces:
                        record.response_chars += len(text)
                        yield dumps(piece(text, False)) + b"\n"
                finished = True
                yield dumps(final("")) + b"\n"
            except Exception as exc:
                # Headers are gone already: Ollama reports a mid-stream failure as a line.
                log.exception("stream for %s failed", name)
                record.error = f"{type(exc).__name__}: {exc}"
                yield dumps({"error": str(exc) or type(exc).__name__}) + b"\n"
            finally:
                if not finished and record.error is None:
                    record.error = "stream abandoned: client disconnected"

        return StreamingResponse(lines(), media_type=NDJSON)

    def loaded_only(name: str, chat: bool, keep_alive: Any) -> Response:
        # Ollama answers an empty prompt / message list by (un)loading the model.
        reason = "unload" if keep_alive in (0, "0", "0s", "0m") else "load"
        body: dict[str, Any] = {"model": name, "created_at": created_at()}
        if chat:
            body["message"] = {"role": "assistant", "content": ""}
        else:
            body["response"] = ""
        body.update(done=True, done_reason=reason)
        return Response(dumps(body), media_type=JSON)

    @_api
    async def generate(request: Request) -> Response:
        record = _record(request)
        req = parse_body(await request.body(), GenerateIn)
        name = record.model = req.model_name()
        model = registry.resolve(name)
        stream = record.stream = req.stream is not False
        prompt = req.to_prompt()
        if prompt is None:
            return loaded_only(name, False, req.keep_alive)
        return await respond(request, model, name, prompt, req.generation_options(),
                             stream, chat=False)

    @_api
    async def chat(request: Request) -> Response:
        record = _record(request)
        req = parse_body(await request.body(), ChatIn)
        name = record.model = req.model_name()
        model = registry.resolve(name)
        stream = record.stream = req.stream is not False
        prompt = req.to_prompt()
        if prompt is None:
            return loaded_only(name, True, req.keep_alive)
        return await respond(request, model, name, prompt, req.generation_options(),
                             stream, chat=True)

    async def run_embed(request: Request, name: str, texts: list[str],
                        options: GenerationOptions, normalize: bool) -> tuple[list[Any], RunStats]:
        record = _record(request)
        record.stream = False
        model = registry.resolve(name)
        stats = RunStats()
        record.stats = stats
        vectors = await model.embed(texts, options, normalize, stats) if texts else []
        return vectors, stats

    @_api
    async def embed(request: Request) -> Response:
        record = _record(request)
        req = parse_body(await request.body(), EmbedIn)
        name = record.model = req.model_name()
        vectors, stats = await run_embed(request, name, req.texts(), req.generation_options(),
                                         normalize=True)
        if req.dimensions and req.dimensions > 0:
            cut = [np.asarray(v, dtype=np.float32)[: req.dimensions] for v in vectors]
            vectors = [v / (np.linalg.norm(v) or 1.0) for v in cut]
        return Response(dumps({
            "model": name,
            "embeddings": vectors,
            "total_duration": record.elapsed_ns(),
            "load_duration": _ns(stats.load_s),
            "prompt_eval_count": stats.prompt_eval_count,
        }), media_type=JSON)

    @_api
    async def embeddings(request: Request) -> Response:
        record = _record(request)
        req = parse_body(await request.body(), EmbeddingsIn)
        name = record.model = req.model_name()
        texts = [req.prompt] if req.prompt else []
        # The legacy endpoint returns the raw (unnormalised) vector, as Ollama's does.
        vectors, _ = await run_embed(request, name, texts, req.generation_options(),
                                     normalize=False)
        return Response(dumps({"embedding": vectors[0] if vectors else []}), media_type=JSON)

    @_api
    async def tags(request: Request) -> Response:
        return Response(dumps({"models": [_tag(m.card()) for m in registry.models()]}),
                        media_type=JSON)

    @_api
    async def ps(request: Request) -> Response:
        models = []
        for m in registry.models():
            entry = _tag(m.card())
            entry.update(expires_at="2099-01-01T00:00:00Z", size_vram=0)
            models.append(entry)
        return Response(dumps({"models": models}), media_type=JSON)

    @_api
    async def show(request: Request) -> Response:
        req = parse_body(await request.body(), ShowIn)
        name = _record(request).model = req.model_name()
        card = registry.resolve(name).card()
        info = {"general.architecture": card.family, **card.extra}
        if card.context_length:
            info[f"{card.family}.context_length"] = card.context_length
        if card.embedding_length:
            info[f"{card.family}.embedding_length"] = card.embedding_length
        return Response(dumps({
            "modelfile": f"# chainmark embedded server\nFROM {card.name}\n",
            "parameters": "num_ctx 2048\ntemperature 0.8",
            "template": card.template,
            "details": _details(card),
            "model_info": info,
            "capabilities": ["completion", "embedding"],
            "modified_at": card.modified_at or created_at(),
        }), media_type=JSON)

    @_api
    async def pull(request: Request) -> Response:
        # Nothing to download: known models are "pulled" already (LangChainGo can pull first).
        req = parse_body(await request.body(), ShowIn)
        name = _record(request).model = req.model_name()
        try:
            registry.resolve(name)
        except ApiError:
            raise ApiError(404, "pull model manifest: file does not exist") from None
        return Response(dumps({"status": "success"}) + b"\n", media_type=NDJSON)

    async def version(request: Request) -> Response:
        return Response(dumps({"version": OLLAMA_API_VERSION}), media_type=JSON)

    async def root(request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def requests_log(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
            limit = int(request.query_params.get("limit", str(MAX_LOG_PAGE)))
        except ValueError:
            return _error(400, "since and limit must be integers")
        entries, next_seq = request_log.since(since, max(1, min(limit, MAX_LOG_PAGE)))
        return Response(dumps({"requests": entries, "next_seq": next_seq}), media_type=JSON)

    async def reset(request: Request) -> Response:
        request_log.clear()
        return Response(dumps({"status": "ok", "next_seq": request_log.next_seq}),
                        media_type=JSON)

    async def health(request: Request) -> Response:
        return Response(dumps({
            "status": "ok",
            "models": [m.name for m in registry.models()],
            "aliases": {**{b: f"{b}:zero" for b in BEHAVIOURS},
                        **({a: registry.real.name for a in REAL_MODEL_ALIASES} if real else {})},
            "profiles": {name: asdict(p) for name, p in registry.profiles.items()},
            "real_model": real.info if real is not None else None,
            "log": {"entries": len(request_log), "next_seq": request_log.next_seq},
        }), media_type=JSON)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if real is not None:
            await asyncio.to_thread(real.load)
        names = ", ".join(m.name for m in registry.models())
        print(f"chainmark llm server ready: {names}", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            if real is not None:
                real.close()

    routes = [
        Route("/", root, methods=["GET", "HEAD"]),
        Route("/api/generate", generate, methods=["POST"]),
        Route("/api/chat", chat, methods=["POST"]),
        Route("/api/embed", embed, methods=["POST"]),
        Route("/api/embeddings", embeddings, methods=["POST"]),
        Route("/api/tags", tags, methods=["GET", "HEAD"]),
        Route("/api/ps", ps, methods=["GET"]),
        Route("/api/show", show, methods=["POST"]),
        Route("/api/pull", pull, methods=["POST"]),
        Route("/api/version", version, methods=["GET", "HEAD"]),
        Route("/chainmark/requests", requests_log, methods=["GET"]),
        Route("/chainmark/reset", reset, methods=["POST"]),
        Route("/chainmark/health", health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TimingMiddleware, log=request_log)],
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.request_log = request_log
    return app
