"""Solution sheets: HTML, Markdown and PDF (checked with pdftotext), student copy, answer key, CLI."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kpdd.batch import parse_problems, run_batch  # noqa: E402
from kpdd.format import Stage  # noqa: E402
from kpdd.sheets import SheetItem, SheetOptions, SolutionView, render_html, render_markdown  # noqa: E402
from kpdd.solver import AUTO_SAMPLES, Solver
from tests.scripted_backend import SCRIPT, ScriptedBackend  # noqa: E402

QUESTIONS = [
    "A farmer packs 6 baskets with 14 apples each and gives away 20. How many are left?",
    "Leo reads 30 pages a day for 5 days. How many pages does he read?",
    "Tickets cost 12 dollars. How much do 3 tickets cost?",
]
ANSWERS = {"answer = 6 * 14 - 20": "64", "answer = 30 * 5": "150", "answer = 12 * 3": "36"}


def solved_items(tmp_path, mode="pot"):
    items = []
    for question, program in zip(QUESTIONS, ANSWERS):
        script = dict(SCRIPT)
        script[Stage.PROGRAM] = program
        script[Stage.CORE_QUESTION] = "What is asked in: " + question.split(".")[0] + "?"
        result = Solver(ScriptedBackend(script, delay_s=0)).solve(question, mode)
        items.append(SheetItem.from_result(result))
    return items


def pdftotext(path, first=None, last=None) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    command = ["pdftotext", "-layout"]
    if first:
        command += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run([*command, str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_items_from_results(tmp_path):
    items = solved_items(tmp_path)
    assert [i.answer for i in items] == ["64", "150", "36"]
    assert items[0].program == "answer = 6 * 14 - 20"
    assert "computed answer = 64" in items[0].program_output
    assert items[0].key_information == ["6 baskets hold 14 apples each.", "He gives away 20 apples."]
    both = Solver(ScriptedBackend(delay_s=0)).solve(QUESTIONS[0], "both")
    item = SheetItem.from_result(both.to_dict())
    assert item.program and "The answer is 64" in item.steps


def test_a_chinese_sheet_prints_the_steps_with_the_names_saved_with_the_solve():
    solver = Solver(ScriptedBackend(delay_s=0))
    chinese = solver.solve("一个农民有6篮苹果，每篮14个。他送出了20个苹果。还剩多少个？")
    solver.name_program_steps(chinese)  # as the app does after the answer is shown
    item = SheetItem.from_result(chinese.to_dict())  # as the history stores it
    assert item.worked_steps == [
        "苹果总数 = 6 × 14 = 84",
        "送出的苹果 = 20",
        "答案 = 苹果总数 − 送出的苹果 = 84 − 20 = 64",
    ]


def test_an_answer_read_from_the_last_assignment_is_marked_as_such():
    script = dict(SCRIPT)
    script[Stage.PROGRAM] = "apples = 6 * 14\nleft = apples - 20"
    result = Solver(ScriptedBackend(script, delay_s=0)).solve(QUESTIONS[0], "pot")
    assert result.answer == 64.0 and result.solutions[0].answer_source == "last_assignment"
    for given in (result, result.to_dict()):  # fresh, and as history and batch files keep it
        item = SheetItem.from_result(given)
        assert item.answer == "64"
        assert item.program_output == (
            "The program never set answer, so its last result, left, was taken as the answer. It is 64."
        )


def test_sheet_shows_the_program_behind_a_voted_answer():
    from kpdd.solver import AUTO_SAMPLES

    # Auto samples: the greedy program's negative answer is outvoted by the sampled ones.
    backend = ScriptedBackend(delay_s=0, greedy={Stage.PROGRAM: "answer = 20 - 6 * 14"})
    result = Solver(backend).solve(QUESTIONS[0], "pot", samples=AUTO_SAMPLES)
    assert result.solutions[0].answer == -64.0 and result.answer == 64.0
    for given in (result, result.to_dict()):  # a fresh result, a history entry or batch line
        item = SheetItem.from_result(given)
        assert item.answer == "64" and item.program == SCRIPT[Stage.PROGRAM]
        assert "computed answer = 64" in item.program_output


def test_answer_from_the_list_wins_and_is_flagged(tmp_path):
    problems = parse_problems(
        '{"question": "Q one?", "answer": 70}\n{"question": "Q two?", "answer": 64}\n', ".jsonl"
    )
    outcome = run_batch(Solver(ScriptedBackend(delay_s=0)), problems, tmp_path / "r.jsonl")
    first, second = (SheetItem.from_result(r) for r in outcome.results)
    assert first.answer == "70" and "gives 64, not the 70 in the list" in first.note
    assert second.answer == "64" and second.note == ""


def test_sheet_says_when_the_steps_answer_is_shown(tmp_path):
    script = dict(SCRIPT)
    script[Stage.PROGRAM] = "apples = 6 * 14\nleft = apples - 20\nanswer = left / 2"
    result = Solver(ScriptedBackend(script, delay_s=0)).solve(QUESTIONS[0], "both").to_dict()
    item = SheetItem.from_result(result)
    assert item.answer == "64" and "so the answer shown is the steps'" in item.note
    item = SheetItem.from_result({**result, "answer": 32.0, "stepped_past": False})
    assert item.answer == "32" and item.note.endswith("the answer shown is the program's.")


def test_html_and_markdown_contents(tmp_path):
    items = solved_items(tmp_path)
    options = SheetOptions(title="Week 3 <practice>", date="2025-03-01", answer_key=True)
    page = render_html(items, options)
    assert "Week 3 &lt;practice&gt;" in page and "2025-03-01" in page
    for number, item in enumerate(items, 1):
        assert f"Problem {number}" in page and item.problem in page
    assert page.count("Core question") == 3 and "page-break-before: always" in page
    assert page.index("Answer key") > page.index(QUESTIONS[-1])
    md = render_markdown(items, options)
    # A program is shown as worked steps unless the teacher asks for the program.
    assert (
        md.startswith("# Week 3 <practice>")
        and "**Solution (worked steps).**\n\n1. Answer = 30 × 5 = 150" in md
    )
    assert "```python" not in md
    program = render_markdown(items, SheetOptions(solution_view=SolutionView.PROGRAM))
    assert "```python\nanswer = 30 * 5\n```" in program and "worked steps" not in program
    both = render_markdown(items, SheetOptions(solution_view=SolutionView.BOTH))
    assert "```python\nanswer = 30 * 5\n```" in both and "1. Answer = 30 × 5 = 150" in both
    # One program each, nothing checked them: the key says to check them.
    assert "| 2 | 150 (check this one) |" in md
    student = render_html(items, SheetOptions(student_copy=True))
    assert "Core question" not in student and "answer = 30" not in student and "Your work" in student
    assert "Answer key" not in student


def test_pdf_has_every_problem_and_answer_with_key_on_last_page(tmp_path):
    from desktop.pdf import write_sheet

    items = solved_items(tmp_path)
    out = write_sheet(items, SheetOptions(title="Practice sheet", date="2025-03-01", answer_key=True),
                      tmp_path / "sheet.pdf")  # fmt: skip
    assert out.read_bytes()[:5] == b"%PDF-"
    text = " ".join(pdftotext(out).split())
    assert "Practice sheet" in text and "2025-03-01" in text
    for question in QUESTIONS:
        assert " ".join(question.split()) in text
    for answer in ANSWERS.values():
        assert f"Answer: {answer} · check this one" in text
    pages = page_count(out)
    assert pages >= 2
    last = " ".join(pdftotext(out, pages).split())
    assert last.startswith("Answer key") or "Answer key" in last.split("Problem Answer")[0]
    assert all(a in last for a in ANSWERS.values()) and "Core question" not in last
    assert "Answer key" not in pdftotext(out, 1, pages - 1)


def test_student_copy_pdf_hides_solutions(tmp_path):
    from desktop.pdf import write_sheet

    items = solved_items(tmp_path)
    out = write_sheet(items, SheetOptions(student_copy=True, answer_key=True), tmp_path / "student.pdf")
    pages = page_count(out)
    body = " ".join(pdftotext(out, 1, pages - 1).split())
    assert all(" ".join(q.split()) in body for q in QUESTIONS)
    assert "Your work" in body and "answer = " not in body and "Core question" not in body
    assert "Answer: 64" not in body
    last = " ".join(pdftotext(out, pages).split())
    assert "Answer key" in last and "64" in last and "150" in last


def test_a_process_that_wrote_a_pdf_can_still_open_the_tutor_window(tmp_path):
    """Qt allows one application object per process: the one a sheet export makes must serve widgets."""
    script = (
        "import sys; from pathlib import Path\n"
        "from desktop.pdf import write_pdf\n"
        "write_pdf('<p>Problem 1</p>', Path(sys.argv[1]))\n"
        "from tests.desktop_fixtures import close_window, make_window\n"
        "window, _ = make_window(); window.show(); print('window', window.isVisible()); close_window(window)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    repo = Path(__file__).resolve().parents[1]  # `python -c` imports from its working folder
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "one.pdf")], capture_output=True,
                          text=True, env=env, cwd=repo, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "window True" in done.stdout and (tmp_path / "one.pdf").read_bytes()[:5] == b"%PDF-"


def test_answers_to_check_are_marked_in_the_solution_the_key_and_the_summary():
    both = SheetItem.from_result(Solver(ScriptedBackend(delay_s=0)).solve(QUESTIONS[0], "both"))
    lone = SheetItem.from_result(Solver(ScriptedBackend(delay_s=0)).solve(QUESTIONS[0], "pot"))
    assert (both.verdict, lone.verdict) == ("checked", "not_sure") and lone.to_check and not both.to_check
    assert "Only one solution was written, so nothing checked it." in lone.verdict_note
    options = SheetOptions(answer_key=True)
    page = render_html([both, lone], options)
    assert "Answer: 64 &middot; checked</p>" in page
    assert "Answer: 64 &middot; check this one</p>" in page and "Not sure: Only one solution" in page
    assert "1 answer checked, 1 to check by hand (marked “check this one”)" in page
    key = page.split("Answer key")[1]
    assert "<td>1</td><td><b>64</b></td>" in key and "<td>2</td><td><b>64</b> <span" in key
    md = render_markdown([both, lone], options)
    assert "| 1 | 64 |" in md and "| 2 | 64 (check this one) |" in md
    assert "**Answer: 64** · checked" in md and "**Answer: 64** · *check this one*" in md


def test_false_arithmetic_in_the_steps_is_marked_in_place_with_the_right_value():
    script = {**SCRIPT, Stage.STEPS: "He packs 6 * 14 = 74 apples. 74 - 10 = 64 are left. The answer is 64."}
    item = SheetItem.from_result(Solver(ScriptedBackend(script, delay_s=0)).solve(QUESTIONS[0], "both"))
    assert item.to_check and "6 × 14 is 84, not 74" in item.verdict_note
    html_page = render_html([item])
    assert 'He packs 6 * 14 = <s>74</s> <span class="slip">84</span> apples.' in html_page
    assert "He packs 6 * 14 = ~~74~~ **84** apples." in render_markdown([item])


def test_numbers_print_the_same_way_everywhere():
    script = {**SCRIPT, Stage.PROGRAM: "price = 6.0\nanswer = price * 3"}
    item = SheetItem.from_result(Solver(ScriptedBackend(script, delay_s=0)).solve(QUESTIONS[2], "pot"))
    assert item.answer == "18" and item.program_output == "The program computed answer = 18."
    assert item.worked_steps == ["Price = 6", "Answer = price × 3 = 6 × 3 = 18"]


def test_pdf_keeps_each_problem_on_one_page(tmp_path):
    from desktop.pdf import write_sheet

    items = [
        SheetItem(problem=f"Problem text number {n}. " * 12, core_question=f"What is asked in {n}?",
                  key_information=[f"fact {k} of problem {n}" for k in range(1, 7)],
                  worked_steps=[f"Step {k} = {k} × {n} = {k * n}" for k in range(1, 9)],
                  program="answer = 1", answer=str(100 + n), verdict="checked")
        for n in range(1, 9)
    ]  # fmt: skip
    out = write_sheet(items, SheetOptions(title="Long sheet", answer_key=True), tmp_path / "long.pdf")
    pages = page_count(out)
    assert pages >= 5  # each problem fills most of a page: most pages hold one
    seen = []
    for page in range(1, pages):
        text = " ".join(pdftotext(out, page).split())
        started = [n for n in range(1, 9) if f"Problem {n} " in text]
        for n in started:  # a problem that starts on a page ends on it
            assert f"Step 8 = 8 × {n} = {8 * n}" in text and f"Answer: {100 + n}" in text, (page, n)
        seen += started
        assert text.endswith(str(page))  # the page number
    assert seen == list(range(1, 9))


def test_write_sheet_rejects_unknown_format(tmp_path):
    from desktop.pdf import write_sheet

    with pytest.raises(ValueError, match="pdf"):
        write_sheet([], SheetOptions(), tmp_path / "sheet.docx")


@pytest.mark.slow
def test_kpdd_sheet_cli_resumes_and_writes_pdf(kpdd_home, smollm2_gguf, tmp_path):
    """`kpdd sheet` with the real model: finished results are reused, not solved again."""
    from kpdd.cli import main
    from kpdd.models import load_backend, resolve_model

    problems_file = tmp_path / "week-3.txt"
    problems_file.write_text("\n\n".join(QUESTIONS), encoding="utf-8")
    results = tmp_path / "results.jsonl"
    # The name the sheet's solver reports: a base GGUF with a shipped adapter resolves to that student.
    backend = load_backend(resolve_model(str(smollm2_gguf), None), threads=1)
    name = backend.info.name
    backend.close()
    # Solved earlier (here by a scripted model under the real model's name, with the sheet's default
    # samples, so the results match what `kpdd sheet` would solve): nothing left to solve.
    run_batch(Solver(ScriptedBackend(delay_s=0, name=name)), parse_problems(problems_file.read_text(), ".txt"),
              results, samples=AUTO_SAMPLES)  # fmt: skip
    solved_before = results.read_bytes()
    out = tmp_path / "week-3.pdf"
    code = main(["sheet", str(problems_file), "-o", str(out), "--answer-key", "--model", str(smollm2_gguf),
                 "--results", str(results), "--threads", "1"])  # fmt: skip
    assert code == 0
    text = " ".join(pdftotext(out).split())
    assert "Week 3" in text and all(" ".join(q.split()) in text for q in QUESTIONS)
    assert "Answer key" in " ".join(pdftotext(out, page_count(out)).split())
    md = tmp_path / "week-3.md"
    assert main(["sheet", str(problems_file), "-o", str(md), "--student-copy", "--model", str(smollm2_gguf),
                 "--results", str(results), "--threads", "1"]) == 0  # fmt: skip
    assert "Your work" in md.read_text() and "```python" not in md.read_text()
    assert results.read_bytes() == solved_before  # nothing was solved again, nothing appended
    key = main(["sheet", str(problems_file), "-o", str(tmp_path / "key.md"), "--answer-key", "--model",
                str(smollm2_gguf), "--results", str(results), "--threads", "1"])  # fmt: skip
    assert key == 0
    # The scripted model's answer (64), not the real model's, is the one on every problem.
    assert (tmp_path / "key.md").read_text().count("64") >= len(QUESTIONS)


def test_a_problem_cut_for_length_is_said_on_the_sheet(tmp_path):
    """A worksheet line of 200 KB is solved from its first characters: the sheet says so."""
    from kpdd.batch import read_problems, run_batch
    from kpdd.format import MAX_PROBLEM_CHARS
    from kpdd.solver import Solver
    from tests.scripted_backend import PROBLEM, ScriptedBackend

    worksheet = tmp_path / "worksheet.txt"
    worksheet.write_text(PROBLEM + " " + "And then some more words. " * 8000 + "\n", encoding="utf-8")
    assert worksheet.stat().st_size > 200_000
    outcome = run_batch(
        Solver(ScriptedBackend(delay_s=0)), read_problems(worksheet), tmp_path / "results.jsonl"
    )
    item = SheetItem.from_result(outcome.results[0])
    assert len(item.problem) <= MAX_PROBLEM_CHARS + 10
    said = f"only its first {MAX_PROBLEM_CHARS} characters were read and solved"
    assert said in item.note
    assert said in render_markdown([item], SheetOptions(title="Long")) and said in render_html([item])
