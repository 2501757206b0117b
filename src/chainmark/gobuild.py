"""Builds chainmark's Go programs (the LangChainGo contestant, the framework-free Go
baseline, chainmark-server), cached by a hash of their sources.

A binary is rebuilt only when a source file, go.mod or go.sum changed, so repeated runs start
at once and a stale binary can never be measured (or measure) by mistake.

    python -m chainmark.gobuild    # builds every Go program and prints their paths
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
LANGCHAINGO_MODULE = _ROOT / "contestants" / "langchaingo"
GO_BASELINE_MODULE = _ROOT / "contestants" / "go_baseline"
SERVER_MODULE = _ROOT / "server"
# Every Go program chainmark builds, by the name its cached binary carries.
MODULES = {"langchaingo": LANGCHAINGO_MODULE, "go-baseline": GO_BASELINE_MODULE,
           "chainmark-server": SERVER_MODULE}
BUILD_TIMEOUT_S = 900


class BuildError(RuntimeError):
    pass


def cache_dir() -> Path:
    root = os.environ.get("CHAINMARK_CACHE") or Path.home() / ".cache" / "chainmark"
    return Path(root) / "bin"


def _sources(module: Path) -> list[Path]:
    files = [p for p in module.rglob("*") if p.is_file()
             and (p.suffix == ".go" or p.name in ("go.mod", "go.sum"))
             and not p.name.endswith("_test.go")]
    return sorted(files)


def source_hash(module: Path) -> str:
    digest = hashlib.sha256()
    for path in _sources(module):
        digest.update(path.relative_to(module).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def go_binary(module: Path, name: str | None = None) -> Path:
    """The module's program, building it first if its sources changed."""
    name = name or module.name
    go = shutil.which("go")
    if go is None:
        raise BuildError(f"the Go toolchain ('go') is not installed: {name} cannot be built")
    if not (module / "go.mod").exists():
        raise BuildError(f"no Go module at {module}")
    target = cache_dir() / f"{name}-{source_hash(module)[:16]}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.tmp")
    try:
        done = subprocess.run(
            [go, "build", "-trimpath", "-o", str(partial), "."],
            cwd=module, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False,
            env={**os.environ, "GOFLAGS": os.environ.get("GOFLAGS", "-mod=readonly")},
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"go build of {name} took longer than {BUILD_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BuildError(f"go build of {name} failed:\n{(done.stderr or done.stdout)[-3000:]}")
    # Atomic: a concurrent build or an interrupted one never leaves a half-written binary.
    partial.replace(target)
    return target


def server_binary() -> Path:
    """chainmark-server, the Go LLM server every run measures against."""
    return go_binary(SERVER_MODULE, "chainmark-server")


def main() -> int:
    failed = 0
    for name, module in MODULES.items():
        try:
            print(f"{name}: {go_binary(module, name)}")
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
