"""The scripted synthetic model recognises the prompts the scenario definitions send.

chainmark-server reads a ReAct step, a router label or a math answer from the prompt's words.
Those words live in the scenario definitions; each scenario the scripted model plays declares
probes (its prompts rendered from its own params, and the reply each must get), and this test
sends every probe, for every profile, to the real chainmark-server. Change a prompt's wording
so the server no longer recognises it and this fails, naming the scenario and the parameter,
instead of the agent or router silently getting a default answer.
"""

from __future__ import annotations

import httpx
import pytest

from chainmark.scenarios import PROFILES, SCENARIOS, ModelKind

# Every prompt template the scripted model plays; a scenario that sends one must declare probes.
SCRIPTED_PARAMS = ("react_prompt", "router_prompt", "math_prompt")

PLAYED = [s for s in SCENARIOS
          if s.model_kind is ModelKind.SCRIPTED
          or any(k in s.params_for("quick") for k in SCRIPTED_PARAMS)]


def test_every_scenario_the_scripted_model_plays_declares_probes():
    missing = [s.name for s in PLAYED if s.scripted_probes is None]
    assert not missing, f"declare scripted_probes for {missing}"
    assert {s.name for s in PLAYED} >= {"agent.single", "workflow.router",
                                        "stress.concurrent_agent", "ops.observability"}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("scenario", PLAYED, ids=lambda s: s.name)
def test_the_server_recognises_the_scenario_prompts(llm_server, scenario, profile):
    assert scenario.scripted_probes is not None
    probes = scenario.scripted_probes(scenario.params_for(profile))
    assert probes
    for probe in probes:
        # The zero-latency family behaves like the scenario's default model, without pacing.
        body = {"model": "synthetic", "prompt": probe.prompt, "stream": False,
                "options": {"seed": 42}}
        reply = httpx.post(f"{llm_server}/api/generate", json=body, timeout=30).json()["response"]
        missing = [part for part in probe.reply_contains if part not in reply]
        assert not missing, (
            f"chainmark-server's scripted model does not recognise {scenario.name}'s "
            f"{probe.source} ({profile}): the reply {reply[:200]!r} lacks {missing}. Keep the "
            "wording src/chainmark/server/synth/scripted.go reads, or teach it the new one.")


def test_a_reworded_router_prompt_is_caught(llm_server):
    """The probe fails when the wording changes: the check can fail."""
    router = next(s for s in SCENARIOS if s.name == "workflow.router")
    params = router.params_for("quick")
    params["router_prompt"] = "Is this query about numbers or poems? {input}"
    assert router.scripted_probes is not None
    probe = router.scripted_probes(params)[0]
    body = {"model": "synthetic", "prompt": probe.prompt, "stream": False}
    reply = httpx.post(f"{llm_server}/api/generate", json=body, timeout=30).json()["response"]
    assert any(part not in reply for part in probe.reply_contains)
