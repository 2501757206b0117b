"""The RAG corpus: deterministic, the right size and shape, real prose, cached safely."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_text_splitters import RecursiveCharacterTextSplitter

from chainmark import corpus
from chainmark.corpus import CorpusInfo, default_corpus_dir, ensure_corpus, generate_corpus

TARGET_BYTES = 10_000_000
_WORD = re.compile(r"[A-Za-z]+")


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> CorpusInfo:
    return generate_corpus(tmp_path_factory.mktemp("corpus"))


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _looks_like_prose(paragraph: str) -> bool:
    """Independent of the generator's filter: a sentence made mostly of words."""
    tokens = paragraph.split()
    if len(tokens) < 5 or not paragraph[0].isupper() or paragraph.rstrip()[-1] not in ".!?":
        return False
    wordy = sum(1 for t in tokens if _WORD.fullmatch(t.strip("\"'“”‘’*(),.;:!?")))
    letters = sum(ch.isalpha() or ch.isspace() for ch in paragraph)
    return wordy >= 0.7 * len(tokens) and letters >= 0.85 * len(paragraph)


def _prose_share(text: str) -> float:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return sum(_looks_like_prose(p) for p in paragraphs) / len(paragraphs)


def test_generation_is_deterministic(info: CorpusInfo, tmp_path: Path) -> None:
    again = generate_corpus(tmp_path / "again")
    assert again.sha256 == info.sha256
    assert again.files == info.files
    assert _file_bytes(again.root) == _file_bytes(info.root)


def test_generation_ignores_hash_randomisation(info: CorpusInfo, tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from chainmark.corpus import generate_corpus; "
        "print(generate_corpus(Path(sys.argv[1])).sha256)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "other")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == info.sha256


def test_corpus_hash_covers_every_file(info: CorpusInfo) -> None:
    assert len(info.files) == 51
    for name, digest in info.files.items():
        assert hashlib.sha256((info.root / name).read_bytes()).hexdigest() == digest
    manifest = json.loads((info.root / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == info.sha256
    assert manifest["generator_version"] == corpus.CORPUS_VERSION
    assert manifest["source"] == info.source
    assert info.source.startswith(f"CPython {sys.version.split()[0]} pydoc_data.topics")


def test_large_document_is_ten_megabytes_of_prose(info: CorpusInfo) -> None:
    data = info.large_document.read_bytes()
    assert len(data) == info.large_document_bytes
    assert abs(len(data) - TARGET_BYTES) <= 0.02 * TARGET_BYTES
    text = data.decode("utf-8")  # strict: raises on invalid UTF-8
    assert "\n\n" in text and "\r" not in text and "\x00" not in text
    assert _prose_share(text) >= 0.95


def test_prose_check_rejects_code_and_noise() -> None:
    # The check above must be able to fail: source code and random bytes are not prose.
    source = Path(corpus.__file__).read_text(encoding="utf-8")
    code_only = "\n\n".join(
        block for block in source.split("\n\n") if not block.lstrip().startswith(("#", '"""'))
    )
    assert _prose_share(code_only) < 0.5
    noise = os.urandom(4096).decode("latin-1")
    assert _prose_share(noise) < 0.5


def test_fifty_markdown_documents(info: CorpusInfo) -> None:
    docs = sorted(info.docs_dir.glob("*.md"))
    assert [p.name for p in docs] == [f"doc_{n:02d}.md" for n in range(1, 51)]
    assert info.docs_count == 50
    assert info.docs_bytes == sum(p.stat().st_size for p in docs)
    for path in docs:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# ") and not text.startswith("# \n")
        assert "\n\n## " in text
        assert _prose_share(text) >= 0.8  # headings are the rest


def test_docs_split_into_about_850_chunks(info: CorpusInfo) -> None:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = [p.read_text(encoding="utf-8") for p in sorted(info.docs_dir.glob("*.md"))]
    chunks = splitter.create_documents(texts)
    assert 800 <= len(chunks) <= 900
    assert all(len(c.page_content) <= 1000 for c in chunks)


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_ensure_reuses_a_valid_corpus(info: CorpusInfo, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(info.root, root)
    before = _mtimes(root)
    reused = ensure_corpus(root)
    assert _mtimes(root) == before
    assert reused.sha256 == info.sha256 and reused.files == info.files
    assert reused.large_document_bytes == info.large_document_bytes
    assert reused.docs_bytes == info.docs_bytes and reused.source == info.source


def test_ensure_regenerates_a_tampered_corpus(info: CorpusInfo, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(info.root, root)
    tampered = root / "docs" / "doc_07.md"
    original = tampered.read_bytes()
    # Same size, one byte changed: only the hash can tell.
    tampered.write_bytes(original[:-2] + (b"X" if original[-2:-1] != b"X" else b"Y") + b"\n")
    (root / "docs" / "doc_51.md").write_text("# stray\n", encoding="utf-8")
    restored = ensure_corpus(root)
    assert tampered.read_bytes() == original
    assert not (root / "docs" / "doc_51.md").exists()
    assert restored.sha256 == info.sha256


def test_ensure_generates_when_missing_or_stale(info: CorpusInfo, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(info.root, root)
    manifest = root / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["generator_version"] = corpus.CORPUS_VERSION - 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    (root / "large_document.txt").unlink()
    assert ensure_corpus(root).sha256 == info.sha256
    assert (root / "large_document.txt").stat().st_size == info.large_document_bytes


def test_default_corpus_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHAINMARK_CORPUS_DIR", str(tmp_path / "elsewhere"))
    assert default_corpus_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("CHAINMARK_CORPUS_DIR")
    assert default_corpus_dir().name == f"corpus-v{corpus.CORPUS_VERSION}"
    assert default_corpus_dir().parent.name == "chainmark"
