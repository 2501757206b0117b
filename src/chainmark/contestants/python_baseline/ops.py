"""Operational cost without a framework: a conversation kept as a plain list of turns."""

from __future__ import annotations

import tracemalloc
from typing import Any

from chainmark.contestants._protocol import Recorder, setup_timer
from chainmark.contestants.python_baseline import api

# The conversation prompt the frameworks' ConversationChain sends (LangChain's default
# words), so every contestant shows the model the same text.
CONVERSATION_TEMPLATE = (
    "The following is a friendly conversation between a human and an AI. The AI is talkative "
    "and provides lots of specific details from its context. If the AI does not know the "
    "answer to a question, it truthfully says it does not know.\n\n"
    "Current conversation:\n{history}\nHuman: {input}\nAI:"
)


def history_text(turns: list[tuple[str, str]]) -> str:
    """The whole conversation so far, one "Human: ..." and one "AI: ..." line per turn."""
    return "\n".join(f"Human: {said}\nAI: {answered}" for said, answered in turns)


def memory(params: dict[str, Any], endpoints: dict[str, Any], rec: Recorder) -> None:
    # Choices: the buffer is a list of (human, ai) pairs, rendered into the prompt in full
    # every turn (a buffer memory keeps everything); one NON-streaming /api/generate per turn,
    # sync httpx; the answer is stored as the model sent it.
    with setup_timer(rec):
        http = api.client(endpoints)
        opts = api.options(params)
        turns: list[tuple[str, str]] = []
    checkpoints = set(params["checkpoints"])
    rec.begin()
    for turn in range(1, params["turns"] + 1):
        with rec.op("turn") as op:
            said = params["first_turn"] if turn == 1 else params["next_turn"]
            prompt = CONVERSATION_TEMPLATE.format(history=history_text(turns), input=said)
            text = api.generate(http, api.body(endpoints["model"], prompt, opts))
            turns.append((said, text))
            op.output["text"] = text
        # Outside the timed part, as the framework contestants read their buffers.
        op.output.update(turn=turn, history_chars=len(history_text(turns)))
        if turn in checkpoints and tracemalloc.is_tracing():
            current, peak = tracemalloc.get_traced_memory()
            op.output.update(tracemalloc_current_bytes=current, tracemalloc_peak_bytes=peak)
    rec.end()
