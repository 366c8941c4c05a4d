"""Data set loaders on the real data (the full sets in ../shared/data where they are, else the slices in
tests/data), data folder resolution, and the error messages. The counts are exact for either: the full
sets' published sizes, or the slices' own."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kpdd import data_fetch, paths
from kpdd.answers import answers_match, extract_answer, format_answer
from kpdd.datasets import (
    DataFormatError,
    DataNotFoundError,
    Problem,
    load_asdiv,
    load_dataset,
    load_gsm8k,
    load_jsonl,
    load_multiarith,
    load_svamp,
    resolve_data_dir,
)
from tests.conftest import DATA_DIR

# Whether DATA_DIR holds the published files (their pinned sha256), or the slices.
FULL = all(data_fetch.is_fetched(DATA_DIR, f) for f in data_fetch.FILES if not f.path.endswith("LICENSE"))
# ASDiv has 2305 problems; 2093 have one number as their answer. The 212 others are 90 with several
# numbers ("8; 40"), 60 ratios or clock times ("3:4", "5:45") and 62 words ("Yes", "Mrs. Hilt", "6th").
# The slice keeps 66 of them, 5 of those not numbers.
ASDIV_TOTAL, ASDIV_NUMERIC, ASDIV_SKIPPED = (2305, 2093, 212) if FULL else (66, 61, 5)
COUNTS = (
    {"gsm8k": 1319, "gsm8k-train": 7473, "svamp": 1000, "asdiv": ASDIV_NUMERIC, "multiarith": 600}
    if FULL
    else {"gsm8k": 62, "gsm8k-train": 160, "svamp": 60, "asdiv": ASDIV_NUMERIC, "multiarith": 60}
)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own empty KPDD home and no KPDD_DATA_DIR, so the user's setup never leaks in."""
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path / "home"))
    monkeypatch.delenv(paths.ENV_DATA_DIR, raising=False)


def _check_problems(problems: list[Problem], source: str) -> None:
    assert len({p.id for p in problems}) == len(problems), "ids are unique"
    for problem in problems:
        assert problem.source == source
        assert problem.question and problem.question == problem.question.strip()
        assert "  " not in problem.question or source.startswith("gsm8k")
        assert isinstance(problem.answer, float) and math.isfinite(problem.answer)


@pytest.mark.parametrize(
    ("name", "first_id", "first_answer"),
    [
        ("gsm8k", "gsm8k-test-0", 18.0),
        ("gsm8k-train", "gsm8k-train-0", 72.0),
        ("svamp", "svamp-chal-1", 51.0),
        ("asdiv", "asdiv-nluds-0001", 9.0),
        ("multiarith", "multiarith-0", 39.0),
    ],
)
def test_load_dataset_counts(name: str, first_id: str, first_answer: float) -> None:
    load = load_dataset(name, DATA_DIR)
    assert load.name == name
    assert len(load.problems) == COUNTS[name]
    assert load.skipped == (ASDIV_SKIPPED if name == "asdiv" else 0)
    assert load.path.is_file()
    assert load.problems[0].id == first_id
    assert load.problems[0].answer == first_answer
    _check_problems(load.problems, name)


def test_asdiv_numeric_plus_skipped_is_everything() -> None:
    problems, skipped = load_asdiv(DATA_DIR / "asdiv" / "ASDiv.xml")
    assert (len(problems), skipped) == (ASDIV_NUMERIC, ASDIV_SKIPPED)
    assert len(problems) + skipped == ASDIV_TOTAL
    by_id = {p.id: p for p in problems}
    assert by_id["asdiv-nluds-0002"].answer == 15.0
    assert by_id["asdiv-nluds-0002"].question == (
        "Ellen has six more balls than Marin. Marin has nine balls. How many balls does Ellen have?"
    )
    assert by_id["asdiv-nluds-0002"].meta["formula"] == "6+9=15"
    assert by_id["asdiv-nluds-0176"].answer == pytest.approx(0.46)
    assert by_id["asdiv-nluds-1331"].answer == pytest.approx(-1 / 3)  # "-(1/3)"
    # Skipped: "Mrs. Hilt" (nluds-0030), ratio "3:4" and several numbers "8; 40".
    for skipped_id in ("nluds-0030", "nluds-0851", "nluds-0854", "nluds-0861", "nluds-1317"):
        assert f"asdiv-{skipped_id}" not in by_id


