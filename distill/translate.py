"""`kpdd translate`: word problems into Simplified Chinese by a local GGUF chat model (by default
the Qwen2.5-Coder-1.5B that `kpdd setup --all` places), many decoded together, every translation
checked before it is kept.

    kpdd translate --data gsm8k --split test -o runs/zh/gsm8k-test-zh.jsonl          # a Chinese test set
    kpdd translate --data gsm8k-train --limit 1000 -o runs/zh/gsm8k-train-zh.jsonl   # teacher input

A translation is kept only when it is Chinese, leaves no English word, keeps every number the
English writes in digits, works nothing out and writes no answer the English does not give
(`check_translation`): then the gold answer still follows from the Chinese text as far as its
numbers go (what numbers cannot show, a sentence turned around, is for a reader: check a sample).
Kept ones go to OUT, one problem a line as `kpdd eval --data OUT` and `kpdd teach --data OUT` read it
(`question`, `answer`, `id`, and the English beside it); refused ones to OUT's `.rejected.jsonl` with
the reason, so a rerun resumes after both and redoes neither. `--retries N` tries each refused one
again, sampled, up to N times.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpdd.answers import format_answer, numbers_given, numerals_in_text
from kpdd.format import is_chinese
from kpdd.jsonl import append_jsonl, read_jsonl

TRANSLATE_PROMPT_VERSION = "kpdd-translate-zh-1"
TRANSLATE_SYSTEM_PROMPT = (
    "Translate the user's math word problem into natural Simplified Chinese, as a Chinese primary-school "
    "textbook would write it. Translate every word (people's names may stay as they are). Keep every "
    "number exactly as the English writes it, in Arabic digits (17 stays 17, 1,200 stays 1200, 3.5 "
    "stays 3.5, $20 becomes 20美元). Do not solve the problem, do not work anything out and do not add "
    "anything: write only the translation."
)
# Our own problems, translated by hand: they show the model the form of the reply.
TRANSLATION_DEMOS = (
    (
        "A baker made 48 muffins. She sold 3/4 of them in the morning and 5 more in the afternoon. How "
        "many muffins were left?",
        "面包师做了48个松饼。她上午卖掉了其中的3/4，下午又卖掉了5个。还剩下多少个松饼？",
    ),
    (
        "Tom buys 3 notebooks at $2.50 each and a pen for $1.20. He pays with a $10 bill. How much change "
        "does he get?",
        "汤姆买了3本笔记本，每本2.50美元，又买了一支1.20美元的笔。他付了一张10美元的钞票。他应该找回多少钱？",
    ),
)
# An English word left in the Chinese: lower case (a name starts with a capital and may stay).
_UNTRANSLATED = re.compile(r"(?<![A-Za-z])[a-z]{3,}")


def translation_messages(question: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": TRANSLATE_SYSTEM_PROMPT}]
    for english, chinese in TRANSLATION_DEMOS:
        messages += [{"role": "user", "content": english}, {"role": "assistant", "content": chinese}]
    messages.append({"role": "user", "content": question})
    return messages


def check_translation(english: str, chinese: str, answer: float) -> str | None:
    """Why a translation cannot stand for the problem, or None when it is kept.

    "empty"; "not_chinese" (too few Chinese characters); "untranslated" (an English word left in it);
    "numbers" (a number the English writes in digits is not in the Chinese); "added_number" (the
    Chinese writes a number in digits that the English neither writes nor implies: a step worked
    out, "240-80=160"); "answer" (the Chinese writes the gold answer where the English gives no such
    number: a translation that solved the problem)."""
    text = chinese.strip()
    if not text:
        return "empty"
    if not is_chinese(text):
        return "not_chinese"
    if _UNTRANSLATED.search(text):
        return "untranslated"
    given = numbers_given(text)
    if any(round(value, 6) not in given for value in numerals_in_text(english)):
        return "numbers"
    english_given = numbers_given(english)
    written = {round(value, 6) for value in numerals_in_text(text)}
    gold = round(answer, 6)
    if gold not in english_given and gold in written:
        return "answer"
    if written - english_given:
        return "added_number"
    return None


@dataclass
class TranslateStats:
    problems: int = 0
    already_done: int = 0
    kept: int = 0
    rejected: int = 0
    interrupted: bool = False


def rejection_reasons(out: Path) -> dict[str, int]:
    """How many translations were refused, by reason, over every run into OUT."""
    path = rejected_path(out)
    return dict(Counter(r.get("reason", "") for r in read_jsonl(path))) if path.exists() else {}


def rejected_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".rejected.jsonl")


def done_ids(out: Path) -> set[str]:
    """The source problems translated already, kept or refused."""
    paths = [path for path in (out, rejected_path(out)) if path.exists()]
    return {r["source_id"] for path in paths for r in read_jsonl(path) if "source_id" in r}


def kept_ids(out: Path) -> set[str]:
    return {r["source_id"] for r in read_jsonl(out) if "source_id" in r} if out.exists() else set()


def refusals(out: Path) -> Counter[str]:
    """How many times each source problem's translation was refused."""
    path = rejected_path(out)
    return (
        Counter(r["source_id"] for r in read_jsonl(path) if "source_id" in r) if path.exists() else Counter()
    )


