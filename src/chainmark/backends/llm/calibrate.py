"""Measures the real model on this machine and turns the figures into a latency profile.

``python -m chainmark.backends.llm.calibrate [--write FILE]`` prints the measurements and, with
``--write``, stores them as the ``smollm2-cpu`` profile (with provenance) in a profiles file.

The measurements go through the same code the server runs (template, tokenizer, truncation,
sampling, llama.cpp) but not through HTTP: HTTP costs are real in the synthetic server too, so
counting them here would charge them twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from chainmark.backends.llm.base import GenerationOptions, Message, Prompt, RunStats
from chainmark.backends.llm.profiles import (
    DEFAULT_PROFILES_PATH,
    ZERO,
    LatencyProfile,
    load_profiles,
    write_profiles,
)
from chainmark.backends.llm.real import RealModel

PROFILE_NAME = "smollm2-cpu"
SHORT_PROMPT = "Hi"
QUESTION = "Why is the sky blue?"
# "Until the model stops", but bounded so a model that rambles cannot stall calibration.
MAX_ANSWER_TOKENS = 512
_WORDS = ("river stone light cloud paper garden window music number letter forest engine "
          "market bridge winter summer doctor island planet rocket signal").split()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def long_text(words: int) -> str:
    """Deterministic filler that tokenizes to roughly 1.3 tokens per word."""
    out = []
    for i in range(words):
        out.append(_WORDS[(i * 7 + i // len(_WORDS)) % len(_WORDS)])
        if i % 12 == 11:
            out[-1] += f" {i}."
    return " ".join(out)


def _chat(text: str) -> Prompt:
    return Prompt("chat", (Message("user", text),))


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def calibrate(model_path: str | Path | None = None, repeats: int = 3,
              progress: Callable[[str], None] = lambda s: None) -> tuple[LatencyProfile,
                                                                       dict[str, Any]]:
    """Returns the ``smollm2-cpu`` profile and the raw measurements behind it."""
    model = RealModel(model_path)
    load_s = model.load()
    progress(f"loaded in {load_s:.2f} s ({model.info['extra_buffer_types_reason']})")
    one = GenerationOptions(num_predict=1, temperature=0.0)

    def prompt_phase(text: str) -> tuple[int, float]:
        runs: list[RunStats] = []
        for _ in range(repeats):
            _, stats = model.generate_blocking(_chat(text), one, reuse_cache=False)
            runs.append(stats)
        return runs[0].prompt_eval_count, _median([s.prompt_eval_s for s in runs])

    model.generate_blocking(_chat(SHORT_PROMPT), one)  # warm-up: first decode allocates
    short_n, short_s = prompt_phase(SHORT_PROMPT)
    progress(f"short prompt: {short_n} tokens, first token after {short_s * 1e3:.1f} ms")
    long_n, long_s = prompt_phase(long_text(1100))
    progress(f"long prompt: {long_n} tokens, first token after {long_s:.2f} s")
    prompt_rate = (long_n - short_n) / max(long_s - short_s, 1e-9)
    ttft_s = max(short_s - short_n / prompt_rate, 0.0)

    answers = []
    for seed, temperature in ((None, 0.0), (1, 0.8), (2, 0.8)):
        options = GenerationOptions(num_predict=MAX_ANSWER_TOKENS, temperature=temperature,
                                    seed=seed)
        _, stats = model.generate_blocking(_chat(QUESTION), options)
        answers.append(stats)
        progress(f"answer (temperature {temperature}, seed {seed}): {stats.eval_count} tokens, "
                 f"{stats.decode_steps / max(stats.eval_s, 1e-9):.1f} tokens/s, "
                 f"done_reason {stats.done_reason}")
    tokens_per_s = _median([s.decode_steps / max(s.eval_s, 1e-9) for s in answers])
    output_tokens = round(_median([s.eval_count for s in answers]))

    def embed_cost(text: str) -> tuple[int, float]:
        runs = []
        for _ in range(repeats + 2):
            stats = RunStats()
            model.run_embed([text], True, stats)
            runs.append(stats)
        return runs[0].prompt_eval_count, _median([s.prompt_eval_s for s in runs])

    embed_cost(QUESTION)  # warm-up
    e_short_n, e_short_s = embed_cost(QUESTION)
    e_long_n, e_long_s = embed_cost(long_text(380))
    per_token = max((e_long_s - e_short_s) / max(e_long_n - e_short_n, 1), 0.0)
    embed_base = max(e_short_s - e_short_n * per_token, 0.0)
    progress(f"embedding: {e_short_n} tokens {e_short_s * 1e3:.1f} ms, "
             f"{e_long_n} tokens {e_long_s * 1e3:.1f} ms")

    import llama_cpp

    measurements = {
        "short_prompt_tokens": short_n, "short_prompt_first_token_s": round(short_s, 5),
        "long_prompt_tokens": long_n, "long_prompt_first_token_s": round(long_s, 4),
        "answers": [{"temperature": t, "seed": s, "tokens": a.eval_count,
                     "tokens_per_s": round(a.decode_steps / max(a.eval_s, 1e-9), 2),
                     "done_reason": a.done_reason}
                    for (s, t), a in zip(((None, 0.0), (1, 0.8), (2, 0.8)), answers,
                                         strict=True)],
        "embed_short": {"tokens": e_short_n, "s": round(e_short_s, 5)},
        "embed_long": {"tokens": e_long_n, "s": round(e_long_s, 5)},
    }
    provenance = {
        "method": "chainmark.backends.llm.calibrate: SmolLM2-135M-Instruct Q4_1 through the "
                  "server's own generation code, no HTTP; medians of repeated runs",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "n_threads": model.n_threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "extra_buffer_types": model.info["extra_buffer_types_reason"],
        "question": QUESTION,
        "measurements": measurements,
    }
    model.close()
    profile = LatencyProfile(
        name=PROFILE_NAME,
        ttft_s=round(ttft_s, 5),
        prompt_tokens_per_s=round(prompt_rate, 1),
        tokens_per_s=round(tokens_per_s, 1),
        output_tokens=output_tokens,
        embed_base_s=round(embed_base, 5),
        embed_s_per_token=round(per_token, 7),
        embed_dim=int(model.info["embedding_dim"]),
        parallel=1,
        description="SmolLM2-135M-Instruct Q4_1 on CPU as measured on the machine below: "
                    "the real model's pace without its compute.",
        provenance=provenance,
    )
    return profile, measurements


def updated_profiles(existing: dict[str, LatencyProfile],
                     profile: LatencyProfile) -> dict[str, LatencyProfile]:
    """The file's profiles with ``profile`` replaced; ``zero`` gets the same answer length, so
    the two differ only in latency."""
    zero = existing.get(ZERO.name, ZERO)
    zero = replace(zero, output_tokens=profile.output_tokens, embed_dim=profile.embed_dim,
                   provenance={"output_tokens": f"copied from {profile.name}"})
    return {**existing, ZERO.name: zero, profile.name: profile}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chainmark.backends.llm.calibrate")
    parser.add_argument("--write", type=Path, nargs="?", const=DEFAULT_PROFILES_PATH,
                        default=None, help=f"profiles file to update (default: "
                                           f"{DEFAULT_PROFILES_PATH.name} next to the code)")
    parser.add_argument("--model-path", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    start = perf_counter()
    profile, _ = calibrate(args.model_path, args.repeats,
                           progress=lambda s: print(s, file=sys.stderr, flush=True))
    print(json.dumps({profile.name: profile.to_json()}, indent=2))
    print(f"calibration took {perf_counter() - start:.0f} s", file=sys.stderr)
    if args.write:
        existing = load_profiles(args.write) if args.write.exists() else {ZERO.name: ZERO}
        write_profiles(args.write, updated_profiles(existing, profile),
                       note="Latency profiles for the synthetic models; smollm2-cpu is written "
                            "by `python -m chainmark.backends.llm.calibrate --write`.")
        print(f"wrote {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
