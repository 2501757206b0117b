"""The embedded LLM server against the clients the benchmark uses: the official ``ollama``
client and langchain-ollama, on the real model and on the synthetic ones. No mocks: one real
server process (``llm_server``), plus a second one with a slow profile for pacing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import ollama
import pytest
from langchain_ollama import ChatOllama, OllamaEmbeddings, OllamaLLM

REAL = "smollm2:135m"
QUESTION = "Why is the sky blue?"
FEW = {"num_predict": 8, "temperature": 0}

real_model = pytest.mark.real_model


@pytest.fixture(scope="module")
def client(llm_server: str) -> ollama.Client:
    return ollama.Client(host=llm_server)


def log_since(url: str, seq: int) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/chainmark/requests", params={"since": seq}).json()
    return body["requests"]


def next_seq(url: str) -> int:
    return int(httpx.get(f"{url}/chainmark/requests", params={"since": 1 << 60}).json()["next_seq"])


def unit(v: Any) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


# -- basics --------------------------------------------------------------------------------------


def test_root_version_tags_show(llm_server: str, client: ollama.Client) -> None:
    assert httpx.get(llm_server).text == "Ollama is running"
    assert httpx.head(llm_server).status_code == 200
    assert httpx.get(f"{llm_server}/api/version").json()["version"]
    names = {m.model for m in client.list().models}
    assert {REAL, "synthetic:zero", "synthetic:smollm2-cpu"} <= names
    shown = client.show(REAL)
    assert shown.details.family == "llama"
    assert "im_start" in (shown.template or "")
    health = httpx.get(f"{llm_server}/chainmark/health").json()
    assert health["status"] == "ok"
    assert health["real_model"]["loaded"] is True
    assert health["profiles"]["smollm2-cpu"]["provenance"]["cpu_count"] >= 1


# -- real model ----------------------------------------------------------------------------------


@real_model
def test_real_generate(client: ollama.Client) -> None:
    r = client.generate(model=REAL, prompt=QUESTION, options=FEW)
    assert r.done and r.response.strip()
    assert r.done_reason in ("stop", "length")
    assert 0 < r.eval_count <= 8
    assert r.prompt_eval_count > len(QUESTION.split())  # template tokens included
    assert r.total_duration >= r.prompt_eval_duration + r.eval_duration > 0
    again = client.generate(model=REAL, prompt=QUESTION, options=FEW)
    assert again.response == r.response  # temperature 0 is greedy


@real_model
def test_real_generate_alias_and_system(client: ollama.Client) -> None:
    r = client.generate(model="smollm2", prompt="Say hi.", system="Answer in French.",
                        options=FEW)
    assert r.model == "smollm2" and r.done


@real_model
def test_real_chat_stream_matches_counts(client: ollama.Client) -> None:
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": QUESTION}]
    parts = list(client.chat(model=REAL, messages=messages, stream=True, options=FEW))
    assert parts[-1].done and not any(p.done for p in parts[:-1])
    text = "".join(p.message.content for p in parts)
    assert text.strip()
    assert parts[-1].eval_count <= 8
    whole = client.chat(model=REAL, messages=messages, options=FEW)
    assert whole.message.content == text
    assert whole.message.role == "assistant"


@real_model
def test_real_seed_and_stop(client: ollama.Client) -> None:
    opts = {"num_predict": 12, "temperature": 1.0, "seed": 7}
    a = client.generate(model=REAL, prompt="Tell me a story.", options=opts)
    b = client.generate(model=REAL, prompt="Tell me a story.", options=opts)
    assert a.response == b.response
    # Stop on a piece of the greedy answer: the answer must end right before it.
    full = client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 16,
                                                                 "temperature": 0})
    words = full.response.split()
    assert len(words) >= 4
    stop = " " + words[3]
    cut = client.generate(model=REAL, prompt=QUESTION,
                          options={"num_predict": 16, "temperature": 0, "stop": [stop]})
    assert cut.done_reason == "stop"
    assert stop not in cut.response
    assert full.response.startswith(cut.response)


@real_model
def test_real_num_predict_length(client: ollama.Client) -> None:
    r = client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 3,
                                                              "temperature": 0})
    assert r.done_reason == "length" and r.eval_count == 3


@real_model
def test_real_prompt_longer_than_context(client: ollama.Client) -> None:
    long_prompt = " ".join(f"fact {i}: the river is wide." for i in range(300)) + " " + QUESTION
    r = client.generate(model=REAL, prompt=long_prompt,
                        options={"num_ctx": 256, "num_predict": 4, "temperature": 0})
    assert r.done
    assert r.prompt_eval_count < 256
    assert r.eval_count <= 4


@real_model
def test_real_embeddings(client: ollama.Client) -> None:
    one = client.embed(model=REAL, input="The sky is blue.")
    assert len(one.embeddings) == 1 and len(one.embeddings[0]) == 576
    assert np.linalg.norm(one.embeddings[0]) == pytest.approx(1.0, abs=1e-4)
    batch = client.embed(model=REAL, input=["The sky is blue.", "Grass is green."])
    assert len(batch.embeddings) == 2
    # Batched inputs share a decode, so the floats may differ in the last digits.
    assert float(np.dot(batch.embeddings[0], one.embeddings[0])) > 0.999
    assert batch.prompt_eval_count > one.prompt_eval_count
    legacy = client.embeddings(model=REAL, prompt="The sky is blue.")
    assert float(unit(legacy.embedding) @ unit(one.embeddings[0])) > 0.999


@real_model
@pytest.mark.parametrize("model", [REAL, "synthetic"])
def test_empty_texts_embed(client: ollama.Client, model: str) -> None:
    assert client.embed(model=model, input="").embeddings == []
    r = client.embed(model=model, input=["", "x"])
    assert len(r.embeddings) == 2 and len(r.embeddings[1]) == 576
    assert client.embeddings(model=model, prompt="").embedding == []
    assert len(client.embed(model=model, input="still alive").embeddings[0]) == 576


@real_model
def test_langchain_on_real_model(llm_server: str) -> None:
    llm = OllamaLLM(model=REAL, base_url=llm_server, num_predict=8, temperature=0)
    text = llm.invoke(QUESTION)
    assert isinstance(text, str) and text.strip()
    chat = ChatOllama(model=REAL, base_url=llm_server, num_predict=8, temperature=0)
    message = chat.invoke(QUESTION)
    assert message.content.strip()
    assert message.usage_metadata["output_tokens"] <= 8
    streamed = "".join(str(c.content) for c in chat.stream(QUESTION))
    assert streamed == message.content
    emb = OllamaEmbeddings(model=REAL, base_url=llm_server)
    docs = emb.embed_documents(["The sky is blue.", "Grass is green."])
    assert len(docs) == 2 and len(docs[0]) == 576
    assert float(np.dot(emb.embed_query("The sky is blue."), docs[0])) > 0.999


@real_model
def test_real_requests_queue_on_one_slot(llm_server: str) -> None:
    seq = next_seq(llm_server)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            ollama.Client(host=llm_server).generate(model=REAL, prompt=QUESTION,
                                                    options={"num_predict": 16,
                                                             "temperature": 0})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    entries = [e for e in log_since(llm_server, seq) if e["path"] == "/api/generate"]
    assert len(entries) == 2
    # One waited for the other: the later one's queue time covers most of the first one's work.
    first, second = sorted(entries, key=lambda e: e["queue_s"])
    assert second["queue_s"] > 0.5 * first["eval_s"]


@real_model
def test_real_abandoned_stream_frees_the_slot(llm_server: str, client: ollama.Client) -> None:
    seq = next_seq(llm_server)
    body = {"model": REAL, "prompt": "Write a very long essay about rivers.",
            "options": {"num_predict": 2000, "temperature": 0}}
    with httpx.stream("POST", f"{llm_server}/api/generate", json=body, timeout=30) as r:
        lines = r.iter_lines()
        assert json.loads(next(lines))["done"] is False
        next(lines)
    # The abandoned generation must stop at its next token, not run 2000 tokens first.
    start = time.monotonic()
    r = client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 2,
                                                              "temperature": 0})
    assert r.done
    assert time.monotonic() - start < 10
    abandoned, answered = log_since(llm_server, seq)
    assert "client disconnected" in abandoned["error"] and abandoned["done_reason"] is None
    assert answered["error"] is None and answered["done_reason"] == "length"


# -- synthetic models ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["synthetic", "synthetic:smollm2-cpu"])
def test_synthetic_generate_and_chat(client: ollama.Client, model: str) -> None:
    opts = {"num_predict": 12}
    a = client.generate(model=model, prompt=QUESTION, options=opts)
    b = client.generate(model=model, prompt=QUESTION, options=opts)
    assert a.response == b.response and a.response.strip()
    assert a.eval_count == 12 and a.done_reason == "length"
    assert a.prompt_eval_count == len(QUESTION.split())
    other = client.generate(model=model, prompt=QUESTION, options={**opts, "seed": 5})
    assert other.response != a.response
    chunks = list(client.generate(model=model, prompt=QUESTION, options=opts, stream=True))
    assert len(chunks) == 13  # one word per chunk, then the final one
    assert "".join(c.response for c in chunks) == a.response
    messages = [{"role": "user", "content": QUESTION}]
    chat = client.chat(model=model, messages=messages, options=opts)
    streamed = client.chat(model=model, messages=messages, options=opts, stream=True)
    assert "".join(c.message.content for c in streamed) == chat.message.content


def test_synthetic_default_length_and_stop(client: ollama.Client, llm_server: str) -> None:
    profile = httpx.get(f"{llm_server}/chainmark/health").json()["profiles"]["zero"]
    full = client.generate(model="synthetic", prompt=QUESTION)
    assert full.eval_count == profile["output_tokens"] and full.done_reason == "stop"
    words = full.response.split()
    stop = words[5]
    cut = client.generate(model="synthetic", prompt=QUESTION, options={"stop": [stop]})
    assert cut.done_reason == "stop"
    assert cut.response == full.response[: full.response.index(stop)]
    streamed = "".join(c.response for c in client.generate(
        model="synthetic", prompt=QUESTION, options={"stop": [stop]}, stream=True))
    assert streamed == cut.response


def test_synthetic_embeddings(client: ollama.Client) -> None:
    texts = ["the cat sat on the mat", "a cat on a mat", "stock markets fell sharply today"]
    r = client.embed(model="synthetic", input=texts)
    vectors = np.asarray(r.embeddings)
    assert vectors.shape == (3, 576)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    again = client.embed(model="synthetic:smollm2-cpu", input=texts[0])
    assert np.allclose(again.embeddings[0], vectors[0])
    legacy = client.embeddings(model="synthetic", prompt=texts[0])
    assert np.allclose(legacy.embedding, vectors[0], atol=1e-6)


def test_langchain_on_synthetic(llm_server: str) -> None:
    llm = OllamaLLM(model="synthetic", base_url=llm_server, num_predict=10)
    assert llm.invoke(QUESTION) == llm.invoke(QUESTION)
    chat = ChatOllama(model="synthetic:smollm2-cpu", base_url=llm_server, num_predict=10)
    message = chat.invoke(QUESTION)
    assert message.usage_metadata["output_tokens"] == 10
    assert "".join(str(c.content) for c in chat.stream(QUESTION)) == message.content
    emb = OllamaEmbeddings(model="synthetic", base_url=llm_server)
    assert np.allclose(emb.embed_query("hello world"), emb.embed_documents(["hello world"])[0])


def test_pacing_follows_tokens_per_s(llm_server_factory: Callable[..., str],
                                     tmp_path: Path) -> None:
    profiles = {"profiles": {"slow": {"ttft_s": 0.2, "tokens_per_s": 40.0, "output_tokens": 21}}}
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(profiles))
    url = llm_server_factory("--no-real", "--profiles", str(path))
    stamps = []
    start = time.perf_counter()
    for chunk in ollama.Client(host=url).generate(model="synthetic:slow", prompt="go",
                                                  stream=True):
        if not chunk.done:
            stamps.append(time.perf_counter())
    assert len(stamps) == 21
    # Loose bounds only: the machine is shared and noisy.
    assert stamps[0] - start >= 0.8 * 0.2
    assert stamps[-1] - stamps[0] >= 0.8 * 20 / 40.0
    assert {m.model for m in ollama.Client(host=url).list().models} == {
        f"{behaviour}:{profile}"
        for behaviour in ("synthetic", "synthetic-liar", "synthetic-malformed")
        for profile in ("zero", "slow")
    }


# -- errors --------------------------------------------------------------------------------------


def test_unknown_model_is_404(client: ollama.Client) -> None:
    for call in (
        lambda: client.generate(model="llama9:70b", prompt="hi"),
        lambda: list(client.generate(model="llama9:70b", prompt="hi", stream=True)),
        lambda: client.chat(model="llama9:70b", messages=[{"role": "user", "content": "hi"}]),
        lambda: client.embed(model="llama9:70b", input="hi"),
    ):
        with pytest.raises(ollama.ResponseError) as info:
            call()
        assert info.value.status_code == 404
        assert info.value.error == 'model "llama9:70b" not found, try pulling it first'


@pytest.mark.parametrize(("path", "body"), [
    ("/api/generate", b"{not json"),
    ("/api/generate", b""),
    ("/api/generate", b"[1, 2]"),
    ("/api/generate", b'{"prompt": "no model"}'),
    ("/api/generate", b'{"model": "synthetic", "prompt": "x", "options": {"num_predict": "x"}}'),
    ("/api/generate", b'{"model": "synthetic", "prompt": 42}'),
    ("/api/chat", b"{not json"),
    ("/api/chat", b'{"model": "synthetic", "messages": [{"content": "no role"}]}'),
    ("/api/chat", b'{"model": "synthetic", "messages": "hi"}'),
    ("/api/embed", b'{"model": "synthetic", "input": [1, 2]}'),
    ("/api/embeddings", b'{"prompt": "no model"}'),
])
def test_malformed_requests_are_400(llm_server: str, path: str, body: bytes) -> None:
    r = httpx.post(f"{llm_server}{path}", content=body)
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str) and r.json()["error"]


@real_model
def test_server_still_serves_after_bad_requests(llm_server: str, client: ollama.Client) -> None:
    for body in (b"{", b"null", b'{"model": 3}', b'{"model": "smollm2:135m", "messages": 5}'):
        httpx.post(f"{llm_server}/api/chat", content=body)
        httpx.post(f"{llm_server}/api/embed", content=body)
    assert client.generate(model=REAL, prompt="hi", options={"num_predict": 2}).done
    assert client.generate(model="synthetic", prompt="hi").done


# -- timing log ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [REAL, "synthetic:smollm2-cpu"])
@pytest.mark.parametrize("stream", [False, True])
def test_timing_log_matches_client(llm_server: str, client: ollama.Client, model: str,
                                   stream: bool) -> None:
    seq = next_seq(llm_server)
    options = {"num_predict": 6, "temperature": 0}
    start_ns = time.time_ns()
    if stream:
        parts = list(client.generate(model=model, prompt=QUESTION, options=options, stream=True))
        text, final = "".join(p.response for p in parts), parts[-1]
    else:
        final = client.generate(model=model, prompt=QUESTION, options=options)
        text = final.response
    end_ns = time.time_ns()
    entries = log_since(llm_server, seq)
    assert [e["path"] for e in entries] == ["/api/generate"]
    e = entries[0]
    assert e["seq"] >= seq and e["model"] == model and e["status"] == 200
    assert e["stream"] is stream and e["error"] is None
    assert start_ns <= e["start_ns"] <= e["end_ns"] <= end_ns
    assert e["server_s"] <= (end_ns - start_ns) / 1e9
    assert e["server_s"] == pytest.approx((e["end_ns"] - e["start_ns"]) / 1e9)
    assert e["response_chars"] == len(text)
    assert e["eval_count"] == final.eval_count == 6
    assert e["prompt_eval_count"] == final.prompt_eval_count > 0
    assert e["done_reason"] == final.done_reason == "length"
    assert e["prompt_eval_s"] > 0 and e["eval_s"] > 0
    assert e["queue_s"] >= 0 and e["load_s"] == 0
    # Ollama's own durations are the same measurements, in nanoseconds.
    assert final.eval_duration == round(e["eval_s"] * 1e9)
    assert final.total_duration <= e["server_s"] * 1e9


def test_timing_log_covers_errors_and_embeddings(llm_server: str, client: ollama.Client) -> None:
    seq = next_seq(llm_server)
    client.embed(model="synthetic", input=["a b c", "d e"])
    with pytest.raises(ollama.ResponseError):
        client.chat(model="nope", messages=[{"role": "user", "content": "hi"}])
    embed, missing = log_since(llm_server, seq)
    assert embed["path"] == "/api/embed" and embed["inputs"] == 2
    assert embed["prompt_eval_count"] == 5 and embed["response_chars"] is None
    assert missing["status"] == 404 and "not found" in missing["error"]
    assert missing["seq"] == embed["seq"] + 1
    assert log_since(llm_server, missing["seq"] + 1) == []


def test_reset_clears_the_log(llm_server_factory: Callable[..., str]) -> None:
    url = llm_server_factory("--no-real")
    ollama.Client(host=url).generate(model="synthetic", prompt="hi")
    assert len(log_since(url, 0)) == 1
    after = httpx.post(f"{url}/chainmark/reset").json()["next_seq"]
    assert log_since(url, 0) == []
    ollama.Client(host=url).generate(model="synthetic", prompt="hi")
    assert [e["seq"] for e in log_since(url, 0)] == [after]
