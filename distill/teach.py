"""`kpdd teach` and `kpdd filter`: teacher rationales to an append-only JSONL, then verified
training records.

Teaching runs (problem, sample) jobs on a thread pool (the concurrency limit), writes each finished
record at once through `RecordStore` (resumable, no duplicates), and stops early when the teacher
looks dead (many jobs in a row failed) so a rerun can resume. Filtering runs every program in the
sandbox and keeps it only if its answer matches gold, keeps a CoT only if its extracted answer
matches, deduplicates, and reports the kept share and the failures by stage and kind.

Evaluation data (GSM8K test, SVAMP, ASDiv, MultiArith, GSM-Symbolic) is refused for training:
`teach` writes it only with `reference_only` (key points for `kpdd analyze`), and `train` refuses
such records.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from distill.chat_client import TeacherError
from distill.store import RecordStore, read_jsonl, record_key
from distill.teachers import Sampling, Teacher, now_iso, provenance
from kpdd.answers import answer_from_value, answers_match, extract_answer
from kpdd.backend import BackendError
from kpdd.format import Mode

EVAL_ONLY_NAMES = ("gsm8k", "svamp", "asdiv", "multiarith")  # data set names that are evaluation sets
_EVAL_ONLY_PATTERN = re.compile(r"(test|svamp|asdiv|multiarith|symbolic)", re.IGNORECASE)
# A problem id from an evaluation set, also inside a derived one's ("zh-gsm8k-test-282": a translation).
_EVAL_ID = re.compile(r"(?:^|-)(?:gsm8k-test|svamp|asdiv|multiarith)")


class EvalDataError(ValueError):
    """Data meant for evaluation was given for training."""


def eval_only_reason(name_or_path: str) -> str | None:
    """Why a data set must not be used for training (None when it may)."""
    key = name_or_path.strip().lower()
    if key in EVAL_ONLY_NAMES:
        what = "GSM8K test" if key == "gsm8k" else key
        return f"{what} is an evaluation set"
    if key not in ("gsm8k-train",) and _EVAL_ONLY_PATTERN.search(Path(key).name):
        return f"{name_or_path} looks like evaluation data (test / SVAMP / ASDiv / MultiArith / GSM-Symbolic)"
    path = Path(name_or_path).expanduser()
    if path.suffix == ".jsonl" and path.is_file():  # a derived list: a translation keeps its source's id
        for record in read_jsonl(path):
            source = str(record.get("source_id") or record.get("id") or "")
            if _EVAL_ID.search(source):
                return f"{name_or_path} holds problems of an evaluation set ({source})"
    return None


def check_training_data(name_or_path: str) -> None:
    reason = eval_only_reason(name_or_path)
    if reason:
        raise EvalDataError(
            f"Refusing to make training data from {name_or_path!r}: {reason}. GSM8K test, GSM-Symbolic "
            "(built from GSM8K test), SVAMP, ASDiv and MultiArith are for evaluation only. Train on "
            "gsm8k-train or your own problems; to build reference key points for `kpdd analyze`, pass "
            "--reference-only (such records are never trained on)."
        )


def record_training_problem(record: dict[str, Any]) -> str | None:
    """Why a teacher/filtered record must not be trained on (None when it may)."""
    prov = record.get("provenance") or {}
    if prov.get("reference_only"):
        return "it was written with --reference-only"
    source = str(record.get("source") or "")
    problem_id = str(record.get("problem_id") or "")
    if source in EVAL_ONLY_NAMES or _EVAL_ID.search(problem_id):
        return f"it comes from the evaluation set {source or problem_id}"
    data = str(prov.get("data") or "")
    if data and eval_only_reason(data):
        return f"it comes from {data}"
    return None


# -- teach -------------------------------------------------------------------------------------


def make_record(
    problem: Any, sample: int, mode: Mode, stages: dict[str, Any], prov: dict[str, Any]
) -> dict[str, Any]:
    return {
        "problem_id": problem.id,
        "sample": sample,
        "source": problem.source,
        "question": problem.question,
        "gold": problem.answer,
        "mode": mode.value,
        **stages,
        "provenance": prov,
    }


def run_teach(
    teacher: Teacher,
    problems: Sequence[Any],
    out: str | Path,
    *,
    mode: Mode = Mode.POT,
    samples: int = 1,
    first_sample: int = 0,
    sampling: Sampling | None = None,
    concurrency: int = 4,
    data_name: str = "",
    reference_only: bool = False,
    max_consecutive_failures: int = 16,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Teach every (problem, sample) not yet in `out`; returns statistics.

    A job whose teacher call fails after its retries is not written (a rerun does it again) and is
    counted in `failed`. After `max_consecutive_failures` failed jobs in a row the run stops early.
    """
    if not reference_only and data_name:
        check_training_data(data_name)
    sampling = sampling or getattr(teacher, "sampling", None)
    store = RecordStore(out)
    stats: dict[str, Any] = {
        "problems": len(problems),
        "jobs": 0,
        "already_done": 0,
        "written": 0,
        "failed": 0,
        "failed_by_kind": Counter(),
        "gold_failures": Counter(),
        "stopped_early": False,
        "repaired_bytes": store.repaired_bytes,
    }
    jobs = [
        (problem, sample) for problem in problems for sample in range(first_sample, first_sample + samples)
    ]
    stats["jobs"] = len(jobs)
    started = time.perf_counter()
    try:
        if hasattr(teacher, "teach_many"):  # a batched teacher: one call, records written as they finish
            _teach_batched(teacher, jobs, mode, store, stats, sampling, data_name, reference_only, progress)
        else:
            threaded = _ThreadedJobs(teacher, mode, store, stats, sampling, data_name, reference_only,
                                     max_consecutive_failures, progress)  # fmt: skip
            threaded.run_all(jobs, concurrency)
            stats["stopped_early"] = threaded.stop.is_set() and not stats.get("interrupted")
    finally:
        store.close()
    stats["seconds"] = round(time.perf_counter() - started, 3)
    stats["records_per_second"] = round(stats["written"] / stats["seconds"], 4) if stats["seconds"] else 0.0
    stats["failed_by_kind"] = dict(stats["failed_by_kind"])
    stats["gold_failures"] = dict(stats["gold_failures"])
    stats["remaining"] = stats["jobs"] - stats["already_done"] - stats["written"]
    return stats


