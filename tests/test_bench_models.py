"""bench/bench_models.py's figures as `kpdd models` and the model manager show them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import bench_models  # noqa: E402

from kpdd import models  # noqa: E402


def _report(folder: Path, name: str, data: str, right: list[bool], seconds: float, second: str = "") -> None:
    records = [{"id": f"{data}-{i}", "question": "q", "gold": 1.0, "correct": ok, "seconds": seconds,
                "completion_tokens": 100, "prediction": 1.0 if ok else 2.0, "second_opinion": second,
                "solutions": [{"answer": 2.0, "kind": "pot", "text": "answer = 2"}]}
               for i, ok in enumerate(right)]  # fmt: skip
    summary = {"n": len(right), "accuracy": sum(right) / len(right)}
    path = folder / name / f"{data}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"config": {"mode": "pot", "samples": 1}, "summary": summary, "records": records})
    )


def test_the_second_opinion_is_written_beside_the_students_own_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(models.files, "resources_dir", lambda: tmp_path / "resources")
    (tmp_path / "resources" / "models").mkdir(parents=True)
    out, latency = tmp_path / "runs", tmp_path / "runs" / "latency"
    table = {
        "student05-pot": {"model": "Student", "mode": "pot"},
        "cascade05-15": {"model": "Student", "mode": "pot", "second_opinion": "Big"},
    }
    for data in bench_models.SETS:
        _report(out, "student05-pot", data, [True, False], 3.0)
        _report(out, "cascade05-15", data, [True, True], 9.0, second="Big")
        _report(latency, "student05-pot", data, [True], 3.0)
        _report(latency, "cascade05-15", data, [True], 4.0, second="Big")
    path = bench_models.write_measured(out, latency, table, ["student05-pot", "cascade05-15"], 2)
    written = json.loads(path.read_text())["models"]["Student"]
    assert written["accuracy"] == 0.5 and written["median_s"] == 3.0 and written["mode"] == "pot"
    assert written["second_opinion"] == {**written["second_opinion"], "model": "Big", "accuracy": 1.0,
                                         "median_s": 4.0, "mode": "cascade"}  # fmt: skip
    assert written["split"] == "dev" and written["second_opinion"]["split"] == "dev"
    assert models.measured_text(written) == (
        "Program 50.0% right on 8 problems (dev split), 3.0 s to answer (median, 2 threads); "
        "asking it about doubtful answers only 100.0%, 4.0 s"
    )
    # Timed again without an accuracy run: the accuracy stays, the median is the new one.
    for data in bench_models.SETS:
        (out / "student05-pot" / f"{data}.json").unlink()
        _report(latency, "student05-pot", data, [True], 2.5)
    written = json.loads(bench_models.write_measured(out, latency, table, ["student05-pot"], 2).read_text())
    assert written["models"]["Student"]["accuracy"] == 0.5 and written["models"]["Student"]["median_s"] == 2.5
    assert written["models"]["Student"]["second_opinion"]["accuracy"] == 1.0
    # Every answer checked: written beside the doubtful-only figures, which stay.
    table["cascade05-15-every"] = {**table["cascade05-15"], "second_opinion_on": "every"}
    for data in bench_models.SETS:
        _report(out, "cascade05-15-every", data, [True, True, True, False], 9.0, second="Big")
        _report(latency, "cascade05-15-every", data, [True], 8.0, second="Big")
    path = bench_models.write_measured(out, latency, table, ["cascade05-15-every"], 2)
    written = json.loads(path.read_text())["models"]["Student"]
    assert (
        written["second_opinion"]["accuracy"] == 1.0 and written["second_opinion_every"]["accuracy"] == 0.75
    )
    assert models.measured_text(written).endswith(
        "(median, 2 threads); with Big checking every answer 75.0%, 8.0 s to the verdict; "
        "asking it about doubtful answers only 100.0%, 4.0 s"
    )
    # The test split, run once: written beside the dev figures, which stay; shown after them.
    for data in bench_models.SETS:
        _report(tmp_path / "test", "student05-pot", data, [True, True, True, False], 3.0)
    test_out = tmp_path / "test"
    path = bench_models.write_measured(test_out, test_out / "latency", table, ["student05-pot"], 2, "test")
    written = json.loads(path.read_text())["models"]["Student"]
    assert written["accuracy"] == 0.5 and written["split"] == "dev"
    test = written["test"]
    assert (test["accuracy"], test["split"], test["problems"]) == (0.75, "test", 16)
    assert written["second_opinion_every"]["accuracy"] == 0.75
    assert models.measured_text(written).startswith(
        "Program 50.0% right on 8 problems (dev split), 75.0% on the 16 of the test split, 2.5 s to answer"
    )


def test_every_answer_policy_is_composed_from_the_two_runs():
    """bench_every_answer: the student's first answer with the 1.5B's solution, voted by today's rules;
    a doubtful answer keeps the solution the default's run asked for."""
    import bench_every_answer

    question = "Tom has 5 apples and buys 3 more. How many apples does he have?"

    def solution(answer: float, model: str = "") -> dict:
        # each answer computed from the problem's own numbers (a made-up number looks wrong)
        ops = {2.0: "apples - more", 8.0: "apples + more", -2.0: "more - apples", 7.0: "apples + more - 1"}
        text = f"apples = 5\nmore = 3\nanswer = {ops[answer]}"
        return {"kind": "pot", "text": text, "answer": answer, "model": model}

    default = {
        # plausible first answer, not asked about in the default's run
        "p1": {"id": "p1", "question": question, "gold": 8.0, "solutions": [solution(2.0)], "second_opinion": ""},
        # a negative first answer: the default's run asked the 1.5B, whose 8 is recorded
        "p2": {"id": "p2", "question": question, "gold": 8.0, "second_opinion": "Big",
               "solutions": [solution(-2.0), solution(8.0, "Big")]},
    }  # fmt: skip
    second_run = {
        "p1": {"id": "p1", "prediction": 8.0, "solutions": [solution(8.0)]},
        "p2": {"id": "p2", "prediction": 7.0, "solutions": [solution(7.0)]},  # not used: the recorded one is
    }
    policies = bench_every_answer.compose_set(default, second_run, "Big")
    doubtful, every = policies["doubtful"], policies["every"]
    # p1: doubtful keeps the student's lone 2; every asks, and a tie goes to the larger model's 8.
    assert (
        doubtful[0]["prediction"] == 2.0
        and not doubtful[0]["correct"]
        and doubtful[0]["second_opinion"] == ""
    )
    assert every[0]["prediction"] == 8.0 and every[0]["correct"] and every[0]["second_opinion"] == "Big"
    assert [s["model"] for s in every[0]["solutions"]] == ["", "Big"]
    # p2: both policies take the recorded second opinion, and the possible 8 beats the negative -2.
    for records in (doubtful, every):
        assert records[1]["prediction"] == 8.0 and records[1]["solutions"][1]["answer"] == 8.0


