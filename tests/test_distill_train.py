"""Training pieces (recipe, tokenization, packing), checkpoint resume, and the HF backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distill.recipe import load_recipe
from distill.train_data import pack

REPO = Path(__file__).resolve().parents[1]


def test_recipe_from_toml_with_overrides(tmp_path: Path) -> None:
    recipe_file = tmp_path / "r.toml"
    recipe_file.write_text('[train]\nbase_model = "m"\ndata = ["a.jsonl"]\nlora = true\nseq_len = 256\n')
    recipe = load_recipe(recipe_file, {"seq_len": "128", "lora": "false", "learning_rate": "1e-3"})
    assert (recipe.seq_len, recipe.lora, recipe.learning_rate, recipe.data) == (128, False, 1e-3, ["a.jsonl"])
    with pytest.raises(ValueError, match="Unknown recipe keys: bogus"):
        load_recipe(recipe_file, {"bogus": "1"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("lora_r = 1.5", r"Recipe key lora_r: 1.5 is not a int"),
        ('learning_rate = "fast"', r"Recipe key learning_rate: 'fast' is not a float"),
        ('lora = "maybe"', r"Recipe key lora: 'maybe' is not a bool"),
        ("seq_len = true", r"Recipe key seq_len: True is not a int"),
        ('precision = "fp16"', r"Recipe key precision: 'fp16' is not one of auto, bf16, fp32"),
        ('examples = "chats"', r"Recipe key examples: 'chats' is not one of"),
    ],
)
def test_a_recipe_value_of_the_wrong_type_is_refused_by_its_key(
    line: str, message: str, tmp_path: Path
) -> None:
    recipe_file = tmp_path / "r.toml"
    recipe_file.write_text(f'[train]\nbase_model = "m"\ndata = ["a.jsonl"]\n{line}\n')
    with pytest.raises(ValueError, match=message):
        load_recipe(recipe_file)


@pytest.mark.parametrize(
    "recipe_file", sorted((REPO / "distill" / "recipes").glob("*.toml")), ids=lambda p: p.stem
)
def test_every_shipped_recipe_maps_onto_the_trainer(recipe_file: Path, tmp_path: Path) -> None:
    from distill.train import training_arguments

    recipe = load_recipe(recipe_file, {"base_model": "m.gguf", "data": ["a.jsonl"]})
    args = training_arguments(recipe, tmp_path, use_bf16=False, evaluates=True)
    assert (args.learning_rate, args.gradient_accumulation_steps) == (recipe.learning_rate, recipe.grad_accum)
    assert args.per_device_train_batch_size == recipe.batch_size
    assert args.lr_scheduler_kwargs == {"min_lr_rate": recipe.min_lr_ratio}
    assert args.save_steps == recipe.save_every and args.save_total_limit == recipe.keep_checkpoints
    assert str(args.eval_strategy.value) == ("steps" if recipe.eval_every else "no")
    assert args.output_dir == str(tmp_path / "checkpoints")
    # bf16 (a recipe's precision = "bf16", or "auto" on a CPU with AVX512-BF16 or AMX) is accepted here too.
    assert training_arguments(recipe, tmp_path, use_bf16=True, evaluates=False).bf16


def test_packing_keeps_examples_whole_and_masks_padding() -> None:
    items = [
        ([1, 2, 3], [-100, 2, 3]),
        ([4, 5], [-100, 5]),
        ([6] * 9, [6] * 9),
        ([7, 8, 9, 10], [-100] * 3 + [10]),
    ]
    rows, dropped = pack(items, seq_len=6, packing=True, pad_id=0)
    assert dropped == 1  # the 9-token example does not fit
    assert rows[0]["input_ids"] == [1, 2, 3, 4, 5, 0] and rows[0]["labels"] == [-100, 2, 3, -100, 5, -100]
    assert rows[0]["attention_mask"] == [1, 1, 1, 1, 1, 0]
    assert rows[1]["input_ids"] == [7, 8, 9, 10, 0, 0]
    unpacked, _ = pack(items, seq_len=6, packing=False, pad_id=0)
    assert [len(r["input_ids"]) for r in unpacked] == [3, 2, 4]


@pytest.mark.slow
def test_target_only_labels_from_the_kpdd_format(smollm2_gguf: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from distill.train_data import tokenize_example
    from kpdd.format import KeyPoints, training_examples

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name)
    example = training_examples(
        "Tom has 3 apples. How many?", KeyPoints("How many?", ["3 apples"]), "answer = 3"
    )[2]
    ids, labels = tokenize_example(tokenizer, example.prompt, example.target)
    target = [t for t, label in zip(ids, labels, strict=True) if label != -100]
    assert tokenizer.decode(target[:-1]) == example.target and target[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[: labels.index(target[0])]) == example.prompt


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, smollm2_gguf: Path, data_dir: Path) -> dict:
    """Gold data and a tiny random model, trained a few LoRA steps (a real run directory)."""
    from distill.teach import filter_records, run_teach
    from distill.teachers import GoldTeacher
    from distill.tiny import make_tiny_model
    from kpdd.datasets import load_gsm8k
    from kpdd.format import Mode

    root = tmp_path_factory.mktemp("train")
    run_teach(
        GoldTeacher(), load_gsm8k(data_dir / "gsm8k", "train")[:24], root / "gold.jsonl", mode=Mode.BOTH
    )
    kept, _ = filter_records(json.loads(line) for line in (root / "gold.jsonl").read_text().splitlines())
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    tiny = make_tiny_model(root / "tiny", smollm2_gguf)
    return {"root": root, "data": root / "train.jsonl", "tiny": tiny}


def _train_command(run: Path, data: Path, base: Path, steps: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kpdd.cli", "train", "--data", str(data), "--base-model", str(base), "--out",
            str(run), "--max-steps", str(steps), "--seq-len", "384", "--batch-size", "2", "--set", "threads=1",
            "--set", "save_every=2", "--set", "log_every=1", "--set", "eval_every=0", *extra]  # fmt: skip


@pytest.mark.slow
def test_training_resumes_from_its_last_checkpoint_after_a_kill(tiny_run: dict) -> None:
    run = tiny_run["root"] / "run-resume"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = _train_command(run, tiny_run["data"], tiny_run["tiny"], 400)
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while not (run / "checkpoints" / "checkpoint-4" / "trainer_state.json").exists():
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.2)
    process.kill()
    process.wait(timeout=30)
    result = subprocess.run(_train_command(run, tiny_run["data"], tiny_run["tiny"], 7, "--resume"), env=env,
                            cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Resuming from checkpoint-" in result.stdout
    steps = [int(row.split(",")[0]) for row in (run / "loss.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 8))  # every step logged once, in order: none repeated after the resume
    info = json.loads((run / "kpdd_run.json").read_text())
    assert info["adapter"] is True and (run / "adapter_config.json").exists()
    assert not (run / "checkpoints").exists()


@pytest.mark.slow
def test_loss_log_follows_the_recipes_schedule_and_eval_steps(tiny_run: dict) -> None:
    import csv

    run = tiny_run["root"] / "run-schedule"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = _train_command(run, tiny_run["data"], tiny_run["tiny"], 10, "--set", "eval_every=4",
                             "--set", "eval_fraction=0.2", "--set", "warmup_ratio=0.2",
                             "--set", "learning_rate=1e-3", "--set", "min_lr_ratio=0.1")  # fmt: skip
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((run / "loss.csv").open()))
    assert [int(r["step"]) for r in rows] == list(range(1, 11))
    # The eval loss joins its step's row, the finished model's too (step 10 is no eval step).
    assert [int(r["step"]) for r in rows if r["eval_loss"]] == [4, 8, 10]
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] < lrs[1] < lrs[2] == pytest.approx(1e-3)  # two warmup steps (20%), then the peak
    assert all(a > b for a, b in zip(lrs[2:], lrs[3:], strict=False))  # then down, never up
    assert 1e-4 <= lrs[-1] < 2e-4  # towards the floor, min_lr_ratio of the peak, not zero
    tokens = [int(r["tokens"]) for r in rows]
    assert tokens == sorted(tokens) and tokens[0] > 0
    summary = json.loads((run / "kpdd_run.json").read_text())["provenance"]["training"]
    assert summary["steps"] == 10 and summary["tokens"] == tokens[-1]
    assert summary["eval_loss"] == pytest.approx(float(rows[-1]["eval_loss"]), abs=1e-4)


@pytest.mark.slow
def test_training_over_a_gguf_base(tiny_run: dict, smollm2_gguf: Path) -> None:
    """The product trains over the dequantized GGUF the app runs (transformers marks such a model
    GGUF-quantized, and the Trainer refuses those unless the mark is removed)."""
    from safetensors.torch import load_file

    run = tiny_run["root"] / "run-gguf"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = _train_command(
        run, tiny_run["data"], smollm2_gguf, 1, "--seq-len", "192", "--set", "warmup_ratio=0",
        "--set", "precision=bf16",
    )  # fmt: skip
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads((run / "kpdd_run.json").read_text())
    assert info["adapter"] is True and info["base_model_path"] == str(smollm2_gguf.resolve())
    assert info["provenance"]["training"]["bf16_autocast"] is True  # bf16 autocast on the CPU works too
    adapter = load_file(str(run / "adapter_model.safetensors"))
    assert any(float(t.abs().sum()) > 0 for k, t in adapter.items() if "lora_B" in k)  # one step learned


def test_a_run_checkpointed_by_the_old_loop_is_refused_clearly(tmp_path: Path) -> None:
    from distill.train import run_training

    run = tmp_path / "run"
    (run / "checkpoints" / "step-30").mkdir(parents=True)
    (run / "checkpoints" / "step-30" / "trainer_state.json").write_text("{}")
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"problem_id": "gsm8k-train-1", "source": "gsm8k-train", "question": "q",
                                "core_question": "c", "key_information": ["k"], "program": "answer = 1"}) + "\n")  # fmt: skip
    recipe = load_recipe(
        None, {"base_model": str(tmp_path / "missing.gguf"), "data": [str(data)], "out": str(run)}
    )
    with pytest.raises(ValueError, match="older kpdd"):
        run_training(recipe, resume=True)


@pytest.mark.slow
def test_a_run_continues_from_a_finished_adapter(tiny_run: dict) -> None:
    from safetensors.torch import load_file

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first, second = tiny_run["root"] / "run-first", tiny_run["root"] / "run-continued"

    def train(run: Path, *extra: str) -> subprocess.CompletedProcess:
        command = _train_command(run, tiny_run["data"], tiny_run["tiny"], 2, *extra)
        return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)

    assert train(first).returncode == 0
    # Learning rate 0: the continued adapter must be exactly the one it started from.
    result = train(second, "--set", f"init_adapter={first}", "--set", "learning_rate=0")
    assert result.returncode == 0, result.stderr
    before = load_file(str(first / "adapter_model.safetensors"))
    after = load_file(str(second / "adapter_model.safetensors"))
    assert before.keys() == after.keys()
    assert any(float(t.abs().sum()) > 0 for k, t in before.items() if "lora_B" in k)  # it learned something
    assert all(bool((before[k] == after[k]).all()) for k in before)
    provenance = json.loads((second / "kpdd_run.json").read_text())["provenance"]
    assert provenance["init_adapter"]["path"] == str(first.resolve())
    assert provenance["init_adapter"]["steps"] == 2

    mismatch = train(tiny_run["root"] / "run-mismatch", "--set", f"init_adapter={first}", "--set", "lora_r=4")
    assert mismatch.returncode != 0 and "Make them agree" in mismatch.stderr
    missing = train(tiny_run["root"] / "run-missing", "--set", f"init_adapter={tiny_run['root']}")
    assert missing.returncode != 0 and "not a finished LoRA run" in missing.stderr


@pytest.mark.slow
def test_hf_backend_reuses_the_kv_cache_without_changing_output(tiny_run: dict) -> None:
    from distill.hf_backend import HFBackend
    from kpdd.format import STOP_STRINGS

    backend = HFBackend(tiny_run["tiny"], threads=1)
    prompt = "### Problem\nTom has 3 apples. How many?\n### Core question\n"
    first = backend.generate(prompt, stop=STOP_STRINGS, max_tokens=12)
    longer = prompt + first.text + "\n### Key information\n"
    pieces: list[str] = []
    warm = backend.generate(longer, stop=STOP_STRINGS, max_tokens=12, on_text=pieces.append)
    assert warm.prompt_tokens_evaluated < warm.prompt_tokens  # the shared prefix was not evaluated again
    cold = HFBackend(tiny_run["tiny"], threads=1).generate(longer, stop=STOP_STRINGS, max_tokens=12)
    assert warm.text == cold.text and "".join(pieces) == warm.text
    assert cold.prompt_tokens_evaluated == cold.prompt_tokens
    batch = backend.generate_batch([prompt, longer], stop=STOP_STRINGS, max_tokens=12)
    assert [g.text for g in batch] == [first.text, cold.text]


def test_example_styles_cover_each_solution_once() -> None:
    from distill.train_data import build_examples
    from kpdd.format import Stage

    record = {
        "problem_id": "gsm8k-train-1", "question": "Ann has 3 apples and buys 4. How many?",
        "core_question": "How many?", "key_information": ["Ann has 3 apples.", "She buys 4."],
        "program": "answer = 3 + 4", "steps": "3 + 4 = 7.\nThe answer is 7.",
    }  # fmt: skip
    stages = build_examples([record], include_transcript=False)
    transcripts = build_examples([record], include_transcript=False, style="transcripts")
    plain = build_examples([{**record, "steps": None}], include_transcript=False, style="plain")
    assert [e.stage for _, e in stages] == [
        Stage.CORE_QUESTION,
        Stage.KEY_INFORMATION,
        Stage.PROGRAM,
        Stage.STEPS,
    ]
    assert [e.stage for _, e in transcripts] == [Stage.PROGRAM, Stage.STEPS]
    assert [e.stage for _, e in plain] == [Stage.PROGRAM] and "Key information" not in plain[0][1].target
    # the transcript style reads the problem twice instead of four times for the same targets
    prompt_chars = sum(len(e.prompt) for _, e in transcripts)
    assert prompt_chars < sum(len(e.prompt) for _, e in stages) / 2
    with pytest.raises(ValueError, match="Unknown examples style"):
        build_examples([record], include_transcript=False, style="bogus")