def test_gsm8k_spot_checks() -> None:
    test = load_gsm8k(DATA_DIR / "gsm8k" / "test.jsonl", "test")
    janet = test[0]
    assert janet.question.startswith("Janet’s ducks lay 16 eggs per day.")
    assert janet.solution.endswith("$<<9*2=18>>18 every day at the farmer’s market.")
    assert "####" not in janet.solution and "<<16-3-4=9>>" in janet.solution
    # Golds with thousands separators and negative golds parse.
    answers = {p.answer for p in test}
    assert 1450000.0 in answers and -10.0 in answers
    # Every gold is an integer in GSM8K.
    assert all(p.answer == int(p.answer) for p in test)


def test_gsm8k_loader_accepts_folders() -> None:
    by_root = load_gsm8k(DATA_DIR, "train")
    by_folder = load_gsm8k(DATA_DIR / "gsm8k", "train")
    assert len(by_root) == len(by_folder) == COUNTS["gsm8k-train"]
    assert load_dataset("gsm8k", DATA_DIR, split="train").name == "gsm8k-train"
    with pytest.raises(ValueError, match="split"):
        load_gsm8k(DATA_DIR, "validation")


def test_svamp_joins_body_and_question() -> None:
    problems = {p.id: p for p in load_svamp(DATA_DIR)}
    assert problems["svamp-chal-1"].question == (
        "Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack, "
        "how much do you have to pay to buy each pack?"
    )
    assert problems["svamp-chal-3"].question == (
        "Paco had 26 salty cookies and 17 sweet cookies. He ate 14 sweet cookies and 9 salty cookies. "
        "How many salty cookies did Paco have left?"
    )
    assert problems["svamp-chal-1"].meta == {"type": "Subtraction", "equation": "( 76.0 - 25.0 )"}


def test_multiarith_spot_check() -> None:
    problems = load_multiarith(DATA_DIR / "multiarith")
    assert problems[1].id == "multiarith-1" and problems[1].answer == 8.0
    assert problems[0].question.startswith("For Halloween Debby")
    assert problems[0].meta["equations"] == ["X=((32.0+42.0)-35.0)"]


@pytest.mark.parametrize(
    ("name", "first_answers"),
    [("gsm8k", [18, 3, 70000]), ("svamp", [51, 1, 17]), ("asdiv", [9, 15, 16]), ("multiarith", [39, 8, 2])],
)  # fmt: skip
def test_every_gold_printed_as_the_tutor_prints_it_is_scored_right(name, first_answers) -> None:
    """A model that writes the gold answer the way the tutor shows answers must be scored right."""
    problems = load_dataset(name, DATA_DIR).problems
    assert len(problems) == COUNTS[name] and [p.answer for p in problems[:3]] == first_answers
    for problem in problems:
        written = f"So the answer is {format_answer(problem.answer)}."
        assert answers_match(extract_answer(written), problem.answer), (problem.id, written)
    # Problems are frozen and hashable although they carry a meta dict: loading twice gives equal ones.
    assert set(load_dataset(name, DATA_DIR, limit=5).problems) == set(problems[:5])


def test_limit() -> None:
    assert len(load_dataset("svamp", DATA_DIR, limit=5).problems) == 5
    assert load_dataset("svamp", DATA_DIR, limit=0).problems == []
    with pytest.raises(ValueError, match="limit"):
        load_dataset("svamp", DATA_DIR, limit=-1)


