"""`kpdd train`: supervised fine-tuning of a KPDD student on transformers' Trainer (with PEFT for LoRA).

Each filtered record gives training examples in the recipe's style (`kpdd.format.training_examples`
or `solution_examples`); the loss covers the target tokens only (prompt and padding are labelled
-100). Examples are packed whole into rows of `seq_len` tokens (an EOS after each target). The recipe
(a TOML file, `Recipe`) maps onto `TrainingArguments` in `training_arguments`: AdamW, warmup then
cosine decay to a floor, gradient accumulation, bf16 where the hardware computes in it, a held-out
slice for the eval loss, checkpoints and resume. What the Trainer does not do is here: loading the
base from a GGUF (`distill.hf_models`), continuing a finished adapter (`init_adapter`), `loss.csv`
with one row per step across resumes, and the run file.

The result is a run directory: the model (full weights) or the LoRA adapter, the tokenizer,
`recipe.json`, `loss.csv` and `kpdd_run.json` ({"format_version", "modes", "base_model",
"base_model_path", "adapter", "provenance"}), which `kpdd eval --backend hf` and `kpdd export` read.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from distill.hf_models import load_base, save_plain
from distill.recipe import Recipe
from distill.run_info import RUN_FILE, RUN_FORMAT
from distill.teachers import now_iso
from distill.train_data import collate, load_training_records, pack_examples
from kpdd.format import (
    FORMAT_VERSION,
    PLAIN_MODE,
)

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
    if source.suffix == ".gguf":  # a shipped adapter (resources/models/): back into PEFT weights first
        from distill.gguf_adapter import import_lora_gguf

        source = import_lora_gguf(source, recipe.base_model, Path(recipe.out) / "init-adapter")
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

CHECKPOINT_PREFIX = "checkpoint-"  # transformers.Trainer's folder names under run_dir/checkpoints
LOSS_COLUMNS = ["step", "epoch", "loss", "lr", "tokens", "tokens_per_second", "eval_loss", "seconds"]


def _checkpoints(run_dir: Path) -> list[Path]:
    """Finished checkpoints, oldest first (the Trainer writes trainer_state.json last)."""
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    done = [p for p in folder.glob(CHECKPOINT_PREFIX + "*") if (p / "trainer_state.json").is_file()]
    return sorted(done, key=lambda p: int(p.name.removeprefix(CHECKPOINT_PREFIX)))


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


def training_arguments(recipe: Recipe, run_dir: Path, use_bf16: bool, evaluates: bool) -> Any:
    """The recipe as transformers' TrainingArguments: the one place the two meet."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.grad_accum,
        learning_rate=recipe.learning_rate,
        weight_decay=recipe.weight_decay,
        warmup_steps=recipe.warmup_ratio,  # a float below 1 is a share of all steps
        # Cosine decay to min_lr_ratio of the peak (not to zero): late steps still learn.
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": recipe.min_lr_ratio},
        max_grad_norm=max(0.0, recipe.max_grad_norm),
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps if recipe.max_steps > 0 else -1,
        eval_strategy="steps" if evaluates and recipe.eval_every else "no",
        eval_steps=recipe.eval_every or None,
        save_strategy="steps" if recipe.save_every else "no",
        save_steps=recipe.save_every or 500,
        save_total_limit=max(1, recipe.keep_checkpoints),
        logging_steps=max(1, recipe.log_every),
        include_num_input_tokens_seen="non_padding",
        seed=recipe.seed,
        bf16=use_bf16,
        use_cpu=not torch.cuda.is_available(),  # without it, bf16 on a CPU is refused
        report_to="none",
        remove_unused_columns=False,  # rows are plain dicts the collator reads
        dataloader_pin_memory=False,
    )


class LossLog:
    """`loss.csv`: one row per logged step, the eval loss in its step's row, the whole file rewritten
    (atomically) at each log. A resumed run first drops the rows logged after its checkpoint, so
    every step appears once, in order."""

    def __init__(self, path: Path, resume_step: int | None, write: bool = True) -> None:
        self.path = path
        self.write = write  # the main process writes; the others (several GPUs) only keep count
        self.rows: list[dict[str, Any]] = []
        if resume_step is not None and path.exists():
            with path.open(encoding="utf-8", newline="") as handle:
                self.rows = [
                    r for r in csv.DictReader(handle) if r["step"].isdigit() and int(r["step"]) <= resume_step
                ]
        self.seconds_before = float(self.rows[-1]["seconds"] or 0.0) if self.rows else 0.0
        self.started = time.perf_counter()
        self.window = (self.started, 0)  # (time, tokens seen) at the last training row: tokens/s since
        self.first_loss: float | None = None
        self.last_loss: float | None = None
        self.eval_loss: float | None = None
        self.evaluated_at = -1
        self._write()

    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self.started

    def on_log(self, step: int, epoch: float, tokens: int, logs: dict[str, float]) -> None:
        if "loss" not in logs and "eval_loss" not in logs:
            return
        if not self.rows or int(self.rows[-1]["step"]) != step:
            self.rows.append(dict.fromkeys(LOSS_COLUMNS, "") | {"step": str(step), "epoch": f"{epoch:.3f}"})
        row = self.rows[-1]
        row.update(tokens=str(tokens), seconds=f"{self.seconds():.1f}")
        if "eval_loss" in logs:
            self.eval_loss, self.evaluated_at = logs["eval_loss"], step
            row["eval_loss"] = f"{logs['eval_loss']:.5f}"
        if "loss" in logs:
            now, (then, tokens_then) = time.perf_counter(), self.window
            self.window = (now, tokens)
            self.first_loss = logs["loss"] if self.first_loss is None else self.first_loss
            self.last_loss = logs["loss"]
            row.update(loss=f"{logs['loss']:.5f}", lr=f"{logs.get('learning_rate', 0.0):.3e}",
                       tokens_per_second=f"{(tokens - tokens_then) / max(now - then, 1e-9):.1f}")  # fmt: skip
        self._write()

    def _write(self) -> None:
        from kpdd.paths import atomic_write_text

        if not self.write:
            return
        lines = [",".join(LOSS_COLUMNS)] + [",".join(str(r[c]) for c in LOSS_COLUMNS) for r in self.rows]
        atomic_write_text(self.path, "\n".join(lines) + "\n")


