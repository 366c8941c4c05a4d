"""Teaching machinery: the record store, the HTTP teacher client against a real fault-injecting
server on 127.0.0.1, resumable teaching, filtering, the evaluation-data guard and error analysis."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from distill.analysis import analyze, compare_key_points, stepped_past_answer
from distill.chat_client import OpenAIChat, TeacherError
from distill.store import RecordStore, read_jsonl, repair_tail
from distill.teach import EvalDataError, check_training_data, filter_records, run_teach
from distill.teachers import ChatTeacher, GoldTeacher, Sampling, stage_messages
from kpdd.datasets import Problem
from kpdd.format import DEMONSTRATIONS, Mode, Stage
from kpdd.sandbox import computed_values

# -- a real HTTP server that misbehaves on purpose ----------------------------------------------------


class FaultServer:
    """OpenAI-style /chat/completions on 127.0.0.1 that replays a script of behaviours:
    "ok", "junk" (not JSON), "truncated" (JSON cut short), "slow" (sleeps past the client timeout),
    "429", "500", "empty" (valid JSON without choices). After the script, every reply is "ok"."""

    def __init__(self, script: list[str], reply_text: str = "How many apples are left?") -> None:
        self.script = list(script)
        self.reply_text = reply_text
        self.seen: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                with outer.lock:
                    action = outer.script.pop(0) if outer.script else "ok"
                    outer.seen.append(action)
                if action == "slow":
                    time.sleep(1.5)
                    action = "ok"
                if action in ("429", "500"):
                    body = b'{"error": "busy"}'
                    self.send_response(int(action))
                    if action == "429":
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                full = json.dumps(
                    {
                        "choices": [
                            {
                                "message": {"role": "assistant", "content": outer.reply_text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                    }  # fmt: skip
                ).encode()
                body = {"junk": b"<html>502 gateway</html>", "truncated": full[: len(full) // 2],
                        "empty": b'{"choices": []}'}.get(action, full)  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


MESSAGES = [{"role": "user", "content": "hi"}]


def test_client_retries_junk_truncated_errors_and_timeouts_then_succeeds() -> None:
    with FaultServer(["junk", "truncated", "500", "429", "empty", "slow"]) as server:
        client = OpenAIChat(server.url, "m", timeout_s=0.5, retries=6, backoff_s=0.01)
        reply = client.complete(MESSAGES, temperature=0.0, max_tokens=8)
    assert reply.text == "How many apples are left?"
    tally = client.tally.to_dict()
    assert tally["retries"] == 6
    assert tally["failures"] == {"bad_reply": 3, "http_5xx": 1, "http_429": 1, "timeout": 1}
    assert tally["requests"] == 1 and tally["prompt_tokens"] == 10 and tally["completion_tokens"] == 5


def test_client_gives_up_after_its_retries_with_the_kind() -> None:
    with FaultServer(["500"] * 10) as server:
        client = OpenAIChat(server.url, "m", timeout_s=2, retries=2, backoff_s=0.01)
        with pytest.raises(TeacherError) as info:
            client.complete(MESSAGES, temperature=0.0, max_tokens=8)
    assert info.value.kind == "http_5xx"
    assert client.tally.failures["http_5xx"] == 3


def test_client_reports_a_dead_server_as_connection_error() -> None:
    client = OpenAIChat("http://127.0.0.1:9/v1", "m", timeout_s=1, retries=1, backoff_s=0.01)
    with pytest.raises(TeacherError) as info:
        client.complete(MESSAGES, temperature=0.0, max_tokens=8)
    assert info.value.kind == "connection"


def _problems(n: int) -> list[Problem]:
    return [Problem(f"p-{i}", f"Tom has {i + 3} apples and eats 1. How many are left?", float(i + 2), "jsonl")
            for i in range(n)]  # fmt: skip


def test_teach_counts_junk_replies_and_resumes_without_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "teach.jsonl"
    # Every stage request fails permanently for the first problems; the run stops early, the rerun finishes.
    with FaultServer(["junk"] * 9) as server:
        client = OpenAIChat(server.url, "m", timeout_s=2, retries=2, backoff_s=0.01)
        teacher = ChatTeacher(client, "openai:m", "openai", Sampling(0.0, 16, 0), demos=1)
        first = run_teach(
            teacher, _problems(6), out, mode=Mode.POT, concurrency=1, max_consecutive_failures=2
        )
        assert first["failed"] == 2 and first["failed_by_kind"] == {"bad_reply": 2}
        assert first["stopped_early"] and first["remaining"] == 6
        second = run_teach(teacher, _problems(6), out, mode=Mode.POT, concurrency=3)
        third = run_teach(teacher, _problems(6), out, mode=Mode.POT, concurrency=3)
    assert second["written"] == 6 and second["remaining"] == 0
    assert third["already_done"] == 6 and third["written"] == 0
    records = list(read_jsonl(out))
    assert sorted(r["problem_id"] for r in records) == [f"p-{i}" for i in range(6)]
    prov = records[0]["provenance"]
    assert prov["teacher"] == "openai:m" and prov["prompt_version"] and prov["sampling"]["max_tokens"] == 16
    assert prov["time"] and prov["format_version"]


def test_store_cuts_a_half_written_line_and_never_doubles(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    record = {"problem_id": "a", "sample": 0, "provenance": {"teacher": "gold"}}
    with RecordStore(path) as store:
        assert store.append(record)
        assert not store.append(dict(record))
    with path.open("a") as handle:
        handle.write('{"problem_id": "b", "sam')  # a kill in the middle of a write
    assert repair_tail(path) > 0
    with RecordStore(path) as store:
        assert store.existing == 1
        assert store.append({**record, "problem_id": "b"})
    assert [r["problem_id"] for r in read_jsonl(path)] == ["a", "b"]


def test_filter_keeps_right_solutions_drops_wrong_and_duplicates() -> None:
    base = {"question": "q", "gold": 6.0, "core_question": "How many?", "key_information": ["3 and 3"],
            "provenance": {"teacher": "t"}}  # fmt: skip
    records = [
        {**base, "problem_id": "1", "program": "answer = 3 + 3", "steps": "3 + 3 = 6.\nThe answer is 6."},
        {**base, "problem_id": "1", "sample": 1, "program": "answer = 3 + 3", "steps": "The answer is 7."},
        {**base, "problem_id": "2", "program": "answer = (", "steps": None},
        {**base, "problem_id": "3", "program": "answer = 1/0", "steps": None},
        {**base, "problem_id": "4", "program": "print(6)", "steps": None},
        {**base, "problem_id": "5", "core_question": "", "program": "answer = 6", "steps": None},
        {**base, "problem_id": "6", "source": "svamp", "program": "answer = 6", "steps": None},
    ]
    kept, stats = filter_records(records)
    assert [(r["problem_id"], bool(r["program"]), bool(r["steps"])) for r in kept] == [("1", True, True)]
    assert stats["duplicates"] == 1
    assert stats["failures"] == {
        "steps:wrong_answer": 1, "program:syntax": 1, "program:runtime": 1, "program:no_answer": 1,
        "core_question:empty": 1, "refused:evaluation_data": 1,
    }  # fmt: skip
    assert stats["failures_by_stage"]["program"] == 3
    assert stats["kept_share"] == round(1 / 7, 4)


def test_filter_keeps_a_right_program_without_answer_and_adds_the_answer_line() -> None:
    record = {"problem_id": "7", "question": "q", "gold": 72.0, "core_question": "How many clips?",
              "key_information": ["48 in April"], "provenance": {"teacher": "t"}, "steps": None,
              "program": "april = 48\nmay = april / 2\ntotal = april + may\nprint(total)"}  # fmt: skip
    kept, stats = filter_records([record])
    assert stats["programs_kept"] == 1
    assert (
        kept[0]["program"] == "april = 48\nmay = april / 2\ntotal = april + may\nprint(total)\nanswer = total"
    )
    assert kept[0]["filter"] == {"program_answer": 72.0, "answer_line_added": True}


def test_gold_teacher_writes_verified_records(tmp_path: Path, data_dir: Path) -> None:
    from kpdd.datasets import load_gsm8k

    problems = load_gsm8k(data_dir / "gsm8k", "train")[:20]
    stats = run_teach(
        GoldTeacher(), problems, tmp_path / "gold.jsonl", mode=Mode.BOTH, data_name="gsm8k-train"
    )
    assert stats["written"] == 20
    kept, fstats = filter_records(read_jsonl(tmp_path / "gold.jsonl"))
    assert fstats["programs_kept"] == 20 - sum(stats["gold_failures"].values())
    assert fstats["steps_kept"] == 20  # every gold CoT ends in the gold answer


@pytest.mark.parametrize("name", ["gsm8k", "svamp", "asdiv", "multiarith", "data/gsm8k_test.jsonl",
                                  "gsm_symbolic.jsonl"])  # fmt: skip
def test_evaluation_data_is_refused_for_training(name: str, tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="evaluation"):
        check_training_data(name)
    with pytest.raises(EvalDataError):
        run_teach(GoldTeacher(), [], tmp_path / "x.jsonl", data_name=name)
    check_training_data("gsm8k-train")


def test_stage_prompts_carry_demonstrations_and_earlier_stages() -> None:
    from kpdd.format import KeyPoints

    messages = stage_messages("P?", Stage.PROGRAM, KeyPoints("How many?", ["fact one"]))
    assert len(messages) == 2 + 2 * len(DEMONSTRATIONS)
    assert messages[2]["content"] == DEMONSTRATIONS[0].program
    assert "Core question: How many?" in messages[-1]["content"] and "- fact one" in messages[-1]["content"]
    assert len(stage_messages("P?", Stage.CORE_QUESTION, demos=1)) == 4


def test_analysis_separates_misunderstanding_from_wrong_solutions() -> None:
    reference = {
        "a": {
            "core_question": "How many apples are left?",
            "key_information": ["Tom has 5 apples.", "He eats 2."],
        },
        "b": {"core_question": "How many pears in total?", "key_information": ["3 pears", "4 pears"]},
        "c": {"core_question": "How much money?", "key_information": ["$7 each", "2 books"]},
    }
    report = {"records": [
        {"id": "a", "question": "Tom has 5 apples. He eats 2.", "correct": False, "prediction": 4,
         "core_question": "How many apples are left?", "key_information": ["Tom has 5 apples.", "He eats 2."]},
        {"id": "b", "question": "3 pears and 4 pears", "correct": False, "prediction": 9,
         "core_question": "How many pears in total?", "key_information": ["3 pears"]},
        {"id": "c", "question": "$7 each, 2 books", "correct": True, "prediction": 14,
         "core_question": "How much money?", "key_information": ["$7 each", "2 books"]},
        {"id": "d", "question": "x", "correct": False, "prediction": None, "error_kind": "syntax",
         "core_question": "", "key_information": []},
    ]}  # fmt: skip
    result = analyze(report, reference)
    categories = {item["id"]: item["category"] for item in result["items"]}
    assert categories == {
        "a": "wrong_solution",
        "b": "misunderstood",
        "c": "correct",
        "d": "program_error:syntax",
    }
    assert result["summary"]["misunderstood_share_of_wrong"] == 0.5
    assert result["summary"]["accuracy_when_key_points_agree"] == 0.5
    assert result["summary"]["accuracy_when_key_points_disagree"] == 0.0
    off_topic = compare_key_points({"core_question": "What colour is the sky?", "key_information": ["99 birds"]},
                                   reference["a"], "Tom has 5 apples.")  # fmt: skip
    assert set(off_topic["reasons"]) == {
        "core_question_differs", "key_information_missing_numbers", "key_information_extra_numbers",
    }  # fmt: skip


def _pot_miss(program: str, gold: float, prediction: float | None = 9.0) -> dict:
    return {
        "correct": False,
        "prediction": prediction,
        "gold": gold,
        "solutions": [{"kind": "pot", "text": program}],
    }


def test_analysis_finds_programs_that_computed_the_answer_then_kept_going() -> None:
    # the student's real ASDiv miss: the sum was right, then it halved it
    assert computed_values("pieces = 10 + 8\nanswer = pieces / 2") == [18.0]
    assert stepped_past_answer(_pot_miss("pieces = 10 + 8\nanswer = pieces / 2", gold=18))
    # a number copied from the problem is not a computed step
    assert not stepped_past_answer(_pot_miss("bottles = 18\nanswer = bottles / 2", gold=18))
    assert not stepped_past_answer(_pot_miss("total = 10 + 7\nanswer = total * 2", gold=18))
    # right answers and programs without an answer are other categories
    assert not stepped_past_answer({**_pot_miss("x = 10 + 8\nanswer = x", gold=18), "correct": True})
    assert not stepped_past_answer(_pot_miss("x = 10 + 8\nanswer = x / (", gold=18, prediction=None))
    # hostile or broken programs give no values and raise nothing: they run in the sandbox
    assert computed_values("import os\nx = os.system('echo hi')") == []
    assert computed_values("x = 1 +") == []
    assert computed_values("x = 10 ** 400 * 1.0\nanswer = x") == []
    report = {"records": [{"id": "a", "question": "q", **_pot_miss("pieces = 10 + 8\nanswer = pieces / 2", gold=18)},
                          {"id": "b", "question": "q", **_pot_miss("total = 10 + 7\nanswer = total * 2", gold=18)}]}  # fmt: skip
    assert analyze(report, {})["summary"]["stepped_past_answer"] == 1


def test_fallback_fills_what_the_teacher_lacks_and_keeps_the_teachers_key_points() -> None:
    from distill.teach import fill_from_fallback

    teacher = [{"problem_id": "1", "core_question": "T?", "key_information": ["t"], "program": "answer = 6",
                "steps": None, "provenance": {"teacher": "gguf:t"}}]  # fmt: skip
    gold = [
        {"problem_id": "1", "core_question": "G?", "key_information": ["g"], "program": "answer = 3 + 3",
         "steps": "3 + 3 = 6.\nThe answer is 6.", "provenance": {"teacher": "gold"}},
        {"problem_id": "2", "core_question": "G2?", "key_information": ["g2"], "program": "answer = 1",
         "steps": "The answer is 1.", "provenance": {"teacher": "gold"}},
    ]  # fmt: skip
    merged, counts = fill_from_fallback(teacher, gold)
    assert [(r["problem_id"], r["core_question"], r["program"], r["steps"]) for r in merged] == [
        ("1", "T?", "answer = 6", "3 + 3 = 6.\nThe answer is 6."),
        ("2", "G2?", "answer = 1", "The answer is 1."),
    ]
    assert merged[0]["provenance"] == {"teacher": "gguf:t", "fallback": {"steps": "gold"}}
    assert counts == {"primary": 1, "filled_program": 0, "filled_steps": 1, "fallback_only": 1}


def test_teacher_records_are_packed_without_problem_text_and_unpacked_whole(
    tmp_path: Path, data_dir: Path
) -> None:
    import gzip

    from distill.records import pack, unpack
    from kpdd.datasets import load_gsm8k

    source = tmp_path / "teach.jsonl"
    run_teach(GoldTeacher(), load_gsm8k(data_dir / "gsm8k", "train")[:5], source, mode=Mode.POT)
    packed = pack(source, "t", folder=tmp_path / "records")
    with gzip.open(packed, "rt", encoding="utf-8") as handle:
        stored = [json.loads(line) for line in handle]
    assert len(stored) == 5 and all("question" not in r for r in stored)  # the data set's text stays out
    out = tmp_path / "again.jsonl"
    assert unpack("t", out, str(data_dir), folder=tmp_path / "records") == 5
    original = [json.loads(line) for line in source.read_text().splitlines()]
    assert [json.loads(line) for line in out.read_text().splitlines()] == original
    shorter = tmp_path / "shorter.jsonl"
    shorter.write_text("".join(source.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(SystemExit, match="holds more records"):  # fuller work is never overwritten
        pack(shorter, "t", folder=tmp_path / "records")


def test_records_taught_from_a_problem_list_unpack_from_that_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chinese teacher records come from a committed problem list, not a data set: unpack reads their
    text back from the list named in their provenance (relative to the repository, as taught)."""
    from distill.records import pack, unpack

    listed = tmp_path / "distill" / "data" / "mine.jsonl"
    listed.parent.mkdir(parents=True)
    rows = [{"id": f"zh-gsm8k-train-{i}", "question": f"小明有{i + 2}个苹果，吃了1个，还剩几个？", "answer": i + 1}
            for i in range(3)]  # fmt: skip
    listed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # kpdd teach runs from the repository root: the path is relative
    taught = [
        {"problem_id": r["id"], "source": "jsonl", "question": r["question"], "program": f"answer = {r['answer']}",
         "provenance": {"teacher": "gguf:t", "data": "distill/data/mine.jsonl"}}
        for r in rows
    ]  # fmt: skip
    source = tmp_path / "teach.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in taught), encoding="utf-8")
    pack(source, "zh", folder=tmp_path / "records")
    out = tmp_path / "again.jsonl"
    assert unpack("zh", out, None, folder=tmp_path / "records") == 3
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == taught


