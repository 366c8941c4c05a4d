"""The training loop against another version of it, side by side (prints measured figures).

Runs `distill.train.run_training` from this checkout and from another one (`--against`, e.g. a
`git worktree` of an older commit) on the same recipe and data, one after the other in one run of
this script, on a tiny random Llama and on SmolLM2-135M (LoRA, as the product trains), and prints
for each: tokens/s, the loss at the first and last logged steps, the final held-out loss, and how far
the two loss curves are apart step by step. Each run is its own process with the checkout first on
sys.path, so each imports its own `distill` and `kpdd`.

    git worktree add --detach /tmp/old-train <commit>
    .venv/bin/python bench/bench_train_loop.py --against /tmp/old-train --steps 200 [--models tiny,smollm2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

# Run inside the child process: train with the given checkout's code, print the summary as JSON.
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from distill.train import load_recipe, run_training  # both checkouts' names (the old has no distill/recipe.py)
recipe = load_recipe(None, json.loads(sys.argv[2]))
print("SUMMARY " + json.dumps(run_training(recipe, log=lambda *a: None)))
"""


def train_with(checkout: Path, recipe: dict) -> dict:
    """One training run with `checkout`'s code: its summary and its loss curve {step: loss}."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkout), json.dumps(recipe)],
        capture_output=True, text=True, cwd=checkout, env={**os.environ, "PYTHONPATH": str(checkout)},
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("SUMMARY ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"training with {checkout} failed:\n{result.stderr[-3000:]}")
    summary = json.loads(lines[-1].removeprefix("SUMMARY "))
    with open(Path(recipe["out"]) / "loss.csv", encoding="utf-8") as handle:
        curve = {int(row["step"]): float(row["loss"]) for row in csv.DictReader(handle) if row["loss"]}
    return {"summary": summary, "curve": curve}


def compare(
    label: str, base: Path, data: Path, tmp: Path, steps: int, batch: int, checkouts: dict[str, Path]
) -> dict:
    runs = {}
    for name, checkout in checkouts.items():
        recipe = {
            "base_model": str(base), "data": [str(data)], "out": str(tmp / f"{label}-{name}"), "lora": True,
            "lora_dropout": 0.0, "max_steps": steps, "seq_len": 256, "batch_size": batch, "grad_accum": 2,
            "learning_rate": 3e-4, "warmup_ratio": 0.05, "eval_fraction": 0.05, "eval_every": 0,
            "eval_batches": 8, "save_every": 0, "log_every": 10, "threads": 2, "precision": "fp32",
        }  # fmt: skip
        runs[name] = train_with(checkout, recipe)
        s, curve = runs[name]["summary"], runs[name]["curve"]
        # From loss.csv, where both loops log the mean over each window of log_every steps (their
        # summaries' first_loss differ: the old loop's is step 1 alone).
        print(json.dumps({"model": label, "loop": name, "steps": s["steps"], "tokens": s["tokens"],
                          "seconds": s["seconds"], "tokens_per_s": s["tokens_per_second"],
                          "loss_first_window": curve[min(curve)], "loss_last_window": curve[max(curve)],
                          "eval_loss": round(s["eval_loss"], 4)}), flush=True)  # fmt: skip
    this, other = runs["this"], runs["against"]
    shared = sorted(set(this["curve"]) & set(other["curve"]))
    gaps = [abs(this["curve"][k] - other["curve"][k]) for k in shared]
    row = {
        "model": label,
        "tokens_per_s_ratio": round(
            this["summary"]["tokens_per_second"] / other["summary"]["tokens_per_second"], 3
        ),
        "eval_loss_this": round(this["summary"]["eval_loss"], 4),
        "eval_loss_against": round(other["summary"]["eval_loss"], 4),
        "logged_steps_compared": len(shared),
        "mean_abs_loss_gap": round(sum(gaps) / len(gaps), 4) if gaps else None,
        "max_abs_loss_gap": round(max(gaps), 4) if gaps else None,
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="another checkout of this project")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--problems", type=int, default=400, help="GSM8K train problems (gold, both modes)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2, help="rows of 256 tokens a micro-batch (2 a step)")
    parser.add_argument(
        "--models", default="tiny", help="tiny, smollm2 or tiny,smollm2 (SmolLM2: minutes a run)"
    )
    args = parser.parse_args()

    from conftest import SMOLLM2_PATH

    from distill.teach import filter_records, run_teach
    from distill.teachers import GoldTeacher
    from distill.tiny import make_tiny_model
    from kpdd.datasets import load_gsm8k
    from kpdd.format import Mode

    checkouts = {"against": Path(args.against).resolve(), "this": REPO}
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        problems = load_gsm8k(Path(args.data_dir) / "gsm8k", "train")[: args.problems]
        run_teach(GoldTeacher(), problems, tmp / "gold.jsonl", mode=Mode.BOTH)
        kept, _ = filter_records(json.loads(x) for x in (tmp / "gold.jsonl").read_text().splitlines())
        (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
        for name in args.models.split(","):
            if name == "tiny":
                label, base = (
                    "tiny-llama-256x4",
                    make_tiny_model(tmp / "tiny", SMOLLM2_PATH, hidden=256, layers=4),
                )
            else:
                label, base = "smollm2-135m", SMOLLM2_PATH
            rows.append(compare(label, base, tmp / "train.jsonl", tmp, args.steps, args.batch, checkouts))
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