def test_shuffled_limit_is_a_fixed_random_sample_that_a_larger_limit_extends() -> None:
    in_order = [p.id for p in load_dataset("asdiv", DATA_DIR).problems]
    sample = [p.id for p in load_dataset("asdiv", DATA_DIR, limit=50, shuffle_seed=0).problems]
    larger = [p.id for p in load_dataset("asdiv", DATA_DIR, limit=200, shuffle_seed=0).problems]
    assert larger[:50] == sample  # the same seed extends the sample rather than drawing a new one
    assert sample == [p.id for p in load_dataset("asdiv", DATA_DIR, limit=50, shuffle_seed=0).problems]
    assert sample != in_order[:50] and len(set(sample)) == 50
    # Drawn from the whole set, not its easy start: ASDiv's grade-1 items come first in the file.
    assert max(in_order.index(i) for i in sample) > len(in_order) // 2
    assert sample != [p.id for p in load_dataset("asdiv", DATA_DIR, limit=50, shuffle_seed=1).problems]
    everything = load_dataset("asdiv", DATA_DIR, shuffle_seed=0).problems
    assert sorted(p.id for p in everything) == sorted(in_order)


# --- the data folder: three ways to set it, in order, and the errors -----------------------------


def test_resolve_data_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, from_env, from_config = (tmp_path / n for n in ("explicit", "env", "config"))
    for folder in (explicit, from_env, from_config):
        folder.mkdir()
    paths.update_config(data_dir=str(from_config))
    assert resolve_data_dir() == from_config
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(from_env))
    assert resolve_data_dir() == from_env
    assert resolve_data_dir(explicit) == explicit
    assert resolve_data_dir(str(explicit)) == explicit


def test_each_way_of_setting_the_data_dir_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(load_dataset("multiarith", data_dir=DATA_DIR).problems) == COUNTS["multiarith"]
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(DATA_DIR))
    assert len(load_dataset("multiarith").problems) == COUNTS["multiarith"]
    monkeypatch.delenv(paths.ENV_DATA_DIR)
    paths.update_config(data_dir=str(DATA_DIR))
    assert len(load_dataset("multiarith").problems) == COUNTS["multiarith"]


def test_no_data_dir_says_how_to_set_it() -> None:
    with pytest.raises(DataNotFoundError) as error:
        load_dataset("gsm8k")
    message = str(error.value)
    assert "--data-dir DIR" in message
    assert "KPDD_DATA_DIR=DIR" in message
    assert "kpdd config data_dir DIR" in message


def test_missing_data_dir_names_it_and_its_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match="nowhere.*--data-dir"):
        resolve_data_dir(missing)
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(missing))
    with pytest.raises(DataNotFoundError, match="KPDD_DATA_DIR environment variable"):
        resolve_data_dir()


def test_missing_file_names_the_file_expected(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    with pytest.raises(DataNotFoundError) as error:
        load_dataset("svamp", tmp_path)
    assert str(tmp_path / "svamp" / "SVAMP.json") in str(error.value)
    with pytest.raises(DataNotFoundError, match=r"gsm8k[/\\]test\.jsonl"):
        load_dataset("gsm8k", tmp_path)


def test_unknown_name() -> None:
    with pytest.raises(ValueError, match="gsm8k, gsm8k-train, svamp, asdiv, multiarith"):
        load_dataset("mathqa", DATA_DIR)


# --- the user's own JSONL ---------------------------------------------------------------------------


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_jsonl(tmp_path: Path) -> None:
    file = _write(
        tmp_path / "mine.jsonl",
        [
            json.dumps({"question": "What is 2+2?", "answer": 4}),
            "",
            json.dumps({"question": " Half of 3? ", "answer": "1.5", "id": "q7"}),
            json.dumps({"question": "Price?", "answer": "$1,200"}),
            json.dumps({"question": "Part?", "answer": "3/4", "solution": "3 of 4"}),
        ],
    )
    load = load_dataset(str(file))  # no data folder needed for a file
    assert load.name == "mine" and load.skipped == 0 and load.path == file
    assert [p.id for p in load.problems] == ["jsonl-1", "q7", "jsonl-4", "jsonl-5"]
    assert [p.answer for p in load.problems] == [4.0, 1.5, 1200.0, 0.75]
    assert load.problems[1].question == "Half of 3?"
    assert load.problems[3].solution == "3 of 4"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"answer": 3}), "'question'"),
        (json.dumps({"question": "  ", "answer": 3}), "'question'"),
        (json.dumps({"question": "Q?"}), "missing 'answer'"),
        (json.dumps({"question": "Q?", "answer": "seven"}), "one number"),
        (json.dumps({"question": "Q?", "answer": "about 7 apples"}), "one number"),
        (json.dumps({"question": "Q?", "answer": True}), "one number"),
        (json.dumps({"question": "Q?", "answer": None}), "one number"),
        (json.dumps({"question": "Q?", "answer": [1, 2]}), "one number"),
    ],
)
def test_load_jsonl_bad_line_names_the_line(tmp_path: Path, bad_line: str, message: str) -> None:
    file = _write(tmp_path / "bad.jsonl", [json.dumps({"question": "Fine?", "answer": 1}), "", bad_line])
    with pytest.raises(DataFormatError, match=message) as error:
        load_jsonl(file)
    assert f"{file}:3:" in str(error.value)


