"""A training run's data: filtered teacher records (never an evaluation set's), turned into examples
in the recipe's style, tokenized with the loss on the target only, and packed whole into rows of
`seq_len` tokens; a per-problem slice is held out for the eval loss."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.recipe import Recipe
from distill.store import read_jsonl
from distill.teach import record_training_problem
from kpdd.format import EXAMPLE_STYLES, KeyPoints, solution_examples, training_examples


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


@dataclass
class PackedData:
    """Training and held-out rows, packed, with what went into them."""

    train_rows: list[dict[str, list[int]]]
    eval_rows: list[dict[str, list[int]]]
    train_examples: int
    eval_examples: int
    dropped_too_long: int


def pack_examples(recipe: Recipe, records: list[dict[str, Any]], tokenizer: Any) -> PackedData:
    """The recipe's examples of `records`, tokenized, split by problem (a held-out slice for the
    eval loss), shuffled and packed into rows of `seq_len` tokens."""
    train_items, eval_items = [], []
    for problem_id, example in build_examples(records, recipe.include_transcript, recipe.examples):
        item = tokenize_example(tokenizer, example.prompt, example.target)
        held_out = _is_eval_problem(problem_id, recipe.eval_fraction, recipe.seed)
        (eval_items if held_out else train_items).append(item)
    if not train_items:
        train_items, eval_items = eval_items, []
    random.Random(recipe.seed).shuffle(train_items)  # mix stages and problems before packing
    pad_id = tokenizer.pad_token_id
    train_rows, dropped = pack(train_items, recipe.seq_len, recipe.packing, pad_id)
    eval_rows, eval_dropped = pack(eval_items, recipe.seq_len, recipe.packing, pad_id)
    if not train_rows:
        raise ValueError(f"No training example fits in seq_len={recipe.seq_len} tokens.")
    # The eval loss costs a forward pass a batch: a few batches, not the whole held-out slice.
    eval_rows = eval_rows[: max(1, recipe.eval_batches) * recipe.batch_size]
    return PackedData(train_rows, eval_rows, len(train_items), len(eval_items), dropped + eval_dropped)
