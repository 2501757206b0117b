"""Ollama request bodies: parsing, validation and the response shapes.

Parsing is lenient where real clients differ (LangChainGo sends ``"stream": null``, empty
``format``/``template`` strings and options at their zero values; the Python client sends
``"tools": []`` and ``think``); unknown fields are ignored as Ollama does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from chainmark.backends.llm.base import (
    DEFAULT_NUM_CTX,
    DEFAULT_NUM_KEEP,
    DEFAULT_TEMPERATURE,
    ApiError,
    GenerationOptions,
    Message,
    Prompt,
)

try:  # orjson writes float32 vectors with their shortest repr, like Ollama's Go encoder
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)

except ImportError:  # pragma: no cover - orjson is optional

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), default=_to_list).encode("utf-8")


def _to_list(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def created_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OptionsIn(_Lenient):
    num_predict: int | None = None
    temperature: float | None = None
    seed: int | None = None
    stop: list[str] | str | None = None
    num_ctx: int | None = None
    num_keep: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    typical_p: float | None = None
    repeat_penalty: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def resolve(self) -> GenerationOptions:
        """Ollama's meaning of each value, including its zero values."""
        stop = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        defaults = GenerationOptions()
        return GenerationOptions(
            # Ollama stops on num_predict only when it is > 0; -1, -2 and 0 mean no limit.
            num_predict=self.num_predict if self.num_predict and self.num_predict > 0 else None,
            temperature=(DEFAULT_TEMPERATURE if self.temperature is None
                         else max(self.temperature, 0.0)),
            seed=self.seed if self.seed is not None and self.seed >= 0 else None,
            stop=tuple(s for s in stop if s),
            num_ctx=self.num_ctx if self.num_ctx and self.num_ctx > 0 else DEFAULT_NUM_CTX,
            num_keep=self.num_keep if self.num_keep is not None and self.num_keep >= 0
            else DEFAULT_NUM_KEEP,
            top_k=self.top_k if self.top_k and self.top_k > 0 else defaults.top_k,
            top_p=self.top_p if self.top_p and self.top_p > 0 else defaults.top_p,
            min_p=self.min_p if self.min_p is not None else defaults.min_p,
            typical_p=self.typical_p if self.typical_p and self.typical_p > 0
            else defaults.typical_p,
            repeat_penalty=self.repeat_penalty if self.repeat_penalty and self.repeat_penalty > 0
            else defaults.repeat_penalty,
            presence_penalty=self.presence_penalty or 0.0,
            frequency_penalty=self.frequency_penalty or 0.0,
        )


class MessageIn(_Lenient):
    role: str
    content: str | None = ""


class _ModelRequest(_Lenient):
    model: str = ""
    name: str = ""  # older clients call it "name"
    options: OptionsIn | None = None
    keep_alive: Any = None

    def model_name(self) -> str:
        name = (self.model or self.name).strip()
        if not name:
            raise ApiError(400, "model is required")
        return name

    def generation_options(self) -> GenerationOptions:
        return (self.options or OptionsIn()).resolve()


class GenerateIn(_ModelRequest):
    prompt: str | None = None
    suffix: str | None = None
    system: str | None = None
    template: str | None = None
    context: list[int] | None = None
    stream: bool | None = None
    raw: bool | None = None
    format: Any = None
    images: list[Any] | None = None

    def to_prompt(self) -> Prompt | None:
        """None when there is nothing to generate from (Ollama then just loads the model)."""
        if not self.prompt:
            return None
        if self.raw:
            return Prompt("generate", (), raw=self.prompt)
        messages = []
        if self.system:
            messages.append(Message("system", self.system))
        messages.append(Message("user", self.prompt))
        return Prompt("generate", tuple(messages))


class ChatIn(_ModelRequest):
    messages: list[MessageIn] | None = None
    stream: bool | None = None
    format: Any = None
    tools: list[Any] | None = None

    def to_prompt(self) -> Prompt | None:
        if not self.messages:
            return None
        return Prompt("chat", tuple(Message(m.role, m.content or "") for m in self.messages))


class EmbedIn(_ModelRequest):
    input: str | list[str] | None = None
    truncate: bool | None = None
    dimensions: int | None = None

    def texts(self) -> list[str]:
        # Ollama drops a lone empty string (an empty list comes back), not list items.
        if not self.input:
            return []
        return [self.input] if isinstance(self.input, str) else list(self.input)


class EmbeddingsIn(_ModelRequest):
    prompt: str | None = None


class ShowIn(_ModelRequest):
    verbose: bool | None = None


_T = TypeVar("_T", bound=BaseModel)


def parse_body(body: bytes, kind: type[_T]) -> _T:
    """The request body as ``kind``, or a 400 ``ApiError`` saying what is wrong."""
    if not body.strip():
        raise ApiError(400, "missing request body")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(400, f"invalid request: {where}: {first.get('msg', 'invalid')}") from None


def not_found(name: str) -> ApiError:
    return ApiError(404, f'model "{name}" not found, try pulling it first')
