"""What the HTTP layer needs from a model, shared by the synthetic and the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Ollama's defaults (api.DefaultOptions), so a client that sends no options sees the same
# sampling it would against a real Ollama.
DEFAULT_NUM_CTX = 2048
DEFAULT_NUM_KEEP = 4
DEFAULT_TEMPERATURE = 0.8


class ApiError(Exception):
    """An error answered as Ollama does: ``{"error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A generate prompt (one user message, plus a system one) or a chat's messages.

    ``raw`` is set for ``/api/generate`` with ``"raw": true``: the text goes to the model
    untemplated.
    """

    kind: Literal["generate", "chat"]
    messages: tuple[Message, ...]
    raw: str | None = None

    def text(self) -> str:
        """Everything the caller wrote, without any template."""
        if self.raw is not None:
            return self.raw
        return "\n".join(m.content for m in self.messages)


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    # None = until end of text or context full (Ollama: num_predict <= 0 means unlimited).
    num_predict: int | None = None
    temperature: float = DEFAULT_TEMPERATURE
    seed: int | None = None
    stop: tuple[str, ...] = ()
    num_ctx: int = DEFAULT_NUM_CTX
    num_keep: int = DEFAULT_NUM_KEEP
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


@dataclass(slots=True)
class RunStats:
    """Measured (never invented) figures of one request; the model fills them as it works."""

    queue_s: float = 0.0
    load_s: float = 0.0
    prompt_eval_count: int = 0
    prompt_eval_s: float = 0.0
    # Prompt tokens whose evaluation was skipped because the KV cache already held them.
    prompt_cached_count: int = 0
    eval_count: int = 0
    eval_s: float = 0.0
    # Tokens sampled after the first one; eval_s covers exactly these, so this / eval_s is the
    # generation rate.
    decode_steps: int = 0
    done_reason: str = "stop"
    inputs: int = 0


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What ``/api/tags`` and ``/api/show`` say about a model."""

    name: str
    family: str
    format: str
    parameter_size: str
    quantization_level: str
    size: int = 0
    digest: str = ""
    modified_at: str = ""
    template: str = ""
    context_length: int = 0
    embedding_length: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class TextModel(Protocol):
    """A model the server can answer with."""

    name: str

    def card(self) -> ModelCard: ...

    def generate(
        self, prompt: Prompt, options: GenerationOptions, stats: RunStats
    ) -> AsyncIterator[str]:
        """Yields text pieces as they are produced and fills ``stats`` by the time it ends."""
        ...

    async def embed(
        self, texts: Sequence[str], options: GenerationOptions, normalize: bool, stats: RunStats
    ) -> list[Any]:
        """One vector per text (a list or a numpy array of floats)."""
        ...


class StopScanner:
    """Cuts streamed text at the first stop sequence, holding back what could begin one.

    Without the hold-back a client could already have received half of a stop sequence by the
    time the rest of it arrives.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Returns the text that is safe to send now; sets ``stopped`` on a stop sequence."""
        if self.stopped:
            return ""
        if not self.stops:
            return text
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buffer[:cut]
        keep = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(buffer)), keep, -1):
                if buffer.endswith(stop[:n]):
                    keep = n
                    break
        self._held = buffer[len(buffer) - keep:] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What was held back, once the text is known to end without a stop sequence."""
        held, self._held = self._held, ""
        return "" if self.stopped else held
