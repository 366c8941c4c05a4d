"""`kpdd train`: supervised fine-tuning of a KPDD student with transformers, PEFT and accelerate.

Each filtered record gives one training example per KPDD stage (`kpdd.format.training_examples`),
optionally the whole transcript too; the loss covers the target tokens only (prompt and padding are
labelled -100). Examples are packed greedily into sequences of `seq_len` tokens (each example whole,
an EOS after each target), batched, and trained with gradient accumulation, AdamW, warmup then cosine
decay, bf16 autocast (CPU and GPU; weights stay fp32), a held-out slice for eval loss, checkpoints
(`accelerate` state: model, optimizer, scheduler, RNG) and resume, a CSV loss log and a progress bar.
Run it with `accelerate launch -m kpdd.cli train ...` to use several GPUs; the same code runs on CPU.

The result is a run directory: the model (full weights) or the LoRA adapter, the tokenizer,
`recipe.json`, `loss.csv` and `kpdd_run.json` ({"format_version", "modes", "base_model",
"base_model_path", "adapter", "provenance"}), which `kpdd eval --backend hf` and `kpdd export` read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from distill.hf_models import load_base, save_plain
from distill.store import read_jsonl
from distill.teach import record_training_problem
from distill.teachers import now_iso
from kpdd.format import (
    EXAMPLE_STYLES,
    FORMAT_VERSION,
    PLAIN_MODE,
    KeyPoints,
    solution_examples,
    training_examples,
)

RUN_FILE = "kpdd_run.json"
RUN_FORMAT = 1


@dataclass
class Recipe:
    """Everything a training run needs; saved as recipe.json in the run directory."""

    base_model: str = ""
    data: list[str] = field(default_factory=list)
    out: str = "runs/kpdd-student"
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"  # or a comma-separated list of module names
    # A finished LoRA run (its directory) whose adapter this run starts from: continued training
    # on more data in a later sitting. Its target modules are kept; rank, alpha and base must match.
    init_adapter: str = ""
    include_transcript: bool = False
    # "stages": one example per stage (prompt = transcript so far); "transcripts": one example per
    # solution kind running through all stages (about 3x fewer tokens for the same targets);
    # "plain": the solution straight after the problem, no key points (the ablation).
    examples: str = "stages"
    seq_len: int = 512
    packing: bool = True
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    min_lr_ratio: float = 0.1
    max_grad_norm: float = 1.0
    epochs: float = 1.0
    max_steps: int = 0  # > 0 overrides epochs
    eval_fraction: float = 0.02
    eval_every: int = 100
    eval_batches: int = 20
    save_every: int = 200
    keep_checkpoints: int = 2
    log_every: int = 10
    seed: int = 0
    # auto: bf16 autocast where the hardware computes in bf16 (GPUs that support it, CPUs with
    # AVX512-BF16 or AMX), else fp32; bf16 | fp32 force one.
    precision: str = "auto"
    threads: int = 0  # CPU threads for torch (0: torch's default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(value: Any, kind: Any) -> Any:
    """A recipe value from a string (command line) or a file, as the field's type."""
    kind = str(kind)
    if not isinstance(value, str):
        return value
    if kind == "bool":
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if "list" in kind:
        return [v for v in value.split(",") if v]
    return value


