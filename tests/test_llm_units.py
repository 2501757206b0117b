"""The LLM server's pieces on their own: no server process, no model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chainmark.backends.llm.base import (
    ApiError,
    GenerationOptions,
    Message,
    Prompt,
    RunStats,
    StopScanner,
)
from chainmark.backends.llm.calibrate import fit_prompt_phase
from chainmark.backends.llm.profiles import ProfileError, load_profiles
from chainmark.backends.llm.protocol import ChatIn, GenerateIn, parse_body
from chainmark.backends.llm.real import generation_reserve, truncate_prompt
from chainmark.backends.llm.synthetic import (
    SyntheticModel,
    split_word_tokens,
    synthetic_embedding,
)
from chainmark.backends.llm.timings import RequestLog, RequestRecord


def scan(stops: list[str], pieces: list[str]) -> tuple[list[str], bool]:
    scanner = StopScanner(stops)
    out = [scanner.feed(p) for p in pieces]
    out.append(scanner.flush())
    return out, scanner.stopped


def test_stop_scanner_holds_back_a_possible_stop() -> None:
    out, stopped = scan(["\nUser:"], ["Hello", " there\n", "Us", "er: more"])
    assert stopped and "".join(out) == "Hello there"
    assert out[1] == " there"  # the newline waits: it may start the stop sequence
    out, stopped = scan(["\nUser:"], ["Hello", "\n", "Bye"])
    assert not stopped and "".join(out) == "Hello\nBye"
    out, stopped = scan(["a", "bcd"], ["xxbc", "e"])
    assert not stopped and "".join(out) == "xxbce"
    assert scan([], ["a", "b"]) == (["a", "b", ""], False)


def test_word_tokens_rebuild_the_text() -> None:
    text = "The sky  is\nblue. "
    tokens = split_word_tokens(text)
    assert "".join(tokens) == text
    assert tokens[:2] == ["The", " sky"]


@pytest.mark.parametrize(("options", "reason", "text"), [
    (GenerationOptions(num_predict=3), "length", "One two three"),
    (GenerationOptions(stop=("four",)), "stop", "One two three "),
    (GenerationOptions(stop=("hre",)), "stop", "One two t"),
    (GenerationOptions(num_predict=2, stop=("four",)), "length", "One two"),
    (GenerationOptions(), "stop", "One two three four five."),
])
def test_synthetic_plan(options: GenerationOptions, reason: str, text: str) -> None:
    from chainmark.backends.llm.profiles import ZERO

    model = SyntheticModel("synthetic:zero", ZERO, lambda r: "One two three four five.")
    tokens, generated, got_reason, prompt_tokens = model.plan(
        Prompt("generate", (Message("user", "a b c"),)), options)
    assert "".join(tokens) == text and got_reason == reason
    assert prompt_tokens == 3 and generated >= len(tokens)


def test_synthetic_embedding_geometry() -> None:
    a = synthetic_embedding("the cat sat on the mat", 64)
    b = synthetic_embedding("the cat sat on the mat", 64)
    c = synthetic_embedding("on the mat the cat sat", 64)
    d = synthetic_embedding("quarterly revenue grew", 64)
    assert np.array_equal(a, b) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-6)
    assert a @ c > 0.9 > a @ d
    assert not np.array_equal(a, c)
    assert np.linalg.norm(synthetic_embedding("", 64)) == pytest.approx(1.0, abs=1e-6)


def test_profiles_load_and_reject(tmp_path: Path) -> None:
    shipped = load_profiles()
    assert shipped["zero"].tokens_per_s == 0 and shipped["zero"].parallel == 0
    cpu = shipped["smollm2-cpu"]
    assert cpu.tokens_per_s > 0 and cpu.provenance["llama_cpp_python"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"profiles": {"x": {"tokens_per_s": None, "ttft_s": 0.5}}}))
    loaded = load_profiles(path)
    assert set(loaded) == {"zero", "x"} and loaded["x"].token_interval_s() == 0
    assert loaded["x"].prompt_delay_s(100) == 0.5
    for bad in ({"x": {"ttft_s": -1}}, {"x": {"speed": 1}}, {"a:b": {}}, []):
        path.write_text(json.dumps({"profiles": bad}))
        with pytest.raises(ProfileError):
            load_profiles(path)


def test_prompt_truncation_keeps_head_and_tail() -> None:
    tokens = list(range(100))
    assert truncate_prompt(tokens, 100, 4) == tokens
    cut = truncate_prompt(tokens, 10, 4)
    assert cut == [0, 1, 2, 3, 94, 95, 96, 97, 98, 99]
    assert generation_reserve(2048, 16) == 16
    assert generation_reserve(2048, None) == 256
    assert generation_reserve(64, 1000) == 8


def test_prompt_phase_fit() -> None:
    ttft, rate = fit_prompt_phase([(10, 0.15), (510, 2.65), (1010, 5.15)])
    assert ttft == pytest.approx(0.1) and rate == pytest.approx(200.0)


def test_lenient_parsing_of_client_bodies() -> None:
    # What LangChainGo sends: stream null, empty format/template, zero-valued options.
    body = json.dumps({"model": "m", "prompt": "hi", "system": "", "template": "",
                       "stream": None, "format": "", "options": {"temperature": 0,
                                                                 "num_predict": 0}})
    req = parse_body(body.encode(), GenerateIn)
    assert req.stream is None
    options = req.generation_options()
    assert options.temperature == 0 and options.num_predict is None
    assert req.to_prompt() == Prompt("generate", (Message("user", "hi"),))
    chat = parse_body(b'{"model": "m", "messages": [{"role": "user", "content": null}],'
                      b' "tools": [], "think": false}', ChatIn)
    assert chat.to_prompt() == Prompt("chat", (Message("user", ""),))
    assert parse_body(b'{"model": "m"}', ChatIn).to_prompt() is None
    defaults = parse_body(b'{"model": "m", "options": {"stop": "x", "seed": -1}}', GenerateIn)
    assert defaults.generation_options().stop == ("x",)
    assert defaults.generation_options().seed is None
    with pytest.raises(ApiError) as info:
        parse_body(b'{"model": ""}', GenerateIn).model_name()
    assert info.value.status == 400


def test_request_log_pages_and_survives_reset() -> None:
    log = RequestLog(capacity=5)
    for i in range(7):
        record = RequestRecord(f"/p{i}", "GET", start_ns=i, start_perf_ns=i)
        record.end_ns, record.stats = i + 1, RunStats()
        log.append(record)
    entries, nxt = log.since(0, 100)
    assert [e["seq"] for e in entries] == [3, 4, 5, 6, 7] and nxt == 8
    entries, nxt = log.since(4, 2)
    assert [e["seq"] for e in entries] == [4, 5] and nxt == 6
    assert log.since(8, 10) == ([], 8)
    log.clear()
    assert log.since(0, 10) == ([], 8)
