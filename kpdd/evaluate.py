"""`kpdd eval`: accuracy of a model on a data set, with one record per problem.

Records are appended to `<report>.partial.jsonl` as each problem finishes, so an interrupted run
(Ctrl-C, a crash) resumes where it stopped: a rerun with the same report path skips finished
problems. The report JSON holds the summary and every record; the last printed line is
`accuracy: X.XX%`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpdd.answers import answers_match
from kpdd.datasets import Problem
from kpdd.format import Mode
from kpdd.jsonl import read_jsonl, repair_tail
from kpdd.paths import atomic_write_text
from kpdd.result import SolveResult
from kpdd.solver import AUTO_SAMPLES, Solver


@dataclass
class EvalConfig:
    data: str
    mode: Mode
    samples: int
    model: str
    backend: str
    limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self) -> dict[str, Any]:
        """What must match for a partial run to be resumed."""
        key = {"data": self.data, "mode": self.mode.value, "samples": self.samples, "model": self.model}
        for name in ("second_opinion", "second_opinion_on"):
            if self.extra.get(name):
                key[name] = self.extra[name]
        return key


# A continuously batching backend gets this many rounds of problems per call (records are written
# after each call, so an interrupted run loses at most one call's work).
CONTINUOUS_CHUNKS = 4


def error_kind_of(result: SolveResult, correct: bool) -> str | None:
    """Why a problem was missed: no usable output, a program error kind, or a wrong answer."""
    if correct:
        return None
    if result.error:
        return "backend_error"
    if result.answer is not None:
        return "wrong_answer"
    if not any(s.text.strip() for s in result.solutions):
        return "no_output"
    kinds = [s.error_kind for s in result.solutions if s.error_kind]
    return Counter(kinds).most_common(1)[0][0] if kinds else "no_output"


def record_for(problem: Problem, result: SolveResult) -> dict[str, Any]:
    correct = answers_match(result.answer, problem.answer)
    return {
        "id": problem.id,
        "question": problem.question,
        "gold": problem.answer,
        "prediction": result.answer,
        "correct": correct,
        "error_kind": error_kind_of(result, correct),
        "confidence": result.confidence,
        "agree": result.agree,
        "stepped_past": result.stepped_past,
        "rechecked": result.rechecked,
        "second_opinion": result.second_opinion,
        "core_question": result.core_question,
        "key_information": result.key_information,
        "solutions": [
            {
                "kind": s.kind.value,
                "text": s.text,
                "answer": s.answer,
                "error_kind": s.error_kind,
                "error": s.error,
                "answer_source": s.answer_source,
                "model": s.model,
            }
            for s in result.solutions
        ],
        "prompt_tokens": result.prompt_tokens,
        "prompt_tokens_evaluated": result.prompt_tokens_evaluated,
        "completion_tokens": result.completion_tokens,
        "seconds": round(result.seconds, 4),
        "first_answer_seconds": None
        if result.first_answer_seconds is None
        else round(result.first_answer_seconds, 4),
    }


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    correct = sum(1 for r in records if r["correct"])
    seconds = sorted(r["seconds"] for r in records)
    completion = sum(r["completion_tokens"] for r in records)
    errors = Counter(r["error_kind"] for r in records if r["error_kind"])
    summary: dict[str, Any] = {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "errors": dict(errors.most_common()),
        "seconds_median": statistics.median(seconds) if seconds else 0.0,
        "seconds_p90": seconds[min(n - 1, int(0.9 * n))] if seconds else 0.0,
        "completion_tokens": completion,
        "tokens_per_second": completion / sum(seconds) if seconds and sum(seconds) else 0.0,
    }
    agreements = [r["agree"] for r in records if r.get("agree") is not None]
    if agreements:
        summary["both_agree_share"] = sum(agreements) / len(agreements)
    return summary


def partial_path(report: Path) -> Path:
    return report.with_name(report.name + ".partial.jsonl")


def _has_records(part: Path) -> bool:
    """Whether a partial file holds any finished problem (more than its header line)."""
    if not part.exists():
        return False
    with part.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip()) > 1


def _set_aside(part: Path) -> Path:
    """Rename a partial file of another configuration to a free `.set-aside-N` name; returns it."""
    number = 1
    while (target := part.with_name(f"{part.name}.set-aside-{number}")).exists():
        number += 1
    part.rename(target)
    return target


def load_partial(report: Path, config: EvalConfig) -> dict[str, dict[str, Any]]:
    """Finished records of an earlier run with the same configuration (others are ignored)."""
    path = partial_path(report)
    if not path.exists():
        return {}
    objects = read_jsonl(path)  # a line cut short by a crash is skipped: that problem runs again
    header = next(objects, {})
    if header.get("config") != config.key():
        return {}
    return {record["id"]: record for record in objects if "id" in record}


def _open_partial(
    report: Path, config: EvalConfig, resume: bool, log: Callable[[str], None] | None
) -> tuple[Any, Path | None]:
    """The partial file, open for appending records: (handle, where another run's file was moved)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(report)
    set_aside = None
    if not resume and _has_records(part):
        set_aside = _set_aside(part)  # another configuration's finished work: keep it, never truncate
        if log is not None:
            log(f"{part.name} holds a run with another configuration: kept as {set_aside.name}")
    if resume:
        repair_tail(part)  # a record torn by a kill is dropped, and the next starts on a line of its own
    handle = part.open("a" if resume else "w", encoding="utf-8")
    if not resume:
        handle.write(json.dumps({"config": config.key()}) + "\n")
        handle.flush()
    return handle, set_aside


def run_eval(
    solver: Solver,
    problems: Sequence[Problem],
    config: EvalConfig,
    report: Path | None = None,
    progress: Callable[[int, int, dict[str, Any], int, int], None] | None = None,
    batch_size: int = 1,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate; returns the report dict (summary + records). Resumes from `report`'s partial file.

    `progress(done, total, record, solved_now)` is called per problem; `solved_now` counts the
    problems solved by this call (not taken from the partial file), which is what a time estimate
    must be based on.

    With `batch_size` > 1 and one sample, problems are solved in batches through the backend's
    `generate_batch` (when it has one); otherwise one by one.
    """
    done = load_partial(report, config) if report else {}
    resumed = len(done)
    handle, set_aside = _open_partial(report, config, resume=bool(done), log=log) if report else (None, None)
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    interrupted = False
    batched = (
        batch_size > 1 and config.samples in (1, AUTO_SAMPLES) and hasattr(solver.backend, "generate_batch")
    )
    step = batch_size if batched else 1
    if batched and hasattr(solver.backend, "batch_parallel"):
        step *= CONTINUOUS_CHUNKS  # slots refill as problems finish: give them more than one round
    try:
        for start in range(0, len(problems), step):
            chunk = problems[start : start + step]
            todo = [p for p in chunk if p.id not in done]
            if batched and todo:
                solved = solver.solve_batch([p.question for p in todo], config.mode, config.samples)
            else:
                solved = [solver.solve(p.question, config.mode, samples=config.samples) for p in todo]
            for problem, result in zip(todo, solved):
                done[problem.id] = record_for(problem, result)
                if handle is not None:
                    handle.write(json.dumps(done[problem.id]) + "\n")
                    handle.flush()
            for problem in chunk:
                records.append(done[problem.id])
                if progress is not None:
                    progress(len(records), len(problems), done[problem.id], len(done) - resumed, resumed)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if handle is not None:
            handle.close()
    summary = summarize(records)
    summary["wall_seconds"] = time.perf_counter() - started
    summary["resumed"] = resumed
    if set_aside is not None:
        summary["set_aside"] = str(set_aside)
    summary["interrupted"] = interrupted
    result = {
        "config": {**config.key(), "backend": config.backend, "limit": config.limit, **config.extra},
        "summary": summary,
        "records": records,
    }
    if report is not None:
        atomic_write_text(report, json.dumps(result, indent=1))
    if interrupted:
        raise KeyboardInterrupt
    return result


class EvalProgress:
    """`kpdd eval`'s progress bar (tqdm, on stderr): the problems solved in this run, the accuracy so
    far over every finished one, and the time left from this run's pace alone (resumed problems took
    no time, so they are not on the bar)."""

    def __init__(self, file: Any = None) -> None:
        self.file = file if file is not None else sys.stderr
        self.bar: Any = None
        self.correct = 0

    def __call__(self, done: int, total: int, record: dict[str, Any], solved_now: int, resumed: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total - resumed, unit="problem", file=self.file, dynamic_ncols=True,
                            desc="solving" + (f" ({resumed} resumed)" if resumed else ""),
                            mininterval=0.5 if self.file.isatty() else 30.0)  # fmt: skip
        self.correct += bool(record.get("correct"))
        self.bar.set_postfix_str(f"accuracy so far {100 * self.correct / done:.1f}%", refresh=False)
        self.bar.update(solved_now - self.bar.n)
        if done == total:
            self.bar.close()
