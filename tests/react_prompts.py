"""How the baselines' ReAct prompts differ from LangChain Python's (shared by test modules)."""

from __future__ import annotations

from chainmark.contestants.tools import Counter
from chainmark.scenarios.common import SINGLE_QUESTION, agent_params


def signature_words() -> int:
    """How many more words LangChain's tool lines have than the specification's: it writes
    each tool function's Python signature after the name ("WordLengthTool(text: 'str') ->
    'str' - ..."), the baselines write "WordLengthTool: ..."."""
    from langchain_core.tools.render import render_text_description

    from chainmark.contestants.langchain_python import agents as lc_agents
    from chainmark.contestants.python_baseline import react

    params = agent_params(SINGLE_QUESTION, 1)
    tools = react.make_tools(params, Counter())
    theirs = render_text_description(lc_agents.make_tools(params, Counter()))
    return len(theirs.split()) - len("\n".join(t.describe() for t in tools).split())
