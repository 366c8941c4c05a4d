"""Teachers that write KPDD rationales: gold (from GSM8K annotations), any OpenAI-compatible chat
endpoint, and a local GGUF model through llama-cpp-python.

LLM teachers are prompted in three stages, as in the KPDD paper: (1) the core question, (2) the
key information, (3) a program (PoT) or worked steps (CoT) that use them. Each stage is its own chat
with few-shot demonstrations built from `kpdd.format.DEMONSTRATIONS`, so the teacher's answers
are in exactly the shape the student is trained on.

The HTTP client is distill/chat_client.py; the batched local GGUF teacher is distill/gguf_teacher.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from distill.chat_client import ChatClient
from kpdd.format import (
    FORMAT_VERSION,
    KeyPoints,
    Mode,
    Stage,
    clean_stage,
    demonstrations_for,
    format_key_information,
    parse_key_information,
)

TEACH_PROMPT_VERSION = "kpdd-teach-1"

SYSTEM_PROMPT = (
    "You are a careful math teacher. You work on grade-school math word problems one stage at a time "
    "and reply with exactly what the stage asks for, with no other text."
)
STAGE_INSTRUCTIONS: dict[Stage, str] = {
    Stage.CORE_QUESTION: "Stage 1: state the core question of this problem in one short sentence. "
    "Reply with that sentence only.",
    Stage.KEY_INFORMATION: "Stage 2: list the key information needed to answer the core question, one "
    "fact per line, each line starting with '- '. Reply with the list only.",
    Stage.PROGRAM: "Stage 3: write a Python program that answers the core question from the key "
    "information. Use meaningful variable names and store the final number in a variable named "
    "answer. Reply with the code only.",
    Stage.STEPS: "Stage 3: solve the core question step by step from the key information, one "
    "calculation per line, and end with 'The answer is' and the number.",
}


# -- prompts -------------------------------------------------------------------------------------


def stage_user_message(problem: str, stage: Stage, key_points: KeyPoints | None = None) -> str:
    """The user turn for one stage: the problem, the earlier stages, and the instruction."""
    parts = [f"Problem: {' '.join(problem.split())}"]
    if stage in (Stage.KEY_INFORMATION, Stage.PROGRAM, Stage.STEPS) and key_points is not None:
        parts.append(f"Core question: {key_points.core_question}")
    if stage in (Stage.PROGRAM, Stage.STEPS) and key_points is not None:
        parts.append("Key information:\n" + key_points.key_information_text())
    parts.append(STAGE_INSTRUCTIONS[stage])
    return "\n\n".join(parts)


def _demo_reply(demo: Any, stage: Stage) -> str:
    if stage == Stage.CORE_QUESTION:
        return demo.core_question
    if stage == Stage.KEY_INFORMATION:
        return format_key_information(demo.key_information)
    if stage == Stage.PROGRAM:
        return demo.program
    return demo.steps


def stage_messages(
    problem: str, stage: Stage, key_points: KeyPoints | None = None, demos: int | None = None
) -> list[dict[str, str]]:
    """Chat messages for one stage: system, the few-shot demonstrations (the first `demos` of them;
    all by default), then the problem."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    _header, demonstrations = demonstrations_for(problem)  # in the problem's language
    for demo in demonstrations[: len(demonstrations) if demos is None else demos]:
        demo_kp = KeyPoints(demo.core_question, list(demo.key_information))
        messages.append({"role": "user", "content": stage_user_message(demo.problem, stage, demo_kp)})
        messages.append({"role": "assistant", "content": _demo_reply(demo, stage)})
    messages.append({"role": "user", "content": stage_user_message(problem, stage, key_points)})
    return messages


def clean_reply(stage: Stage, text: str) -> str:
    """A stage's text from a chat reply: drop echoed labels ("Core question:") and normalise."""
    text = (text or "").strip()
    for label in ("core question:", "key information:", "stage 1:", "stage 2:", "stage 3:", "program:"):
        if text.lower().startswith(label):
            text = text[len(label) :].strip()
    return clean_stage(stage, text)


# -- teachers ------------------------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Sampling:
    temperature: float = 0.7
    max_tokens: int = 400
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


