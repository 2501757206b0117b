"""Latency profiles for the synthetic models, and loading them from ``profiles.json``.

A profile says how long a synthetic model pretends to work, so a benchmark can hold the model
cost fixed (or at zero) and see what each framework adds on top of it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_PROFILES_PATH = Path(__file__).with_name("profiles.json")

# Same width as SmolLM2-135M's hidden state, so a vector store sized for the real model also fits
# the synthetic one.
DEFAULT_EMBED_DIM = 576


class ProfileError(ValueError):
    pass


def _rate_delay(count: float, per_s: float) -> float:
    # 0 (or inf) means "free": a rate of zero would otherwise read as "infinitely slow".
    if per_s <= 0 or math.isinf(per_s):
        return 0.0
    return count / per_s


@dataclass(frozen=True)
class LatencyProfile:
    """How a synthetic model spends time. All durations in seconds; 0 means free."""

    name: str
    # Fixed cost before the first token on top of prompt evaluation (scheduling, sampling).
    ttft_s: float = 0.0
    # Prompt evaluation rate; the prompt phase lasts ttft_s + prompt_tokens / this.
    prompt_tokens_per_s: float = 0.0
    # Generation pace: after the first token, one token every 1 / tokens_per_s seconds.
    tokens_per_s: float = 0.0
    # Answer length in word-tokens when the request sets no num_predict.
    output_tokens: int = 64
    embed_base_s: float = 0.0
    embed_s_per_token: float = 0.0
    embed_dim: int = DEFAULT_EMBED_DIM
    # Concurrent requests served at once; 0 = unlimited. Ollama's default is one slot.
    parallel: int = 1
    description: str = ""
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("ttft_s", "embed_base_s", "embed_s_per_token",
                     "prompt_tokens_per_s", "tokens_per_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ProfileError(f"profile {self.name!r}: {name} must be a number >= 0")
        for name in ("output_tokens", "parallel"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ProfileError(f"profile {self.name!r}: {name} must be an integer >= 0")
        if not isinstance(self.embed_dim, int) or self.embed_dim < 1:
            raise ProfileError(f"profile {self.name!r}: embed_dim must be an integer >= 1")

    def prompt_delay_s(self, prompt_tokens: int) -> float:
        return self.ttft_s + _rate_delay(prompt_tokens, self.prompt_tokens_per_s)

    def token_interval_s(self) -> float:
        return _rate_delay(1, self.tokens_per_s)

    def embed_delay_s(self, tokens: int) -> float:
        return self.embed_base_s + self.embed_s_per_token * tokens

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("name")
        return data


# Always present even if profiles.json is missing or overridden: the framework-overhead baseline.
ZERO = LatencyProfile(
    name="zero",
    parallel=0,
    description="No model cost at all: what remains is framework and HTTP overhead.",
)

_FIELDS = {f.name for f in fields(LatencyProfile)} - {"name"}


def profile_from_json(name: str, data: dict[str, Any]) -> LatencyProfile:
    unknown = set(data) - _FIELDS
    if unknown:
        raise ProfileError(f"profile {name!r}: unknown fields {sorted(unknown)}")
    # JSON has no infinity; null reads as "free" like 0.
    clean = {k: (0.0 if v is None and k.endswith("_per_s") else v) for k, v in data.items()}
    return LatencyProfile(name=name, **clean)


def load_profiles(path: str | Path | None = None) -> dict[str, LatencyProfile]:
    """Profiles by name from a JSON file (default: the ``profiles.json`` shipped with the code).

    The file is ``{"profiles": {"<name>": {<LatencyProfile fields>}}}``; ``zero`` is always
    defined, a file may override it.
    """
    source = Path(path) if path is not None else DEFAULT_PROFILES_PATH
    profiles = {ZERO.name: ZERO}
    if path is None and not source.exists():
        return profiles
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read profiles from {source}: {exc}") from exc
    entries = document.get("profiles") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise ProfileError(f"{source}: expected an object with a 'profiles' object")
    for name, data in entries.items():
        if not isinstance(data, dict):
            raise ProfileError(f"{source}: profile {name!r} is not an object")
        if not name or ":" in name or name != name.strip():
            raise ProfileError(f"{source}: bad profile name {name!r}")
        profiles[name] = profile_from_json(name, data)
    return profiles


def write_profiles(path: str | Path, profiles: dict[str, LatencyProfile], note: str = "") -> None:
    document: dict[str, Any] = {}
    if note:
        document["note"] = note
    document["profiles"] = {name: p.to_json() for name, p in profiles.items()}
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
