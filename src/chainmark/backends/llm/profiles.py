"""Latency profiles for the synthetic models, and reading and writing ``profiles.json``.

A profile says how long a synthetic model pretends to work, so a benchmark can hold the model
cost fixed (or at zero) and see what each framework adds on top of it.

chainmark-server (``src/chainmark/server/synth/profile.go``) is the reader that matters; this
module exists so the calibration writes only files that reader accepts. The checks below
therefore mirror ``ParseProfiles`` in Go: change both together.
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
# Go's limits (synth.MaxOutputTokens, synth.MaxEmbedDim): a profile must not make the server
# allocate without bound.
MAX_OUTPUT_TOKENS = 1_000_000
MAX_EMBED_DIM = 65_536
_MAX_INT32 = 2**31 - 1

_DURATIONS = ("ttft_s", "embed_base_s", "embed_s_per_token")
_RATES = ("prompt_tokens_per_s", "tokens_per_s")


class ProfileError(ValueError):
    pass


def _rate_delay(count: float, per_s: float) -> float:
    # 0 means "free": a rate of zero would otherwise read as "infinitely slow".
    if per_s <= 0:
        return 0.0
    return count / per_s


def _is_int(value: object) -> bool:
    # JSON true is not an integer to Go; Python would take it for 1.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class LatencyProfile:
    """How a synthetic model spends time. All durations in seconds; a rate of 0 means free."""

    name: str
    # Fixed cost before the first token on top of prompt evaluation.
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
        for name in (*_DURATIONS, *_RATES):
            value = getattr(self, name)
            # Finite only: JSON has no infinity, so json.dumps would write a file Go rejects.
            if (not isinstance(value, int | float) or isinstance(value, bool)
                    or not math.isfinite(value) or value < 0):
                raise ProfileError(f"profile {self.name!r}: {name} must be a finite number >= 0")
        for name, least, most in (("output_tokens", 0, MAX_OUTPUT_TOKENS),
                                  ("parallel", 0, _MAX_INT32), ("embed_dim", 1, MAX_EMBED_DIM)):
            value = getattr(self, name)
            if not _is_int(value) or not least <= value <= most:
                raise ProfileError(f"profile {self.name!r}: {name} must be an integer from "
                                   f"{least} to {most}")
        if not isinstance(self.description, str):
            raise ProfileError(f"profile {self.name!r}: description must be a string")
        if not isinstance(self.provenance, dict):
            raise ProfileError(f"profile {self.name!r}: provenance must be an object")

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


def check_name(name: str) -> None:
    if not name or ":" in name or name != name.strip():
        raise ProfileError(f"bad profile name {name!r}")
    if name != ZERO.name and name.lower() == ZERO.name:
        raise ProfileError(f"profile name {name!r} clashes with {ZERO.name!r}")


def profile_from_json(name: str, data: dict[str, Any]) -> LatencyProfile:
    unknown = set(data) - _FIELDS
    if unknown:
        raise ProfileError(f"profile {name!r}: unknown fields {sorted(unknown)}")
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in _RATES and (value is None or (isinstance(value, float) and math.isinf(value)
                                                and value > 0)):
            # JSON has no infinity: null (or an overflowing 1e999) reads as free, like 0.
            clean[key] = 0.0
        elif key in ("description", "provenance") and value is None:
            continue
        else:
            clean[key] = value
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
    lower: dict[str, str] = {}
    for name, data in sorted(entries.items()):
        try:
            check_name(name)
            if name.lower() in lower:
                raise ProfileError(f"profile names {lower[name.lower()]!r} and {name!r} differ "
                                   f"only in case")
            lower[name.lower()] = name
            if not isinstance(data, dict):
                raise ProfileError(f"profile {name!r} is not an object")
            profiles[name] = profile_from_json(name, data)
        except ProfileError as exc:
            raise ProfileError(f"{source}: {exc}") from None
    return profiles


def write_profiles(path: str | Path, profiles: dict[str, LatencyProfile], note: str = "") -> None:
    """Writes the file atomically, so a crash or Ctrl-C never leaves half a profiles file."""
    for name in profiles:
        check_name(name)
    document: dict[str, Any] = {}
    if note:
        document["note"] = note
    document["profiles"] = {name: p.to_json() for name, p in profiles.items()}
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