class Teacher(Protocol):
    name: str
    kind: str
    prompt_version: str

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        """Stage texts and extras for one problem (no provenance); raises TeacherError on transport
        failure (the problem is then not recorded and a rerun tries it again)."""
        ...


class GoldTeacher:
    """Rationales derived from GSM8K's annotated solutions; programs verified in the sandbox."""

    kind = "gold"
    name = "gold"

    def __init__(self) -> None:
        from distill.gold import GOLD_PROMPT_VERSION

        self.prompt_version = GOLD_PROMPT_VERSION

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        from distill.gold import gold_rationale

        if not problem.solution:
            return {"core_question": "", "key_information": [], "program": None, "steps": None,
                    "failure": "no_solution"}  # fmt: skip
        rationale = gold_rationale(problem.question, problem.solution, problem.answer)
        return {
            "core_question": rationale.key_points.core_question,
            "key_information": rationale.key_points.key_information,
            "program": rationale.program if mode in (Mode.POT, Mode.BOTH) else None,
            "steps": rationale.steps_text if mode in (Mode.COT, Mode.BOTH) else None,
            "failure": rationale.failure,
        }


class ChatTeacher:
    """Three-stage prompting of a chat model (OpenAI-compatible server or local GGUF)."""

    prompt_version = TEACH_PROMPT_VERSION

    def __init__(
        self, client: ChatClient, name: str, kind: str, sampling: Sampling, demos: int | None = None
    ) -> None:
        self.client = client
        self.demos = demos
        self.name = name
        self.kind = kind
        self.sampling = sampling

    def _stage(
        self, problem: str, stage: Stage, key_points: KeyPoints, seed: int, usage: Counter
    ) -> tuple[str, str]:
        reply = self.client.complete(
            stage_messages(problem, stage, key_points, self.demos),
            temperature=self.sampling.temperature,
            max_tokens=self.sampling.max_tokens,
            seed=seed,
        )
        usage["prompt_tokens"] += reply.prompt_tokens
        usage["completion_tokens"] += reply.completion_tokens
        return clean_reply(stage, reply.text), reply.finish_reason

    def teach(self, problem: Any, mode: Mode, sample: int) -> dict[str, Any]:
        seed = self.sampling.seed + sample
        usage: Counter = Counter()
        finish: dict[str, str] = {}
        key_points = KeyPoints()
        key_points.core_question, finish["core_question"] = self._stage(
            problem.question, Stage.CORE_QUESTION, key_points, seed, usage
        )
        info_text, finish["key_information"] = self._stage(
            problem.question, Stage.KEY_INFORMATION, key_points, seed, usage
        )
        key_points.key_information = parse_key_information(info_text)
        program = steps = None
        if mode in (Mode.POT, Mode.BOTH):
            program, finish["program"] = self._stage(problem.question, Stage.PROGRAM, key_points, seed, usage)
        if mode in (Mode.COT, Mode.BOTH):
            steps, finish["steps"] = self._stage(problem.question, Stage.STEPS, key_points, seed, usage)
        return {
            "core_question": key_points.core_question,
            "key_information": key_points.key_information,
            "program": program,
            "steps": steps,
            "failure": None,
            "finish_reasons": finish,
            "usage": dict(usage),
        }


def teaching_pass(teacher: Any, sampling: Sampling | None) -> str:
    """How a record was obtained: "greedy" (temperature 0), "sampled" (a temperature above 0, as
    drawn for problems greedy decoding got wrong) or "rationalized" (the teacher was shown the gold
    answer and asked to reach it from the problem's numbers)."""
    if getattr(teacher, "answer_hint", False):
        return "rationalized"
    return "sampled" if sampling is not None and sampling.temperature > 0 else "greedy"


def provenance(
    teacher: Teacher, sampling: Sampling | None, data: str, reference_only: bool
) -> dict[str, Any]:
    return {
        "pass": teaching_pass(teacher, sampling),
        "teacher": teacher.name,
        "teacher_kind": teacher.kind,
        "prompt_version": teacher.prompt_version,
        "format_version": FORMAT_VERSION,
        "sampling": sampling.to_dict() if sampling is not None else None,
        "data": data,
        "reference_only": reference_only,
        "time": now_iso(),
    }
