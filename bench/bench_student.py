"""The default student against the stock model, the ablation and the KPDD paper (bench/records/smollm2-history.md).

Runs `kpdd eval` (llama.cpp backend, the shipped files) for each configuration on the first
`--limit` problems of GSM8K test, SVAMP, ASDiv (numeric items) and MultiArith, then prints the
accuracy, time-to-answer and tokens/s tables, the error analysis of KPDD-PoT against the plain-PoT
ablation, and the side-by-side with the paper. Every report is a resumable `kpdd eval --out` file
under --out, so an interrupted run picks up where it stopped and a rerun only re-renders.

    .venv/bin/python bench/bench_student.py --limit 100            # the MODEL_CARD.md run
    .venv/bin/python bench/bench_student.py --limit 0              # every problem of every set
    .venv/bin/python bench/bench_student.py --limit 0 --jobs 2 --out runs/results-full
                                   # all problems, two evals at once (1 thread each): more problems per
                                   # hour, but the times are not a user's latency; take those from a
                                   # --jobs 1 run (the default), which this prints beside the figures
    .venv/bin/python bench/bench_student.py --limit 300 --shuffle 0 --adapter NEW.gguf --out runs/results-new \
        --configs kpdd-pot,kpdd-cot --baseline runs/results-full
                                   # a new training sitting against the shipped student, problem by
                                   # problem on the same random sample

Configurations (`--configs` picks some; `--small-limit` caps the slow ones):
    stock-cot, stock-pot   SmolLM2-135M-Instruct Q4_1, few-shot in the KPDD format
    kpdd-cot, kpdd-pot     the shipped KPDD adapter over the same Q4_1 base
    kpdd-pot-sc5           KPDD-PoT, 5 samples, vote weighed by plausibility (kpdd.solver.vote)
    kpdd-pot-auto          KPDD-PoT, samples "auto": one, and five to vote on when it looks wrong
    kpdd-both              the app's Both mode: program and steps from the same key points
    plain-pot              the ablation: same recipe and problems, no key-point stages
                           (--ablation; the default is sitting 4, matching the shipped student)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETS = ("gsm8k", "svamp", "asdiv", "multiarith")
SET_NAMES = {"gsm8k": "GSM8K", "svamp": "SVAMP", "asdiv": "ASDiv", "multiarith": "MultiArith"}
# Paired comparisons the bench prints, each on the problems both configurations finished: the key
# points (against the ablation), self-consistency, and the distillation itself (against stock).
PAIRS = (("kpdd-pot", "plain-pot"), ("kpdd-pot-sc5", "kpdd-pot"), ("kpdd-pot", "stock-pot"),
         ("kpdd-cot", "stock-cot"), ("kpdd-pot", "kpdd-cot"), ("kpdd-both", "kpdd-pot"),
         ("kpdd-both", "kpdd-cot"))  # fmt: skip
# The KPDD paper's FlanT5-Large (760M) figures as a secondary summary reports them: only the
# four-set averages are quoted here, since per-set numbers were not available to us to check.
PAPER_AVERAGE = {"kpdd-cot": 24.71, "kpdd-pot": 63.83}


def configs(adapter: Path | None, ablation: Path | None, base: Path) -> dict[str, dict[str, Any]]:
    """name -> kpdd eval arguments. A configuration whose adapter is missing is left out."""
    out: dict[str, dict[str, Any]] = {
        "stock-cot": {"model": base, "lora": None, "mode": "cot", "samples": 1, "slow": True},
        "stock-pot": {"model": base, "lora": None, "mode": "pot", "samples": 1, "slow": True},
    }
    if adapter is not None:
        out["kpdd-cot"] = {"model": base, "lora": adapter, "mode": "cot", "samples": 1, "slow": False}
        out["kpdd-pot"] = {"model": base, "lora": adapter, "mode": "pot", "samples": 1, "slow": False}
        out["kpdd-pot-sc5"] = {"model": base, "lora": adapter, "mode": "pot", "samples": 5, "slow": True}
        out["kpdd-both"] = {"model": base, "lora": adapter, "mode": "both", "samples": 1, "slow": True}
        out["kpdd-pot-auto"] = {
            "model": base,
            "lora": adapter,
            "mode": "pot",
            "samples": "auto",
            "slow": True,
        }
    if ablation is not None:
        out["plain-pot"] = {"model": base, "lora": ablation, "mode": "pot", "samples": 1, "slow": False}
    return out


def report_path(out: Path, name: str, data: str) -> Path:
    return out / name / f"{data}.json"


def run_config(name: str, config: dict[str, Any], data: str, limit: int, out: Path, threads: int,
               quiet: bool = False, shuffle: int | None = None) -> None:  # fmt: skip
    """One `kpdd eval` (resumable). `quiet`: its progress goes to a .log beside the report."""
    report = report_path(out, name, data)
    command = [sys.executable, "-m", "kpdd.cli", "eval", "--data", data, "--mode", config["mode"],
               "--samples", str(config["samples"]), "--model", str(config["model"]),
               "--out", str(report), "--threads", str(threads)]  # fmt: skip
    if config["lora"] is not None:
        command += ["--lora", str(config["lora"])]
    if limit > 0:
        command += ["--limit", str(limit)]
    if shuffle is not None:
        command += ["--shuffle", str(shuffle)]
    print(f"== {name} on {data}", file=sys.stderr, flush=True)
    if not quiet:
        subprocess.run(command, check=True, cwd=REPO)
        return
    report.parent.mkdir(parents=True, exist_ok=True)
    with report.with_suffix(".log").open("a", encoding="utf-8") as log:
        subprocess.run(command, check=True, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    print(
        f"== {name} on {data}: {percent(summary['accuracy'])}% of {summary['n']}", file=sys.stderr, flush=True
    )


def load_report(out: Path, name: str, data: str) -> dict[str, Any] | None:
    path = report_path(out, name, data)
    if not path.is_file():
        return None
    return revote(json.loads(path.read_text(encoding="utf-8")))


def record_solutions(record: dict[str, Any]) -> list[Any]:
    """An eval record's solutions as `kpdd.result.Solution`s (what a vote reads), through the one
    mapping of a record to a result (`SolveResult.from_record`)."""
    from kpdd.result import SolveResult

    return SolveResult.from_record(record, "pot").solutions


def revote(report: dict[str, Any]) -> dict[str, Any]:
    """Score a several-sample report by the vote the app ships now (`kpdd.solver.vote`, run over the
    samples the records hold), so a report made before the vote changed reads as the app answers now.
    Each record keeps the plain majority's verdict as `plain_vote_correct`."""
    from kpdd.answers import answers_match
    from kpdd.evaluate import summarize
    from kpdd.format import Mode
    from kpdd.judgement import vote

    config = report["config"]
    if config.get("samples", 1) < 2 or config.get("mode") == Mode.BOTH.value:
        return report
    for r in report["records"]:
        solutions = record_solutions(r)
        r["prediction"], r["confidence"] = vote(solutions, r["question"])
        r["correct"] = answers_match(r["prediction"], r["gold"])
        r["plain_vote_correct"] = answers_match(vote(solutions)[0], r["gold"])
        if r["correct"]:
            r["error_kind"] = None
        elif r["prediction"] is not None:
            r["error_kind"] = "wrong_answer"
    report["summary"] = {**report["summary"], **summarize(report["records"])}
    return report


