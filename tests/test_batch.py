"""Batch solving: input formats, progress with time left, cancel and resume without redoing work."""

from __future__ import annotations

import json

import pytest

from kpdd.backend import CancelToken
from kpdd.batch import (
    PREVIEW_CHARS,
    default_results_path,
    describe_problems,
    format_eta,
    load_results,
    parse_problems,
    read_problems,
    run_batch,
)
from kpdd.models import resources_dir
from kpdd.solver import Solver
from tests.scripted_backend import ScriptedBackend

PROBLEMS_TXT = """A farmer packs 6 baskets with 14 apples each.
He gives away 20 apples. How many are left?

Leo reads 30 pages a day for 5 days. How many pages does he read?


Tickets cost 12 dollars. How much do 3 tickets cost?

A box has 3 rows of 4 eggs. How many eggs are there?
"""


def test_parse_txt_paragraphs():
    problems = parse_problems(PROBLEMS_TXT, ".txt")
    assert len(problems) == 4
    assert problems[0].question.startswith("A farmer packs") and problems[0].question.endswith(
        "How many are left?"
    )
    assert [p.index for p in problems] == [0, 1, 2, 3]


EIGHT_LINES = "\n".join(
    f"Tom has {n} marbles and wins {n + 1} more. How many marbles does he have now?" for n in range(1, 9)
)


def test_a_list_typed_one_problem_per_line_is_read_line_by_line():
    # The list: eight problems on eight lines, no blank line between them, was one problem.
    problems = parse_problems(EIGHT_LINES, ".txt")
    assert len(problems) == 8
    assert problems[2].question == "Tom has 3 marbles and wins 4 more. How many marbles does he have now?"
    # A numbered list: each number starts a problem; a wrapped line continues it.
    numbered = parse_problems(
        "1. A farmer packs 6 baskets.\n   How many apples?\n2) Leo reads 30 pages.\n- Sam has 5 cats.", ".txt"
    )
    assert [p.question for p in numbered] == [
        "A farmer packs 6 baskets. How many apples?", "Leo reads 30 pages.", "Sam has 5 cats.",
    ]  # fmt: skip
    # A problem written on two lines stays one: its first line asks nothing.
    two_lines = parse_problems(
        "A farmer packs 6 baskets.\nHow many apples?\nHe gives away 2. How many are left?", ".txt"
    )
    assert len(two_lines) == 2 and two_lines[0].question == "A farmer packs 6 baskets. How many apples?"
    assert len(parse_problems(PROBLEMS_TXT, ".txt")) == 4


def test_what_was_read_is_described_before_solving():
    lines = describe_problems(parse_problems(EIGHT_LINES, ".txt"), "week-3.txt")
    assert lines[0] == "Read 8 problems from week-3.txt:"
    assert lines[1] == "  1. Tom has 1 marbles and wins 2 more. How many marbles does he have now?"
    assert len(lines) == 9
    one = describe_problems(
        parse_problems(
            "Tom has 5 marbles and wins 3 more at school. How many does he have? Sam has 3. How many does Sam have?",
            ".txt",
        )
    )
    assert (
        one[0] == "Read 1 problem:"
        and one[1].endswith("\u2026")
        and len(one[1]) == len("  1. ") + PREVIEW_CHARS
    )
    assert one[2].startswith("Problem 1 asks 2 questions. If it holds several problems")


def test_parse_csv_and_jsonl():
    csv_text = 'id,Problem,answer\n1,"Two plus, two?",4\n2,Three times three?,9\n3,,\n'
    problems = parse_problems(csv_text, ".csv")
    assert [(p.question, p.answer) for p in problems] == [
        ("Two plus, two?", 4.0),
        ("Three times three?", 9.0),
    ]
    headerless = parse_problems("What is 2+2?\nWhat is 3+3?\n", ".csv")
    assert [p.question for p in headerless] == ["What is 2+2?", "What is 3+3?"]
    jsonl = '{"question": "Q one?", "answer": "1,200"}\n\n{"problem": "Q two?"}\n"Q three?"\n'
    problems = parse_problems(jsonl, ".jsonl")
    assert [(p.question, p.answer) for p in problems] == [
        ("Q one?", 1200.0),
        ("Q two?", None),
        ("Q three?", None),
    ]
    with pytest.raises(ValueError, match="Line 2"):
        parse_problems('{"question": "ok"}\n{broken\n', ".jsonl")


def test_bundled_sample_lists_read():
    folder = resources_dir() / "samples"
    assert len(read_problems(folder / "worksheet.txt")) == 3
    assert len(read_problems(folder / "worksheet.csv")) == 2
    assert len(read_problems(folder / "worksheet.jsonl")) == 8


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n  \n")
    with pytest.raises(ValueError, match="no problems"):
        read_problems(path)


def test_unreadable_lists_say_what_is_wrong_in_plain_words(tmp_path):
    # The batch dialog and `kpdd sheet` show these messages as they are: no errno, no codec names.
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    cases = {tmp_path / "gone.txt": "does not exist", tmp_path: "is a folder", binary: "not a text file"}
    for path, message in cases.items():
        with pytest.raises(ValueError, match=message) as caught:
            read_problems(path)
        assert "Errno" not in str(caught.value) and "codec" not in str(caught.value)