def load_recipe(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Recipe:
    """A recipe from a .json or .toml file (or defaults), then `overrides` (command-line values)."""
    values: dict[str, Any] = {}
    if path:
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        if isinstance(values.get("train"), dict):  # [train] table in TOML
            values = values["train"]
    values.update(overrides or {})
    known = {f.name: f.type for f in fields(Recipe)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"Unknown recipe keys: {', '.join(unknown)} (known: {', '.join(known)})")
    recipe = Recipe(**{k: _coerce(v, known[k]) for k, v in values.items()})
    if isinstance(recipe.data, str):
        recipe.data = [recipe.data]
    if not recipe.base_model:
        raise ValueError("The recipe needs base_model (a Hugging Face model folder or a GGUF file).")
    if not recipe.data:
        raise ValueError("The recipe needs data (filtered JSONL files from `kpdd filter`).")
    return recipe


# -- data ----------------------------------------------------------------------------------------


def _is_eval_problem(problem_id: str, fraction: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def load_training_records(paths: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Filtered records, refusing any that come from evaluation data (with a clear message)."""
    records: list[dict[str, Any]] = []
    files = []
    refused: Counter = Counter()
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Training data {path} does not exist.")
        count = 0
        for record in read_jsonl(path):
            reason = record_training_problem(record)
            if reason:
                refused[reason] += 1
                continue
            if not record.get("program") and not record.get("steps"):
                continue
            records.append(record)
            count += 1
        files.append(
            {
                "path": str(path.resolve()),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "records": count,
            }
        )
    if refused:
        raise ValueError(
            "Refusing to train on records from evaluation data (GSM8K test, GSM-Symbolic, SVAMP, ASDiv, "
            f"MultiArith, or --reference-only): {dict(refused)}. Remove them from the training files."
        )
    if not records:
        raise ValueError(f"No usable training records in {', '.join(paths)}: run `kpdd filter` first.")
    return records, {"files": files}


def build_examples(
    records: list[dict[str, Any]], include_transcript: bool, style: str = "stages"
) -> list[tuple[str, Any]]:
    """(problem_id, TrainingExample) pairs for every record, in the recipe's example style."""
    if style not in EXAMPLE_STYLES:
        raise ValueError(f"Unknown examples style {style!r} (known: {', '.join(EXAMPLE_STYLES)})")
    out = []
    for record in records:
        key_points = KeyPoints(record["core_question"], list(record["key_information"]))
        program, steps = record.get("program"), record.get("steps")
        if style == "stages":
            examples = training_examples(record["question"], key_points, program, steps, include_transcript)
        else:
            examples = solution_examples(record["question"], key_points, program, steps, style)
        out.extend((str(record["problem_id"]), example) for example in examples)
    return out


def tokenize_example(tokenizer: Any, prompt: str, target: str) -> tuple[list[int], list[int]]:
    """Token ids and labels: the prompt as the tokenizer encodes a prompt at inference (with its
    special tokens, if it adds any), the target without, then EOS; labels -100 on the prompt."""
    prompt_ids = tokenizer(prompt).input_ids
    target_ids = tokenizer(target, add_special_tokens=False).input_ids
    if tokenizer.eos_token_id is not None:
        target_ids = target_ids + [tokenizer.eos_token_id]
    return prompt_ids + target_ids, [-100] * len(prompt_ids) + target_ids


def pack(
    items: list[tuple[list[int], list[int]]], seq_len: int, packing: bool, pad_id: int
) -> tuple[list[dict[str, list[int]]], int]:
    """Rows of at most `seq_len` tokens: examples packed whole (greedy, in order) or one per row.
    Returns the rows and how many examples were too long and dropped."""
    rows: list[dict[str, list[int]]] = []
    dropped = 0
    current_ids: list[int] = []
    current_labels: list[int] = []

    def flush() -> None:
        if current_ids:
            pad = seq_len - len(current_ids) if packing else 0
            rows.append(
                {
                    "input_ids": current_ids + [pad_id] * pad,
                    "labels": current_labels + [-100] * pad,
                    "attention_mask": [1] * len(current_ids) + [0] * pad,
                }
            )

    for ids, labels in items:
        if len(ids) > seq_len:
            dropped += 1
            continue
        if not packing or len(current_ids) + len(ids) > seq_len:
            flush()
            current_ids, current_labels = [], []
        current_ids = current_ids + ids
        current_labels = current_labels + labels
    flush()
    return rows, dropped


def collate(rows: list[dict[str, list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    batch = {}
    for key, fill in (("input_ids", pad_id), ("labels", -100), ("attention_mask", 0)):
        batch[key] = torch.tensor([r[key] + [fill] * (width - len(r[key])) for r in rows], dtype=torch.long)
    return batch


# -- models --------------------------------------------------------------------------------------


def _lora(model: Any, recipe: Recipe) -> Any:
    from peft import LoraConfig, get_peft_model

    targets: Any = recipe.lora_targets
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _continue_lora(model: Any, recipe: Recipe) -> tuple[Any, dict[str, Any]]:
    """The base with a finished run's adapter, trainable; returns it and that run's summary."""
    from peft import PeftModel

    if not recipe.lora:
        raise ValueError("init_adapter continues a LoRA run: set lora = true.")
    source = Path(recipe.init_adapter).expanduser()
    if not (source / "adapter_config.json").is_file():
        raise ValueError(f"init_adapter {source} is not a finished LoRA run (no adapter_config.json).")
    run_file = source / RUN_FILE
    previous: dict[str, Any] = json.loads(run_file.read_text()) if run_file.is_file() else {}
    # The adapter only fits the weights it was trained over: refuse another base.
    previous_base = previous.get("base_model_path")
    here = str(Path(recipe.base_model).expanduser().resolve())
    if previous_base and Path(previous_base).name != Path(here).name:
        raise ValueError(f"init_adapter {source} was trained over {previous_base}, not {here}.")
    config = json.loads((source / "adapter_config.json").read_text())
    if (config.get("r"), config.get("lora_alpha")) != (recipe.lora_r, recipe.lora_alpha):
        raise ValueError(
            f"init_adapter {source} has r={config.get('r')}, alpha={config.get('lora_alpha')}; "
            f"the recipe says r={recipe.lora_r}, alpha={recipe.lora_alpha}. Make them agree."
        )
    model = PeftModel.from_pretrained(model, str(source), is_trainable=True)
    training = (previous.get("provenance") or {}).get("training") or {}
    return model, {
        "path": str(source.resolve()),
        "modes": previous.get("modes") or [],
        "base_model_path": previous_base,
        "records": (previous.get("provenance") or {}).get("records"),
        "data": (previous.get("provenance") or {}).get("data"),
        "steps": training.get("steps"),
        "tokens": training.get("tokens"),
        "eval_loss": training.get("eval_loss"),
        "init_adapter": (previous.get("provenance") or {}).get("init_adapter"),
    }


# -- the run ---------------------------------------------------------------------------------------


def _checkpoints(run_dir: Path) -> list[Path]:
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    done = [p for p in folder.glob("step-*") if (p / "trainer_state.json").is_file()]
    return sorted(done, key=lambda p: int(p.name.split("-")[1]))


def _truncate_loss_log(path: Path, last_step: int) -> None:
    """Keep the header and the rows of steps up to `last_step` (a resumed run logs the rest again)."""
    from kpdd.paths import atomic_write_text

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if line.split(",", 1)[0].isdigit()
                        and int(line.split(",", 1)[0]) <= last_step]  # fmt: skip
    atomic_write_text(path, "".join(kept))


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bf16 itself (AVX512-BF16 or AMX). Without it torch emulates bf16,
    and autocast is slower than fp32: 2.6x on this project's 2-core AVX-512 machine (Qwen2.5-0.5B
    with LoRA, 25 against 66 tokens/s)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def use_bf16_autocast(precision: str, device_type: str) -> bool:
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    if precision != "auto":
        return precision == "bf16"
    if device_type == "cuda":
        import torch

        return torch.cuda.is_bf16_supported()
    return device_type == "cpu" and cpu_has_native_bf16()


def _autocast(device_type: str, enabled: bool) -> Any:
    import torch

    return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=enabled)


def run_training(recipe: Recipe, resume: bool = False, log: Any = print) -> dict[str, Any]:
    """Train; returns a summary (steps, tokens/s, losses, run directory)."""
    import torch
    from accelerate import Accelerator
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm
    from transformers import get_cosine_schedule_with_warmup

    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    run_dir = Path(recipe.out)
    if run_dir.exists() and (run_dir / RUN_FILE).exists() and not resume:
        raise ValueError(f"{run_dir} already holds a finished run; choose another --out.")
    if run_dir.exists() and not resume and _checkpoints(run_dir):
        raise ValueError(f"{run_dir} holds checkpoints of an unfinished run: pass --resume or another --out.")
    run_dir.mkdir(parents=True, exist_ok=True)

    accelerator = Accelerator(gradient_accumulation_steps=recipe.grad_accum)
    device_type = accelerator.device.type
    use_bf16 = use_bf16_autocast(recipe.precision, device_type)
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)

    records, data_info = load_training_records(recipe.data)
    model, tokenizer = load_base(recipe.base_model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = build_examples(records, recipe.include_transcript, recipe.examples)
    train_items, eval_items = [], []
    for problem_id, example in examples:
        item = tokenize_example(tokenizer, example.prompt, example.target)
        (
            eval_items if _is_eval_problem(problem_id, recipe.eval_fraction, recipe.seed) else train_items
        ).append(item)
    if not train_items:
        train_items, eval_items = eval_items, []
    pad_id = tokenizer.pad_token_id
    rng = random.Random(recipe.seed)
    rng.shuffle(train_items)  # mix stages and problems before packing
    train_rows, dropped = pack(train_items, recipe.seq_len, recipe.packing, pad_id)
    eval_rows, eval_dropped = pack(eval_items, recipe.seq_len, recipe.packing, pad_id)
    if not train_rows:
        raise ValueError(f"No training example fits in seq_len={recipe.seq_len} tokens.")

    init_run = None
    if recipe.init_adapter:
        model, init_run = _continue_lora(model, recipe)
    elif recipe.lora:
        model = _lora(model, recipe)
    model.config.use_cache = False
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_params = sum(p.numel() for p in model.parameters())
    generator = torch.Generator().manual_seed(recipe.seed)
    train_loader = DataLoader(
        train_rows, batch_size=recipe.batch_size, shuffle=True, generator=generator,
        collate_fn=lambda rows: collate(rows, pad_id),
    )  # fmt: skip
    eval_loader = DataLoader(
        eval_rows, batch_size=recipe.batch_size, collate_fn=lambda rows: collate(rows, pad_id)
    )
    steps_per_epoch = max(1, math.ceil(len(train_loader) / recipe.grad_accum))
    total_steps = (
        recipe.max_steps if recipe.max_steps > 0 else max(1, math.ceil(recipe.epochs * steps_per_epoch))
    )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=recipe.learning_rate,
        weight_decay=recipe.weight_decay,
    )
    warmup = int(recipe.warmup_ratio * total_steps)

    def lr_lambda_factory() -> Any:
        cosine = get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)
        return cosine

    scheduler = lr_lambda_factory()
    if recipe.min_lr_ratio > 0:  # floor the cosine at min_lr_ratio * lr
        base = scheduler.lr_lambdas[0]
        scheduler.lr_lambdas[0] = lambda step: (
            max(base(step), recipe.min_lr_ratio) if step >= warmup else base(step)
        )
    model, optimizer, train_loader, eval_loader, scheduler = accelerator.prepare(
        model, optimizer, train_loader, eval_loader, scheduler
    )

    state = {"step": 0, "epoch": 0, "batches_in_epoch": 0, "tokens": 0, "seconds": 0.0}
    checkpoints = _checkpoints(run_dir) if resume else []
    if checkpoints:
        accelerator.load_state(str(checkpoints[-1]))
        state.update(json.loads((checkpoints[-1] / "trainer_state.json").read_text()))
        log(f"Resuming from {checkpoints[-1].name} (step {state['step']}/{total_steps})")
    if accelerator.is_main_process:
        (run_dir / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=1))
    loss_path = run_dir / "loss.csv"
    new_log = not loss_path.exists() or not checkpoints
    if not new_log:
        _truncate_loss_log(loss_path, state["step"])  # rows logged after the checkpoint are redone
    loss_file = loss_path.open("w" if new_log else "a", newline="", encoding="utf-8")
    writer = csv.writer(loss_file)
    if new_log:
        writer.writerow(
            ["step", "epoch", "loss", "lr", "tokens", "tokens_per_second", "eval_loss", "seconds"]
        )

    def evaluate() -> float | None:
        if not eval_rows:
            return None
        model.eval()
        losses = []
        with torch.no_grad():
            for i, batch in enumerate(eval_loader):
                if i >= recipe.eval_batches:
                    break
                with _autocast(device_type, use_bf16):
                    losses.append(
                        accelerator.gather(model(**batch).loss.detach().float().reshape(1)).mean().item()
                    )
        model.train()
        return sum(losses) / len(losses) if losses else None

    def save_checkpoint() -> None:
        target = run_dir / "checkpoints" / f"step-{state['step']}"
        tmp = target.with_name(target.name + ".tmp")
        accelerator.wait_for_everyone()
        if accelerator.is_main_process and tmp.exists():
            shutil.rmtree(tmp)
        accelerator.save_state(str(tmp))
        if accelerator.is_main_process:
            (tmp / "trainer_state.json").write_text(json.dumps(state))
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
            for old in _checkpoints(run_dir)[: -recipe.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)

    model.train()
    bar = tqdm(
        total=total_steps, initial=state["step"], disable=not accelerator.is_main_process, desc="train"
    )
    started = time.perf_counter() - state["seconds"]
    window_tokens, window_started, window_losses = 0, time.perf_counter(), []
    last_eval: float | None = None
    evaluated_at = -1  # the step whose row carries the latest eval loss
    first_loss: float | None = None
    last_loss: float | None = None
    while state["step"] < total_steps:
        loader = train_loader
        if state["batches_in_epoch"]:
            loader = accelerator.skip_first_batches(train_loader, state["batches_in_epoch"])
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(state["epoch"])
        for batch in loader:
            with accelerator.accumulate(model):
                with _autocast(device_type, use_bf16):
                    loss = model(**batch).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and recipe.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            tokens = int(batch["attention_mask"].sum().item()) * accelerator.num_processes
            state["tokens"] += tokens
            window_tokens += tokens
            state["batches_in_epoch"] += 1
            window_losses.append(loss.detach().float().item())
            if not accelerator.sync_gradients:
                continue
            state["step"] += 1
            bar.update(1)
            step_loss = sum(window_losses[-recipe.grad_accum :]) / len(window_losses[-recipe.grad_accum :])
            first_loss = step_loss if first_loss is None else first_loss
            last_loss = step_loss
            eval_loss = None
            if (recipe.eval_every and state["step"] % recipe.eval_every == 0) or state["step"] == total_steps:
                eval_loss = last_eval = evaluate()
                evaluated_at = state["step"]
            if (
                state["step"] % max(1, recipe.log_every) == 0
                or state["step"] == total_steps
                or eval_loss is not None
            ):
                elapsed = time.perf_counter() - window_started
                rate = window_tokens / elapsed if elapsed > 0 else 0.0
                mean_loss = sum(window_losses) / len(window_losses)
                if accelerator.is_main_process:
                    writer.writerow([
                        state["step"], state["epoch"], f"{mean_loss:.5f}", f"{scheduler.get_last_lr()[0]:.3e}",
                        state["tokens"], f"{rate:.1f}", "" if eval_loss is None else f"{eval_loss:.5f}",
                        f"{time.perf_counter() - started:.1f}",
                    ])  # fmt: skip
                    loss_file.flush()
                bar.set_postfix(loss=f"{mean_loss:.3f}", tok_s=f"{rate:.0f}")
                window_tokens, window_started, window_losses = 0, time.perf_counter(), []
            state["seconds"] = time.perf_counter() - started
            if recipe.save_every and state["step"] % recipe.save_every == 0 and state["step"] < total_steps:
                save_checkpoint()
            if state["step"] >= total_steps:
                break
        else:
            state["epoch"] += 1
            state["batches_in_epoch"] = 0
    bar.close()
    state["seconds"] = time.perf_counter() - started
    if evaluated_at != state["step"]:  # resumed at the end: the last step's row is already written
        last_eval = evaluate()
    loss_file.close()

    accelerator.wait_for_everyone()
    summary = {
        "run_dir": str(run_dir),
        "steps": state["step"],
        "tokens": state["tokens"],
        "seconds": round(state["seconds"], 2),
        "tokens_per_second": round(state["tokens"] / state["seconds"], 1) if state["seconds"] else 0.0,
        "first_loss": first_loss,
        "last_loss": last_loss,
        "eval_loss": last_eval,
        "train_rows": len(train_rows),
        "eval_rows": len(eval_rows),
        "train_examples": len(train_items),
        "eval_examples": len(eval_items),
        "dropped_too_long": dropped + eval_dropped,
        "trainable_parameters": trainable,
        "parameters": total_params,
        "bf16_autocast": use_bf16,
        "device": str(accelerator.device),
        "processes": accelerator.num_processes,
    }
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        if recipe.lora:
            unwrapped.save_pretrained(str(run_dir))
        else:
            save_plain(unwrapped, run_dir)
        tokenizer.save_pretrained(str(run_dir))
        write_run_file(run_dir, recipe, records, data_info, summary, init_run)
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return summary


