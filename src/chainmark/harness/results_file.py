"""The results file: rewritten atomically after every scenario, so it is always valid JSON
and a crash or Ctrl-C loses nothing already measured."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from chainmark.harness.records import RunResults


class ResultsFileError(ValueError):
    pass


def save(results: RunResults, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(results.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path) -> RunResults:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path}: {exc}") from exc
    try:
        return RunResults.model_validate_json(text)
    except ValidationError as exc:
        raise ResultsFileError(f"{path} is not a chainmark results file: {exc}") from exc