def test_cancel_and_resume_never_redo_finished(kpdd_home, tmp_path):
    problems = parse_problems(PROBLEMS_TXT, ".txt")
    results_path = tmp_path / "results.jsonl"
    backend = ScriptedBackend(delay_s=0)
    solver = Solver(backend)
    cancel = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if p.done == 2:
            cancel.cancel()

    first = run_batch(solver, problems, results_path, progress=progress, cancel=cancel)
    assert first.cancelled and first.solved_now == 2
    assert [r is not None for r in first.results] == [True, True, False, False]
    assert seen[0].done == 0 and seen[0].eta_s is None
    assert seen[-1].done == 2 and seen[-1].eta_s is not None and seen[-1].eta_s >= 0
    assert len(load_results(results_path)) == 2

    # A killed writer can leave half a line: it is ignored, and cut off before the next line is written.
    with results_path.open("a") as handle:
        handle.write('{"key": "torn", "result": {"probl')

    backend.prompts.clear()
    second_seen = []
    second = run_batch(solver, problems, results_path, progress=second_seen.append)
    assert not second.cancelled and second.complete
    assert second.resumed == 2 and second.solved_now == 2
    # Only problems 3 and 4 reached the model.
    asked = {p.split("### Problem\n", 1)[1].split("\n", 1)[0] for p in backend.prompts}
    assert asked == {problems[2].question, problems[3].question}
    assert second_seen[0].done == 2 and second_seen[0].resumed == 2
    assert second_seen[-1].done == 4 and second_seen[-1].eta_s == 0
    assert [r["answer"] for r in second.results] == [64, 64, 64, 64]  # the scripted model's answer
    lines = results_path.read_text().splitlines()
    assert not any(line.startswith('{"key": "torn"') for line in lines) and len(lines) == 4
    assert len(load_results(results_path)) == 4

    # A third run solves nothing.
    backend.prompts.clear()
    third = run_batch(solver, problems, results_path)
    assert third.solved_now == 0 and backend.prompts == []


def test_results_path_in_home_and_eta_text(kpdd_home, tmp_path):
    path = default_results_path(tmp_path / "list.txt", "pot")
    assert path.parent == kpdd_home / "batches" and path.name.startswith("list-pot-")
    assert default_results_path(tmp_path / "list.txt", "cot") != path
    assert format_eta(None) == "estimating time left..."
    assert format_eta(42) == "about 42 s left"
    assert format_eta(130) == "about 2 min 10 s left"
    assert format_eta(7300) == "about 2 h 1 min left"


def test_expected_answer_is_kept(kpdd_home, tmp_path):
    problems = parse_problems('{"question": "Q?", "answer": 7}\n', ".jsonl")
    outcome = run_batch(Solver(ScriptedBackend(delay_s=0)), problems, tmp_path / "r.jsonl")
    line = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])
    assert line["result"]["expected_answer"] == 7 and outcome.results[0]["answer"] == 64


def test_turning_the_second_opinion_on_or_off_solves_the_batch_again(kpdd_home, tmp_path):
    """A worksheet solved alone and then with a second model checking it must not show the unchecked
    answers as if they were checked (nor the other way round); each way's answers are kept."""
    problems = parse_problems(PROBLEMS_TXT, ".txt")[:2]
    results_path = tmp_path / "results.jsonl"
    student = ScriptedBackend(delay_s=0, name="student")
    alone = Solver(student)
    first = run_batch(alone, problems, results_path)
    assert first.solved_now == 2 and all(r["second_opinion"] == "" for r in first.results)

    checker = ScriptedBackend(delay_s=0, name="checker")
    checked = Solver(student, second_opinion=Solver(checker), check_every_answer=True)
    second = run_batch(checked, problems, results_path)
    assert second.resumed == 0 and second.solved_now == 2
    assert len(checker.prompts) > 0 and all(r["second_opinion"] == "checker" for r in second.results)

    # Each way's answers are kept: running either way again solves nothing.
    student.prompts.clear()
    checker.prompts.clear()
    assert run_batch(checked, problems, results_path).solved_now == 0
    assert run_batch(alone, problems, results_path).solved_now == 0
    assert student.prompts == [] and checker.prompts == []


def test_chinese_worksheets_one_problem_per_line_with_full_width_question_marks():
    from kpdd.batch import parse_problems, text_questions

    text = (
        "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？\n"
        "小明有5个苹果，又买了3个。他现在有几个苹果？\n"
        "一本书12元，买3本要多少钱？\n"
    )
    problems = [p.question for p in parse_problems(text, ".txt")]
    assert problems == [line for line in text.splitlines()]
    numbered = "1、小明有5个苹果。他有几个？\n2、一本书12元。\n买3本要多少钱？\n（3）一周有几天？"
    assert [p.question for p in parse_problems(numbered, ".txt")] == [
        "小明有5个苹果。他有几个？", "一本书12元。 买3本要多少钱？", "一周有几天？"]  # fmt: skip
    assert text_questions("他有几个？她有几个？") == 2
