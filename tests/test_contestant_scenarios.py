"""Each contestant declares what it implements (`COMMAND --scenarios`); the harness asks once.

Everything here runs real programs: the built-in Python contestants as the harness starts
them, the LangChainGo binary as built for the harness, and small scripts standing in for an
external contestant (good ones and every way of answering badly).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainmark import scenarios
from chainmark.contestants import registry
from chainmark.contestants.registry import (
    BUILTIN,
    Contestant,
    ContestantError,
    all_contestants,
    load_external,
)
from chainmark.harness.plan import Selection, build

ROOT = Path(__file__).parents[1]
MAIN_GO = ROOT / "src/chainmark/contestants/langchaingo/main.go"
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain")


def builtin(name: str) -> Contestant:
    return next(c for c in BUILTIN if c.name == name)


def ask(argv: list[str] | tuple[str, ...], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*argv, "--scenarios", *flags], capture_output=True, text=True,
                          timeout=120, check=False)


# --- the built-in contestants, as real processes ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "package"),
    [("langchain-python", "langchain_python"), ("python-baseline", "python_baseline")],
)
def test_python_contestants_list_their_own_dispatch_table(name, package):
    module = f"chainmark.contestants.{package}"
    # -X importtime: every module the answer imports, on stderr.
    done = ask([sys.executable, "-X", "importtime", "-m", module])
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    table = importlib.import_module(f"{module}.scenarios").SCENARIOS
    assert listed == sorted(table)
    assert registry.unknown_scenarios(listed) == []
    # Answering loads neither the framework nor the HTTP client: it is cheap and cannot fail
    # on a broken install of either.
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    heavy = {m for m in imported if m.split(".")[0] in ("langchain_ollama", "langchain_core",
                                                        "langchain_classic", "httpx", "pydantic")}
    assert heavy == set(), heavy
    assert f"{module}.llm" not in imported
    # ... and the harness reads the same list through the registry.
    assert builtin(name).implemented == frozenset(listed)


def test_what_the_builtin_python_contestants_print():
    base = ask(builtin("python-baseline").command)
    listed = json.loads(base.stdout)
    assert base.stdout == json.dumps(sorted(listed)) + "\n"
    assert {"llm.latency", "llm.ttft", "rag.e2e", "rag.prepare", "agent.single",
            "workflow.router", "stress.concurrent_rag", "stress.concurrent_agent",
            "resilience.parse_error", "ops.memory"} <= set(listed)
    lc = json.loads(ask(builtin("langchain-python").command).stdout)
    assert "rag.prepare" in lc and {"llm.latency", "rag.e2e", "ops.observability"} <= set(lc)
    contestant = builtin("langchain-python")
    # `scenarios` is the benchmark scenarios; the untimed helper is implemented but not one.
    assert contestant.scenarios == frozenset(lc) - {"rag.prepare"}
    assert contestant.implements("rag.prepare") and contestant.implements("llm.ttft")
    assert builtin("python-baseline").scenarios == frozenset(listed) - {"rag.prepare"}


def test_python_contestant_still_runs_a_request_after_the_split(tmp_path):
    """The dispatch table holds names only now; a request still reaches the contract."""
    request, result = tmp_path / "request.json", tmp_path / "result.json"
    request.write_text(json.dumps({"contract": 2, "scenario": "no.such", "params": {},
                                   "endpoints": {"llm_url": "http://127.0.0.1:9", "model": "m"},
                                   "timeout_s": 10}))
    done = subprocess.run([*builtin("python-baseline").command, str(request), str(result)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    written = json.loads(result.read_text())
    assert written["contract"] == 2
    assert written["error"].startswith("not implemented: 'no.such'")
    assert set(written["frameworks"]) == {"httpx"}
    usage = subprocess.run([*builtin("python-baseline").command, "--scenarios", "x"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert usage.returncode == 2 and "--scenarios" in usage.stderr and usage.stdout == ""


@needs_go
def test_go_contestant_lists_its_dispatch_map_through_the_built_binary():
    go = builtin("langchaingo")
    argv = go.argv()  # the harness's build, cached by source hash
    done = ask(argv)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    dispatched = re.findall(r'^\s*"([a-z]+\.[a-z0-9_]+)":\s*\w+,', MAIN_GO.read_text(), re.M)
    assert len(dispatched) >= 20 and listed == sorted(dispatched)
    assert "rag.prepare" in listed and registry.unknown_scenarios(listed) == []
    assert go.implemented == frozenset(listed)
    # A stray argument is a bad invocation, not a listing.
    assert ask(argv, "extra").returncode == 2


# --- an external contestant that declares nothing in the file --------------------------------


def script(tmp_path: Path, body: str, name: str = "contestant.py") -> list[str]:
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def contestants_file(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "contestants.json"
    path.write_text(json.dumps(list(entries)))
    return path


LISTING = """\
import json, sys
with open(sys.argv[0] + ".asked", "a") as fh:
    fh.write("asked\\n")
if sys.argv[1:] == ["--scenarios"]:
    print(json.dumps(["llm.latency", "rag.prepare"]))
    sys.exit(0)
