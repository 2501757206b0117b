"""chainmark-server (the Go LLM server) against the clients the benchmark uses: the official
``ollama`` client, langchain-ollama (LLM, chat, embeddings, structured output, tool calling)
and the ``openai`` client, on the synthetic models. No mocks: real server processes started
exactly as the harness starts them (``llm_server``), plus others with their own profiles."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import ollama
import openai
import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langchain_ollama import ChatOllama, OllamaEmbeddings, OllamaLLM
from pydantic import BaseModel, Field
from request_log import ClientWindow, log_since, next_seq

from chainmark.contract import Operation
from chainmark.harness import metrics
from chainmark.harness.server_log import ServerLog, within

QUESTION = "Why is the sky blue?"


@pytest.fixture(scope="module")
def client(llm_server: str) -> ollama.Client:
    return ollama.Client(host=llm_server)


def test_root_version_tags_show(llm_server: str, client: ollama.Client) -> None:
    assert httpx.get(llm_server).text == "Ollama is running"
    assert httpx.head(llm_server).status_code == 200
    assert httpx.get(f"{llm_server}/api/version").json()["version"]
    names = {m.model for m in client.list().models}
    assert {"synthetic:zero", "synthetic:smollm2-cpu", "synthetic-liar:zero"} <= names
    shown = client.show("synthetic")
    assert shown.details.family == "synthetic"
    raw = httpx.post(f"{llm_server}/api/show", json={"model": "synthetic"}).json()
    # Numbers are numbers, as Ollama sends them.
    assert isinstance(raw["model_info"]["synthetic.embedding_length"], int)
    health = httpx.get(f"{llm_server}/chainmark/health").json()
    assert health["status"] == "ok" and health["upstream"] is None
    assert health["profiles"]["smollm2-cpu"]["provenance"]["cpu_count"] >= 1


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
    url = llm_server_factory("--profiles", str(path))
    stamps = []
    start = time.perf_counter()
    for chunk in ollama.Client(host=url).generate(model="synthetic:slow", prompt="go",
                                                  stream=True):
        if not chunk.done:
            stamps.append(time.perf_counter())
    assert len(stamps) == 21
    # Lower bounds that hold however loaded the machine is: the server sleeps until each token
    # is due (ttft, then 20 intervals of 1/40 s on a schedule fixed from the first), never less,
    # and the client's clock started before the request left. The time from the first token to
    # the last has no such bound: when the client reads the first one late, the rest catch up.
    assert stamps[0] - start >= 0.2
    assert stamps[-1] - start >= 0.2 + 20 / 40.0
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


def test_server_still_serves_after_bad_requests(llm_server: str, client: ollama.Client) -> None:
    for body in (b"{", b"null", b'{"model": 3}', b'{"model": "synthetic", "messages": 5}',
                 b'{"model": "' + b"x" * 5_000_000 + b'"}', b"\xff\xfe"):
        for path in ("/api/chat", "/api/embed", "/api/generate", "/v1/chat/completions"):
            assert httpx.post(f"{llm_server}{path}", content=body).status_code < 500
    assert client.generate(model="synthetic", prompt="hi").done
    # A 5 MB model name is refused, and not kept whole in the log.
    assert all(len(e["model"] or "") < 1000 for e in log_since(llm_server, 0))


# -- timing log ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["synthetic", "synthetic:smollm2-cpu"])
@pytest.mark.parametrize("stream", [False, True])
def test_timing_log_matches_client(llm_server: str, client: ollama.Client, model: str,
                                   stream: bool) -> None:
    seq = next_seq(llm_server)
    options = {"num_predict": 6, "temperature": 0}
    with ClientWindow() as client_side:
        if stream:
            parts = list(client.generate(model=model, prompt=QUESTION, options=options,
                                         stream=True))
            text, final = "".join(p.response for p in parts), parts[-1]
        else:
            final = client.generate(model=model, prompt=QUESTION, options=options)
            text = final.response
    entries = log_since(llm_server, seq, wait_for=1)
    assert [e["path"] for e in entries] == ["/api/generate"]
    e = entries[0]
    assert e["seq"] >= seq and e["model"] == model and e["status"] == 200
    assert e["stream"] is stream and e["error"] is None
    # The server's window inside the client's, with no margin for scheduling: only a step of the
    # wall clock during the request can move the two sides' wall-clock times (ClientWindow).
    slack = client_side.slack_ns
    assert client_side.start_ns - slack <= e["start_ns"] <= e["end_ns"]
    assert e["end_ns"] <= client_side.end_ns + slack
    # What the harness subtracts from the client's time, on the clock no step moves.
    assert e["server_s"] <= client_side.seconds
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


def test_overhead_on_real_logs_is_never_negative(llm_server: str) -> None:
    """metrics.overhead on what the server logged for operations timed as contestants time
    them: one that calls twice in a row, one that fans out three calls at once to a model with
    one slot (they queue, so their windows overlap and their server_s add up to more than the
    operation took)."""
    model, options = "synthetic:smollm2-cpu", {"num_predict": 3}

    def call(_: object = None) -> None:
        ollama.Client(host=llm_server).generate(model=model, prompt=QUESTION, options=options)

    log = ServerLog(llm_server)
    log.mark()
    seq = next_seq(llm_server)
    ops = []
    for fan_out in (False, True):
        with ClientWindow() as op:
            if fan_out:
                with ThreadPoolExecutor(3) as pool:
                    list(pool.map(call, range(3)))
            else:
                call()
                call()
        ops.append(Operation(start_ns=op.start_ns, end_ns=op.end_ns, elapsed_ns=op.elapsed_ns))
    log_since(llm_server, seq, wait_for=5)
    served = log.read()
    assert served is not None and len(served) == 5
    one_by_one, at_once = (within(served, o.start_ns, o.end_ns) for o in ops)
    assert len(one_by_one) == 2 and len(at_once) == 3
    assert sum(r.server_s for r in at_once) > ops[1].seconds  # a sum would go negative
    m = metrics.overhead(ops, served)
    assert len(m["server_s"]) == 2 and min(m["overhead_s"]) >= 0
    # One after another: the sum. At once: the union, between the longest window and the span
    # of them all, which ends before the client's operation does (no need of the cap).
    assert m["server_s"][0] == pytest.approx(sum(r.server_s for r in one_by_one), abs=1e-6)
    span_s = (max(r.end_ns for r in at_once) - min(r.start_ns for r in at_once)) / 1e9
    assert max(r.server_s for r in at_once) <= m["server_s"][1] <= span_s < ops[1].seconds


def test_timing_log_covers_errors_and_embeddings(llm_server: str, client: ollama.Client) -> None:
    seq = next_seq(llm_server)
    client.embed(model="synthetic", input=["a b c", "d e"])
    with pytest.raises(ollama.ResponseError):
        client.chat(model="nope", messages=[{"role": "user", "content": "hi"}])
    embed, missing = log_since(llm_server, seq, wait_for=2)
    assert embed["path"] == "/api/embed" and embed["inputs"] == 2
    assert embed["prompt_eval_count"] == 5 and embed["response_chars"] is None
    assert missing["status"] == 404 and "not found" in missing["error"]
    assert missing["seq"] == embed["seq"] + 1
    assert log_since(llm_server, missing["seq"] + 1) == []


def test_reset_clears_the_log(llm_server_factory: Callable[..., str]) -> None:
    url = llm_server_factory()
    ollama.Client(host=url).generate(model="synthetic", prompt="hi")
    assert len(log_since(url, 0, wait_for=1)) == 1
    after = httpx.post(f"{url}/chainmark/reset").json()["next_seq"]
    assert log_since(url, 0) == []
    ollama.Client(host=url).generate(model="synthetic", prompt="hi")
    assert [e["seq"] for e in log_since(url, 0, wait_for=1)] == [after]


# -- what real clients send beyond plain text ---------------------------------------------------


class Answer(BaseModel):
    """A structured answer."""

    colour: str = Field(description="the colour of the sky")
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(min_length=1)


def test_structured_output_returns_a_valid_instance(llm_server: str) -> None:
    chat = ChatOllama(model="synthetic", base_url=llm_server, temperature=0)
    for method in ("json_schema", "json_mode"):
        structured = chat.with_structured_output(Answer if method == "json_schema" else None,
                                                 method=method)  # type: ignore[arg-type]
        if method == "json_schema":
            answer = structured.invoke(QUESTION)
            assert isinstance(answer, Answer) and answer.reasons
            assert 0 <= answer.confidence <= 1
    r = httpx.post(f"{llm_server}/api/generate", json={
        "model": "synthetic", "prompt": QUESTION, "format": "json", "stream": False})
    assert isinstance(json.loads(r.json()["response"]), dict)


@tool
def word_length(word: str) -> int:
    """Returns the number of characters in a word."""
    return len(word)


@tool
def calculator(expression: str) -> str:
    """Evaluates an arithmetic expression like 12*7."""
    a, b = expression.split("*")
    return str(int(a) * int(b))


def test_tool_calling_loop_with_bind_tools(llm_server: str) -> None:
    chat = ChatOllama(model="synthetic", base_url=llm_server, temperature=0).bind_tools(
        [word_length, calculator])
    tools = {"word_length": word_length, "calculator": calculator}
    messages: list[Any] = [("user", "What is the length of the word 'banana' and what is "
                                    "12 times 7?")]
    called = []
    for _ in range(5):
        reply = chat.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            called.append(call["name"])
            result = tools[call["name"]].invoke(call["args"])
            messages.append(ToolMessage(str(result), tool_call_id=call["id"]))
    assert called == ["word_length", "calculator"]
    assert "6" in reply.content and "84" in reply.content


def test_openai_client(llm_server: str) -> None:
    client = openai.OpenAI(base_url=f"{llm_server}/v1", api_key="unused")
    assert "synthetic:zero" in {m.id for m in client.models.list()}
    done = client.chat.completions.create(
        model="synthetic", messages=[{"role": "user", "content": QUESTION}], max_tokens=8)
    assert done.choices[0].message.content and done.usage.completion_tokens == 8
    assert done.choices[0].finish_reason == "length"
    stream = client.chat.completions.create(
        model="synthetic", messages=[{"role": "user", "content": QUESTION}], max_tokens=8,
        stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == done.choices[0].message.content
    completion = client.completions.create(model="synthetic", prompt=QUESTION, max_tokens=5)
    assert completion.choices[0].text.strip()
    vectors = client.embeddings.create(model="synthetic", input=["a b", "c d"])
    assert [len(d.embedding) for d in vectors.data] == [576, 576]
    tools = [{"type": "function", "function": {
        "name": "calculator", "description": "arithmetic",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                       "required": ["expression"]}}}]
    call = client.chat.completions.create(
        model="synthetic", messages=[{"role": "user", "content": "What is 12 times 7?"}],
        tools=tools)
    assert call.choices[0].finish_reason == "tool_calls"
    function = call.choices[0].message.tool_calls[0].function
    assert function.name == "calculator" and json.loads(function.arguments) == {
        "expression": "12*7"}
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])


def test_refusals_match_ollama(llm_server: str) -> None:
    think = httpx.post(f"{llm_server}/api/chat", json={
        "model": "synthetic", "messages": [{"role": "user", "content": "hi"}], "think": True})
    assert think.status_code == 400 and "does not support thinking" in think.json()["error"]
    suffix = httpx.post(f"{llm_server}/api/generate", json={
        "model": "synthetic", "prompt": "def f(", "suffix": "return 1"})
    assert suffix.status_code == 400 and "does not support insert" in suffix.json()["error"]
    for method, path in (("POST", "/api/create"), ("POST", "/api/copy"),
                         ("DELETE", "/api/delete"), ("POST", "/api/push"),
                         ("GET", "/no/such/path")):
        r = httpx.request(method, f"{llm_server}{path}", json={"model": "x"})
        assert r.status_code in (400, 404, 405) and r.json()["error"]
    # A lone UTF-16 surrogate is replaced, as Go's (and so Ollama's) JSON decoder does.
    r = httpx.post(f"{llm_server}/api/generate", content=b'{"model": "synthetic", '
                   b'"prompt": "a \\ud800 b", "stream": false}')
    assert r.status_code == 200 and r.json()["done"]


def test_generate_returns_context_and_ps_lists_used_models(llm_server_factory) -> None:
    url = llm_server_factory()
    assert httpx.get(f"{url}/api/ps").json()["models"] == []
    r = httpx.post(f"{url}/api/generate", json={"model": "synthetic", "prompt": "hi",
                                                "stream": False})
    assert isinstance(r.json()["context"], list)
    assert [m["name"] for m in httpx.get(f"{url}/api/ps").json()["models"]] == ["synthetic:zero"]


def test_a_cancelled_request_frees_the_slot(llm_server_factory, tmp_path: Path) -> None:
    profiles = {"profiles": {"slow": {"tokens_per_s": 20.0, "output_tokens": 600,
                                      "parallel": 1}}}
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(profiles))
    url = llm_server_factory("--profiles", str(path))
    seq = next_seq(url)
    body = {"model": "synthetic:slow", "prompt": "Write a long essay.", "stream": False}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{url}/api/generate", json=body, timeout=0.5)
    start = time.monotonic()
    r = httpx.post(f"{url}/api/generate", json={**body, "options": {"num_predict": 2}},
                   timeout=30)
    assert r.json()["done"]
    # 600 tokens at 20/s would hold the slot for 30 s; cancelled, it is free at once.
    assert time.monotonic() - start < 5
    abandoned, answered = log_since(url, seq, wait_for=2)
    assert "client disconnected" in abandoned["error"]
    assert answered["error"] is None and answered["queue_s"] < 1
