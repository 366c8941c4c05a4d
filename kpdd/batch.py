"""Batch solving for teachers: a list of problems solved in order, resumable after a cancel or crash.

Input: `.txt` (one problem per paragraph, paragraphs separated by blank lines; a list typed one
problem per line, each line a question or numbered, is read line by line), `.csv` (a column named
question/problem/text, else the first column; an optional `answer` column) or `.jsonl` (objects with
`question` or `problem`, optional `answer`). `describe_problems` says what was read, for the batch
dialog and `kpdd sheet` to show before solving.

Every finished problem is appended to a JSONL results file (flushed and fsynced) as soon as it is
done, keyed by a hash of its text and the solving options. Running the same batch again reads that
file first and solves only what is missing, so cancel + resume never redoes finished work. A line cut
short by a killed process is ignored (that one problem is solved again). Plain Python, no Qt.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpdd import paths
from kpdd.jsonl import append_jsonl, read_jsonl

QUESTION_COLUMNS = ("question", "problem", "text", "body")


@dataclass
class BatchProblem:
    index: int  # 0-based position in the input
    question: str
    answer: float | None = None  # a known answer, when the input has one (shown in sheets)


@dataclass
class BatchProgress:
    done: int  # finished problems, resumed ones included
    total: int
    resumed: int  # finished in an earlier run and not solved again
    elapsed_s: float  # this run
    eta_s: float | None  # estimated seconds left (None until one problem was solved in this run)
    current: str = ""  # the problem being solved now ("" when finished)
    last_result: dict[str, Any] | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass
class BatchOutcome:
    results: list[dict[str, Any] | None]  # in input order; None where not solved (cancelled)
    cancelled: bool = False
    resumed: int = 0
    solved_now: int = 0
    results_path: Path | None = None
    problems: list[BatchProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(r is not None for r in self.results)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    from kpdd.answers import answer_from_value, extract_answer

    number = answer_from_value(value)
    return number if number is not None else extract_answer(str(value))


# A line that starts a new problem in a list: "1.", "2)", "-", "*" or a bullet, then the problem.
# "1." "(2)" "- " "• ", and the Chinese forms "1、" "（3）" "４．" (digits full-width or not).
_LIST_MARK = re.compile(
    r"^\s*(?:[(\uff08]?[0-9\uff10-\uff19]{1,3}(?:[.):]\s+|[\u3001\uff0e\uff09]\s*)|[-*\u2022]\s+)"
)
# A line that ends a problem: a question (? or the full-width ？), maybe closed by a quote or a bracket.
_QUESTION_END = re.compile(r"[?\uff1f][\"'\u201d\u2019)\]\uff09\u300d\u300f]*\s*$")
# How much of each problem the preview shows.
PREVIEW_CHARS = 70


def split_paragraph(paragraph: str) -> list[str]:
    """One paragraph of a .txt list as its problems.

    A paragraph is one problem, unless it is a list typed without blank lines: lines that start with
    a number or a bullet each begin a problem (a line without one continues the previous problem),
    and in a paragraph of several questions each line that ends with "?" ends a problem ("A farmer
    ... apples.\nHow many are left?" stays one problem: its first line asks nothing)."""
    lines = [line for line in paragraph.split("\n") if line.strip()]
    if len(lines) < 2:
        return [" ".join(lines)]
    if sum(bool(_LIST_MARK.match(line)) for line in lines) >= 2 and _LIST_MARK.match(lines[0]):
        problems: list[str] = []
        for line in lines:
            if _LIST_MARK.match(line):
                problems.append(_LIST_MARK.sub("", line, count=1))
            else:
                problems[-1] += " " + line.strip()
        return problems
    if sum(bool(_QUESTION_END.search(line)) for line in lines) >= 2 and _QUESTION_END.search(lines[-1]):
        problems, current = [], []
        for line in lines:
            current.append(line.strip())
            if _QUESTION_END.search(line):
                problems.append(" ".join(current))
                current = []
        return problems
    return [" ".join(line.strip() for line in lines)]


def describe_problems(problems: list[BatchProblem], source: str = "") -> list[str]:
    """What was read, before solving: "Read 8 problems from week-3.txt:", the start of each, and a
    note for a problem that asks several questions (perhaps several problems on one line)."""
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    lines = [f"Read {count}" + (f" from {source}:" if source else ":")]
    for problem in problems:
        text = problem.question
        start = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "\u2026"
        lines.append(f"{problem.index + 1:>3}. {start}")
    for problem in problems:
        questions = text_questions(problem.question)
        if questions > 1:
            lines.append(
                f"Problem {problem.index + 1} asks {questions} questions. If it holds several problems, put "
                "each on a line of its own (or leave a blank line between them)."
            )
    return lines


def text_questions(text: str) -> int:
    """How many questions a text asks (its question marks that end a sentence)."""
    # A full-width ？ ends a question whatever follows: Chinese puts no space after it.
    return len(re.findall(r"\?(?=[\"'\u201d\u2019)\]]*(?:\s|$))|\uff1f", text))


def parse_problems(text: str, suffix: str) -> list[BatchProblem]:
    """Problems from file contents; `suffix` is ".txt", ".csv" or ".jsonl" (else treated as text)."""
    suffix = suffix.lower()
    questions: list[tuple[str, float | None]] = []
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        if rows:
            header = [h.strip().lower() for h in rows[0]]
            column = next((header.index(c) for c in QUESTION_COLUMNS if c in header), None)
            answer_column = header.index("answer") if "answer" in header else None
            body = rows[1:] if column is not None else rows
            column = column or 0
            for row in body:
                if column < len(row):
                    answer = (
                        row[answer_column] if answer_column is not None and answer_column < len(row) else None
                    )
                    questions.append((row[column], _number(answer)))
    elif suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"Line {number} of the JSONL file is not valid JSON: {exc}") from exc
            if isinstance(item, str):
                questions.append((item, None))
            elif isinstance(item, dict):
                question = next((item[k] for k in (*QUESTION_COLUMNS, "Question") if item.get(k)), "")
                questions.append((str(question), _number(item.get("answer"))))
    else:
        paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
        questions = [(p, None) for paragraph in paragraphs for p in split_paragraph(paragraph)]
    problems = []
    for question, answer in questions:
        question = " ".join(str(question).split())
        if question:
            problems.append(BatchProblem(len(problems), question, answer))
    return problems


