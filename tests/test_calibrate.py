"""The calibration's pure parts and the profiles file: no Ollama, no model (calibration itself
is a measurement, run by hand with ``python -m chainmark.backends.llm.calibrate``)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from chainmark.backends.llm.calibrate import (
    PROFILE_NAME,
    CalibrationError,
    Generation,
    count_words,
    fit_embedding,
    fit_prompt_phase,
    fixed_cost,
    generation_rate,
    long_text,
    modelfile_num_thread,
    numbered,
    read_stream,
    updated_profiles,
    wait_until_quiet,
)
from chainmark.backends.llm.profiles import (
    ZERO,
    LatencyProfile,
    ProfileError,
    load_profiles,
    write_profiles,
)


def test_prompt_phase_fit() -> None:
    ttft, rate = fit_prompt_phase([(10, 0.15), (510, 2.65), (1010, 5.15)])
    assert ttft == pytest.approx(0.1) and rate == pytest.approx(200.0)


def test_prompt_phase_fit_weighs_relative_error_and_never_goes_negative() -> None:
    # Superlinear cost (attention): the line through the shortest point splits the relative
    # error between the two longer prompts rather than fitting the longest exactly.
    _, rate = fit_prompt_phase([(2, 0.1), (400, 4.0), (1200, 14.0)])
    predicted = [0.1 + (x - 2) / rate for x in (400, 1200)]
    errors = [p / y - 1 for p, y in zip(predicted, (4.0, 14.0), strict=True)]
    assert errors[0] > 0 > errors[1]
    assert abs(errors[0]) == pytest.approx(abs(errors[1]), rel=0.5)
    ttft, _ = fit_prompt_phase([(1, 0.0), (100, 0.5)])
    assert ttft == 0.0
    # All prompts the same length: no slope to fit, the rate reads as practically free.
    ttft, rate = fit_prompt_phase([(5, 0.2), (5, 0.2)])
    assert ttft == pytest.approx(0.2) and rate > 1e9


def test_fixed_cost_is_the_median_client_wait_beyond_the_words() -> None:
    assert fixed_cost([0.30, 0.12, 0.11, 0.13, 0.10], 2, 100.0) == pytest.approx(0.10)
    assert fixed_cost([0.01], 10, 100.0) == 0.0


def test_embedding_fit() -> None:
    per_word, base = fit_embedding((6, 0.16), (406, 4.16))
    assert per_word == pytest.approx(0.01) and base == pytest.approx(0.1)
    assert fit_embedding((6, 0.2), (406, 0.1)) == (0.0, 0.2)
    assert fit_embedding((6, 0.2), (6, 0.3))[0] == pytest.approx(0.1)


def test_words_are_what_the_synthetic_model_counts() -> None:
    assert count_words("  Why is\tthe sky\nblue? ") == 5
    assert count_words("") == 0
    text = long_text(400)
    assert text == long_text(400)
    # The numbers every 12 words are words too.
    assert count_words(text) == 400 + 400 // 12


def test_numbered_prompts_differ_from_the_previous_one_at_the_first_word() -> None:
    firsts = [numbered("Hi", n).split()[0] for n in range(30)]
    assert all(a != b for a, b in itertools.pairwise(firsts))
    assert all(count_words(numbered("Hi there", n)) == 3 for n in range(30))


def _line(**fields: object) -> str:
    return json.dumps(fields)


def test_read_stream() -> None:
    final = {"done": True, "done_reason": "stop", "eval_count": 3, "eval_duration": 30_000_000,
             "prompt_eval_duration": 50_000_000, "load_duration": 80_000_000,
             "total_duration": 170_000_000}
    run = read_stream([(0.12, _line(response="A", done=False)), (0.13, ""),
                       (0.14, _line(response="B", done=False)),
                       (0.17, json.dumps(final))])
    assert run.first_chunk_s == 0.12 and run.chunk_s == (0.12, 0.14) and run.wall_s == 0.17
    assert run.median_gap_s() == pytest.approx(0.02)
    assert run.eval_count == 3 and generation_rate(run) == pytest.approx(100.0)
    assert (run.prompt_eval_s, run.load_s, run.total_s) == pytest.approx((0.05, 0.08, 0.17))
    # A token held back (possible stop sequence) arrives only with the done line.
    alone = read_stream([(0.2, _line(done=True, eval_count=1))])
    assert alone.first_chunk_s == 0.2 and alone.median_gap_s() is None
    assert generation_rate(alone) == 0.0
    with pytest.raises(CalibrationError, match="boom"):
        read_stream([(0.1, _line(error="boom"))])
    with pytest.raises(CalibrationError, match="without a done line"):
        read_stream([(0.1, _line(response="A", done=False))])


def test_generation_without_durations() -> None:
    run = Generation(0.1, (), 0.2, {"done": True})
    assert run.eval_count == 0 and run.eval_s == 0.0 and generation_rate(run) == 0.0


def test_modelfile_num_thread() -> None:
    text = 'FROM /x.gguf\nSYSTEM """You are helpful"""\nPARAMETER num_thread 1\n'
    assert modelfile_num_thread(text) == 1
    assert modelfile_num_thread("FROM /x.gguf\n") is None
    assert modelfile_num_thread(None) is None


def test_wait_until_quiet() -> None:
    now = [0.0]
    loads = iter([3.0, 2.0, 0.5])
    current = [3.0]

    def loadavg() -> tuple[float, float, float]:
        current[0] = next(loads, current[0])
        return (current[0], 0.0, 0.0)

    def sleep(s: float) -> None:
        now[0] += s

    messages: list[str] = []
    waited = wait_until_quiet(1.0, 300.0, messages.append, loadavg, sleep, lambda: now[0])
    assert waited == 30.0 and len(messages) == 2
    # Bounded: a machine that stays busy costs max_wait_s, then calibration goes ahead.
    now[0] = 0.0
    busy = wait_until_quiet(1.0, 40.0, messages.append, lambda: (5.0, 5.0, 5.0), sleep,
                            lambda: now[0])
    assert busy == 40.0
    assert wait_until_quiet(1.0, 0.0, messages.append, lambda: (5.0, 0.0, 0.0)) < 1.0


def _cpu(**changes: object) -> LatencyProfile:
    fields: dict[str, object] = {"ttft_s": 0.1, "prompt_tokens_per_s": 100.0,
                                 "tokens_per_s": 50.0, "output_tokens": 250,
                                 "embed_base_s": 0.05, "embed_s_per_token": 0.01,
                                 "provenance": {"cpu_count": 2}}
    fields.update(changes)
    return LatencyProfile(PROFILE_NAME, **fields)  # type: ignore[arg-type]


def test_updated_profiles_copy_the_answer_length_to_zero() -> None:
    other = LatencyProfile("slow", tokens_per_s=5.0)
    updated = updated_profiles({"zero": ZERO, "slow": other}, _cpu())
    assert list(updated) == ["zero", "slow", PROFILE_NAME]
    assert updated["slow"] is other
    zero = updated["zero"]
    assert zero.output_tokens == 250 and zero.tokens_per_s == 0 and zero.parallel == 0
    assert zero.provenance == {"output_tokens": f"copied from {PROFILE_NAME}"}
    assert updated_profiles({}, _cpu())["zero"].description == ZERO.description


def test_profile_delays() -> None:
    cpu = _cpu()
    assert cpu.prompt_delay_s(50) == pytest.approx(0.6)
    assert cpu.token_interval_s() == pytest.approx(0.02)
    assert cpu.embed_delay_s(10) == pytest.approx(0.15)
    assert ZERO.prompt_delay_s(1000) == ZERO.token_interval_s() == ZERO.embed_delay_s(1000) == 0


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    profiles = updated_profiles({"zero": ZERO}, _cpu())
    write_profiles(path, profiles, note="n")
    document = json.loads(path.read_text())
    assert document["note"] == "n" and list(document["profiles"]) == ["zero", PROFILE_NAME]
    assert load_profiles(path) == profiles
    assert load_profiles(path)[PROFILE_NAME].provenance == {"cpu_count": 2}
    assert not list(tmp_path.glob(".*.tmp"))


def test_shipped_profiles_load() -> None:
    shipped = load_profiles()
    assert shipped["zero"].tokens_per_s == 0 and shipped["zero"].parallel == 0
    cpu = shipped[PROFILE_NAME]
    assert cpu.tokens_per_s > 0 and cpu.prompt_tokens_per_s > 0 and cpu.parallel == 1
    assert shipped["zero"].output_tokens == cpu.output_tokens
    assert cpu.provenance["cpu_count"] >= 1 and cpu.provenance["measurements"]


def test_load_reads_null_and_overflowing_rates_as_free(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"profiles": {"x": {"tokens_per_s": null, "prompt_tokens_per_s": 1e999, '
                    '"ttft_s": 0.5, "description": null, "provenance": null}}}')
    loaded = load_profiles(path)
    assert set(loaded) == {"zero", "x"}
    x = loaded["x"]
    assert x.token_interval_s() == 0 and x.prompt_delay_s(100) == 0.5
    assert (x.output_tokens, x.embed_dim, x.parallel) == (64, 576, 1)


@pytest.mark.parametrize("bad", [
    {"x": {"ttft_s": -1}},
    {"x": {"ttft_s": 1e999}},
    {"x": {"ttft_s": "0.1"}},
    {"x": {"speed": 1}},
    {"x": {"output_tokens": 1.5}},
    {"x": {"output_tokens": True}},
    {"x": {"output_tokens": 1_000_001}},
    {"x": {"embed_dim": 0}},
    {"x": {"parallel": -1}},
    {"x": {"description": 3}},
    {"x": {"provenance": []}},
    {"x": []},
    {"a:b": {}},
    {" x": {}},
    {"": {}},
    {"Zero": {}},
    {"slow": {}, "SLOW": {}},
    [],
])
def test_load_rejects_what_the_go_server_rejects(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"profiles": bad}))
    with pytest.raises(ProfileError):
        load_profiles(path)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{not json")
    with pytest.raises(ProfileError, match=r"p\.json"):
        load_profiles(path)
    with pytest.raises(ProfileError, match=r"missing\.json"):
        load_profiles(tmp_path / "missing.json")
    assert set(load_profiles(None)) >= {"zero"}


def test_profiles_cannot_hold_what_json_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(ProfileError):
        _cpu(tokens_per_s=math.inf)
    with pytest.raises(ProfileError):
        _cpu(ttft_s=math.nan)
    with pytest.raises(ProfileError):
        write_profiles(tmp_path / "p.json", {"a:b": ZERO})
