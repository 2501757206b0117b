"""Deterministic synthetic models: ``synthetic`` and ``synthetic:<profile>``.

Text and vectors depend only on the request, so every framework gets the same answers; time is
spent only as the latency profile says, with ``asyncio.sleep`` so the event loop keeps serving.

Tokens here are whitespace-separated words: a prompt's token count is its word count (no
template; capped at num_ctx, nothing is cut), and each streamed chunk is one word with its
leading space (``" word"``). Temperature and the other sampling options change nothing; the
seed (0 when unset) does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from chainmark.backends.llm.base import (
    GenerationOptions,
    Message,
    ModelCard,
    Prompt,
    RunStats,
)
from chainmark.backends.llm.profiles import LatencyProfile

SYNTHETIC_PREFIX = "synthetic"

# Plain, short English words so the answers look like text to splitters and parsers.
_VOCABULARY_TEXT = """
the a an of to in on for with by from at as is are was be been it this that these those
and or but so because while when where which who what how why light sky blue air water
small large model answer question data system time result process energy color wave long
short scatter sun red green value number text word sentence reason first next then also
more less most many some each other same different simple clear good new old high low
often usually always never can may will would should could make take give find use show
help work call return store search read write point part place way case fact idea example
"""
_VOCABULARY = tuple(_VOCABULARY_TEXT.split())

_PROMPT_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{1,}")
_EMBED_WORD = re.compile(r"\w+")
_WORD_TOKEN = re.compile(r"\s*\S+|\s+")


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """What a reply function sees: the request, and how long an answer the profile wants."""

    model: str
    prompt: Prompt
    seed: int
    default_tokens: int

    @property
    def messages(self) -> tuple[Message, ...]:
        return self.prompt.messages


# Maps a request to the full reply text. Pluggable so scripted replies (e.g. ReAct agent steps)
# can replace the default generator.
ReplyFn = Callable[[ReplyRequest], str]


def _stable_int(*parts: str) -> int:
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _prompt_key(prompt: Prompt) -> str:
    if prompt.raw is not None:
        return "raw\x1f" + prompt.raw
    return "\x1e".join(f"{m.role}\x1f{m.content}" for m in prompt.messages)


def deterministic_reply(request: ReplyRequest) -> str:
    """``default_tokens`` words chosen by a PRNG seeded with (prompt, seed).

    About a quarter of the words come from the prompt so answers stay on topic (and a stop
    sequence taken from the prompt can actually occur).
    """
    rng = random.Random(_stable_int(_prompt_key(request.prompt), str(request.seed)))
    pool = _PROMPT_WORD.findall(request.prompt.text())[:2000]
    words: list[str] = []
    sentence = 0
    for _ in range(request.default_tokens):
        use_prompt = pool and rng.random() < 0.25
        word = (rng.choice(pool) if use_prompt else rng.choice(_VOCABULARY)).lower()
        if sentence == 0:
            word = word.capitalize()
        sentence += 1
        if sentence >= 6 and rng.random() < 0.2:
            word += "."
            sentence = 0
        words.append(word)
    if words and not words[-1].endswith("."):
        words[-1] += "."
    return " ".join(words)


def split_word_tokens(text: str) -> list[str]:
    """Word-tokens whose concatenation is exactly ``text``: ``["The", " sky", " is."]``."""
    return _WORD_TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(text.split())


@functools.lru_cache(maxsize=200_000)
def _word_slots(word: str, dim: int) -> tuple[int, float, int, float]:
    h = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    a = int.from_bytes(h[:3], "big") % dim
    b = int.from_bytes(h[3:6], "big") % dim
    return a, (1.0 if h[6] & 1 else -1.0), b, (0.5 if h[7] & 1 else -0.5)


def synthetic_embedding(text: str, dim: int) -> np.ndarray:
    """A unit vector: hashed bag of words (shared words => closer) plus a small text-specific
    component (so different texts never coincide, and an empty text still has a direction)."""
    vec = np.zeros(dim, dtype=np.float64)
    for word, count in Counter(_EMBED_WORD.findall(text.lower())).items():
        a, sa, b, sb = _word_slots(word, dim)
        weight = 1.0 + np.log(count)
        vec[a] += sa * weight
        vec[b] += sb * weight
    noise = np.random.default_rng(_stable_int("embed", text)).standard_normal(dim)
    noise /= np.linalg.norm(noise)
    norm = np.linalg.norm(vec)
    vec = noise if norm == 0 else vec / norm + 0.15 * noise
    return (vec / np.linalg.norm(vec)).astype(np.float32)


# Above this many words, embedding runs in a thread so the event loop stays responsive.
_INLINE_EMBED_WORDS = 4000


class SyntheticModel:
    def __init__(self, name: str, profile: LatencyProfile, reply_fn: ReplyFn | None = None):
        self.name = name
        self.profile = profile
        self.reply_fn: ReplyFn = reply_fn or deterministic_reply
        self._slots = asyncio.Semaphore(profile.parallel) if profile.parallel > 0 else None

    def card(self) -> ModelCard:
        return ModelCard(
            name=self.name,
            family="synthetic",
            format="synthetic",
            parameter_size="0",
            quantization_level="none",
            digest=hashlib.sha256(self.name.encode()).hexdigest(),
            template="(none: word-tokens, no chat template)",
            embedding_length=self.profile.embed_dim,
            extra={"profile": self.profile.name},
        )

    def _slot(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._slots if self._slots is not None else contextlib.nullcontext()

    def plan(self, prompt: Prompt, options: GenerationOptions) -> tuple[list[str], int, str, int]:
        """(tokens to send, tokens generated, done_reason, prompt tokens), without waiting."""
        seed = options.seed if options.seed is not None else 0
        request = ReplyRequest(self.name, prompt, seed, self.profile.output_tokens)
        tokens = split_word_tokens(self.reply_fn(request))
        reason = "stop"
        if options.num_predict is not None and len(tokens) > options.num_predict:
            tokens, reason = tokens[: options.num_predict], "length"
        generated = len(tokens)
        if options.stop:
            text = "".join(tokens)
            cut = min((i for i in (text.find(s) for s in options.stop if s) if i >= 0),
                      default=-1)
            if cut >= 0:
                kept, used = [], 0
                for token in tokens:
                    if used + len(token) > cut:
                        kept.append(token[: cut - used])
                        break
                    kept.append(token)
                    used += len(token)
                generated, reason = len(kept), "stop"
                tokens = [t for t in kept if t]
        prompt_tokens = min(count_tokens(prompt.text()), options.num_ctx)
        return tokens, generated, reason, prompt_tokens

    async def generate(
        self, prompt: Prompt, options: GenerationOptions, stats: RunStats
    ) -> AsyncIterator[str]:
        queued = perf_counter()
        async with self._slot():
            start = perf_counter()
            stats.queue_s = start - queued
            tokens, generated, reason, prompt_tokens = self.plan(prompt, options)
            stats.prompt_eval_count = prompt_tokens
            delay = self.profile.prompt_delay_s(prompt_tokens)
            if delay > 0:
                await asyncio.sleep(delay)
            first = perf_counter()
            stats.prompt_eval_s = first - start
            interval = self.profile.token_interval_s()
            for i, token in enumerate(tokens):
                if interval > 0 and i > 0:
                    # Against an absolute schedule, so sleep overshoot does not accumulate.
                    wait = first + i * interval - perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                yield token
            stats.eval_s = perf_counter() - first
            stats.eval_count = generated
            stats.decode_steps = max(generated - 1, 0)
            stats.done_reason = reason

    async def embed(
        self, texts: Sequence[str], options: GenerationOptions, normalize: bool, stats: RunStats
    ) -> list[np.ndarray]:
        # Vectors are unit length by construction, so ``normalize`` changes nothing.
        queued = perf_counter()
        async with self._slot():
            start = perf_counter()
            stats.queue_s = start - queued
            counts = [min(count_tokens(t), options.num_ctx) for t in texts]
            stats.prompt_eval_count = sum(counts)
            stats.inputs = len(texts)
            dim = self.profile.embed_dim
            if stats.prompt_eval_count > _INLINE_EMBED_WORDS:
                vectors = await asyncio.to_thread(
                    lambda: [synthetic_embedding(t, dim) for t in texts]
                )
            else:
                vectors = [synthetic_embedding(t, dim) for t in texts]
            remaining = self.profile.embed_delay_s(stats.prompt_eval_count) - (
                perf_counter() - start
            )
            if remaining > 0:
                await asyncio.sleep(remaining)
            stats.prompt_eval_s = perf_counter() - start
            return vectors
