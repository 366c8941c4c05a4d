"""Where a generated stage ends, and what of it counts: a program is over once its `answer = ...` line
is written and all of it parses, worked steps once they say "the answer is N", and a solution that
repeats one line is looping. The solver stops generating there (`solution_complete`, while streaming)
and keeps the text up to there (`stage_text`).
"""

from __future__ import annotations

import ast
import re

from kpdd.format import Stage, clean_stage

_ANSWER_ASSIGNMENT = re.compile(r"^answer\s*=", re.MULTILINE)
_COT_CONCLUSION = re.compile(r"(?:answer is|答案是|答案为)[^\n]*\d", re.IGNORECASE)


# A line written this many times in a row means a small model is looping under greedy decoding.
LOOP_REPEATS = 3


def _stuck_in_a_loop(head: str) -> bool:
    lines = head.split("\n")[-LOOP_REPEATS:]
    return len(lines) == LOOP_REPEATS and bool(lines[0].strip()) and len(set(lines)) == 1


def solution_complete(stage: Stage, text: str) -> int | None:
    """Where a solution is finished, if it is: the end of a complete line that settles it.

    A program is done once a top-level `answer = ...` line completes and everything so far parses;
    worked steps are done at the end of the line that says "the answer is N". Stopping there saves
    the tokens a model spends after its answer (models not trained on the format often ramble on),
    and what follows would not change the result anyway. A solution that repeats one line
    `LOOP_REPEATS` times in a row is over too: it is looping and will not reach an answer.
    """
    end = text.rfind("\n")
    if end == -1:
        return None
    head = text[:end]
    last_line = head[head.rfind("\n") + 1 :]
    if stage in (Stage.PROGRAM, Stage.STEPS) and _stuck_in_a_loop(head):
        return end  # greedy decoding repeating itself: more tokens will not bring an answer
    if stage == Stage.PROGRAM:
        if not _ANSWER_ASSIGNMENT.match(last_line):
            return None
        try:
            ast.parse(clean_stage(Stage.PROGRAM, head))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return end
    if stage == Stage.STEPS and _COT_CONCLUSION.search(last_line):
        return end
    return None


def first_completion(stage: Stage, text: str) -> int | None:
    """The first point where `solution_complete` holds in a finished text (for non-streaming use)."""
    start = 0
    while (newline := text.find("\n", start)) != -1:
        end = solution_complete(stage, text[: newline + 1])
        if end is not None:
            return end
        start = newline + 1
    return None


def stage_text(stage: Stage, raw: str) -> str:
    """A generated stage's final text: a solution cut where it completed, then normalised."""
    if stage in (Stage.PROGRAM, Stage.STEPS):
        end = first_completion(stage, raw if raw.endswith("\n") else raw + "\n")
        if end is not None:
            raw = raw[:end]
    return clean_stage(stage, raw)
