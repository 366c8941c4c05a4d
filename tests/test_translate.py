"""`kpdd translate`: what makes a Chinese translation stand for its problem, and the resumable run
(a scripted translator for the bookkeeping; the real GGUF path with SmolLM2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distill.translate import check_translation, done_ids, rejected_path, run_translate
from kpdd.datasets import Problem
from kpdd.format import is_chinese
from kpdd.jsonl import read_jsonl

FARMER = (
    "A farmer has 17 sheep and 3 times as many goats. He sells 12 goats. How many animals does he have now?"
)


@pytest.mark.parametrize(
    "chinese, reason",
    [
        ("一个农民有17只羊，山羊的数量是羊的3倍。他卖掉了12只山羊。他现在一共有多少只动物？", None),
        (
            "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？",
            None,
        ),  # 三倍 is 3
        ("", "empty"),
        ("A farmer has 17 sheep and 3 times as many goats. He sells 12 goats.", "not_chinese"),
        ("一个农民有17只sheep，山羊是羊的3倍。他卖掉了12只山羊。", "untranslated"),
        ("一个农民有17只羊，山羊的数量是羊的3倍。他卖掉了10只山羊。", "numbers"),  # 12 became 10
        ("农民有17只羊和17×3=51只山羊。他卖掉了12只山羊。", "added_number"),  # a step worked out
        ("农民有17只羊，山羊是羊的3倍，卖了12只，现在有56只动物。", "answer"),  # solved it
    ],
)
def test_a_translation_is_kept_only_when_it_keeps_the_problem(chinese, reason):
    assert check_translation(FARMER, chinese, 56) == reason


def test_names_may_stay_and_implied_numbers_may_be_written():
    english = "Mia buys a dozen eggs and uses half of them. How many eggs are left?"
    assert check_translation(english, "Mia买了12个鸡蛋，用掉了一半。还剩下多少个鸡蛋？", 6) is None


class ScriptedTranslator:
    """Replies from a table, keyed by the English (a list: one reply per try, greedy first); records
    what it was asked and how."""

    name = "scripted"

    def __init__(self, replies: dict[str, str | list[str]]) -> None:
        self.replies = replies
        self.asked: list[str] = []
        self.temperatures: list[float] = []

    def translate_many(self, questions, on_done, cancel=None, temperature=0.0, seed=0) -> None:
        for index, question in enumerate(questions):
            self.asked.append(question)
            self.temperatures.append(temperature)
            reply = self.replies[question]
            on_done(index, reply[seed] if isinstance(reply, list) else reply, "stop")


def test_kept_and_refused_go_to_their_files_and_a_rerun_redoes_neither(tmp_path: Path):
    problems = [
        Problem("p1", FARMER, 56.0, "test"),
        Problem("p2", "Tom has 4 boxes of 6 pens. How many pens does he have?", 24.0, "test"),
    ]
    replies = {FARMER: "一个农民有17只羊，山羊的数量是羊的3倍。他卖掉了12只山羊。他现在一共有多少只动物？",
               problems[1].question: "Tom has 4 boxes of 6 pens."}  # fmt: skip
    out = tmp_path / "zh.jsonl"
    translator = ScriptedTranslator(replies)
    stats = run_translate(translator, problems, out, chunk=1)
    assert (stats.kept, stats.rejected) == (1, 1)
    (kept,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert kept["question"] == replies[FARMER] and kept["answer"] == "56" and kept["question_en"] == FARMER
    (refused,) = [json.loads(line) for line in rejected_path(out).read_text(encoding="utf-8").splitlines()]
    assert refused["source_id"] == "p2" and refused["reason"] == "not_chinese"
    assert done_ids(out) == {"p1", "p2"}
    again = run_translate(translator, problems, out)
    assert (again.already_done, again.kept, again.rejected, len(translator.asked)) == (2, 0, 0, 2)
    # The kept file is a problem list kpdd eval and kpdd teach read as they are.
    from kpdd.datasets import load_dataset

    (loaded,) = load_dataset(str(out)).problems
    assert (loaded.id, loaded.question, loaded.answer) == ("zh-p1", replies[FARMER], 56.0)


@pytest.mark.slow
def test_the_command_runs_a_real_gguf_and_resumes(tmp_path: Path, smollm2_gguf, capsys):
    from kpdd import cli

    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": f"Ann has {i + 2} apples and buys 3 more. "
                                        "How many apples does she have?", "answer": i + 5}) + "\n"
                            for i in range(3)))  # fmt: skip
    out = tmp_path / "zh.jsonl"
    args = ["translate", "--data", str(data), "--gguf", str(smollm2_gguf), "--parallel", "3", "--threads", "2",
            "-o", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    assert done_ids(out) == {
        "q0",
        "q1",
        "q2",
    }  # every problem kept or refused, each with the translator's name
    records = [json.loads(line) for path in (out, rejected_path(out)) if path.exists()
               for line in path.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert all(r["translator"] == f"gguf:{smollm2_gguf.name}" for r in records)
    capsys.readouterr()
    assert cli.main(args) == 0
    assert "kept 0, refused 0 this run (3 done before)" in capsys.readouterr().out


def test_a_translated_evaluation_set_is_never_training_data(tmp_path: Path):
    from distill.teach import EvalDataError, check_training_data, record_training_problem

    out = tmp_path / "chinese-problems.jsonl"  # a name that says nothing of where the problems came from
    translator = ScriptedTranslator(
        {FARMER: "一个农民有17只羊，山羊的数量是羊的3倍。他卖掉了12只山羊。他现在一共有多少只动物？"}
    )
    run_translate(translator, [Problem("gsm8k-test-7", FARMER, 56.0, "gsm8k")], out)
    with pytest.raises(EvalDataError, match="gsm8k-test-7"):
        check_training_data(str(out))
    assert record_training_problem({"problem_id": "zh-gsm8k-test-7"}) is not None
    train = tmp_path / "train-zh.jsonl"
    run_translate(translator, [Problem("gsm8k-train-7", FARMER, 56.0, "gsm8k-train")], train)
    check_training_data(str(train))  # a translation of GSM8K train may be taught
    assert record_training_problem({"problem_id": "zh-gsm8k-train-7"}) is None


def test_a_refused_translation_is_tried_again_sampled_until_one_is_kept(tmp_path: Path):
    good = "一个农民有17只羊，山羊的数量是羊的3倍。他卖掉了12只山羊。他现在一共有多少只动物？"
    dropped = "一个农民有17只羊，山羊的数量是羊的3倍。他现在一共有多少只动物？"  # "sells 12" left out
    translator = ScriptedTranslator({FARMER: [dropped, dropped, good]})
    problems = [Problem("p1", FARMER, 56.0, "test")]
    out = tmp_path / "zh.jsonl"
    assert run_translate(translator, problems, out).rejected == 1
    assert run_translate(translator, problems, out, attempt=1).rejected == 1
    assert run_translate(translator, problems, out, attempt=2).kept == 1
    assert translator.temperatures == [0.0, 0.6, 0.6]
    assert run_translate(translator, problems, out, attempt=2).problems == 0  # kept: never asked again
    (kept,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert kept["attempt"] == 2 and kept["question"] == good


CHINESE_SETS = Path(__file__).resolve().parents[1] / "bench" / "records" / "zh"


@pytest.mark.parametrize("split", ["dev", "test"])
def test_the_chinese_sets_keep_every_number_and_are_never_training_data(split, tmp_path):
    """The committed Chinese dev and test splits: the 300 problems of the English split each, every
    one passing the check machine translations must pass (or carrying the reason it was overridden
    by hand), and refused as training data by name and by content."""
    from distill.teach import eval_only_reason
    from kpdd.datasets import load_dataset

    path = CHINESE_SETS / f"gsm8k-{split}-zh.jsonl"
    rows = list(read_jsonl(path))
    assert len(rows) == 300 and len({r["id"] for r in rows}) == 300
    assert all(r["id"].startswith("zh-gsm8k-test-") and is_chinese(r["question"]) for r in rows)
    failing = {
        r["id"]: reason
        for r in rows
        if (reason := check_translation(r["question_en"], r["question"], r["answer"]))
        and not r.get("check_overridden", "").startswith(f"ok:{reason}")
    }
    assert failing == {}
    loaded = load_dataset(str(path))
    assert [p.answer for p in loaded.problems] == [r["answer"] for r in rows]
    assert eval_only_reason(str(path))
    renamed = tmp_path / "my-chinese-problems.jsonl"  # a new name does not make it trainable: its ids
    renamed.write_bytes(path.read_bytes())
    assert "evaluation set" in (eval_only_reason(str(renamed)) or "")


def test_the_chinese_dev_and_test_splits_do_not_overlap():
    dev, test = ({r["id"] for r in read_jsonl(CHINESE_SETS / f"gsm8k-{s}-zh.jsonl")} for s in ("dev", "test"))
    assert not dev & test