def test_auto_samples_are_composed_from_the_default_run_and_the_rechecked_problems():
    """bench_auto_samples: a first answer that looks fine is Auto's answer as recorded (any second
    model's solution dropped); a flagged one takes its re-solve, voted by today's rules; a flagged one
    not re-solved yet is left out, not counted as the first answer."""
    import bench_auto_samples

    question = "Tom has 5 apples and buys 3 more. How many apples does he have?"

    def solution(answer: float, model: str = "") -> dict:
        ops = {8.0: "apples + more", -2.0: "more - apples", 2.0: "apples - more"}
        return {"kind": "pot", "text": f"apples = 5\nmore = 3\nanswer = {ops[answer]}", "answer": answer,
                "model": model}  # fmt: skip

    def record(pid: str, solutions: list[dict], second: str = "") -> dict:
        return {
            "id": pid,
            "question": question,
            "gold": 8.0,
            "solutions": solutions,
            "second_opinion": second,
        }

    default = {
        "fine": record(
            "fine", [solution(2.0), solution(8.0, "Big")], second="Big"
        ),  # asked under an old rule
        "negative": record("negative", [solution(-2.0), solution(8.0, "Big")], second="Big"),
        "not yet": record("not yet", [solution(-2.0)]),
    }
    again = {"negative": record("negative", [solution(-2.0), *[solution(8.0)] * 3, solution(2.0)])}
    composed = bench_auto_samples.compose_auto(default, again)
    assert [r["id"] for r in composed] == ["fine", "negative"]
    fine, negative = composed
    assert (
        fine["prediction"] == 2.0 and not fine["correct"] and [s["model"] for s in fine["solutions"]] == [""]
    )
    assert negative["prediction"] == 8.0 and negative["correct"] and negative["second_opinion"] == ""
    # Three of five samples agreeing make Auto's answer checked; a lone first answer stays not sure.
    table = bench_auto_samples.verdict_table(composed)
    assert "| checked | 1 | 100.0% |" in table and "| not sure | 1 | 0.0% |" in table