def write_run_file(
    run_dir: Path,
    recipe: Recipe,
    records: list[dict[str, Any]],
    data_info: dict[str, Any],
    summary: dict[str, Any],
    init_run: dict[str, Any] | None = None,
) -> None:
    import peft
    import torch
    import transformers

    modes = []
    if any(r.get("program") for r in records):
        modes.append("pot")
    if any(r.get("steps") for r in records):
        modes.append("cot")
    if recipe.examples == "plain":
        modes.append(PLAIN_MODE)
    for mode in (init_run or {}).get("modes", []):  # what the adapter learned before still counts
        if mode not in modes and (mode != PLAIN_MODE or recipe.examples == "plain"):
            modes.append(mode)
    teachers = Counter(str((r.get("provenance") or {}).get("teacher", "?")) for r in records)
    prompt_versions = sorted({str((r.get("provenance") or {}).get("prompt_version", "?")) for r in records})
    base = Path(recipe.base_model).expanduser()
    run = {
        "run_format": RUN_FORMAT,
        "format_version": FORMAT_VERSION,
        "modes": modes,
        "base_model": base.stem if base.suffix == ".gguf" else base.name,
        "base_model_path": str(base.resolve()),
        "adapter": bool(recipe.lora),
        "provenance": {
            "created": now_iso(),
            "data": data_info["files"],
            "teachers": dict(teachers),
            "prompt_versions": prompt_versions,
            "records": len(records),
            "recipe": recipe.to_dict(),
            "training": summary,
            "init_adapter": init_run,
            "versions": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "peft": peft.__version__,
            },
        },
    }
    (run_dir / RUN_FILE).write_text(json.dumps(run, indent=1))
