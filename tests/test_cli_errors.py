"""Every bad input to the real `chainmark` CLI ends in one clear line and a non-zero exit.

Each case runs the CLI as a subprocess (as a user would) and checks: the exit code is not 0,
there is no traceback anywhere, and one line of stderr names the problem. None of them may
start a server: they are all refused up front.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CHAINMARK = [sys.executable, "-m", "chainmark.cli"]
FAST_RUN = ["run", "-s", "llm.latency", "-c", "python-baseline", "--model", "synthetic",
            "--iterations", "3", "--rounds", "1"]


def chainmark(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHAINMARK, *args], capture_output=True, text=True, timeout=120, check=False,
        cwd=cwd, env={**os.environ, "COLUMNS": "80"},  # narrow: a long message must not wrap
    )


def _read_only_location(tmp: Path) -> Path:
    """A folder nobody may create: under a read-only folder, or /proc for root (whom file
    modes do not stop)."""
    if os.geteuid() == 0:
        return Path("/proc/chainmark-cannot-be-here")
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked / "out"


def _existing_results(tmp: Path) -> Path:
    folder = tmp / "used"
    folder.mkdir()
    (folder / "results.json").write_text('{"earlier": "run"}')
    return folder


def _non_utf8(tmp: Path) -> Path:
    path = tmp / "latin1.json"
    path.write_bytes('[{"name": "caf\u00e9"}]'.encode("latin-1"))
    return path


def _a_file(tmp: Path) -> Path:
    path = tmp / "a-file"
    path.write_text("not a folder")
    return path


def _not_results(tmp: Path) -> Path:
    path = tmp / "other.json"
    path.write_text(json.dumps({"some": "json"}))
    return path


# (id, argv built from tmp_path, what the error line must say)
Args = Callable[[Path], list[str]]
CASES: list[tuple[str, Args, str]] = [
    # --out
    ("out-is-a-file", lambda t: [*FAST_RUN, "--out", str(_a_file(t))],
     "is a file, not a folder"),
    ("out-under-a-file", lambda t: [*FAST_RUN, "--out", str(_a_file(t) / "sub" / "run")],
     "is a file, not a folder"),
    ("out-read-only", lambda t: [*FAST_RUN, "--out", str(_read_only_location(t))],
     "cannot create output folder"),
    ("out-read-only-existing", lambda t: [*FAST_RUN, "--out", "/proc"]
     if os.geteuid() == 0 else [*FAST_RUN, "--out", str(_read_only_location(t).parent)],
     "cannot write in output folder"),
    ("out-holds-results", lambda t: [*FAST_RUN, "--out", str(_existing_results(t))],
     "already holds results.json"),
    # URLs
    ("llm-url-bad-ipv6", lambda t: [*FAST_RUN, "--llm-url", "http://[::1"],
     "--llm-url 'http://[::1' is not a valid URL"),
    ("llm-url-no-scheme", lambda t: [*FAST_RUN, "--llm-url", "localhost:11434"],
     "must start with http:// or https://"),
    ("llm-url-ftp", lambda t: [*FAST_RUN, "--llm-url", "ftp://127.0.0.1:11434"],
     "must start with http:// or https://"),
    ("llm-url-port-too-big", lambda t: [*FAST_RUN, "--llm-url", "http://127.0.0.1:99999"],
     "Port out of range"),
    ("llm-url-port-not-a-number", lambda t: [*FAST_RUN, "--llm-url", "http://127.0.0.1:1x"],
     "is not a valid URL"),
    ("llm-url-port-zero", lambda t: [*FAST_RUN, "--llm-url", "http://127.0.0.1:0"],
     "port 0"),
    ("llm-url-no-host", lambda t: [*FAST_RUN, "--llm-url", "http://:11434"],
     "names no valid host"),
    ("llm-url-space-in-host", lambda t: [*FAST_RUN, "--llm-url", "http://local host:1"],
     "names no valid host"),
    ("chroma-url-bad-ipv6", lambda t: [*FAST_RUN, "--chroma-url", "http://[::1"],
     "--chroma-url 'http://[::1' is not a valid URL"),
    ("chroma-url-no-scheme", lambda t: [*FAST_RUN, "--chroma-url", "127.0.0.1:8000"],
     "--chroma-url '127.0.0.1:8000' must start with http://"),
    # files that are not what they should be
    ("list-contestants-not-utf8", lambda t: ["list", "--contestants-file", str(_non_utf8(t))],
     "not UTF-8 text"),
    ("run-contestants-not-utf8",
     lambda t: [*FAST_RUN, "--contestants-file", str(_non_utf8(t))], "not UTF-8 text"),
    ("list-contestants-missing",
     lambda t: ["list", "--contestants-file", str(t / "missing.json")],
     "cannot read contestants file"),
    ("list-contestants-folder", lambda t: ["list", "--contestants-file", str(t)],
     "cannot read contestants file"),
    ("report-not-utf8", lambda t: ["report", str(_non_utf8(t))], "not UTF-8 text"),
    ("report-missing", lambda t: ["report", str(t / "missing.json")], "cannot read"),
    ("report-not-results", lambda t: ["report", str(_not_results(t))],
     "not a chainmark results file: 1 problem"),
    # serve: every subcommand's port and host
    *[(f"serve-{b}-port-{p}", lambda t, b=b, p=p: ["serve", b, "--port", p],
       "--port must be between 1 and 65535")
      for b in ("llm", "ollama", "chroma") for p in ("99999", "0", "-1")],
    *[(f"serve-{b}-host-{h}", lambda t, b=b, h=h: ["serve", b, "--host", h, "--port", "1"],
       f"--host {h!r} is not an address")
      for b in ("llm", "ollama", "chroma")
      for h in ("no such host", "nonexistent.invalid", "192.0.2.1", "")],
    ("serve-llm-upstream-bad-url", lambda t: ["serve", "llm", "--upstream", "http://[::1"],
     "--upstream 'http://[::1' is not a valid URL"),
    ("serve-chroma-upstream", lambda t: ["serve", "chroma", "--upstream", "http://x:1"],
     "--upstream is for `serve llm` only"),
]


@pytest.mark.parametrize(("args", "message"), [pytest.param(a, m, id=i) for i, a, m in CASES])
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(
    tmp_path: Path, args: Args, message: str
) -> None:
    argv = args(tmp_path)
    done = chainmark(*argv, cwd=tmp_path)
    everything = done.stdout + done.stderr
    assert done.returncode != 0, everything
    assert "Traceback" not in everything
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, everything
    assert lines[0].startswith("error: ") and message in lines[0], everything
    # Refused up front: no default results folder was made on the way.
    assert not (tmp_path / "results").exists()


def test_bad_url_is_refused_before_the_output_folder_is_made(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = chainmark(*FAST_RUN, "--llm-url", "http://[::1", "--out", str(out))
    assert done.returncode == 2
    assert not out.exists()


def test_a_refused_run_leaves_no_empty_folder_behind(tmp_path: Path) -> None:
    # Nothing listens on port 9: refused after the folder was claimed, which is then removed.
    out = tmp_path / "run"
    done = chainmark(*FAST_RUN, "--llm-url", "http://127.0.0.1:9", "--out", str(out))
    assert done.returncode == 2 and "cannot reach" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists()