def test_the_statistics_are_scipys_exact_ones():
    """Wilson intervals and the exact McNemar test (bench_student), on figures checked by hand."""
    import bench_student

    low, high = bench_student.wilson_interval(17, 42)  # the student on the 42 outside problems
    assert (round(low, 1), round(high, 1)) == (27.0, 55.5)
    assert bench_student.wilson_interval(0, 0) == (0.0, 100.0)
    assert bench_student.mcnemar_p(5, 1) == 0.21875  # 2 * (1 + 6) / 64
    assert bench_student.mcnemar_p(0, 0) == 1.0 and bench_student.mcnemar_p(248, 66) < 1e-20


def test_the_shipped_figures_name_only_models_we_ship():
    """resources/models/measured.json is what `kpdd models` shows: every model it names is a shipped
    student (a manifest beside it) or a pinned base model; a test's made-up model must never land
    there (one once did, written through an unpatched path)."""
    folder = REPO / "resources" / "models"
    manifests = {
        json.loads(p.read_text())["name"] for p in folder.glob("*.json") if p.name != models.MEASURED_FILE
    }
    base_models = {m.name for m in models.BASE_MODELS.values()}
    measured = json.loads((folder / models.MEASURED_FILE).read_text())["models"]
    assert set(measured) <= manifests | base_models, set(measured) - manifests - base_models


def test_a_candidate_is_paired_with_the_shipped_students_own_answers():
    """bench_candidate reads the shipped student's first answers from the committed records; they
    are the figures `kpdd models` shows for it, set by set."""
    import bench_candidate

    shipped = json.loads((REPO / "resources" / "models" / models.MEASURED_FILE).read_text())["models"]
    student = shipped["KPDD Qwen2.5-Coder-0.5B"]
    for data in bench_models.SETS:
        right = bench_candidate.shipped_student_right(data)
        assert len(right) == student["problems"] // len(bench_models.SETS)
        assert round(sum(right.values()) / len(right), 4) == student["by_set"][data], data


def test_a_candidates_test_run_is_paired_with_the_shipped_students_test_records():
    """On the test split the shipped student's answers come from its own test run (the model card's
    row: 39.3, 63.3, 66.7, 84.0, 63.3% of 1200), one per problem of 301-600 of each set."""
    import bench_candidate

    expected = {"gsm8k": 118, "svamp": 190, "asdiv": 200, "multiarith": 252}  # right of 300 each
    for data in bench_models.SETS:
        right = bench_candidate.shipped_student_right(data, "test")
        assert len(right) == 300, data
        assert sum(right.values()) == expected[data], data
    assert not set(bench_candidate.shipped_student_right("gsm8k", "test")) & set(
        bench_candidate.shipped_student_right("gsm8k", "dev")
    )  # test and dev are different problems
