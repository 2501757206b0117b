"""Building compiled contestants: real `go build`, cached by source hash, clear failures."""

from __future__ import annotations

import shutil

import pytest

from chainmark import gobuild as build
from chainmark.contestants.registry import Contestant, ContestantError
from chainmark.contract import Endpoints
from chainmark.harness.execute import execute
from chainmark.harness.plan import PlannedRun
from chainmark.harness.records import Status
from chainmark.scenarios import get

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("%s") }\n'


@pytest.fixture
def module(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINMARK_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "mod"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/tiny\n\ngo 1.21\n")
    (root / "main.go").write_text(MAIN % "one")
    return root


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")
def test_builds_once_and_rebuilds_only_when_sources_change(module):
    first = build.go_binary(module)
    assert first.exists()
    mtime = first.stat().st_mtime_ns
    assert build.go_binary(module) == first and first.stat().st_mtime_ns == mtime
    (module / "main_test.go").write_text("package main\n")  # tests are not part of the binary
    assert build.go_binary(module) == first
    (module / "main.go").write_text(MAIN % "two")
    second = build.go_binary(module)
    assert second != first and second.exists()


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")
def test_a_broken_module_gives_the_compiler_error(module):
    (module / "main.go").write_text("package main\n\nfunc main() { undefinedThing() }\n")
    with pytest.raises(build.BuildError, match="undefinedThing"):
        build.go_binary(module)


def test_missing_go_is_a_clear_error(module, monkeypatch):
    monkeypatch.setattr(build.shutil, "which", lambda _: None)
    with pytest.raises(build.BuildError, match=r"Go toolchain .* not installed"):
        build.go_binary(module)


def test_a_contestant_that_cannot_be_built_is_recorded_not_fatal(tmp_path):
    def cannot_build() -> tuple[str, ...]:
        raise build.BuildError("the Go toolchain ('go') is not installed")

    contestant = Contestant("go-less", "go", "test", (), declared=frozenset({"llm.latency"}),
                            builder=cannot_build)
    scenario = get("llm.latency")
    run = PlannedRun(scenario, contestant, "synthetic", scenario.params_for("quick"), 30)
    record = execute(run, Endpoints(llm_url="http://127.0.0.1:9", model="synthetic"), "quick",
                     tmp_path, None)
    assert record.status is Status.ERROR
    assert "not installed" in record.errors[0]


def test_a_contestant_that_cannot_be_built_cannot_be_asked_what_it_implements():
    calls = []

    def cannot_build() -> tuple[str, ...]:
        calls.append(1)
        raise build.BuildError("go build of go-less failed:\n./main.go:3:1: undefinedThing")

    contestant = Contestant("go-less", "go", "test", (), builder=cannot_build)
    for _ in range(2):
        with pytest.raises(ContestantError) as caught:
            contestant.implements("llm.latency")
        message = str(caught.value)
        assert message.startswith("contestant 'go-less' cannot be built"), message
        assert "./main.go:3:1: undefinedThing" in message and "\n" not in message
    assert len(calls) == 1  # the failure is remembered, not retried for every scenario