def test_select_cuts_a_continuing_runs_slice_of_filtered_records(tmp_path: Path) -> None:
    from distill.records import main as records_main

    def record(index: int, kind: str, fallback: dict | None = None) -> dict:
        provenance = {"teacher": f"{kind}:t" if kind != "gold" else "gold", "teacher_kind": kind}
        return {
            "problem_id": f"gsm8k-train-{index}",
            "question": "q",
            "program": "answer = 1",
            "steps": ["1 + 0 = 1"],
            "provenance": {**provenance, **({"fallback": fallback} if fallback else {})},
        }

    # as `kpdd filter --fallback` writes them: the teacher's records (their steps filled from gold),
    # gold records for the problems the teacher got wrong (6, 9), and one teacher record whose
    # program came from gold (10)
    rows = [record(i, "gold") if i % 3 == 0 else record(i, "gguf", {"steps": "gold"}) for i in range(2, 12)]
    rows[8] = record(10, "gguf", {"program": "gold"})
    source, out = tmp_path / "filtered.jsonl", tmp_path / "slice.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = f"select {source} -o {out} --first 4 --teacher-only --steps-every 4".split()
    assert records_main(args) == 0
    chosen = [json.loads(line) for line in out.read_text().splitlines()]
    kept = (4, 5, 7, 8, 11)
    assert [r["problem_id"] for r in chosen] == [f"gsm8k-train-{i}" for i in kept]
    assert [i for i, r in zip(kept, chosen) if r["steps"]] == [4, 8]  # steps on the multiples of 4
    assert all(r["program"] == "answer = 1" for r in chosen)
    assert records_main(f"select {source} -o {out} --first 4".split()) == 0  # without --teacher-only
    assert len(out.read_text().splitlines()) == 8  # problems 4-11, all with steps
    assert all(json.loads(line)["steps"] for line in out.read_text().splitlines())
    assert records_main(f"select {source} -o {out} --first 4 --before 8 --teacher-only".split()) == 0
    assert [json.loads(line)["problem_id"] for line in out.read_text().splitlines()] == [
        "gsm8k-train-4", "gsm8k-train-5", "gsm8k-train-7"
    ]  # fmt: skip