def test_load_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="absent.jsonl"):
        load_dataset(str(tmp_path / "absent.jsonl"))


def test_asdiv_refuses_a_dtd(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
        "<Machine-Reading-Corpus-File><ProblemSet><Problem ID='x'><Body>&lol;</Body>"
        "<Question>Q?</Question><Answer>1</Answer></Problem></ProblemSet></Machine-Reading-Corpus-File>"
    )
    (tmp_path / "ASDiv.xml").write_text(xml, encoding="utf-8")
    with pytest.raises(DataFormatError, match="DTD"):
        load_asdiv(tmp_path)


def test_asdiv_small_file(tmp_path: Path) -> None:
    xml = (
        "<Machine-Reading-Corpus-File><ProblemSet>"
        "<Problem ID='a1'><Body>Tom has 2 cakes.</Body><Question>He eats 5/6 of one. How much?</Question>"
        "<Answer>5/6 (of the cake)</Answer></Problem>"
        "<Problem ID='a2'><Body>B.</Body><Question>Ratio?</Question><Answer>3:4</Answer></Problem>"
        "<Problem ID='a3'><Body>B.</Body><Question>Who?</Question><Answer>Yes</Answer></Problem>"
        "</ProblemSet></Machine-Reading-Corpus-File>"
    )
    (tmp_path / "asdiv").mkdir()
    (tmp_path / "asdiv" / "ASDiv.xml").write_text(xml, encoding="utf-8")
    load = load_dataset("asdiv", tmp_path)
    assert load.skipped == 2
    assert [(p.id, round(p.answer, 4)) for p in load.problems] == [("asdiv-a1", 0.8333)]
    assert load.problems[0].question == "Tom has 2 cakes. He eats 5/6 of one. How much?"


def test_bad_json_file_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "SVAMP.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DataFormatError, match="SVAMP.json"):
        load_svamp(tmp_path)


def test_the_dev_and_test_splits_are_disjoint_parts_of_one_seeded_order(tmp_path):
    from kpdd.datasets import EVAL_SPLITS

    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"question": f"What is {i} + 1?", "answer": i + 1}) + "\n" for i in range(700))
    )
    dev = load_dataset(str(path), eval_split="dev").problems
    test = load_dataset(str(path), eval_split="test").problems
    assert (len(dev), len(test)) == (300, 300) and not set(p.question for p in dev) & set(
        p.question for p in test
    )
    order = load_dataset(str(path), shuffle_seed=0).problems
    assert (
        dev == order[:300] and test == order[300:600] and EVAL_SPLITS == {"dev": (0, 300), "test": (300, 600)}
    )
    assert load_dataset(str(path), eval_split="test", limit=10).problems == order[300:310]
    with pytest.raises(ValueError, match="order of seed 0"):
        load_dataset(str(path), eval_split="test", shuffle_seed=1)


def test_eval_refuses_a_split_of_another_order(capsys):
    from kpdd import cli

    assert (
        cli.main(
            ["eval", "--data", "svamp", "--data-dir", str(DATA_DIR), "--split", "test", "--shuffle", "3"]
        )
        == 2
    )
    assert "the test split is part of the order of seed 0, not 3" in capsys.readouterr().err
