"""A scripted backend for the app's tests, with no Qt: it speaks the real `kpdd.backend.Backend`
protocol with canned stage texts, streamed piece by piece with a small delay and honouring the
CancelToken like llama.cpp's backend does, so the tutor's flows (hint, check, edit + re-solve, batch)
run in milliseconds on the real solver, sandbox and history.
"""

from __future__ import annotations

import time

from kpdd.backend import CancelToken, Generation, ModelInfo
from kpdd.format import MARKERS, STEP_NAMES_HEADER, Stage

PROBLEM = "A farmer packs 6 baskets with 14 apples each. He gives away 20 apples. How many apples does he have left?"

SCRIPT = {
    Stage.CORE_QUESTION: "How many apples does the farmer have left?",
    Stage.KEY_INFORMATION: "- 6 baskets hold 14 apples each.\n- He gives away 20 apples.",
    Stage.PROGRAM: "apples = 6 * 14\ngiven_away = 20\nanswer = apples - given_away",
    Stage.STEPS: "He packs 6 * 14 = 84 apples. He gives away 20, so 84 - 20 = 64 are left. The answer is 64.",
}
# The reply to kpdd.format.step_names_prompt (asked for a Chinese problem's program).
NAMES_REPLY = "apples: 苹果总数\ngiven_away: 送出的苹果"


class ScriptedBackend:
    """A deterministic backend: answers each stage from `script`, streaming in small pieces."""

    def __init__(
        self,
        script: dict[Stage, str] | None = None,
        delay_s: float = 0.002,
        name: str = "scripted",
        trained: bool = True,
        greedy: dict[Stage, str] | None = None,
    ) -> None:
        self.script = dict(script or SCRIPT)
        # Texts for greedy generations (temperature 0) where they differ from the sampled ones.
        self.greedy = dict(greedy or {})
        self.temperatures: list[float] = []
        self.delay_s = delay_s
        # trained: no few-shot preamble (and no warm-up); untrained models get both, like SmolLM2.
        self.info = ModelInfo(name=name, format_version="kpdd-1" if trained else None)
        self.prompts: list[str] = []
        self.closed = False
        self.names_reply = NAMES_REPLY

    def generate(self, prompt, *, stop, max_tokens, temperature=0.0, seed=None, on_text=None,
                 cancel: CancelToken | None = None) -> Generation:  # fmt: skip
        self.prompts.append(prompt)
        self.temperatures.append(temperature)
        if STEP_NAMES_HEADER in prompt:
            text = self.names_reply
        else:
            stage = next(s for s in (Stage.STEPS, Stage.PROGRAM, Stage.KEY_INFORMATION, Stage.CORE_QUESTION)
                         if prompt.rstrip("\n").endswith(MARKERS[s]))  # fmt: skip
            text = self.greedy.get(stage, self.script[stage]) if temperature == 0 else self.script[stage]
        started = time.perf_counter()
        out = ""
        for i in range(0, len(text), 4):
            if cancel is not None and cancel.cancelled:
                return Generation(
                    out, "cancelled", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started
                )
            piece = text[i : i + 4]
            out += piece
            if on_text is not None:
                on_text(piece)
            time.sleep(self.delay_s)
        return Generation(
            out, "stop", len(prompt), len(prompt), len(out) // 4, time.perf_counter() - started, 0.0
        )

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def close(self) -> None:
        self.closed = True
