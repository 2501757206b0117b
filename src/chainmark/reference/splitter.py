"""An independent implementation of recursive character splitting, for verification.

The harness must not trust a contestant's chunk count, and must not count with the very
library under test either. This is the published algorithm (LangChain's
RecursiveCharacterTextSplitter with its defaults: separators ``\\n\\n``, ``\\n``, space, then
characters; separators kept at the start of the following piece; whitespace stripped), written
out again so a bug or a shortcut in a contestant shows up as a count mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_SEPARATORS = ("\n\n", "\n", " ", "")


def _pieces(text: str, separator: str) -> list[str]:
    """Splits on separator, gluing each separator to the start of the piece after it."""
    if not separator:
        return list(text)
    parts = text.split(separator)
    pieces = [parts[0]] + [separator + p for p in parts[1:]]
    return [p for p in pieces if p]


def _merge(pieces: Sequence[str], size: int, overlap: int) -> list[str]:
    """Packs consecutive pieces into chunks of at most `size`, carrying up to `overlap` over."""
    chunks: list[str] = []
    window: list[str] = []
    length = 0
    for piece in pieces:
        if length + len(piece) > size and window:
            chunk = "".join(window).strip()
            if chunk:
                chunks.append(chunk)
            # Drop from the front until what remains may serve as overlap and the new piece
            # fits beside it.
            while window and (length > overlap or length + len(piece) > size):
                length -= len(window.pop(0))
        window.append(piece)
        length += len(piece)
    chunk = "".join(window).strip()
    if chunk:
        chunks.append(chunk)
    return chunks


def split_text(
    text: str,
    chunk_size: int = 1000,
    chunk_overlap: int = 200,
    separators: Sequence[str] = DEFAULT_SEPARATORS,
) -> list[str]:
    if chunk_overlap > chunk_size:
        raise ValueError("chunk_overlap must not exceed chunk_size")
    # The first separator present in the text wins; the rest are for pieces still too long.
    index = next(
        (i for i, s in enumerate(separators) if not s or s in text), len(separators) - 1
    )
    separator, finer = separators[index], separators[index + 1:]
    chunks: list[str] = []
    small: list[str] = []
    for piece in _pieces(text, separator):
        if len(piece) < chunk_size:
            small.append(piece)
            continue
        if small:
            chunks += _merge(small, chunk_size, chunk_overlap)
            small = []
        if finer and separator:
            chunks += split_text(piece, chunk_size, chunk_overlap, finer)
        else:
            chunks.append(piece)
    if small:
        chunks += _merge(small, chunk_size, chunk_overlap)
    return chunks
