"""The framework-free Python baseline's agent, workflow, stress-agent and resilience scenarios.

End to end: the real CLI runs the real contestant processes against the real chainmark-server
on its synthetic (scripted) models, and the harness's verifier judges them, with small counts.
Where LangChain Python runs beside the baseline, the server's own request log shows both sent
the same number of generation requests with the same number of prompt words (the paced
models charge per prompt word, so equal prompts are part of a fair comparison).

The ReAct parser and loop are also checked on their own: against LangChain's own parser
(langchain-classic's ReActSingleInputOutputParser, imported here only, never by the baseline)
and against LangChain's own prompt rendering, byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from react_prompts import signature_words

from chainmark import scenarios
from chainmark.contestants.python_baseline import api, react
from chainmark.contestants.python_baseline.resilience import _failing
from chainmark.contestants.tools import Counter
from chainmark.scenarios.common import (
    COUNT_QUESTION,
    MULTI_QUESTION,
    SINGLE_QUESTION,
    agent_params,
    react_probe,
)

BASE, LC = "python-baseline", "langchain-python"
AGENTS = ["agent.single", "agent.multi", "agent.high_freq", "workflow.router",
          "resilience.tool_failure"]
CONCURRENCY = 3
STRESS_SMALL = ["--set", f"concurrency={CONCURRENCY}", "--set", "min_duration_s=0.3"]


def chainmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainmark.cli", *args], capture_output=True, text=True,
        timeout=600, check=False, env={**os.environ, "COLUMNS": "200"},
    )


def run(out: Path, llm: str, names: list[str], contestants: list[str], *extra: str) -> dict:
    # One round: these tests check each scenario's behaviour, not the interleaving.
    done = chainmark("run", "-s", ",".join(names), "-c", ",".join(contestants),
                     "--rounds", "1", "--llm-url", llm, "--out", str(out), *extra)
    results = json.loads((out / "results.json").read_text())
    results["_stdout"] = done.stdout + done.stderr
    return results


def records(results: dict, contestant: str) -> dict[str, dict]:
    return {r["scenario"]: r for r in results["records"] if r["contestant"] == contestant}


def raw(results: dict, folder: str) -> dict:
    """What the contestant process itself wrote."""
    command = results["header"]["command"]
    out = Path(command[command.index("--out") + 1])
    return json.loads((out / "runs" / folder / "result.json").read_text())


def assert_passed(results: dict, names: list[str], contestant: str = BASE) -> dict[str, dict]:
    ran = records(results, contestant)
    assert {n: ran[n]["status"] for n in names} == dict.fromkeys(names, "passed"), (
        results["_stdout"])
    return ran


@pytest.fixture(scope="module")
def agents_run(tmp_path_factory, llm_server) -> dict:
    """The sequential agent scenarios, the router and the failing tool, on the zero-latency
    scripted model, beside LangChain Python; plus the concurrent agents."""
    return run(tmp_path_factory.mktemp("agents"), llm_server,
               [*AGENTS, "stress.concurrent_agent"], [BASE, LC], "--model", "synthetic",
               "--iterations", "2", *STRESS_SMALL)


@pytest.fixture(scope="module")
def malformed_run(tmp_path_factory, llm_server) -> dict:
    """resilience.parse_error on the model whose first ReAct reply lacks its Action Input."""
    return run(tmp_path_factory.mktemp("malformed"), llm_server, ["resilience.parse_error"],
               [BASE, LC], "--model", "synthetic-malformed", "--iterations", "2")


def test_agent_router_and_tool_failure_scenarios_pass(agents_run):
    ran = assert_passed(agents_run, AGENTS)
    for name in ("agent.single", "agent.multi", "agent.high_freq"):
        assert ran[name]["metrics"]["latency_s"]["count"] == 2
    # One call per ReAct step: a tool call per step, then the final answer.
    assert ran["agent.multi"]["metrics"]["llm_calls"]["mean"] == 3
    assert ran["agent.high_freq"]["metrics"]["llm_calls"]["mean"] == 6
    assert ran["workflow.router"]["metrics"]["llm_calls"]["mean"] == 2
    routes = {op["output"]["query"]: op["output"]["route"]
              for op in raw(agents_run, "workflow.router__python-baseline__r0")["operations"]}
    assert routes == scenarios.get("workflow.router").expect["routes"]
    # The loop lets the tool's exception reach the caller, as LangChain's executor does.
    failure = raw(agents_run, "resilience.tool_failure__python-baseline__r0")["operations"]
    assert {op["output"]["outcome"] for op in failure} == {"surfaced"}
    assert all(op["output"]["error"] == "simulated tool failure" for op in failure)
    assert {op["output"]["error_kind"] for op in failure} == {"RuntimeError"}


def test_the_baseline_sends_what_langchain_sends(agents_run):
    """Same requests on the same paths, per scenario (the server's count). The prompt words
    differ only by the Python signatures LangChain writes after each ReAct tool's name."""
    assert_passed(agents_run, AGENTS, LC)
    base, lc = records(agents_run, BASE), records(agents_run, LC)
    for name in AGENTS:
        ours, theirs = base[name]["server"], lc[name]["server"]
        assert ours["by_path"] == theirs["by_path"] == {"/api/generate": ours["requests"]}, name
        extra = 0 if name == "workflow.router" else signature_words() * ours["requests"]
        assert 0 < ours["prompt_tokens"] == theirs["prompt_tokens"] - extra, name


def test_concurrent_agents_pass_in_whole_waves(agents_run):
    name = "stress.concurrent_agent"
    ran = assert_passed(agents_run, [name])
    result = raw(agents_run, f"{name}__python-baseline__c{CONCURRENCY}__r0")
    ops = result["operations"]
    waves = len(ops) // CONCURRENCY
    assert waves >= 1 and len(ops) == waves * CONCURRENCY
    assert sorted(op["output"]["wave"] for op in ops) == sorted(
        list(range(waves)) * CONCURRENCY)
    assert (result["measure_end_ns"] - result["measure_start_ns"]) / 1e9 >= 0.3
    assert all(op["ok"] for op in ops)
    # Every agent makes the same three calls, so prompt words per request match LangChain's
    # (but for its tool signatures) whatever the number of waves each ran.
    ours, theirs = ran[name]["server"], records(agents_run, LC)[name]["server"]
    assert ours["requests"] == 3 * len(ops)
    assert ours["prompt_tokens"] / ours["requests"] == pytest.approx(
        theirs["prompt_tokens"] / theirs["requests"] - signature_words())


def test_parse_errors_are_fed_back_and_the_agent_recovers(malformed_run):
    name = "resilience.parse_error"
    assert_passed(malformed_run, [name])
    for op in raw(malformed_run, f"{name}__python-baseline__r0")["operations"]:
        assert op["output"]["outcome"] == "recovered"
        assert op["output"]["parse_errors"] == 1
        assert [c["tool"] for c in op["output"]["tool_calls"]] == ["WordLengthTool"]
    # The feedback text is LangChain's: the same prompt words reach the server (but for the
    # tool signatures LangChain writes).
    ours = records(malformed_run, BASE)[name]["server"]
    theirs = records(malformed_run, LC)[name]["server"]
    assert ours["requests"] == theirs["requests"] == 2 * 3
    assert ours["prompt_tokens"] == theirs["prompt_tokens"] - signature_words() * 6


def test_a_client_timeout_fails_within_the_window_and_the_server_survives(tmp_path,
                                                                         llm_server):
    # The calibrated profile generates 600 tokens in ~6 s, so the 2 s deadline must fire.
    results = run(tmp_path, llm_server, ["resilience.timeout"], [BASE],
                  "--iterations", "1", "--model", "synthetic:smollm2-cpu")
    record = assert_passed(results, ["resilience.timeout"])["resilience.timeout"]
    assert 2.0 <= record["metrics"]["timeout_s"]["mean"] < 2.5
    ops = raw(results, "resilience.timeout__python-baseline__r0")["operations"]
    assert [op["name"] for op in ops] == ["timeout", "health"]
    assert ops[0]["output"]["error_kind"] == "timeout" and ops[1]["output"]["text"].strip()


# --- the ReAct parser and loop on their own ---------------------------------------------------

REPLIES = [
    " I need to find the length.\nAction: WordLengthTool\nAction Input: phenomenon",
    "Action: SimpleCalculator\nAction Input: \"25*4\"",
    "Action 1: CounterTool\nAction 1 Input 1:   ",
    " I now know the final answer.\nFinal Answer: The word has 10 characters.",
    "Final Answer: a\nFinal Answer:  b ",
    " I should use a tool now.\nAction: SimpleCalculator",
    " I just do not know.",
    "Action Input: x\nAction: SimpleCalculator",
    "Action: WordLengthTool\nAction Input: word\nFinal Answer: 4",
    "",
]


def test_the_parser_reads_an_action_and_its_input():
    assert react.parse(REPLIES[0]) == react.Action("WordLengthTool", "phenomenon")
    # LangChain strips spaces and double quotes from the input, nothing else.
    assert react.parse(REPLIES[1]) == react.Action("SimpleCalculator", "25*4")
    assert react.parse(REPLIES[2]) == react.Action("CounterTool", "")


def test_the_parser_reads_the_last_final_answer():
    assert react.parse(REPLIES[3]) == react.Finish("The word has 10 characters.")
    assert react.parse(REPLIES[4]) == react.Finish("b")


def test_a_malformed_reply_gets_langchains_feedback():
    missing_input = react.parse(REPLIES[5])
    assert missing_input == react.Malformed(
        "Invalid Format: Missing 'Action Input:' after 'Action:'",
        f"Could not parse LLM output: `{REPLIES[5]}`")
    assert react.parse(REPLIES[6]).feedback == (
        "Invalid Format: Missing 'Action:' after 'Thought:'")
    assert react.parse(REPLIES[7]).feedback == "Invalid or incomplete response"
    both = react.parse(REPLIES[8])
    assert isinstance(both, react.Malformed)
    assert both.feedback == "Invalid or incomplete response"
    assert "both a final answer and a parse-able action" in both.error


@pytest.mark.parametrize("reply", REPLIES)
def test_the_parser_agrees_with_langchains(reply):
    from langchain_classic.agents.output_parsers import ReActSingleInputOutputParser
    from langchain_core.agents import AgentFinish
    from langchain_core.exceptions import OutputParserException

    try:
        theirs = ReActSingleInputOutputParser().parse(reply)
    except OutputParserException as exc:
        # What AgentExecutor(handle_parsing_errors=True) sends back to the model.
        feedback = str(exc.observation) if exc.send_to_llm else "Invalid or incomplete response"
        ours = react.parse(reply)
        assert isinstance(ours, react.Malformed) and ours.feedback == feedback
        return
    if isinstance(theirs, AgentFinish):
        assert react.parse(reply) == react.Finish(theirs.return_values["output"])
    else:
        assert react.parse(reply) == react.Action(theirs.tool, str(theirs.tool_input))


@pytest.mark.parametrize(("question", "failing"),
                         [(SINGLE_QUESTION, False), (MULTI_QUESTION, False),
                          (COUNT_QUESTION, True)])
def test_the_prompt_is_the_specs_and_the_scratchpad_langchains(question, failing):
    from langchain_classic.agents.format_scratchpad import format_log_to_str
    from langchain_core.agents import AgentAction

    params = agent_params(question, 1)
    tools = react.make_tools(params, Counter(), {"word": _failing("x")} if failing else None)
    ours = react.ReactRun(params["react_prompt"], question, tools, 10, True)
    # The first step is the scripted model's probe, byte for byte (the Go baseline's too).
    probe = react_probe(params, "WordLengthTool")
    assert ours.prompt() == probe.prompt
    steps: list[tuple[AgentAction, str]] = []
    # A tool step, then a malformed reply answered with the parser's feedback.
    first = " I need to count.\nAction: CounterTool\nAction Input: 1"
    ours.take(first)
    steps.append((AgentAction("CounterTool", "1", first), "1"))
    malformed = " I should use a tool now.\nAction: SimpleCalculator"
    ours.take(malformed)
    steps.append((AgentAction("_Exception", react.MISSING_ACTION_INPUT, malformed),
                  react.MISSING_ACTION_INPUT))
    assert ours.prompt() == probe.prompt + format_log_to_str(steps)


def _run(replies: list[str], max_iterations: int = 10, handle: bool = False,
         replace: dict | None = None) -> tuple[react.ReactRun, Counter]:
    """The loop driven by canned replies, as a model would drive it."""
    counter = Counter()
    params = agent_params(SINGLE_QUESTION, 1)
    run = react.ReactRun(params["react_prompt"], SINGLE_QUESTION,
                         react.make_tools(params, counter, replace), max_iterations, handle)
    answers = iter(replies)
    while run.prompt() is not None:
        run.take(next(answers))
    return run, counter


def test_the_loop_calls_tools_and_stops_at_the_final_answer():
    run, counter = _run(["Action: CounterTool\nAction Input: x",
                         "Action: SimpleCalculator\nAction Input: '2+3*4'",
                         "Action: NoSuchTool\nAction Input: y",
                         "Final Answer: 14"])
    assert run.answer == "14" and run.iterations == 4 and counter.value == 1
    assert run.tool_calls == [
        {"tool": "CounterTool", "input": "x", "observation": "1"},
        {"tool": "SimpleCalculator", "input": "'2+3*4'", "observation": "14"},
        {"tool": "NoSuchTool", "input": "y", "observation": "NoSuchTool is not a valid tool, "
         "try one of [WordLengthTool, SimpleCalculator, CounterTool]."},
    ]
    # Tool input is data: the calculator parses arithmetic, it never evaluates Python.
    run, _ = _run(["Action: SimpleCalculator\nAction Input: __import__('os')", "Final Answer: no"])
    assert run.tool_calls[0]["observation"].startswith("Error: ")


def test_the_loop_stops_after_max_iterations():
    run, counter = _run(["Action: CounterTool\nAction Input: x"] * 3, max_iterations=3)
    assert run.answer == react.ITERATION_LIMIT and run.iterations == 3 and counter.value == 3


def test_a_malformed_reply_raises_unless_parse_errors_are_handled():
    with pytest.raises(react.ParseError, match="Could not parse LLM output"):
        _run([" I should use a tool now.\nAction: SimpleCalculator"])
    run, _ = _run([" I should use a tool now.\nAction: SimpleCalculator", "Final Answer: 10"],
                  handle=True)
    assert run.answer == "10" and run.parse_errors == 1 and run.tool_calls == []
    assert "\nObservation: Invalid Format: Missing 'Action Input:' after 'Action:'\nThought: " \
        in run.scratchpad


def test_a_tool_that_raises_ends_the_run():
    with pytest.raises(RuntimeError, match="simulated"):
        _run(["Action: WordLengthTool\nAction Input: word"],
             replace={"word": _failing("simulated")})


def test_every_call_asks_for_the_react_stop_sequence():
    agent = react.Agent(agent_params(SINGLE_QUESTION, 1), "m")
    assert api.body("m", "p", agent.options) == {
        "model": "m", "prompt": "p", "stream": False,
        "options": {"temperature": 0.0, "num_predict": 256, "seed": 42,
                    "stop": ["\nObservation"]}}


def test_the_baseline_imports_no_framework():
    modules = [f"python_baseline.{m}" for m in ("agents", "resilience", "react", "api")]
    # The wave helpers the baseline shares with the LangChain contestant are framework-free too.
    code = "; ".join(f"import chainmark.contestants.{m}" for m in [*modules, "waves"])
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, timeout=60, check=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "httpx" in imported
    assert not {m for m in imported if m.split(".")[0].startswith(("langchain", "ollama"))}