class _ThreadedJobs:
    """Teacher calls on a thread pool (an HTTP endpoint serves several at once), one record each.

    A job whose call fails after its retries is not written (a rerun does it again); after
    `max_consecutive_failures` failures in a row the rest are not started.
    """

    def __init__(self, teacher, mode, store, stats, sampling, data_name, reference_only,
                 max_consecutive_failures, progress) -> None:  # fmt: skip
        self.teacher, self.mode, self.store, self.stats = teacher, mode, store, stats
        self.provenance_of = (sampling, data_name, reference_only)
        self.max_consecutive_failures = max_consecutive_failures
        self.progress = progress
        self.lock = threading.Lock()
        self.consecutive_failures = 0
        self.stop = threading.Event()

    def run_all(self, jobs: list[tuple[Any, int]], concurrency: int) -> None:
        workers = max(1, concurrency)
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                pending: set[Future] = set()
                for problem, sample in jobs:
                    pending.add(pool.submit(self.run_one, problem, sample))
                    # At most 2x workers queued, so an early stop does not wait for thousands.
                    if len(pending) >= 2 * workers:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            future.result()
                    if self.stop.is_set():
                        break
                for future in pending:
                    future.result()
        except KeyboardInterrupt:
            self.stop.set()
            self.stats["interrupted"] = True

    def run_one(self, problem: Any, sample: int) -> None:
        if self.stop.is_set():
            return
        stats = self.stats
        prov = provenance(self.teacher, *self.provenance_of)  # stamped with the time the job starts
        if record_key({"problem_id": problem.id, "sample": sample, "provenance": prov}) in self.store:
            with self.lock:
                stats["already_done"] += 1
            return
        try:
            stages = self.teacher.teach(problem, self.mode, sample)
        except TeacherError as exc:
            with self.lock:
                stats["failed"] += 1
                stats["failed_by_kind"][exc.kind] += 1
                self.consecutive_failures += 1
                if self.consecutive_failures >= self.max_consecutive_failures:
                    self.stop.set()
            return
        written = self.store.append(make_record(problem, sample, self.mode, stages, prov))
        with self.lock:
            self.consecutive_failures = 0
            if written:
                stats["written"] += 1
                if stages.get("failure"):
                    stats["gold_failures"][stages["failure"]] += 1
        if self.progress is not None:
            self.progress(stats)