def read_problems(path: str | Path) -> list[BatchProblem]:
    """The problems of a .txt/.csv/.jsonl list. Raises ValueError with a message a user can act on
    (the app shows it in the batch dialog, `kpdd sheet` prints it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a list of problems.") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a text file (save the problems as UTF-8 text).") from None
    except OSError as exc:
        raise ValueError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    problems = parse_problems(text, path.suffix)
    if not problems:
        raise ValueError(f"{path.name} holds no problems (expected one per paragraph, a CSV or JSONL list).")
    return problems


def solver_identity(solver: Any) -> str:
    """What a batch answer depends on besides the problem and mode: the model, and the second model
    that checks it, so a batch run again after the second opinion is turned on or off is solved
    again rather than showing answers checked another way. (A batch has the second model check
    every answer whenever one is loaded, so when it is asked needs no place in the key.)"""
    name = getattr(getattr(getattr(solver, "backend", None), "info", None), "name", "")
    second = getattr(solver, "second_opinion", None)
    if second is None:
        return name  # the key a batch had before second opinions existed: old results stay valid
    return f"{name} + {second.backend.info.name}"


def problem_key(question: str, mode: str, samples: int, model: str = "") -> str:
    """Identity of one finished result: same text and options means already solved."""
    raw = json.dumps([" ".join(question.split()), str(mode), int(samples), model], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def default_results_path(input_path: str | Path, mode: str, samples: int = 1) -> Path:
    """Where a batch of this input file keeps its results (in the user's data folder)."""
    input_path = Path(input_path).resolve()
    tag = hashlib.sha256(f"{input_path}|{mode}|{samples}".encode()).hexdigest()[:10]
    return paths.home_dir() / "batches" / f"{input_path.stem}-{mode}-{tag}.jsonl"


def load_results(results_path: str | Path) -> dict[str, dict[str, Any]]:
    """Finished results by key; a torn last line (a killed writer) is skipped."""
    if not Path(results_path).exists():
        return {}
    return {
        item["key"]: item
        for item in read_jsonl(results_path)
        if item.get("key") and isinstance(item.get("result"), dict)
    }


def run_batch(
    solver: Any,
    problems: list[BatchProblem],
    results_path: str | Path,
    *,
    mode: str = "pot",
    samples: int = 1,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: Any = None,
) -> BatchOutcome:
    """Solve `problems` in order with `solver` (a `kpdd.solver.Solver`), skipping finished ones."""
    results_path = Path(results_path)
    model = solver_identity(solver)
    finished = load_results(results_path)
    keys = [problem_key(p.question, mode, samples, model) for p in problems]
    results: list[dict[str, Any] | None] = [finished[k]["result"] if k in finished else None for k in keys]
    resumed = sum(r is not None for r in results)
    outcome = BatchOutcome(results, resumed=resumed, results_path=results_path, problems=list(problems))
    started = time.perf_counter()
    solved_seconds: list[float] = []

    def report(current: str, last: dict[str, Any] | None) -> None:
        if progress is None:
            return
        done = sum(r is not None for r in results)
        remaining = len(problems) - done
        eta = (sum(solved_seconds) / len(solved_seconds)) * remaining if solved_seconds else None
        progress(BatchProgress(done, len(problems), resumed, time.perf_counter() - started,
                               eta if remaining else 0.0, current, last))  # fmt: skip

    report(next((p.question for p, r in zip(problems, results) if r is None), ""), None)
    for problem, key, index in zip(problems, keys, range(len(problems))):
        if results[index] is not None:
            continue
        if cancel is not None and cancel.cancelled:
            outcome.cancelled = True
            break
        t0 = time.perf_counter()
        result = solver.solve(problem.question, mode, samples=samples, cancel=cancel)
        if result.cancelled:
            outcome.cancelled = True
            break
        data = result.to_dict()
        if problem.answer is not None:
            data["expected_answer"] = problem.answer
        append_jsonl(results_path, {"key": key, "index": problem.index, "result": data})
        results[index] = data
        outcome.solved_now += 1
        solved_seconds.append(time.perf_counter() - t0)
        upcoming = next((p.question for p, r in zip(problems, results) if r is None), "")
        report(upcoming, data)
    return outcome


def format_eta(seconds: float | None) -> str:
    """ "about 2 min 10 s left" style text for progress displays."""
    if seconds is None:
        return "estimating time left..."
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"about {seconds // 3600} h {seconds % 3600 // 60} min left"
    if seconds >= 60:
        return f"about {seconds // 60} min {seconds % 60} s left"
    return f"about {seconds} s left"
