"""Recursive character splitting, written for the baseline as an application would write it.

The well-known algorithm (the one LangChain's RecursiveCharacterTextSplitter popularised):
split on the coarsest separator the text contains (blank line, newline, space, then single
characters), keep each separator at the start of the piece after it, split again any piece
that is not shorter than a chunk, and pack consecutive short pieces into chunks of at most
`chunk_size` characters, each starting with up to `chunk_overlap` characters carried over
from the previous one; chunks are whitespace-stripped and empty ones dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

SEPARATORS = ("\n\n", "\n", " ", "")


class RecursiveSplitter:
    def __init__(self, chunk_size: int, chunk_overlap: int,
                 separators: Sequence[str] = SEPARATORS) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        if not 0 <= chunk_overlap <= chunk_size:
            raise ValueError(f"chunk_overlap must be within [0, {chunk_size}], got "
                             f"{chunk_overlap}")
        if not separators:
            raise ValueError("at least one separator is needed")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separators = tuple(separators)

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        self._split(text, self.separators, chunks)
        return chunks

    def _split(self, text: str, separators: tuple[str, ...], chunks: list[str]) -> None:
        # The first separator the text contains; "" (characters) always matches. With none
        # found, the last one is used and there is nothing finer to fall back on.
        level = len(separators) - 1
        for i, separator in enumerate(separators):
            if not separator or separator in text:
                level = i
                break
        separator, finer = separators[level], separators[level + 1:]
        short: list[str] = []
        for piece in _pieces(text, separator):
            if len(piece) < self.chunk_size:
                short.append(piece)
                continue
            if short:
                self._pack(short, chunks)
                short = []
            if separator and finer:
                self._split(piece, finer, chunks)
            else:
                chunks.append(piece)  # one word or character run longer than a chunk
        if short:
            self._pack(short, chunks)

    def _pack(self, pieces: list[str], chunks: list[str]) -> None:
        window: deque[str] = deque()
        length = 0
        for piece in pieces:
            if window and length + len(piece) > self.chunk_size:
                _emit(window, chunks)
                # Keep at most chunk_overlap characters of the tail, and only as much as
                # still leaves room for the new piece.
                while window and (length > self.chunk_overlap
                                  or length + len(piece) > self.chunk_size):
                    length -= len(window.popleft())
            window.append(piece)
            length += len(piece)
        _emit(window, chunks)


def _pieces(text: str, separator: str) -> list[str]:
    if not separator:
        return list(text)
    first, *rest = text.split(separator)
    pieces = [first] + [separator + part for part in rest]
    return [piece for piece in pieces if piece]


def _emit(window: deque[str], chunks: list[str]) -> None:
    chunk = "".join(window).strip()
    if chunk:
        chunks.append(chunk)
