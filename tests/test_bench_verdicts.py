"""bench/bench_verdicts.py on small hand-made `kpdd eval` reports: the calibration table is right."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBLEM = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_verdicts", REPO / "bench" / "bench_verdicts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_verdicts"] = module
    spec.loader.exec_module(module)
    return module


def program(text: str, answer: float | None, error_kind: str | None = None) -> dict:
    return {"kind": "pot", "text": text, "answer": answer, "error_kind": error_kind, "error": None,
            "answer_source": "answer" if answer is not None else None, "model": ""}  # fmt: skip


def steps(text: str, answer: float | None) -> dict:
    return {"kind": "cot", "text": text, "answer": answer, "error_kind": None, "error": None,
            "answer_source": None, "model": ""}  # fmt: skip


def record(n: int, solutions: list[dict], prediction: float | None, gold: float = 56.0, **extra) -> dict:
    return {"id": f"p{n}", "question": PROBLEM, "gold": gold, "prediction": prediction,
            "correct": prediction == gold, "solutions": solutions, "confidence": 0.0, "agree": None,
            "stepped_past": False, "rechecked": False, "second_opinion": "", **extra}  # fmt: skip


RIGHT = "goats = 17 * 3\nanswer = 17 + goats - 12"  # 56
WRONG = "goats = 17 * 3\nanswer = goats + 12 + 12"  # 75


def write_report(folder: Path, name: str, mode: str, records: list[dict]) -> Path:
    path = folder / name / "gsm8k.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": {"mode": mode, "samples": 1}, "summary": {}, "records": records}))
    return path


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    out = tmp_path / "bench-models"
    both = [
        record(
            1, [program(RIGHT, 56.0), steps("17 * 3 = 51. 17 + 51 - 12 = 56. The answer is 56.", 56.0)], 56.0
        ),
        record(
            2, [program(WRONG, 75.0), steps("17 * 3 = 51. 51 + 12 + 12 = 75. The answer is 75.", 75.0)], 75.0
        ),
        record(3, [program(RIGHT, 56.0), steps("The answer is 60.", 60.0)], 56.0),
        record(4, [program("answer = (", None, "syntax"), steps("No idea.", None)], None),
    ]
    write_report(out, "demo-both", "both", both)
    auto = [
        record(
            1,
            [program(RIGHT, 56.0)] * 3 + [program("answer = 17 + 3", 20.0), program("answer = 17 * 3", 51.0)],
            56.0,
        ),  # 3 of 5 agree  # fmt: skip
        record(2, [program(RIGHT, 56.0)] * 4 + [program("answer = 17 + 3", 20.0)], 56.0),  # 4 of 5
        record(3, [program(WRONG, 75.0)], 75.0),  # one solution
    ]
    write_report(out, "demo-auto", "pot", auto)
    write_report(out / "latency", "demo-auto", "pot", auto[:1])  # timing runs are not counted again
    return out


def test_levels_and_their_share_right_per_configuration(bench, reports, capsys):
    assert bench.main([str(reports)]) == 0
    text = capsys.readouterr().out
    rows = {line.split(" | ")[0].strip("| "): line for line in text.split("## Other")[0].splitlines()[2:]}
    # Both: 1 and 2 checked (one right, one wrong), 3 not sure (program and steps disagree), 4 no answer.
    assert rows["demo-both"].startswith(
        "| demo-both | 4 | 50.0% | 2 (50.0%) | 50.0% [9.5, 90.5] | 1 (25.0%) | 100.0% [20.7, 100.0] | 1 (25.0%) |"
    )
    assert rows["demo-both"].endswith("| missed |")
    # Auto: the 3-of-5 and 4-of-5 votes are checked and right; the lone 75 is not sure and wrong.
    assert rows["demo-auto"].startswith(
        "| demo-auto | 3 | 66.7% | 2 (66.7%) | 100.0% [34.2, 100.0] | 1 (33.3%) | 0.0% [0.0, 79.3] | 0 (0.0%) |"
    )
    assert rows["demo-auto"].endswith("| met |")


def test_other_thresholds_show_their_effect(bench, reports, capsys):
    bench.main([str(reports), "--configs", "demo-auto"])
    text = capsys.readouterr().out
    assert "demo-both" not in text
    thresholds = text.split("## Other thresholds")[1].split("## Each doubt")[0]
    assert "| demo-auto | 2 (in use) | 60% | 2 | 100.0% [34.2, 100.0] |" in thresholds
    assert "| demo-auto | 2 | 80% | 1 | 100.0% [20.7, 100.0] |" in thresholds  # 3 of 5 is no longer enough
    assert "| demo-auto | 3 | 80% | 1 |" in thresholds
    doubts = text.split("## Each doubt")[1]
    assert "| demo-auto | one_solution | 1 | 0.0% [0.0, 79.3] | 1 | 0.0% [0.0, 79.3] |" in doubts


def test_answers_are_voted_again_by_the_apps_rules(bench, tmp_path, capsys):
    # Recorded when a tie went to the program's -2 muffins; the app now answers 148 and is right.
    muffins = "A bakery baked 160 muffins and sold 12. How many muffins are left?"
    old = record(1, [program("answer = 10 - 12", -2.0), steps("160 - 12 = 148. The answer is 148.", 148.0)],
                 -2.0, gold=148.0, question=muffins, agree=False)  # fmt: skip
    write_report(tmp_path / "out", "old-both", "both", [old])
    bench.main([str(tmp_path / "out")])
    assert "| old-both | 1 | 100.0% |" in capsys.readouterr().out
    bench.main([str(tmp_path / "out"), "--as-recorded"])
    assert "| old-both | 1 | 0.0% |" in capsys.readouterr().out


def test_the_card_gets_the_tables_once(bench, reports, tmp_path, capsys):
    card = tmp_path / "VERDICTS.md"
    card.write_text("# Verdicts\n\nHow they work.\n")
    bench.main([str(reports), "--card", str(card)])
    bench.main([str(reports), "--card", str(card)])
    text = card.read_text()
    assert text.startswith("# Verdicts\n\nHow they work.\n")
    assert text.count(bench.CARD_BEGIN) == 1 and text.count("| demo-both | 4 |") == 1
    assert "7 answers of gsm8k" in text
    assert bench.main([str(tmp_path / "empty-folder-that-is-missing")]) == 2
