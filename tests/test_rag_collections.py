"""Collection names: valid for Chroma and never shared between runs, contestants or uses."""

from __future__ import annotations

import re

from chainmark.harness.rag_collections import MAX_NAME_CHARS, collection_name

VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")


def test_names_are_valid_and_distinct_even_when_cut():
    run = "20261126T034255Z-a1b2c3"
    long_model = "x" * 80
    names = {collection_name(run, f"c-{long_model}-{i}", "rag") for i in range(50)}
    names |= {collection_name(run, "langchain-python-smollm2:135m", p)
              for p in ("rag", "rag.ingest")}
    assert len(names) == 52
    assert all(VALID.match(n) and len(n) <= MAX_NAME_CHARS for n in names), names


def test_two_runs_in_the_same_second_do_not_share_names():
    a = collection_name("20261126T034255Z-a1b2c3", "langchaingo", "rag")
    b = collection_name("20261126T034255Z-d4e5f6", "langchaingo", "rag")
    assert a != b
