"""The scripted synthetic model drives a real LangChain ReAct agent; verification catches lies.

Everything here is real: chainmark-server (synthetic models), langchain-classic's
`create_react_agent` + `AgentExecutor`, and the harness's verifier.
"""

from __future__ import annotations

import time

import httpx
import pytest

from chainmark import scenarios
from chainmark.contestants import tools
from chainmark.contestants.langchain_python import agents
from chainmark.contract import ContestantResult, Operation
from chainmark.harness import verify
from chainmark.scenarios import checks
from chainmark.scenarios.common import agent_params
from chainmark.scenarios.evidence import Evidence


def _reply(url: str, prompt: str) -> str:
    body = {"model": "synthetic", "prompt": prompt, "stream": False, "options": {"seed": 42}}
    return httpx.post(f"{url}/api/generate", json=body, timeout=30).json()["response"]


def test_non_react_prompts_are_left_to_the_default_generator(llm_server):
    text = _reply(llm_server, "Why is the sky blue?")
    assert text and "Action" not in text and "Final Answer" not in text


def _params(question: str) -> dict:
    return agent_params(question, 1)


def _endpoints(url: str, model: str = "synthetic") -> dict:
    return {"llm_url": url, "model": model}


def _result(scenario: str, outputs: dict, start: int, end: int) -> ContestantResult:
    return ContestantResult(
        contract=2, contestant="test", scenario=scenario, language="python", runtime="test",
        measure_start_ns=start, measure_end_ns=end,
        operations=[Operation(name="agent", start_ns=start, end_ns=end,
                              elapsed_ns=end - start, output=outputs)],
    )


@pytest.mark.parametrize(
    ("question", "numbers", "tool_counts"),
    [
        ("What is the character length of the word 'phenomenon'?", {"10"},
         {"WordLengthTool": 1}),
        ("What is 25 multiplied by 4, and what is the character length of the word "
         "'knowledge'?", {"100", "9"}, {"SimpleCalculator": 1, "WordLengthTool": 1}),
        ("Using the CounterTool, count from 1 to 5 by calling the tool for each number.",
         {"5"}, {"CounterTool": 5}),
        # Variants of the same shapes: other words, other numbers, other counts.
        ("What is the character length of the word 'antidisestablishment'?", {"20"},
         {"WordLengthTool": 1}),
        ("What is 17 plus 26, and what is the character length of the word 'cat'?",
         {"43", "3"}, {"SimpleCalculator": 1, "WordLengthTool": 1}),
        ("Using the CounterTool, count from 1 to 8 by calling the tool for each number.",
         {"8"}, {"CounterTool": 8}),
    ],
)
def test_scripted_model_drives_a_real_langchain_agent(llm_server, question, numbers,
                                                      tool_counts):
    runner = agents.AgentRunner(_params(question), _endpoints(llm_server))
    out = runner.run(question)
    made: dict[str, int] = {}
    for call in out["tool_calls"]:
        made[call["tool"]] = made.get(call["tool"], 0) + 1
    assert made == tool_counts, out
    assert numbers <= set(checks._NUMBER.findall(out["text"])), out["text"]


def _verified(result: ContestantResult, params: dict) -> list[str]:
    scenario = scenarios.get(result.scenario)
    return verify.verify(scenario, Evidence(result=result, params=params, server=None,
                                            model="synthetic", expect=scenario.expect))


def _verify_agent(llm_server, scenario_name: str, model: str, monkeypatch=None) -> list[str]:
    scenario = scenarios.get(scenario_name)
    params = scenario.params_for("quick")
    runner = agents.AgentRunner(params, _endpoints(llm_server, model))
    start = time.time_ns()
    out = runner.run(params["question"])
    end = time.time_ns()
    result = _result(scenario_name, out, start, end)
    return _verified(result, {**params, "iterations": 1})


def test_correct_run_passes_verification(llm_server):
    assert _verify_agent(llm_server, "agent.multi", "synthetic") == []


def test_a_model_that_answers_wrongly_fails_verification(llm_server):
    problems = _verify_agent(llm_server, "agent.multi", "synthetic-liar")
    assert any("the answer lacks" in p for p in problems), problems


def test_a_tool_that_lies_fails_verification(llm_server, monkeypatch):
    monkeypatch.setattr(agents, "word_length", lambda text: str(len(text) + 1))
    problems = _verify_agent(llm_server, "agent.single", "synthetic")
    assert any("WordLengthTool('phenomenon') returned '11', expected '10'" in p
               for p in problems), problems


def test_counter_must_be_called_exactly_five_times(llm_server):
    scenario = scenarios.get("agent.high_freq")
    params = scenario.params_for("quick")
    runner = agents.AgentRunner(params, _endpoints(llm_server))
    out = runner.run(params["question"])
    assert out["counter"] == 5
    out["tool_calls"] = out["tool_calls"][:4]
    out["counter"] = 4
    problems = _verified(_result("agent.high_freq", out, 0, 1), {**params, "iterations": 1})
    assert any("CounterTool called 4 times, expected exactly 5" in p for p in problems)
    assert any("the counter reads 4" in p for p in problems)


def test_calculator_tool_is_the_parser_not_eval():
    assert tools.calculate("__import__('os').system('true')").startswith("Error")
