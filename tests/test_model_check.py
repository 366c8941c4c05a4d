"""A model file is checked before it runs for minutes: a file the registry does not pin gets a look
at its tensor data (laid out inside the file, every block's scale a plausible number), and a solve
whose output degenerates into one phrase over and over stops with a message."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kpdd import models
from kpdd.backend import Generation, degenerate_message, repeated_tail
from kpdd.format import MARKERS, Stage
from kpdd.gguf_file import read_header, tensor_damage
from kpdd.solver import Solver
from tests.scripted_backend import SCRIPT, ScriptedBackend

REPO = Path(__file__).resolve().parents[1]


def damaged_copy(source: Path, target: Path, at_fraction: float = 0.5, size: int = 4096) -> Path:
    """`source` with `size` random bytes written into its tensor data."""
    shutil.copyfile(source, target)
    header = read_header(target)
    with target.open("r+b") as handle:
        handle.seek(header.data_start + int((header.file_size - header.data_start - size) * at_fraction))
        handle.write(os.urandom(size))
    return target


def test_the_installed_models_and_shipped_adapters_pass(smollm2_gguf: Path, qwen05_gguf: Path) -> None:
    for path in (smollm2_gguf, qwen05_gguf, *sorted((REPO / "resources" / "models").glob("*.gguf"))):
        assert tensor_damage(path) is None, path


def test_four_kilobytes_of_random_bytes_anywhere_are_found(smollm2_gguf: Path, tmp_path: Path) -> None:
    spots = random.Random(7)
    for trial in range(12):
        damaged = damaged_copy(smollm2_gguf, tmp_path / f"damaged-{trial}.gguf", spots.random())
        assert tensor_damage(damaged) is not None, trial
        damaged.unlink()


def test_a_truncated_file_is_named(smollm2_gguf: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.gguf"
    with smollm2_gguf.open("rb") as source:
        truncated.write_bytes(source.read(smollm2_gguf.stat().st_size - 5000))
    assert "the file ends inside the tensor" in tensor_damage(truncated)


def test_cli_refuses_a_damaged_model_in_seconds_with_one_line(smollm2_gguf: Path, tmp_path: Path) -> None:
    damaged = damaged_copy(smollm2_gguf, tmp_path / "model.gguf")
    env = {**os.environ, "KPDD_HOME": str(tmp_path / "home")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kpdd.cli", "solve", "--model", str(damaged), "Tom has 3 apples."],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    elapsed = time.perf_counter() - started
    assert done.returncode != 0 and elapsed < 30
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: The model file {damaged} is damaged: the tensor "
    ), lines


def test_adding_a_damaged_model_is_refused(smollm2_gguf: Path, kpdd_home: Path, tmp_path: Path) -> None:
    damaged = damaged_copy(smollm2_gguf, tmp_path / "model.gguf")
    with pytest.raises(models.DamagedModelError, match="model.gguf cannot be used: the tensor"):
        models.add_model(damaged)
    assert models.user_models() == []


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("x = 1\n" + "isConnected " * 12, "isConnected "),
        ("The answer" + "!" * 40, None),  # no letter or digit in the unit: punctuation is not a phrase
        ("# " + "-" * 60 + "\nanswer = 3\n", None),
        ("total = 3 + 4\nanswer = total\n", None),
        ("ok " + "的的" * 12, "的"),
        ("total = 16 + " + "12 + " * 12, "12 + "),  # a small model looping inside a line
        ("$0.025/12 = $0.000083333333333333333", None),  # a long number is not a loop
        ("total = 300 * 3500 + 1000000000000000000", None),
    ],
)
def test_repeated_tail(text: str, unit: str | None) -> None:
    assert repeated_tail(text) == unit


class DegenerateBackend(ScriptedBackend):
    """Writes the `broken` stage as a model repeating itself, ended as the llama.cpp backend ends it."""

    def __init__(self, broken: Stage, text: str, greedy_only: bool = False) -> None:
        super().__init__(SCRIPT, delay_s=0)
        self.broken, self.text, self.greedy_only = broken, text, greedy_only

    def generate(self, prompt, *, stop, max_tokens, temperature=0.0, seed=None, on_text=None, cancel=None):
        generation = super().generate(prompt, stop=stop, max_tokens=max_tokens, temperature=temperature,
                                      seed=seed, on_text=on_text, cancel=cancel)  # fmt: skip
        at_stage = prompt.rstrip("\n").endswith(MARKERS[self.broken])
        if at_stage and (temperature == 0 or not self.greedy_only):
            return Generation(self.text, "degenerate", generation.prompt_tokens, 0, 24, 0.1)
        return generation


def test_a_degenerate_core_question_is_a_broken_model_and_ends_the_solve_with_a_message() -> None:
    backend = DegenerateBackend(Stage.CORE_QUESTION, "isConnected " * 12)
    result = Solver(backend).solve("A farmer packs 6 baskets of 14 apples.", "pot", samples=0)
    assert result.answer is None
    assert result.error == degenerate_message("isConnected ")
    assert result.error.startswith('The model\'s output looks broken: it wrote "isConnected" over and over')
    assert [s.stage for s in result.stages] == [Stage.CORE_QUESTION]  # nothing more was asked of it


def test_a_program_looping_inside_a_line_fails_alone_and_auto_samples_go_on() -> None:
    backend = DegenerateBackend(Stage.PROGRAM, "apples = 6 * 14\ntotal = " + "14 + " * 12, greedy_only=True)
    result = Solver(backend).solve("A farmer packs 6 baskets with 14 apples each. He gives away 20. How many are left?",
                                   "pot", samples=0)  # fmt: skip
    assert result.error is None and result.rechecked  # the looping first program counts as a failure
    assert result.answer == 64 and result.solutions[0].answer is None