def _teach_batched(
    teacher: Any,
    jobs: list[tuple[Any, int]],
    mode: Mode,
    store: RecordStore,
    stats: dict[str, Any],
    sampling: Sampling | None,
    data_name: str,
    reference_only: bool,
    progress: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Hand every job not yet in `store` to `teacher.teach_many`, writing each record as it finishes.

    Ctrl+C stops the run; every record finished so far is already written, so a rerun resumes."""
    prov = provenance(teacher, sampling, data_name, reference_only)
    todo = []
    for problem, sample in jobs:
        if record_key({"problem_id": problem.id, "sample": sample, "provenance": prov}) in store:
            stats["already_done"] += 1
        else:
            todo.append((problem, sample))

    def on_done(index: int, stages: dict[str, Any]) -> None:
        problem, sample = todo[index]
        record = make_record(problem, sample, mode, stages, {**prov, "time": now_iso()})
        if store.append(record):
            stats["written"] += 1
            if stages.get("failure"):
                stats["gold_failures"][stages["failure"]] += 1
        if progress is not None:
            progress(stats)

    try:
        teacher.teach_many(todo, mode, on_done)
    except KeyboardInterrupt:
        stats["interrupted"] = True
    except BackendError as exc:
        stats["failed"] += len(todo) - stats["written"]
        stats["failed_by_kind"]["llama_error"] += 1
        stats["error"] = str(exc)


# -- filter ------------------------------------------------------------------------------------


def with_answer_line(program: str) -> str:
    """`program` ending in `answer = NAME`, NAME being its last top-level assignment (if it has one)."""
    import ast

    from kpdd.sandbox import last_assignment_name

    try:
        name = last_assignment_name(ast.parse(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return program
    return program.rstrip() + f"\nanswer = {name}" if name and name != "answer" else program


def _normalize_code(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def _normalize_steps(text: str) -> str:
    return " ".join(text.split()).lower()


def filter_records(
    records: Iterable[dict[str, Any]],
    *,
    sandbox_timeout_s: float = 2.0,
    allow_reference_only: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Verified training records and statistics.

    A record is kept when its key points are present and at least one of its solutions is right:
    a program whose sandbox answer matches gold, or steps whose extracted answer matches. Wrong
    solutions are dropped from the record; duplicate solutions of the same problem are dropped.
    """
    kept: list[dict[str, Any]] = []
    seen_programs: set[tuple[str, str]] = set()
    seen_steps: set[tuple[str, str]] = set()
    failures: Counter = Counter()
    stats: dict[str, Any] = {"records": 0, "kept": 0, "programs_kept": 0, "steps_kept": 0, "duplicates": 0}
    problems_in: set[str] = set()
    problems_kept: set[str] = set()
    for record in records:
        stats["records"] += 1
        problem_id = str(record.get("problem_id"))
        problems_in.add(problem_id)
        failure = _unusable_record(record, allow_reference_only)
        if failure:
            failures[failure] += 1
            continue
        gold = answer_from_value(record.get("gold"))
        leak = gold_leak(record, gold)
        if leak:
            failures[leak] += 1
            continue
        verdict: dict[str, Any] = {}
        program, steps = record.get("program"), record.get("steps")
        if program is not None:
            program, failure, found = _verified_program(program, gold, sandbox_timeout_s)
            if failure:
                failures[failure] += 1
            elif (problem_id, _normalize_code(program)) in seen_programs:
                stats["duplicates"] += 1
                program = None
            else:
                seen_programs.add((problem_id, _normalize_code(program)))
                verdict.update(found)
        if steps is not None:
            steps, failure, found = _verified_steps(steps, gold)
            if failure:
                failures[failure] += 1
            elif (problem_id, _normalize_steps(steps)) in seen_steps:
                stats["duplicates"] += 1
                steps = None
            else:
                seen_steps.add((problem_id, _normalize_steps(steps)))
                verdict.update(found)
        if program is None and steps is None:
            continue
        stats["programs_kept"] += program is not None
        stats["steps_kept"] += steps is not None
        problems_kept.add(problem_id)
        kept.append(
            {
                "problem_id": problem_id,
                "sample": record.get("sample", 0),
                "source": record.get("source"),
                "question": record["question"],
                "gold": gold,
                "core_question": record["core_question"],
                "key_information": list(record["key_information"]),
                "program": program,
                "steps": steps,
                "provenance": record.get("provenance", {}),
                "filter": verdict,
            }
        )
    stats["kept"] = len(kept)
    stats["kept_share"] = round(stats["kept"] / stats["records"], 4) if stats["records"] else 0.0
    stats["problems"] = len(problems_in)
    stats["problems_kept"] = len(problems_kept)
    stats["problem_coverage"] = round(len(problems_kept) / len(problems_in), 4) if problems_in else 0.0
    stats["failures"] = dict(failures.most_common())
    stats["failures_by_stage"] = dict(Counter(name.split(":", 1)[0] for name in failures.elements()))
    return kept, stats


def gold_leak(record: dict[str, Any], gold: float | None) -> str | None:
    """A rationalized record (the teacher was told the answer) that writes the answer itself, where
    the problem does not: a program with the gold as a literal, or key information stating it. Such a
    record teaches copying, not reasoning: refused. None when there is no leak."""
    if gold is None or (record.get("provenance") or {}).get("pass") != "rationalized":
        return None
    from kpdd.answers import numbers_in_text
    from kpdd.judgement import program_numbers

    in_problem = {round(abs(v), 6) for v in numbers_in_text(str(record.get("question") or ""))}
    target = round(abs(float(gold)), 6)
    if target in in_problem:
        return None  # the answer is one of the problem's own numbers: writing it is no leak
    if target in {round(abs(v), 6) for v in program_numbers(str(record.get("program") or "")) or []}:
        return "program:gold_literal"
    if target in {round(abs(v), 6) for v in numbers_in_text("\n".join(record.get("key_information") or []))}:
        return "key_information:gold_answer"
    return None


def verified_problem_ids(paths: Sequence[str | Path], sandbox_timeout_s: float = 2.0) -> set[str]:
    """The problems of these teacher files with at least one record `filter_records` keeps (its
    program gives the gold answer): what a further pass need not teach again."""
    from itertools import chain

    existing = [Path(p) for p in paths if Path(p).exists()]
    kept, _ = filter_records(
        chain.from_iterable(read_jsonl(p) for p in existing), sandbox_timeout_s=sandbox_timeout_s
    )
    return {str(record["problem_id"]) for record in kept}


def _unusable_record(record: dict[str, Any], allow_reference_only: bool) -> str | None:
    """Why a record cannot be trained on at all (a failure name), or None."""
    if not allow_reference_only and record_training_problem(record):
        return "refused:evaluation_data"
    program, steps = record.get("program"), record.get("steps")
    if record.get("failure") and not program and not steps:
        return f"teacher:{record['failure']}"
    if not (record.get("core_question") or "").strip():
        return "core_question:empty"
    if not record.get("key_information"):
        return "key_information:empty"
    if program is None and steps is None:
        return "solution:missing"
    return None


def _verified_program(
    program: str, gold: float | None, timeout_s: float
) -> tuple[str | None, str | None, dict[str, Any]]:
    """(the program to train on or None, why not, what the filter found) after running it."""
    from kpdd.sandbox import run_program

    if not program.strip():
        return None, "program:empty", {}
    result = run_program(program, timeout_s=timeout_s)
    if not result.ok:
        return None, f"program:{result.error_kind}", {}
    value = answer_from_value(result.answer)
    if not answers_match(value, gold):
        return None, "program:wrong_answer", {}
    if result.answer_source == "last_assignment":
        # Right, but it never said which value it meant: the student learns to say it.
        return with_answer_line(program), None, {"program_answer": value, "answer_line_added": True}
    return program, None, {"program_answer": value}


def _verified_steps(steps: str, gold: float | None) -> tuple[str | None, str | None, dict[str, Any]]:
    """(the steps to train on or None, why not, what the filter found) from their stated answer."""
    value = extract_answer(steps) if steps.strip() else None
    if value is None:
        return None, "steps:no_answer", {}
    if not answers_match(value, gold):
        return None, "steps:wrong_answer", {}
    return steps, None, {"steps_answer": value}


def fill_from_fallback(
    primary: Sequence[dict[str, Any]], fallback: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Primary (LLM teacher) records, with what they lack taken from fallback (gold) records.

    For each problem: the primary's first kept record keeps its key points and solutions; a solution
    kind it lacks (steps, when the teacher wrote programs only) is taken from the fallback's record
    of the same problem, so every example of a problem shows the same key points. A problem the
    primary has no record for gets the fallback's record whole. Each record says where its parts
    came from (`provenance.fallback`)."""
    by_problem: dict[str, dict[str, Any]] = {}
    for record in fallback:
        by_problem.setdefault(str(record["problem_id"]), record)
    merged: list[dict[str, Any]] = []
    counts = {"primary": 0, "filled_program": 0, "filled_steps": 0, "fallback_only": 0}
    seen: set[str] = set()
    for record in primary:
        problem_id = str(record["problem_id"])
        record = dict(record)
        other = by_problem.get(problem_id)
        if problem_id not in seen and other is not None:
            filled = {}
            for kind in ("program", "steps"):
                if not record.get(kind) and other.get(kind):
                    record[kind] = other[kind]
                    filled[kind] = other.get("provenance", {}).get("teacher", "fallback")
                    counts[f"filled_{kind}"] += 1
            if filled:
                record["provenance"] = {**record.get("provenance", {}), "fallback": filled}
        seen.add(problem_id)
        counts["primary"] += 1
        merged.append(record)
    for problem_id, record in by_problem.items():
        if problem_id not in seen:
            counts["fallback_only"] += 1
            merged.append(record)
    return merged, counts


def run_filter(
    inputs: Sequence[str | Path],
    out: str | Path,
    stats_path: str | Path | None = None,
    fallback: Sequence[str | Path] = (),
    **kwargs: Any,
) -> dict[str, Any]:
    """Filter teacher JSONL files into `out` (rewritten atomically) and save statistics beside it.

    `fallback` files (gold rationales) are filtered too and fill in what the teacher's kept records
    lack (`fill_from_fallback`): the paper's way of training on the teacher where it is right."""
    from kpdd.paths import atomic_write_text

    def records(paths: Sequence[str | Path]) -> Iterable[dict[str, Any]]:
        for path in paths:
            yield from read_jsonl(path)

    kept, stats = filter_records(records(inputs), **kwargs)
    if fallback:
        fallback_kept, fallback_stats = filter_records(records(fallback), **kwargs)
        kept, stats["fallback_merge"] = fill_from_fallback(kept, fallback_kept)
        stats["fallback"] = {"inputs": [str(p) for p in fallback], "kept": fallback_stats["kept"]}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    stats["inputs"] = [str(p) for p in inputs]
    stats["output"] = str(out)
    stats["records_written"] = len(kept)
    stats["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    stats_file = Path(stats_path) if stats_path else out.with_name(out.name + ".stats.json")
    atomic_write_text(stats_file, json.dumps(stats, indent=1))
    stats["stats_file"] = str(stats_file)
    return stats
