"""The real model as every run uses it: real Ollama (smollm2:135m) behind chainmark-server's
recording proxy, driven by the official ``ollama`` client and langchain-ollama, and the harness
end to end on it with its verification on. Nothing is faked."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import ollama
import pytest
from langchain_ollama import ChatOllama, OllamaEmbeddings, OllamaLLM
from request_log import log_since, next_seq
from test_harness_e2e import chainmark, load, records

REAL = "smollm2:135m"
QUESTION = "Why is the sky blue?"
FEW = {"num_predict": 8, "temperature": 0}

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def client(real_server: str) -> ollama.Client:
    return ollama.Client(host=real_server)


def test_the_proxy_lists_both_worlds(real_server: str, client: ollama.Client) -> None:
    names = {m.model for m in client.list().models}
    assert REAL in names and "synthetic:zero" in names
    assert client.show(REAL).details.family == "llama"
    health = httpx.get(f"{real_server}/chainmark/health").json()
    assert health["upstream"].startswith("http://127.0.0.1:")


def test_generate_through_the_proxy_is_ollamas_answer(
    real_server: str, client: ollama.Client, ollama_server: Any
) -> None:
    direct = ollama.Client(host=ollama_server.base_url).generate(
        model=REAL, prompt=QUESTION, options=FEW)
    proxied = client.generate(model=REAL, prompt=QUESTION, options=FEW)
    # Temperature 0 on real Ollama is deterministic: the proxy passed the same bytes through.
    assert proxied.response == direct.response and proxied.response.strip()
    assert proxied.eval_count == direct.eval_count <= 8
    assert proxied.done_reason in ("stop", "length")


def test_chat_stream_matches_whole_answer(client: ollama.Client) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    parts = list(client.chat(model=REAL, messages=messages, stream=True, options=FEW))
    assert parts[-1].done and not any(p.done for p in parts[:-1])
    text = "".join(p.message.content for p in parts)
    whole = client.chat(model=REAL, messages=messages, options=FEW)
    assert whole.message.content == text and text.strip()


def test_num_predict_and_stop(client: ollama.Client) -> None:
    r = client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 3,
                                                              "temperature": 0})
    assert r.done_reason == "length" and r.eval_count == 3
    full = client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 16,
                                                                 "temperature": 0})
    words = full.response.split()
    assert len(words) >= 4
    cut = client.generate(model=REAL, prompt=QUESTION,
                          options={"num_predict": 16, "temperature": 0, "stop": [words[3]]})
    assert cut.done_reason == "stop" and full.response.startswith(cut.response.rstrip())


def test_embeddings(client: ollama.Client) -> None:
    one = client.embed(model=REAL, input="The sky is blue.")
    assert len(one.embeddings) == 1 and len(one.embeddings[0]) == 576
    assert np.linalg.norm(one.embeddings[0]) == pytest.approx(1.0, abs=1e-4)
    batch = client.embed(model=REAL, input=["The sky is blue.", "Grass is green."])
    assert len(batch.embeddings) == 2
    assert float(np.dot(batch.embeddings[0], one.embeddings[0])) > 0.99


def test_langchain_on_the_real_model(real_server: str) -> None:
    llm = OllamaLLM(model=REAL, base_url=real_server, num_predict=8, temperature=0)
    assert llm.invoke(QUESTION).strip()
    chat = ChatOllama(model=REAL, base_url=real_server, num_predict=8, temperature=0)
    message = chat.invoke(QUESTION)
    assert message.content.strip() and message.usage_metadata["output_tokens"] <= 8
    assert "".join(str(c.content) for c in chat.stream(QUESTION)) == message.content
    emb = OllamaEmbeddings(model=REAL, base_url=real_server)
    assert len(emb.embed_documents(["The sky is blue."])[0]) == 576


@pytest.mark.parametrize("stream", [False, True])
def test_the_log_records_what_ollama_did(real_server: str, client: ollama.Client,
                                         stream: bool) -> None:
    seq = next_seq(real_server)
    options = {"num_predict": 6, "temperature": 0}
    start_ns = time.time_ns()
    if stream:
        parts = list(client.generate(model=REAL, prompt=QUESTION, options=options, stream=True))
        text, final = "".join(p.response for p in parts), parts[-1]
    else:
        final = client.generate(model=REAL, prompt=QUESTION, options=options)
        text = final.response
    end_ns = time.time_ns()
    [e] = log_since(real_server, seq, wait_for=1)
    assert e["path"] == "/api/generate" and e["upstream"] is True and e["status"] == 200
    assert e["error"] is None and e["model"] == REAL
    assert start_ns <= e["start_ns"] <= e["end_ns"] <= end_ns
    assert e["response_chars"] == len(text)
    assert e["eval_count"] == final.eval_count and e["done_reason"] == final.done_reason
    assert e["prompt_eval_count"] == final.prompt_eval_count > 0
    assert e["upstream_durations"]["eval_duration"] == final.eval_duration
    assert e["bytes_out"] > len(text)


def test_an_abandoned_stream_stops_upstream(real_server: str, client: ollama.Client) -> None:
    seq = next_seq(real_server)
    body = {"model": REAL, "prompt": "Write a very long essay about rivers.",
            "options": {"num_predict": 2000, "temperature": 0}}
    with httpx.stream("POST", f"{real_server}/api/generate", json=body, timeout=60) as r:
        lines = r.iter_lines()
        assert json.loads(next(lines))["done"] is False
    # Ollama stops when the proxy's upstream request is cancelled, not 2000 tokens later.
    start = time.monotonic()
    assert client.generate(model=REAL, prompt=QUESTION, options={"num_predict": 2}).done
    assert time.monotonic() - start < 15
    abandoned = log_since(real_server, seq, wait_for=1)[0]
    assert "client disconnected" in (abandoned["error"] or "")


def test_llm_latency_end_to_end_on_real_ollama(tmp_path: Path, ollama_server: Any) -> None:
    # --llm-url: the harness puts its own recording proxy in front of the given server, so
    # server-side verification and overhead work against it.
    out = tmp_path / "run"
    done = chainmark("run", "--scenario", "llm.latency,llm.ttft", "--contestant",
                     "langchain-python,langchaingo", "--model", REAL, "--iterations", "2",
                     "--rounds", "1",
                     "--set", "num_predict=8", "--llm-url", ollama_server.base_url,
                     "--out", str(out), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = load(out)
    assert results["header"]["llm_upstream"] == ollama_server.base_url
    for record in records(results).values():
        assert record["status"] == "passed", record["errors"]
        assert record["model"] == REAL
        assert record["metrics"]["overhead_s"]["count"] == 2
        assert record["server"]["requests"] >= 2


def test_the_default_run_starts_and_stops_its_own_ollama(tmp_path: Path) -> None:
    # No --llm-url: the harness builds (cached) and starts Ollama, puts chainmark-server in
    # front of it, charges Ollama's CPU to the model server, and leaves nothing behind.
    out = tmp_path / "run"
    done = chainmark("run", "--scenario", "llm.latency", "--contestant", "python-baseline",
                     "--iterations", "2", "--rounds", "1", "--set", "num_predict=4",
                     "--out", str(out),
                     timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = load(out)
    header = results["header"]
    assert header["llm_upstream_embedded"] is True
    assert header["environment"]["llm_upstream"]["version"] == "0.17.4"
    assert "num_thread 1" in header["environment"]["llm_upstream"]["modelfile"]
    [record] = [r for r in results["records"] if r["status"] != "not_implemented"]
    assert record["status"] == "passed", record["errors"]
    assert record["server"]["load_s"] > 0 and record["server"]["model_cpu_s"] is not None
    # Ollama's HOME and model store were temporary; its log is kept with the results.
    assert sorted(p.name for p in out.iterdir()) == [
        "figures.csv", "language.csv", "logs", "report.html", "report.md", "results.json",
        "runs"]
    assert (out / "logs" / "ollama.log").exists()
