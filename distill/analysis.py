"""`kpdd analyze`: where a student goes wrong, measured against reference key points.

KPDD's claim is that small models fail by misunderstanding the problem as much as by miscalculating.
For every problem of an eval report (`kpdd eval --out`) this compares the student's core question and
key information with a reference (gold or teacher records, by problem id):

- key information disagrees when a number of the reference facts is missing from the student's facts,
  or the student states a number that appears neither in the reference facts nor in the problem;
- the core question disagrees when its content-word overlap (Jaccard) with the reference is below
  `CORE_QUESTION_MIN_OVERLAP`.

Wrong answers are then "misunderstood" (a key point disagrees) or "wrong_solution" (right key
points, wrong solution); misses without a usable answer are "no_output" or "program_error:<kind>".
The same comparison on the correct answers gives the accuracy with and without agreeing key points,
which is the number that says whether understanding matters.

`stepped_past_answer` names one kind of wrong program: it computed the gold value on the way and
then kept going (`total = 10 + 8` then `answer = total / 2`). A student trained on multi-step
problems does this to one-step ones.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from distill.store import read_jsonl
from kpdd.judgement import program_stepped_past

CORE_QUESTION_MIN_OVERLAP = 0.5

_NUMBER_RE = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
_WORD_RE = re.compile(r"[a-z]+")
_STOP = frozenset(
    "a an the of to in on at for and or is are was were be does do did will would how many much what which "
    "who when where if he she they it his her their its them him that this there has have had in total".split()
)


def numbers_in(texts: list[str] | str) -> set[float]:
    if isinstance(texts, str):
        texts = [texts]
    values = set()
    for text in texts:
        for token in _NUMBER_RE.findall(text or ""):
            try:
                values.add(round(float(token.replace(",", "")), 6))
            except ValueError:
                continue
    return values


def content_words(text: str) -> set[str]:
    words = set()
    for word in _WORD_RE.findall((text or "").lower()):
        if word in _STOP or len(word) < 2:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)  # crude plural folding
    return words


def overlap(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    if not wa and not wb:
        return 1.0
    return len(wa & wb) / len(wa | wb)


def compare_key_points(
    student: dict[str, Any], reference: dict[str, Any], question: str = ""
) -> dict[str, Any]:
    """How the student's key points differ from the reference's."""
    ref_numbers = numbers_in(reference.get("key_information") or []) | numbers_in(
        reference.get("core_question", "")
    )
    student_numbers = numbers_in(student.get("key_information") or []) | numbers_in(
        student.get("core_question", "")
    )
    problem_numbers = numbers_in(question)
    missing = sorted(ref_numbers - student_numbers)
    extra = sorted(student_numbers - ref_numbers - problem_numbers)
    cq_overlap = overlap(student.get("core_question", ""), reference.get("core_question", ""))
    reasons = []
    if not (student.get("core_question") or "").strip():
        reasons.append("core_question_empty")
    elif cq_overlap < CORE_QUESTION_MIN_OVERLAP:
        reasons.append("core_question_differs")
    if not student.get("key_information"):
        reasons.append("key_information_empty")
    else:
        if missing:
            reasons.append("key_information_missing_numbers")
        if extra:
            reasons.append("key_information_extra_numbers")
    return {
        "agree": not reasons,
        "reasons": reasons,
        "core_question_overlap": round(cq_overlap, 3),
        "missing_numbers": missing,
        "extra_numbers": extra,
    }


def load_reference(paths: list[str] | str) -> dict[str, dict[str, Any]]:
    """Reference key points by problem id: the first record of each problem with key points."""
    if isinstance(paths, str | Path):
        paths = [str(paths)]
    reference: dict[str, dict[str, Any]] = {}
    for path in paths:
        for record in read_jsonl(path):
            problem_id = str(record.get("problem_id") or record.get("id") or "")
            if (
                problem_id
                and problem_id not in reference
                and record.get("core_question")
                and record.get("key_information")
            ):
                reference[problem_id] = record
    return reference


def stepped_past_answer(record: dict[str, Any]) -> bool:
    """A wrong PoT answer whose program had computed the gold value on the way, then kept going."""
    if record.get("correct") or record.get("prediction") is None:
        return False
    program = next((s.get("text", "") for s in record.get("solutions") or [] if s.get("kind") == "pot"), "")
    if not program:
        return False  # a CoT answer: no program to rerun
    gold = record.get("gold")
    return gold is not None and program_stepped_past(program, gold)


def analyze(report: dict[str, Any], reference: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Classify every record of an eval report; returns a summary and per-problem verdicts."""
    categories: Counter = Counter()
    reasons: Counter = Counter()
    stepped_past = 0  # wrong PoT answers that had computed the gold value on the way
    agree_correct = Counter()  # (agree, correct) counts over problems with a reference
    items = []
    for record in report.get("records", []):
        problem_id = str(record.get("id"))
        ref = reference.get(problem_id)
        comparison = compare_key_points(record, ref, record.get("question", "")) if ref else None
        if comparison is not None:
            agree_correct[(comparison["agree"], bool(record.get("correct")))] += 1
        if record.get("correct"):
            category = "correct"
        elif record.get("prediction") is None:
            kind = record.get("error_kind") or "no_output"
            category = (
                "no_output"
                if kind in ("no_output", "no_answer", "backend_error")
                else f"program_error:{kind}"
            )
        elif comparison is None:
            category = "wrong_answer_no_reference"
        elif comparison["agree"]:
            category = "wrong_solution"
        else:
            category = "misunderstood"
            reasons.update(comparison["reasons"])
        categories[category] += 1
        if category in ("misunderstood", "wrong_solution", "wrong_answer_no_reference"):
            stepped_past += stepped_past_answer(record)
        items.append({"id": problem_id, "category": category, "correct": bool(record.get("correct")),
                      "key_points": comparison})  # fmt: skip

    def accuracy(agree: bool) -> float | None:
        total = agree_correct[(agree, True)] + agree_correct[(agree, False)]
        return round(agree_correct[(agree, True)] / total, 4) if total else None

    wrong = categories["misunderstood"] + categories["wrong_solution"]
    with_reference = sum(agree_correct.values())
    summary = {
        "problems": len(items),
        "with_reference": with_reference,
        "categories": dict(categories.most_common()),
        "misunderstood_reasons": dict(reasons.most_common()),
        "misunderstood_share_of_wrong": round(categories["misunderstood"] / wrong, 4) if wrong else None,
        "stepped_past_answer": stepped_past,
        "key_points_agree_share": round(
            (agree_correct[(True, True)] + agree_correct[(True, False)]) / with_reference, 4
        )
        if with_reference
        else None,
        "accuracy_when_key_points_agree": accuracy(True),
        "accuracy_when_key_points_disagree": accuracy(False),
    }
    return {"summary": summary, "items": items, "config": report.get("config", {})}


def analyze_files(report_path: str | Path, reference_paths: list[str]) -> dict[str, Any]:
    report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    return analyze(report, load_reference(reference_paths))


def format_analysis(analysis: dict[str, Any]) -> str:
    s = analysis["summary"]
    lines = [f"problems: {s['problems']} ({s['with_reference']} with reference key points)"]
    for name, count in s["categories"].items():
        lines.append(f"  {name}: {count}")
    if s["misunderstood_reasons"]:
        lines.append(
            "misunderstood because: " + ", ".join(f"{k} {v}" for k, v in s["misunderstood_reasons"].items())
        )

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    lines.append(f"wrong answers from misunderstanding: {pct(s['misunderstood_share_of_wrong'])}")
    if s.get("stepped_past_answer"):
        lines.append(
            f"wrong programs that computed the gold value, then kept going: {s['stepped_past_answer']}"
        )
    lines.append(
        f"accuracy when key points agree with the reference: {pct(s['accuracy_when_key_points_agree'])}, "
        f"when they disagree: {pct(s['accuracy_when_key_points_disagree'])}"
    )
    return "\n".join(lines)
