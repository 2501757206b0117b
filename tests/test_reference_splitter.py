"""The harness's own splitter agrees with LangChain's, chunk for chunk, on varied text."""

import random

import pytest
from langchain_text_splitters import RecursiveCharacterTextSplitter

from chainmark.reference.splitter import split_text

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "a", "of", "the", "structure", "x" * 40]


def random_text(rng: random.Random, length: int) -> str:
    parts = []
    while sum(map(len, parts)) < length:
        roll = rng.random()
        if roll < 0.05:
            parts.append("\n\n")
        elif roll < 0.10:
            parts.append("\n")
        elif roll < 0.12:
            parts.append("y" * rng.randint(100, 1500))  # a word longer than a chunk
        else:
            parts.append(rng.choice(WORDS) + rng.choice([" ", " ", "  ", ". "]))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(("size", "overlap"), [(1000, 200), (100, 20), (50, 0), (300, 299)])
def test_matches_langchain_chunk_for_chunk(seed, size, overlap):
    rng = random.Random(seed)
    text = random_text(rng, rng.randint(0, 6000))
    expected = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap
    ).split_text(text)
    assert split_text(text, size, overlap) == expected


def test_edge_cases():
    assert split_text("") == []
    assert split_text("   \n\n  ") == []
    assert split_text("short") == ["short"]
    with pytest.raises(ValueError):
        split_text("x", 10, 20)