def _loss_log_callback(loss_log: LossLog) -> Any:
    """A TrainerCallback feeding `loss_log`."""
    from transformers import TrainerCallback

    class LossLogCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            loss_log.window = (time.perf_counter(), state.num_input_tokens_seen)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            loss_log.on_log(state.global_step, state.epoch or 0.0, state.num_input_tokens_seen, logs or {})

    return LossLogCallback()


def _trainable_model(recipe: Recipe) -> tuple[Any, Any, dict[str, Any] | None]:
    """The base (a GGUF file or a Hugging Face folder) made trainable: a new LoRA adapter, a
    finished run's adapter continued, or all weights. Returns the model, tokenizer and the run
    continued (if any)."""
    model, tokenizer = load_base(recipe.base_model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    init_run = None
    if recipe.init_adapter:
        model, init_run = _continue_lora(model, recipe)
    elif recipe.lora:
        model = _lora(model, recipe)
    model.config.use_cache = False
    return model, tokenizer, init_run


def run_training(recipe: Recipe, resume: bool = False, log: Any = print) -> dict[str, Any]:
    """Train with transformers' Trainer; returns a summary (steps, tokens/s, losses, run directory).

    Run it with `accelerate launch -m kpdd.cli train ...` to use several GPUs; the same code runs
    on CPU. Checkpoints (model, optimizer, scheduler, RNG, data position) go to run_dir/checkpoints
    every `save_every` steps; `resume` continues from the last one."""
    import torch
    from transformers import Trainer, set_seed

    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    run_dir = Path(recipe.out)
    if run_dir.exists() and (run_dir / RUN_FILE).exists() and not resume:
        raise ValueError(f"{run_dir} already holds a finished run; choose another --out.")
    if run_dir.exists() and not resume and _checkpoints(run_dir):
        raise ValueError(f"{run_dir} holds checkpoints of an unfinished run: pass --resume or another --out.")
    if resume and not _checkpoints(run_dir) and any((run_dir / "checkpoints").glob("step-*")):
        raise ValueError(
            f"{run_dir} was checkpointed by an older kpdd (step-N folders, before training moved to "
            "transformers' Trainer), which this version cannot resume: train again with another --out."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    set_seed(recipe.seed)  # the new adapter's first weights

    records, data_info = load_training_records(recipe.data)
    model, tokenizer, init_run = _trainable_model(recipe)
    data = pack_examples(recipe, records, tokenizer)
    use_bf16 = use_bf16_autocast(recipe.precision, "cuda" if torch.cuda.is_available() else "cpu")
    checkpoints = _checkpoints(run_dir) if resume else []
    resume_step = None
    if checkpoints:
        resume_step = json.loads((checkpoints[-1] / "trainer_state.json").read_text())["global_step"]
        log(f"Resuming from {checkpoints[-1].name} (step {resume_step})")
    trainer = Trainer(
        model=model,
        args=training_arguments(recipe, run_dir, use_bf16, evaluates=bool(data.eval_rows)),
        train_dataset=data.train_rows,
        eval_dataset=data.eval_rows or None,
        data_collator=lambda rows: collate(rows, tokenizer.pad_token_id),
    )
    loss_log = LossLog(run_dir / "loss.csv", resume_step, write=trainer.is_world_process_zero())
    trainer.add_callback(_loss_log_callback(loss_log))
    if trainer.is_world_process_zero():
        (run_dir / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=1))
    trainer.train(resume_from_checkpoint=str(checkpoints[-1]) if checkpoints else None)
    steps, tokens = trainer.state.global_step, trainer.state.num_input_tokens_seen
    if data.eval_rows and loss_log.evaluated_at != steps:
        trainer.evaluate()  # the finished model's held-out loss (logged into the last step's row)
    seconds = loss_log.seconds()
    summary = {
        "run_dir": str(run_dir),
        "steps": steps,
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds else 0.0,
        "first_loss": loss_log.first_loss,
        "last_loss": loss_log.last_loss,
        "eval_loss": loss_log.eval_loss,
        "train_rows": len(data.train_rows),
        "eval_rows": len(data.eval_rows),
        "train_examples": data.train_examples,
        "eval_examples": data.eval_examples,
        "dropped_too_long": data.dropped_too_long,
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "parameters": sum(p.numel() for p in model.parameters()),
        "bf16_autocast": use_bf16,
        "device": str(trainer.args.device),
        "processes": trainer.args.world_size,
    }
    if trainer.is_world_process_zero():
        unwrapped = trainer.accelerator.unwrap_model(trainer.model)
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