def percent(value: float) -> str:
    return f"{100 * value:.1f}"


def wilson_interval(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion, in %: honest at the small rates measured here."""
    from scipy.stats import binomtest

    if n == 0:
        return 0.0, 100.0
    low, high = binomtest(correct, n).proportion_ci(confidence_level=0.95, method="wilson")
    return 100 * float(low), 100 * float(high)


def accuracy_table(out: Path, names: list[str]) -> tuple[str, dict[str, float]]:
    lines = ["| configuration | " + " | ".join(f"{SET_NAMES[s]} [95%] (n)" for s in SETS) + " | average |",
             "|---|" + "---|" * (len(SETS) + 1)]  # fmt: skip
    averages = {}
    for name in names:
        cells, accuracies = [], []
        for data in SETS:
            report = load_report(out, name, data)
            if report is None:
                cells.append("-")
                continue
            summary = report["summary"]
            accuracies.append(summary["accuracy"])
            low, high = wilson_interval(summary["correct"], summary["n"])
            cells.append(f"{percent(summary['accuracy'])} [{low:.1f}, {high:.1f}] ({summary['n']})")
        average = statistics.mean(accuracies) if len(accuracies) == len(SETS) else None
        if average is not None:
            averages[name] = 100 * average
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {'-' if average is None else percent(average)} |"
        )
    return "\n".join(lines), averages


def speed_table(out: Path, names: list[str]) -> str:
    lines = ["| configuration | problems | median s | p90 s | tokens/s | completion tokens/problem |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name in names:
        records = [r for data in SETS if (rep := load_report(out, name, data)) for r in rep["records"]]
        if not records:
            continue
        seconds = sorted(r["seconds"] for r in records)
        tokens = sum(r["completion_tokens"] for r in records)
        p90 = seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))]
        lines.append(
            f"| {name} | {len(records)} | {statistics.median(seconds):.2f} | {p90:.2f} | "
            f"{tokens / sum(seconds):.1f} | {tokens / len(records):.0f} |"
        )
    return "\n".join(lines)


def asdiv_table(out: Path, names: list[str], key: str) -> str:
    """ASDiv accuracy by a field of ASDiv.xml: "grade" (the set runs from grade 1 to 6 in file order,
    so a first-N figure reads high) or "solution_type" (one-step Addition against multi-step ones);
    this shows where a model stops coping. Solution types with fewer than 50 problems are left out."""
    from kpdd.datasets import DataFormatError, DataNotFoundError, load_dataset

    reports = {n: r for n in names if (r := load_report(out, n, "asdiv"))}
    if not reports:
        return "(no ASDiv report)"
    try:
        value_of = {p.id: p.meta.get(key, "") for p in load_dataset("asdiv").problems}
    except (DataNotFoundError, DataFormatError) as error:  # the fields come from ASDiv.xml itself
        return f"(ASDiv {key} unavailable: {error})"
    counts = Counter(v for v in value_of.values() if v)
    if key == "grade":
        columns = sorted(counts, key=lambda g: (len(g), g))
        labels = [f"grade {g} (n)" for g in columns]
    else:
        columns = [v for v, n in counts.most_common() if n >= 50]
        labels = [f"{v} (n)" for v in columns]
    lines = ["| configuration | " + " | ".join(labels) + " |", "|---|" + "---|" * len(columns)]
    for name, report in reports.items():
        cells = []
        for column in columns:
            records = [r for r in report["records"] if value_of.get(r["id"]) == column]
            right = sum(r["correct"] for r in records)
            cells.append(f"{100 * right / len(records):.1f} ({len(records)})" if records else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar test: how likely a split of the discordant pairs at least this uneven
    is when neither model is better (a fair coin per pair)."""
    from scipy.stats import binomtest

    n = only_a + only_b
    return 1.0 if n == 0 else float(binomtest(min(only_a, only_b), n, 0.5).pvalue)


def paired_table(
    out: Path, first: str, second: str, second_out: Path | None = None, labels: tuple[str, str] | None = None
) -> str:
    """Per set, the problems both configurations finished, split by which got them right; then all
    sets pooled. `second_out` reads the second configuration from another results folder (a new
    sitting against the shipped student, on the problems both runs solved)."""
    label_a, label_b = labels or (first, second)
    rows: list[tuple[str, list[tuple[bool, bool]]]] = []
    for data in SETS:
        a, b = load_report(out, first, data), load_report(second_out or out, second, data)
        if a is not None and b is not None:
            by_id = {r["id"]: r["correct"] for r in b["records"]}
            rows.append(
                (SET_NAMES[data], [(r["correct"], by_id[r["id"]]) for r in a["records"] if r["id"] in by_id])
            )
    if not rows:
        return f"(no {label_a} and {label_b} reports on the same set)"
    return pairs_table(rows, label_a, label_b)


def pairs_table(rows: list[tuple[str, list[tuple[bool, bool]]]], label_a: str, label_b: str) -> str:
    """Per set, (A right, B right) for each problem: the split, the accuracies and McNemar's p, then
    all sets pooled."""
    lines = [f"| set | problems | both right | only {label_a} | only {label_b} | {label_a} | {label_b} | McNemar p |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    if len(rows) > 1:
        rows = [*rows, ("all pooled", [pair for _, pairs in rows for pair in pairs])]
    for label, pairs in rows:
        only_a = sum(x and not y for x, y in pairs)
        only_b = sum(y and not x for x, y in pairs)
        both = sum(x and y for x, y in pairs)
        lines.append(
            f"| {label} | {len(pairs)} | {both} | {only_a} | {only_b} | "
            f"{100 * (both + only_a) / len(pairs):.1f} | {100 * (both + only_b) / len(pairs):.1f} | "
            f"{mcnemar_p(only_a, only_b):.3f} |"
        )
    return "\n".join(lines)


def sc_against_greedy_table(out: Path, name: str = "kpdd-pot-sc5") -> str:
    """Self-consistency against its own first solution, which is the greedy one (`kpdd.solver`): a
    pairing that needs no separate greedy run, since the vote and the greedy answer come from the
    same records. Then the app's vote (weighed by plausibility) against a plain majority, how often
    any sample was right (what a perfect checker would score), and how often the vote is right by
    the share of samples behind it (the confidence the app shows)."""
    from kpdd.answers import answers_match
    from kpdd.judgement import looks_wrong

    rows: list[tuple[str, list[tuple[bool, bool]]]] = []
    against_plain: list[tuple[str, list[tuple[bool, bool]]]] = []
    auto_rows: list[tuple[str, list[tuple[bool, bool]]]] = []
    rechecked: list[str] = []
    any_right: list[str] = []
    by_votes: dict[int, list[int]] = {}  # votes for the answer -> [problems, right]
    for data in SETS:
        report = load_report(out, name, data)
        if report is None or not report["records"]:
            continue
        records = report["records"]
        rows.append((SET_NAMES[data], [
            (r["correct"], bool(r["solutions"]) and answers_match(r["solutions"][0]["answer"], r["gold"]))
            for r in records
        ]))  # fmt: skip
        against_plain.append((SET_NAMES[data], [(r["correct"], r["plain_vote_correct"]) for r in records]))
        # Samples "auto" draws the same seeded samples, so its answers can be read off these records.
        auto_pairs, doubtful = [], 0
        for r in records:
            solutions = record_solutions(r)
            greedy_right = bool(solutions) and answers_match(solutions[0].answer, r["gold"])
            if solutions and looks_wrong(solutions[0], r["question"]):
                doubtful += 1
                auto_pairs.append((r["correct"], greedy_right))
            else:
                auto_pairs.append((greedy_right, greedy_right))
        auto_rows.append((SET_NAMES[data], auto_pairs))
        rechecked.append(f"{SET_NAMES[data]} {100 * doubtful / len(records):.0f}")
        hits = sum(any(answers_match(s["answer"], r["gold"]) for s in r["solutions"]) for r in records)
        any_right.append(f"{SET_NAMES[data]} {100 * hits / len(records):.1f}")
        for r in records:
            counts = by_votes.setdefault(round((r["confidence"] or 0.0) * len(r["solutions"])), [0, 0])
            counts[0] += 1
            counts[1] += bool(r["correct"])
    if not rows:
        return f"(no {name} reports)"
    votes = ", ".join(f"{k}: {100 * right / n:.1f} of {n}" for k, (n, right) in sorted(by_votes.items()))
    return (
        pairs_table(rows, "vote", "greedy")
        + "\n\nThe app's vote (weighed by plausibility) against a plain majority of the same samples:\n\n"
        + pairs_table(against_plain, "weighed vote", "plain majority")
        + '\n\nSamples "auto" read off the same records (the greedy answer, or the vote of all five '
        "when the greedy one looks wrong), against greedy:\n\n"
        + pairs_table(auto_rows, "auto", "greedy")
        + "\n\nProblems auto rechecks (%): "
        + ", ".join(rechecked)
        + "\n\nRight in at least one sample (%): "
        + ", ".join(any_right)
        + f"\n\nThe vote right (%) by the votes behind its answer: {votes}"
    )


def both_mode_table(out: Path) -> str:
    """The app's Both mode (a program and steps from the same key points; the program's answer wins a
    disagreement unless the program computed the steps' answer on the way and kept going): its
    accuracy beside the single modes on the same problems, how often the two agree and are then right,
    and how often the steps' answer was taken over the program's and was then right. Agreement is
    what the app tells a student, so its worth is measured."""
    lines = ["| set | problems | KPDD-PoT | KPDD-CoT | Both | program and steps agree | right when they agree "
             "| steps' answer taken over the program's | right when taken |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    totals = [0] * 8
    for data in SETS:
        both = load_report(out, "kpdd-both", data)
        if both is None:
            continue
        singles = [load_report(out, name, data) for name in ("kpdd-pot", "kpdd-cot")]
        right = [{r["id"]: r["correct"] for r in rep["records"]} if rep else {} for rep in singles]
        records = [r for r in both["records"] if all(r["id"] in by_id for by_id in right)]
        if not records:
            continue
        taken = [r for r in records if r.get("stepped_past")]
        counts = [
            len(records),
            sum(right[0][r["id"]] for r in records),
            sum(right[1][r["id"]] for r in records),
            sum(r["correct"] for r in records),
            sum(bool(r["agree"]) for r in records),
            sum(bool(r["agree"]) and r["correct"] for r in records),
            len(taken),
            sum(r["correct"] for r in taken),
        ]
        totals = [t + c for t, c in zip(totals, counts)]
        lines.append(both_row(SET_NAMES[data], counts))
    if not totals[0]:
        return "(no kpdd-both report with KPDD-PoT and KPDD-CoT reports on the same problems)"
    lines.append(both_row("all pooled", totals))
    return "\n".join(lines)


def both_row(label: str, counts: list[int]) -> str:
    n, pot, cot, both, agree, agree_right, taken, taken_right = counts
    return (f"| {label} | {n} | {100 * pot / n:.1f} | {100 * cot / n:.1f} | {100 * both / n:.1f} | "
            f"{agree} ({100 * agree / n:.1f}%) | {100 * agree_right / agree if agree else 0:.1f} | "
            f"{taken} ({100 * taken / n:.1f}%) | {100 * taken_right / taken if taken else 0:.1f} |")  # fmt: skip


def both_rule_on_singles_table(out: Path) -> str:
    """Both mode's answer rule read off the single-mode runs of the same student (every problem that
    has a KPDD-PoT and a KPDD-CoT record): the program's answer, the steps' when the program gave
    none, and the steps' when the program computed them on the way and kept going
    (`kpdd.solver.program_stepped_past`, the rule the app uses). An estimate for the full sets:
    in the app both solutions share one set of key points, here each mode wrote its own."""
    from kpdd.answers import answers_match
    from kpdd.format import Mode
    from kpdd.judgement import finalize
    from kpdd.result import Solution, SolveResult

    lines = ["| set | problems | KPDD-PoT | KPDD-CoT | program, else steps | with the stepped-past rule | steps taken (right) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    averages: list[float] = []
    for data in SETS:
        reports = [load_report(out, name, data) for name in ("kpdd-pot", "kpdd-cot")]
        if not all(reports):
            continue
        pot, cot = ({r["id"]: r for r in rep["records"]} for rep in reports)  # type: ignore[index]
        ids = [i for i in pot if i in cot]
        program_first = with_rule = taken = taken_right = 0
        for i in ids:
            p, c = pot[i], cot[i]
            program_first += p["correct"] if p["prediction"] is not None else c["correct"]
            program = next((s["text"] for s in p.get("solutions") or [] if s.get("kind") == "pot"), "")
            both = SolveResult(p["question"], Mode.BOTH)
            both.solutions = [Solution(Mode.POT, program, answer=p["prediction"]),
                              Solution(Mode.COT, "", answer=c["prediction"])]  # fmt: skip
            finalize(both)  # the app's rule, on these two answers
            right = answers_match(both.answer, p["gold"])
            with_rule += right
            taken += both.stepped_past
            taken_right += both.stepped_past and right
        n = len(ids)
        if not n:
            continue
        averages.append(100 * with_rule / n)
        lines.append(
            f"| {SET_NAMES[data]} | {n} | {100 * sum(pot[i]['correct'] for i in ids) / n:.1f} | "
            f"{100 * sum(cot[i]['correct'] for i in ids) / n:.1f} | {100 * program_first / n:.1f} | "
            f"{100 * with_rule / n:.1f} | {taken} ({taken_right}) |"
        )
    if not averages:
        return "(no KPDD-PoT and KPDD-CoT reports on the same problems)"
    return "\n".join(lines) + f"\n\nFour-set average with the rule: {sum(averages) / len(averages):.2f}"


def error_analysis(out: Path, reference: Path | None) -> str:
    """KPDD-PoT's misses split by understanding (against gold key points) and the ablation's beside."""
    kpdd, plain = load_report(out, "kpdd-pot", "gsm8k"), load_report(out, "plain-pot", "gsm8k")
    if kpdd is None:
        return "(no KPDD-PoT report on GSM8K)"
    lines = []
    agree: dict[str, bool] = {}
    if reference is not None and reference.is_file():
        from distill.analysis import analyze, format_analysis, load_reference

        analysis = analyze(kpdd, load_reference([str(reference)]))
        agree = {i["id"]: i["key_points"]["agree"] for i in analysis["items"] if i["key_points"]}
        lines.append("KPDD-PoT on GSM8K, every problem classified against the gold key points:")
        lines.append("```\n" + format_analysis(analysis) + "\n```")
    if plain is not None:
        by_id = {r["id"]: r for r in plain["records"]}
        both = [(r, by_id[r["id"]]) for r in kpdd["records"] if r["id"] in by_id]
        table = {(a, b): 0 for a in (True, False) for b in (True, False)}
        for k, p in both:
            table[(k["correct"], p["correct"])] += 1
        lines.append(
            f"Same {len(both)} GSM8K problems, KPDD-PoT against plain-PoT: both right {table[(True, True)]}, "
            f"only KPDD {table[(True, False)]}, only plain {table[(False, True)]}, both wrong {table[(False, False)]}."
        )
        for flag, label in ((True, "agree with"), (False, "differ from")):
            pairs = [(k, p) for k, p in both if agree.get(k["id"]) is flag]
            if pairs:
                lines.append(
                    f"- where KPDD's key points {label} the gold ones ({len(pairs)} problems): KPDD-PoT "
                    f"{sum(k['correct'] for k, _ in pairs)} right, plain-PoT {sum(p['correct'] for _, p in pairs)} right"
                )
        for name, report in (("kpdd-pot", kpdd), ("plain-pot", plain)):
            lines.append(f"- {name} misses by kind: {json.dumps(report['summary']['errors'])}")
    return "\n".join(lines)


def stepped_past_table(out: Path, names: list[str]) -> str:
    """Wrong PoT answers whose program computed the gold value on the way and kept going, by set."""
    from distill.analysis import stepped_past_answer

    lines = ["| configuration | " + " | ".join(SET_NAMES[s] for s in SETS) + " | all |", "|---|" + "---|" * (len(SETS) + 1)]  # fmt: skip
    for name in names:
        cells, total_wrong, total_past = [], 0, 0
        for data in SETS:
            report = load_report(out, name, data)
            if report is None:
                cells.append("-")
                continue
            wrong = [r for r in report["records"] if not r["correct"] and r.get("prediction") is not None]
            past = sum(stepped_past_answer(r) for r in wrong)
            cells.append(f"{past}/{len(wrong)} ({percent(past / len(wrong)) if wrong else '-'})")
            total_wrong, total_past = total_wrong + len(wrong), total_past + past
        share = percent(total_past / total_wrong) if total_wrong else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {total_past}/{total_wrong} ({share}) |")
    return "\n".join(lines)


def paper_table(averages: dict[str, float]) -> str:
    lines = ["| | KPDD-CoT average | KPDD-PoT average |", "|---|---|---|",
             f"| paper, FlanT5-Large 760M | {PAPER_AVERAGE['kpdd-cot']:.2f} | {PAPER_AVERAGE['kpdd-pot']:.2f} |"]  # fmt: skip
    ours = [averages.get("kpdd-cot"), averages.get("kpdd-pot")]
    stock = [averages.get("stock-cot"), averages.get("stock-pot")]

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines.append(f"| ours, SmolLM2-135M + KPDD LoRA | {fmt(ours[0])} | {fmt(ours[1])} |")
    lines.append(f"| stock SmolLM2-135M, few-shot | {fmt(stock[0])} | {fmt(stock[1])} |")
    return "\n".join(lines)


def main() -> int:
    from kpdd import models, paths

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=100, help="problems per set (0: all)")
    parser.add_argument("--small-limit", type=int, default=25, help="per set for stock and SC-5 (0: --limit)")
    parser.add_argument("--configs", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated test sets to run (default: all four)"
    )
    parser.add_argument("--adapter", default="", help="KPDD adapter GGUF (default: the shipped one)")
    parser.add_argument(
        "--ablation",
        default="runs/plain-pot-smollm2-4-gguf/plain-pot-smollm2-4-lora-f16.gguf",
        help="plain-PoT adapter (default: the ablation trained on the shipped student's problems)",
    )
    parser.add_argument("--reference", default="runs/data/gold-gsm8k-test-reference.jsonl",
                        help="gold key points of GSM8K test (kpdd teach --teacher gold --data gsm8k --reference-only)")  # fmt: skip
    parser.add_argument("--out", default="runs/results")
    parser.add_argument("--threads", type=int, default=0, help="threads per eval (default: 2 // jobs)")
    parser.add_argument("--jobs", type=int, default=1, help="evals run at once (each one set of one config)")
    parser.add_argument("--shuffle", type=int, metavar="SEED",
                        help="solve each set in a seeded random order, so a limit keeps a random sample "
                        "(the first N over-state every model); a larger limit with the same SEED extends it")  # fmt: skip
    parser.add_argument("--baseline", default="",
                        help="another results folder (e.g. the shipped student's): each configuration here "
                        "is also compared problem by problem with the same configuration there")  # fmt: skip
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()

    base = paths.models_dir() / models.SMOLLM2.file_name
    students = [e for e in models.bundled_students() if e.available]
    shipped = students[0].base_and_adapter if students else None  # the adapter, also where setup merged it
    adapter = Path(args.adapter) if args.adapter else (shipped[1] if shipped else None)
    ablation = Path(args.ablation) if args.ablation and Path(args.ablation).is_file() else None
    table = configs(adapter, ablation, base)
    names = [n for n in args.configs.split(",") if n] or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        parser.error(f"unknown or unavailable configurations: {', '.join(unknown)} (have {', '.join(table)})")
    sets = [d for d in args.sets.split(",") if d]
    if not sets or any(d not in SETS for d in sets):
        parser.error(f"--sets takes names from {', '.join(SETS)}")
    out = REPO / args.out
    jobs = max(1, args.jobs)
    threads = args.threads or max(1, 2 // jobs)
    settings_path = out / "settings.json"
    if not args.render_only:
        out.mkdir(parents=True, exist_ok=True)
        settings_path.write_text(json.dumps({"threads": threads, "jobs": jobs}), encoding="utf-8")
        tasks = []
        for name in names:
            config = table[name]
            limit = args.small_limit if config["slow"] and args.small_limit else args.limit
            tasks += [(name, config, data, limit) for data in sets]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            running = [
                pool.submit(run_config, n, c, d, lim, out, threads, jobs > 1, args.shuffle)
                for n, c, d, lim in tasks
            ]
            for future in running:
                future.result()  # a failed eval stops the bench with its error
    settings = json.loads(settings_path.read_text()) if settings_path.is_file() else {"threads": 2, "jobs": 1}
    timing = f"llama.cpp, {settings['threads']} threads"
    if settings["jobs"] > 1:
        timing += f", {settings['jobs']} evals at once: throughput, not a user's latency"

    accuracy, averages = accuracy_table(out, names)
    sections = [
        f"Adapter: {adapter}\nAblation: {ablation}\nBase: {base}",
        "## Accuracy (%)\n" + accuracy,
        f"## Time to answer ({timing})\n" + speed_table(out, names),
        "## ASDiv by grade (%)\n" + asdiv_table(out, names, "grade"),
        "## ASDiv by solution type (%)\n" + asdiv_table(out, names, "solution_type"),
        *(
            f"## {first} against {second}, problem by problem\n" + paired_table(out, first, second)
            for first, second in PAIRS
            if first in names and second in names
        ),
        *(
            f"## {name} against {name} in {args.baseline}, problem by problem\n"
            + paired_table(out, name, name, REPO / args.baseline, (f"{name} here", f"{name} baseline"))
            for name in names
            if args.baseline
        ),
        *(
            [
                "## kpdd-pot-sc5 against its own greedy solution, problem by problem\n"
                + sc_against_greedy_table(out)
            ]
            if "kpdd-pot-sc5" in names
            else []
        ),
        "## Both mode: program and steps, on the same problems as the single modes\n" + both_mode_table(out),
        "## Both mode's answer rule read off the single-mode runs\n" + both_rule_on_singles_table(out),
        "## Error analysis (GSM8K)\n" + error_analysis(out, REPO / args.reference),
        "## Wrong PoT answers that had computed the gold value, then kept going\n"
        + stepped_past_table(out, [n for n in names if table[n]["mode"] == "pot"]),
        "## Against the paper (four-set averages, %)\n" + paper_table(averages),
    ]
    text = "\n\n".join(sections) + "\n"
    (out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
