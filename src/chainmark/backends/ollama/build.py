"""Builds real Ollama from the Go module proxy, once, into a cache outside the repository.

    python -m chainmark.backends.ollama build    # builds if needed, prints the binary's path

The module zip on the Go proxy leaves out ``llama/llama.cpp/vendor/``; the four headers the cgo
build needs are taken from the llama-cpp-python source distribution on PyPI (the same vendored
llama.cpp files), checked against pinned SHA-256 sums and cached. The CPU backend is compiled
for AVX2/FMA/F16C: without these flags cgo builds it for SSE2 only (4x slower), and a native
build would pick up AMX, which this project's VMs advertise but do not enable (llama.cpp
crashes). ``CHAINMARK_OLLAMA=/path/to/ollama`` uses an existing binary instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from chainmark.backends.managed import BackendError
from chainmark.processes import kill_group

OLLAMA_VERSION = "0.17.4"
OLLAMA_MODULE = "github.com/ollama/ollama"
ENV_BINARY = "CHAINMARK_OLLAMA"

# Where the missing vendor headers come from: the source distribution vendors llama.cpp whole.
HEADERS_SDIST = "llama-cpp-python==0.3.36"
HEADERS_SDIST_PREFIX = "vendor/llama.cpp/vendor/"
VENDOR_HEADERS: dict[str, str] = {
    "nlohmann/json.hpp": "aaf127c04cb31c406e5b04a63f1ae89369fccde6d8fa7cdda1ed4f32dfc5de63",
    "nlohmann/json_fwd.hpp": "fb6aa70cbece087f37ab4685c182b287c53be54f785f981b9db9d30d2d028b37",
    "stb/stb_image.h": "594c2fe35d49488b4382dbfaec8f98366defca819d916ac95becf3e75f4200b3",
    "miniaudio/miniaudio.h": "ac7af4de748b7e26b777f37e01cee313a308a7296a3eb080e2906b320cc55c89",
}

# Portable AVX2 (never -march=native: AMX advertised by the VM crashes llama.cpp).
CGO_FLAGS = "-O3 -mavx2 -mfma -mf16c"
LDFLAGS = f"-s -w -X {OLLAMA_MODULE}/version.Version={OLLAMA_VERSION}"

DOWNLOAD_TIMEOUT_S = 900
COMPILE_TIMEOUT_S = 3600
HEARTBEAT_S = 30.0

Log = Callable[[str], None]


class OllamaBuildError(BackendError):
    """Go missing, a download failed, or the compile failed (the message says which)."""


def _stderr(message: str) -> None:
    print(f"ollama build: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    root = os.environ.get("CHAINMARK_CACHE") or Path.home() / ".cache" / "chainmark"
    return Path(root) / "ollama"


def build_key() -> str:
    """Short hash of everything that shapes the binary besides the Go toolchain."""
    spec = {
        "module": f"{OLLAMA_MODULE}@v{OLLAMA_VERSION}",
        "cgo_cflags": CGO_FLAGS,
        "cgo_cxxflags": CGO_FLAGS,
        "ldflags": LDFLAGS,
        "headers": VENDOR_HEADERS,
        "platform": [sys.platform, platform.machine()],
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def binary_path() -> Path:
    """Where the cached binary lives (it may not exist yet)."""
    return cache_root() / f"{OLLAMA_VERSION}-{build_key()}" / "ollama"


def _override() -> Path | None:
    value = os.environ.get(ENV_BINARY)
    if not value:
        return None
    path = Path(value).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise OllamaBuildError(f"{ENV_BINARY}={value} is not an executable file")
    return path


def cached_binary() -> Path | None:
    """The binary if no build is needed (override or cache hit), else None."""
    override = _override()
    if override is not None:
        return override
    target = binary_path()
    return target if target.is_file() else None


def ollama_binary(log: Log = _stderr) -> Path:
    """The Ollama binary: ``$CHAINMARK_OLLAMA``, the cached build, or a fresh build (minutes)."""
    found = cached_binary()
    if found is not None:
        return found
    target = binary_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / ".lock", log):
        if target.is_file():  # another process built it while we waited
            return target
        _build(target, log)
    return target


@contextlib.contextmanager
def _locked(path: Path, log: Log) -> Iterator[None]:
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another build holds {path}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise OllamaBuildError(
            "the Go toolchain ('go') is not installed: cannot build Ollama "
            f"{OLLAMA_VERSION} (install Go, or set {ENV_BINARY}=/path/to/ollama)"
        )
    return go


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _module_dir(go: str, log: Log) -> Path:
    ref = f"{OLLAMA_MODULE}@v{OLLAMA_VERSION}"
    log(f"downloading {ref} from the Go module proxy")
    try:
        done = subprocess.run(
            [go, "mod", "download", "-json", ref], capture_output=True, text=True,
            timeout=DOWNLOAD_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        raise OllamaBuildError(f"downloading {ref} took longer than {DOWNLOAD_TIMEOUT_S} s") \
            from None
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError:
        info = {}
    if done.returncode != 0 or info.get("Error") or not info.get("Dir"):
        reason = info.get("Error") or _tail(done.stderr or done.stdout, 5) or "no Dir reported"
        raise OllamaBuildError(f"downloading {ref} failed: {reason}")
    return Path(info["Dir"])


def _headers_dir(log: Log) -> Path:
    """The four vendor headers, extracted once from the llama-cpp-python sdist and verified."""
    name = HEADERS_SDIST.replace("==", "-")
    folder = cache_root() / f"vendor-{name}"
    if all(_sha256(folder / rel) == digest for rel, digest in VENDOR_HEADERS.items()):
        return folder
    log(f"fetching the llama.cpp vendor headers from the {HEADERS_SDIST} sdist (PyPI)")
    with tempfile.TemporaryDirectory(prefix="sdist-", dir=cache_root()) as tmp:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "-d", tmp, HEADERS_SDIST],
                capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired:
            raise OllamaBuildError(
                f"downloading {HEADERS_SDIST} took longer than {DOWNLOAD_TIMEOUT_S} s"
            ) from None
        archives = sorted(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise OllamaBuildError(f"downloading the {HEADERS_SDIST} sdist failed: "
                                   f"{_tail(done.stderr or done.stdout, 5)}")
        staging = Path(tmp) / "headers"
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                rel = member.name.split("/", 1)[-1]
                if rel.startswith(HEADERS_SDIST_PREFIX):
                    rel = rel[len(HEADERS_SDIST_PREFIX):]
                    if rel in VENDOR_HEADERS and member.isfile():
                        source = tar.extractfile(member)
                        assert source is not None
                        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                        (staging / rel).write_bytes(source.read())
        for rel, digest in VENDOR_HEADERS.items():
            actual = _sha256(staging / rel)
            if actual != digest:
                raise OllamaBuildError(
                    f"{rel} from {archives[0].name}: "
                    f"{'missing' if actual is None else 'SHA-256 ' + actual} (expected {digest})"
                )
        shutil.rmtree(folder, ignore_errors=True)
        try:
            staging.replace(folder)
        except OSError as exc:  # a concurrent build (other flags) put them there first
            if not all(_sha256(folder / r) == d for r, d in VENDOR_HEADERS.items()):
                raise OllamaBuildError(f"cannot store the vendor headers in {folder}: {exc}") \
                    from None
    return folder


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _make_writable(root: Path) -> None:
    # The module cache is read-only; the copy must accept the vendor folder.
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _build(target: Path, log: Log) -> None:
    started = time.monotonic()
    # Under the lock, a leftover build folder is from a build that was killed.
    for stale in target.parent.glob("build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    go = _go()
    module = _module_dir(go, log)
    headers = _headers_dir(log)
    with tempfile.TemporaryDirectory(prefix="build-", dir=target.parent) as tmp:
        source = Path(tmp) / "src"
        shutil.copytree(module, source, symlinks=True)
        _make_writable(source)
        shutil.copytree(headers, source / "llama" / "llama.cpp" / "vendor")
        partial = Path(tmp) / "ollama"
        env = {
            **os.environ,
            "CGO_ENABLED": "1",
            "CGO_CFLAGS": CGO_FLAGS,
            "CGO_CXXFLAGS": CGO_FLAGS,
        }
        argv = [go, "build", "-trimpath", "-ldflags", LDFLAGS, "-o", str(partial), "."]
        log(f"compiling Ollama {OLLAMA_VERSION} (CGO flags {CGO_FLAGS}; ~4 min on 2 cores)")
        output = Path(tmp) / "build.log"
        with open(output, "wb") as out:
            # Own process group: an interrupted build also stops go's compiler children.
            process = subprocess.Popen(argv, cwd=source, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            compile_started = time.monotonic()
            try:
                while True:
                    try:
                        process.wait(timeout=HEARTBEAT_S)
                        break
                    except subprocess.TimeoutExpired:
                        elapsed = time.monotonic() - compile_started
                        if elapsed > COMPILE_TIMEOUT_S:
                            raise OllamaBuildError(
                                f"go build took longer than {COMPILE_TIMEOUT_S} s"
                            ) from None
                        log(f"still compiling ({elapsed:.0f} s)")
            finally:
                if process.poll() is None:
                    kill_group(process.pid)
                    process.wait()
        if process.returncode != 0 or not partial.is_file():
            tail = _tail(output.read_text(errors="replace"))
            raise OllamaBuildError(
                f"go build of Ollama {OLLAMA_VERSION} failed (exit {process.returncode}):\n{tail}"
            )
        # Atomic: a reader sees either no binary or a whole one.
        partial.replace(target)
    log(f"built {target} in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["build"]):
        print("usage: python -m chainmark.backends.ollama build", file=sys.stderr)
        return 2
    try:
        print(ollama_binary())
    except OllamaBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was cached", file=sys.stderr)
        return 130
    return 0