class GGUFTranslator:
    """Greedy translations by a local GGUF chat model, `parallel` problems decoded together; the
    instructions and demonstrations, the same for every problem, are read once."""

    def __init__(self, model_path: str | Path, *, parallel: int = 16, threads: int | None = None,
                 max_tokens: int = 384) -> None:  # fmt: skip
        from distill.gguf_teacher import GGUFChat

        self.chat = GGUFChat(
            model_path, parallel=parallel, threads=threads, per_prompt_tokens=256 + max_tokens
        )
        self.name = self.chat.name
        self.max_tokens = max_tokens

    def translate_many(self, questions: Sequence[str], on_done: Callable[[int, str, str], None],
                       cancel: Any = None, temperature: float = 0.0, seed: int = 0) -> None:  # fmt: skip
        """`on_done(index, translation, finish_reason)` as each one finishes."""
        prompts = [self.chat.prompt(translation_messages(q)) for q in questions]
        self.chat.batched.generate(
            prompts, stop=["\n\n"], max_tokens=self.max_tokens, temperature=temperature,
            seeds=[seed] * len(prompts), add_bos=False, cancel=cancel,
            on_done=lambda index, generation: on_done(index, generation.text.strip(), generation.finish_reason),
        )  # fmt: skip

    def close(self) -> None:
        self.chat.close()


# A refused translation is tried again sampled (`attempt` 1, 2, ...): a different wording often keeps
# what the greedy one dropped.
RETRY_TEMPERATURE = 0.6


def run_translate(translator: Any, problems: Sequence[Any], out: str | Path, *, chunk: int = 64,
                  progress: Callable[[TranslateStats], None] | None = None, cancel: Any = None,
                  attempt: int = 0) -> TranslateStats:  # fmt: skip
    """Translate every problem not yet in OUT or its rejected file (`attempt` 0, greedy), or, for
    `attempt` k > 0, every problem refused k times and never kept (sampled, seed k); `chunk` at a
    time, each chunk's records on disk before the next starts. Returns the counts."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if attempt == 0:
        done = done_ids(out)
        todo = [p for p in problems if p.id not in done]
    else:
        kept, refused = kept_ids(out), refusals(out)
        todo = [p for p in problems if p.id not in kept and refused[p.id] == attempt]
    stats = TranslateStats(problems=len(todo) if attempt else len(problems),
                           already_done=0 if attempt else len(problems) - len(todo))  # fmt: skip
    for start in range(0, len(todo), chunk):
        batch = todo[start : start + chunk]

        def finished(index: int, chinese: str, finish_reason: str, batch: Sequence[Any] = batch) -> None:
            problem = batch[index]
            if finish_reason == "cancelled":
                return
            reason = (
                "cut"
                if finish_reason == "length"
                else check_translation(problem.question, chinese, problem.answer)
            )
            record = {"id": f"zh-{problem.id}", "source_id": problem.id, "question": chinese,
                      "answer": format_answer(problem.answer), "question_en": problem.question,
                      "translator": translator.name, "prompt_version": TRANSLATE_PROMPT_VERSION,
                      "attempt": attempt}  # fmt: skip
            if reason is None:
                append_jsonl(out, record)
                stats.kept += 1
            else:
                append_jsonl(rejected_path(out), {**record, "reason": reason})
                stats.rejected += 1

        translator.translate_many([p.question for p in batch], finished, cancel=cancel,
                                  temperature=RETRY_TEMPERATURE if attempt else 0.0, seed=attempt)  # fmt: skip
        if cancel is not None and cancel.cancelled:
            stats.interrupted = True
            break
        if progress is not None:
            progress(stats)
    return stats
