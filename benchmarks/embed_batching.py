"""Where `rag.embed`'s time goes on real Ollama: one batched `/api/embed` (what LangChain
Python's `OllamaEmbeddings.embed_documents` sends) against one request per text (what
LangChainGo's embedder sends), for the same corpus chunks.

Both shapes go through chainmark-server's recording proxy to the Ollama chainmark builds, in
interleaved rounds (batch, singles, singles, batch, ...), so drift hits both alike. For each
shape: client wall time, and the server's own account from the proxy's log (Ollama's
total_duration, load_duration and prompt_eval_duration summed over the requests). If the
client times match the server's totals, the gap is the server's, not a framework's.

    .venv/bin/python benchmarks/embed_batching.py [--chunks 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from chainmark.backends.llm_process import START_TIMEOUT_S, llm_server
from chainmark.backends.ollama.modelfile import MODEL_NAME
from chainmark.backends.ollama.process import ollama_server
from chainmark.corpus import default_corpus_dir, ensure_corpus
from chainmark.reference.splitter import split_text


def _entries(url: str, since: int) -> tuple[list[dict[str, Any]], int]:
    body = httpx.get(f"{url}/chainmark/requests", params={"since": since}).json()
    return body["requests"], int(body["next_seq"])


def _shape(client: httpx.Client, url: str, texts: list[str], batched: bool,
           since: int) -> tuple[dict[str, float], int]:
    start = time.perf_counter()
    inputs = [texts] if batched else [[t] for t in texts]
    for chunk in inputs:
        response = client.post(f"{url}/api/embed", json={"model": MODEL_NAME, "input": chunk})
        response.raise_for_status()
        assert len(response.json()["embeddings"]) == len(chunk)
    wall = time.perf_counter() - start
    time.sleep(0.05)  # the proxy logs a request just after its last byte
    entries, next_seq = _entries(url, since)
    durations = [e["upstream_durations"] or {} for e in entries]
    return {
        "wall_s": wall,
        "requests": len(entries),
        "server_s": sum(e["server_s"] for e in entries),
        "ollama_total_s": sum(d.get("total_duration", 0) for d in durations) / 1e9,
        "ollama_load_s": sum(d.get("load_duration", 0) for d in durations) / 1e9,
        "ollama_prompt_eval_s": sum(d.get("prompt_eval_duration", 0) for d in durations) / 1e9,
        "prompt_tokens": sum(e["prompt_eval_count"] or 0 for e in entries),
    }, next_seq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.chunks <= 64 or not 1 <= args.rounds <= 10:
        parser.error("--chunks must be in [1, 64] and --rounds in [1, 10]")
    corpus = ensure_corpus(default_corpus_dir())
    text = corpus.large_document.read_text(encoding="utf-8")[:200_000]
    texts = split_text(text, 1000, 200)[: args.chunks]
    rows: dict[str, list[dict[str, float]]] = {"batched": [], "one per text": []}
    with tempfile.TemporaryDirectory() as tmp, \
            ollama_server(Path(tmp) / "ollama", Path(tmp) / "ollama.log") as ollama:
        ollama.start()
        with llm_server(Path(tmp) / "llm.log", upstream=ollama.base_url) as proxy, \
                httpx.Client(timeout=600) as client:
            proxy.start(START_TIMEOUT_S)
            _, seq = _entries(proxy.base_url, 1 << 60)
            for round_ in range(args.rounds):
                order = [True, False] if round_ % 2 == 0 else [False, True]
                for batched in order:
                    row, seq = _shape(client, proxy.base_url, texts, batched, seq)
                    rows["batched" if batched else "one per text"].append(row)

    table = Table(title=f"{args.chunks} chunks of 1000 characters, {MODEL_NAME} on Ollama, "
                        f"{args.rounds} interleaved rounds (medians)")
    for column in ("shape", "requests", "client wall", "Ollama total", "Ollama load",
                   "Ollama prompt eval", "prompt tokens"):
        table.add_column(column, justify="left" if column == "shape" else "right")
    for shape, found in rows.items():
        def med(key: str, found: list[dict[str, float]] = found) -> float:
            return statistics.median(r[key] for r in found)
        table.add_row(shape, f"{med('requests'):.0f}", f"{med('wall_s'):.2f} s",
                      f"{med('ollama_total_s'):.2f} s", f"{med('ollama_load_s'):.2f} s",
                      f"{med('ollama_prompt_eval_s'):.2f} s", f"{med('prompt_tokens'):.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
