"""Measures the real model on this machine and turns the figures into a latency profile.

``python -m chainmark.backends.llm.calibrate [--write FILE]`` prints the measurements and, with
``--write``, stores them as the ``smollm2-cpu`` profile (with provenance) in a profiles file.

The measurements go through the same code the server runs (template, tokenizer, truncation,
sampling, llama.cpp) but not through HTTP: HTTP costs are real in the synthetic server too, so
counting them here would charge them twice.
"""

from __future__ import annotations

import argparse
import itertools
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
from chainmark.backends.llm.synthetic import count_tokens
from chainmark.machine import cpu_model

PROFILE_NAME = "smollm2-cpu"
SHORT_PROMPT = "Hi"
QUESTION = "Why is the sky blue?"
# "Until the model stops", but bounded so a model that rambles cannot stall calibration.
MAX_ANSWER_TOKENS = 512
# Greedy (what benchmarks use) plus two seeded samples at Ollama's default temperature, for a
# typical answer length.
ANSWER_RUNS = ((None, 0.0), (1, 0.8), (2, 0.8))
_FILLER = ("river stone light cloud paper garden window music number letter forest engine "
           "market bridge winter summer doctor island planet rocket signal")
_WORDS = _FILLER.split()


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


def fit_prompt_phase(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """(ttft_s, prompt_tokens_per_s) for time = ttft_s + tokens / rate.

    The shortest prompt fixes the constant part (for the real model mostly its chat template);
    the rate fits the longer prompts with least squares on relative error, since attention
    makes the cost per token grow with length and no single line fits short and long prompts
    alike: this keeps each within about the same percentage.
    """
    ordered = sorted(points)
    (x0, y0), rest = ordered[0], ordered[1:]
    num = sum((x - x0) * (y - y0) / y**2 for x, y in rest)
    den = sum((x - x0) ** 2 / y**2 for x, y in rest)
    seconds_per_token = max(num / den, 1e-12) if den > 0 else 1e-12
    return max(y0 - x0 * seconds_per_token, 0.0), 1.0 / seconds_per_token


def calibrate(model_path: str | Path | None = None, repeats: int = 3,
              progress: Callable[[str], None] = lambda s: None) -> tuple[LatencyProfile,
                                                                       dict[str, Any]]:
    """Returns the ``smollm2-cpu`` profile and the raw measurements behind it."""
    model = RealModel(model_path)
    load_s = model.load()
    progress(f"loaded in {load_s:.2f} s ({model.info['extra_buffer_types_reason']})")
    one = GenerationOptions(num_predict=1, temperature=0.0)

    # The profile drives the synthetic model, which counts a prompt in whitespace words of
    # the request text (no template). So the prompt and embedding rates are fitted per such
    # word: the real model's template and tokenizer then show up in the figures, and the
    # synthetic model spends about what the real one spends on the same request.
    def prompt_phase(text: str, times: int) -> dict[str, Any]:
        runs: list[RunStats] = []
        for _ in range(times):
            _, stats = model.generate_blocking(_chat(text), one, reuse_cache=False)
            runs.append(stats)
        return {"words": count_tokens(text), "llama_tokens": runs[0].prompt_eval_count,
                "first_token_s": round(_median([s.prompt_eval_s for s in runs]), 5)}

    model.generate_blocking(_chat(SHORT_PROMPT), one)  # warm-up: first decode allocates
    load_before = os.getloadavg()
    prompts = []
    for text, times in ((SHORT_PROMPT, repeats + 2), (long_text(400), repeats),
                        (long_text(1100), repeats)):
        prompts.append(prompt_phase(text, times))
        progress(f"prompt of {prompts[-1]['words']} words ({prompts[-1]['llama_tokens']} "
                 f"tokens): first token after {prompts[-1]['first_token_s']:.3f} s")
    ttft_s, prompt_rate = fit_prompt_phase([(p["words"], p["first_token_s"]) for p in prompts])

    # The machine may be shared: a stall of a few seconds in one run must not become the
    # profile. The median gap between streamed tokens ignores such stalls; the plain rates
    # (tokens / time) are kept in the provenance for comparison.
    answers: list[RunStats] = []
    gaps: list[float] = []
    for seed, temperature in ANSWER_RUNS:
        options = GenerationOptions(num_predict=MAX_ANSWER_TOKENS, temperature=temperature,
                                    seed=seed)
        stamps: list[float] = []
        stats = RunStats()
        model.run_generation(_chat(QUESTION), options, stats,
                             lambda _text, seen=stamps: seen.append(perf_counter()))
        gaps.extend(b - a for a, b in itertools.pairwise(stamps))
        answers.append(stats)
        progress(f"answer (temperature {temperature}, seed {seed}): {stats.eval_count} tokens, "
                 f"{stats.decode_steps / max(stats.eval_s, 1e-9):.1f} tokens/s, "
                 f"done_reason {stats.done_reason}")
    tokens_per_s = 1.0 / max(_median(gaps), 1e-9)
    output_tokens = round(_median([s.eval_count for s in answers]))

    def embed_cost(text: str) -> dict[str, Any]:
        runs = []
        for _ in range(repeats + 2):
            stats = RunStats()
            model.run_embed([text], True, stats)
            runs.append(stats)
        return {"words": count_tokens(text), "llama_tokens": runs[0].prompt_eval_count,
                "s": round(_median([s.prompt_eval_s for s in runs]), 5)}

    embed_cost(QUESTION)  # warm-up
    embeds = [embed_cost(QUESTION), embed_cost(long_text(380))]
    per_word = max((embeds[1]["s"] - embeds[0]["s"]) / max(embeds[1]["words"]
                                                           - embeds[0]["words"], 1), 0.0)
    embed_base = max(embeds[0]["s"] - embeds[0]["words"] * per_word, 0.0)
    progress(f"embedding: {embeds[0]} / {embeds[1]}")

    import llama_cpp

    measurements = {
        "prompts": prompts,
        "answers": [{"temperature": t, "seed": s, "tokens": a.eval_count,
                     "tokens_per_s": round(a.decode_steps / max(a.eval_s, 1e-9), 2),
                     "done_reason": a.done_reason}
                    for (s, t), a in zip(ANSWER_RUNS, answers, strict=True)],
        "median_token_gap_s": round(_median(gaps), 6),
        "embeddings": embeds,
    }
    provenance = {
        "method": "chainmark.backends.llm.calibrate: SmolLM2-135M-Instruct Q4_1 through the "
                  "server's own generation code, no HTTP; medians of repeated runs. Prompt and "
                  "embedding costs are per whitespace word of the request text (the synthetic "
                  "model's token), fitted over the prompts below; generation is per streamed "
                  "llama token (median gap between tokens), output_tokens the median answer "
                  "length in llama tokens",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "n_threads": model.n_threads,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "extra_buffer_types": model.info["extra_buffer_types_reason"],
        # A busy (shared) machine makes every figure slower; this says how busy it was.
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
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
        embed_s_per_token=round(per_word, 7),
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