sys.exit(2)
"""


def test_a_contestants_file_without_scenarios_asks_the_program_once(tmp_path):
    command = script(tmp_path, LISTING)
    path = contestants_file(tmp_path, {"name": "mine", "language": "python", "command": command})
    [mine] = load_external(path)
    assert mine.declared is None
    assert mine.implements("llm.latency") and mine.implements("rag.prepare")
    assert not mine.implements("llm.ttft")
    assert mine.scenarios == {"llm.latency"}

    plan = build(Selection(contestants=["mine"], contestants_file=path, rounds=1))
    assert [(r.scenario.name, r.contestant.name) for r in plan.runs] == [("llm.latency", "mine")]
    plan = build(Selection(scenarios=["llm.latency", "llm.ttft"], contestants=["mine"],
                           contestants_file=path))
    assert [(s.name, c.name) for s, c in plan.not_implemented] == [("llm.ttft", "mine")]
    # Asked once for the whole process, however often the harness wants to know.
    assert Path(command[1] + ".asked").read_text() == "asked\n"


def test_scenarios_given_in_the_file_are_used_and_the_program_is_not_asked(tmp_path):
    command = script(tmp_path, LISTING)
    path = contestants_file(tmp_path, {"name": "mine", "command": command,
                                       "scenarios": ["llm.ttft", "rag.prepare"]})
    [mine] = load_external(path)
    assert mine.implemented == {"llm.ttft", "rag.prepare"}
    assert mine.scenarios == {"llm.ttft"}
    assert [r.scenario.name for r in build(Selection(contestants=["mine"], rounds=1,
                                                     contestants_file=path)).runs] == ["llm.ttft"]
    assert not Path(command[1] + ".asked").exists()


def test_chainmark_list_shows_what_a_discovered_contestant_implements(tmp_path):
    if shutil.which("go") is None:
        pytest.skip("`chainmark list` asks every contestant, the Go one included")
    path = contestants_file(tmp_path, {"name": "mine", "command": script(tmp_path, LISTING)})
    done = subprocess.run(
        [sys.executable, "-c", "from chainmark.cli import app; app()", "list",
         "--contestants-file", str(path)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines()
            if line.count("│") > 3 and "." in line.split("│")[1]}
    assert set(rows) == {s.name for s in scenarios.SCENARIOS}
    # The last contestant column is "mine": ✓ for llm.latency only.
    assert rows["llm.latency"].split("│")[-3].strip() == "✓"
    assert rows["llm.ttft"].split("│")[-3].strip() == "·"


# --- every way of answering badly: one clear line naming the contestant, command and cause ----


BAD = {
    "exits non-zero": ("import sys\nprint('no config file', file=sys.stderr)\nsys.exit(4)\n",
                       r"exited with status 4: no config file$"),
    "killed": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
               r"was killed by signal 9$"),
    "prints no JSON": ("print('llm.latency llm.ttft')\n",
                       r"printed 'llm.latency llm.ttft', not a JSON list of scenario names$"),
    "prints nothing": ("pass\n", r"printed nothing, not a JSON list of scenario names$"),
    "prints an object": ("print('{\"scenarios\": [\"llm.latency\"]}')\n",
                         r"""printed '{"scenarios": \["llm.latency"\]}', not a JSON list"""),
    "prints numbers": ("print('[1, 2]')\n", r"printed '\[1, 2\]', not a JSON list"),
    "unknown names": ("print('[\"llm.latency\", \"llm.telepathy\", \"rag.zzz\"]')\n",
                      r"declares unknown scenarios llm.telepathy, rag.zzz \(this chainmark "
                      r"knows llm.latency, .*rag.prepare\)$"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_answer_is_a_clear_error(tmp_path, case):
    body, cause = BAD[case]
    command = script(tmp_path, body, "bad contestant.py")
    [bad] = load_external(contestants_file(tmp_path, {"name": "bad", "command": command}))
    with pytest.raises(ContestantError) as caught:
        bad.implements("llm.latency")
    message = str(caught.value)
    assert "\n" not in message
    # The contestant, its command as a shell would take it, and the cause.
    assert message.startswith(f"contestant 'bad' (`{sys.executable} '{command[1]}' --scenarios`): ")
    assert re.search(cause, message), message
    # The failure is remembered: the plan stops with the same message, the program not rerun.
    with pytest.raises(ValueError, match=re.escape(message)):
        build(Selection(contestants=["bad"], contestants_file=tmp_path / "contestants.json"))


def test_a_program_that_cannot_be_started_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "no-such-program")
    [ghost] = load_external(contestants_file(tmp_path, {"name": "ghost", "command": [missing]}))
    with pytest.raises(ContestantError, match=rf"^contestant 'ghost' \(`{re.escape(missing)} "
                       r"--scenarios`\): cannot be run: .*No such file"):
        _ = ghost.scenarios


def test_a_program_that_does_not_answer_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "SCENARIOS_TIMEOUT_S", 1.0)
    # It also starts a child that would keep the output pipe open: the whole group is killed.
    body = ("import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "time.sleep(60)\n")
    [slow] = load_external(contestants_file(tmp_path, {"name": "slow",
                                                       "command": script(tmp_path, body)}))
    t0 = time.monotonic()
    with pytest.raises(ContestantError, match=r"^contestant 'slow' .*: printed no scenario list "
                       r"within 1 s$"):
        slow.implements("llm.latency")
    assert time.monotonic() - t0 < 10


def test_loading_contestants_runs_nothing(tmp_path):
    """Programs are asked only when the harness needs to know: a run of one contestant never
    starts (or builds) the others."""
    command = script(tmp_path, LISTING)
    contestants = all_contestants(contestants_file(tmp_path, {"name": "mine", "command": command}))
    assert set(contestants) == {"langchain-python", "python-baseline", "langchaingo", "go-baseline",
                                "mine"}
    assert all(c.declared is None for c in contestants.values())
    asked = Path(command[1] + ".asked")
    assert not asked.exists()
    assert contestants["mine"].implements("llm.latency")
    assert asked.read_text() == "asked\n"
