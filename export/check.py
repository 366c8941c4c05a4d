"""`kpdd export check`: exported variants side by side with the float reference, on the same problems.

For each variant (HF float reference, GGUF files, ONNX folders) and the same N problems:
- **agreement@K**: the first K greedy tokens after the problem's first-stage prompt, compared position by
  position with the HF float reference's (share of identical tokens), and the mean identical prefix;
- **accuracy**: the staged KPDD solver (`kpdd.solver.Solver`, greedy, PoT by default) over the
  variant's backend, scored with `kpdd.answers.answers_match`;
- **size** of the model file(s) and **tokens/s** (completion tokens over generation time, prompt
  evaluation included, as the solver uses it).
The table is printed and saved as JSON.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from export.errors import ExportError
from kpdd.backend import (
    BackendError,
    Generation,
)

Log = Callable[[str], None]


class CountingBackend:
    """Wraps a backend and adds up generation counts and times (for tokens/s)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.info = inner.info
        self.completion_tokens = 0
        self.seconds = 0.0

    def generate(self, prompt: str, **kwargs: Any) -> Generation:
        gen = self.inner.generate(prompt, **kwargs)
        self.completion_tokens += gen.completion_tokens
        self.seconds += gen.seconds
        return gen

    def generate_batch(self, prompts: Sequence[str], **kwargs: Any) -> list[Generation]:
        """Many prompts at once (the transformers reference): its tokens over the batch's time."""
        gens = self.inner.generate_batch(prompts, **kwargs)
        self.completion_tokens += sum(g.completion_tokens for g in gens)
        self.seconds += max((g.seconds for g in gens), default=0.0)  # each carries the batch's time
        return gens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()


@dataclass
class VariantReport:
    label: str
    kind: str  # "hf" | "gguf" | "onnx"
    path: str
    size_bytes: int
    agreement: float | None = None  # share of identical tokens over the first K (vs the HF reference)
    identical_prefix: float | None = None  # mean length of the identical prefix, in tokens
    accuracy: float | None = None
    correct: int = 0
    problems: int = 0
    decode_tokens_per_second: float | None = None  # greedy decoding after the first-stage prompt
    # The solver's completion tokens over its generation time (the HF reference solves in one batch).
    tokens_per_second: float | None = None
    seconds: float = 0.0
    error: str | None = None
    answers: list[Any] = field(default_factory=list)


def model_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    names = ("*.safetensors", "pytorch_model*.bin", "model.onnx*", "*.onnx", "*.onnx.data")
    files = {p for pattern in names for p in path.glob(pattern)}
    return sum(p.stat().st_size for p in files)


def _llama_greedy(backend: Any, ids: Sequence[int], n: int) -> tuple[list[int], float]:
    """Greedy tokens from llama.cpp, and the seconds spent after the first one (decode only)."""
    llm = backend.llm
    llm.reset()
    out: list[int] = []
    first = 0.0
    for token in llm.generate(list(ids), temp=0.0, top_k=1, reset=True):
        out.append(int(token))
        if len(out) == 1:
            first = time.perf_counter()
        if len(out) >= n or backend._llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
    return out, time.perf_counter() - first


def _forward_greedy(backend: Any, ids: Sequence[int], n: int) -> tuple[list[int], float]:
    """The same for the ONNX backend (through its `_rewind`/`_forward`)."""
    backend._rewind(0)
    logits = backend._forward(list(ids))
    out: list[int] = []
    first = 0.0
    while True:
        token = int(logits.argmax())
        out.append(token)
        if len(out) == 1:
            first = time.perf_counter()
        if len(out) >= n or token in backend._eos:
            break
        logits = backend._forward([token])
    return out, time.perf_counter() - first


# Greedy tokens and decode seconds after a prompt, per kind of variant.
GREEDY: dict[str, Callable[[Any, Sequence[int], int], tuple[list[int], float]]] = {
    "hf": lambda backend, ids, n: backend.greedy_tokens(ids, n),
    "gguf": _llama_greedy,
    "onnx": _forward_greedy,
}


def compare(ref: list[int], other: list[int], k: int) -> tuple[float, int]:
    """(share of the first k positions with identical tokens, identical prefix length)."""
    same = sum(1 for i in range(min(k, len(ref), len(other))) if ref[i] == other[i])
    prefix = 0
    for a, b in zip(ref, other, strict=False):
        if a != b:
            break
        prefix += 1
    return same / k if k else 0.0, prefix


def run_check(
    hf: str,
    ggufs: Sequence[str] = (),
    onnx: Sequence[str] = (),
    data: str = "gsm8k",
    data_dir: str | None = None,
    limit: int = 10,
    k: int = 32,
    max_tokens: int = 256,
    mode: str = "pot",
    threads: int | None = None,
    out: str | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Run every variant on the same problems; return (and save to `out`) the report."""
    from kpdd.datasets import load_dataset

    threads = threads or min(4, os.cpu_count() or 1)
    try:
        problems = load_dataset(data, data_dir=data_dir, limit=limit).problems
    except (OSError, ValueError) as exc:
        raise ExportError(f"Cannot load the problems: {exc}") from exc
    reference: list[list[int]] = []  # the HF float model's greedy tokens, problem by problem
    prompt_ids: list[list[int]] = []  # one tokenization for all variants (same vocabulary)
    reports: list[VariantReport] = []
    for label, kind, path in _variants(hf, ggufs, onnx):
        report = VariantReport(label, kind, str(path), model_size(path))
        reports.append(report)
        log(f"{label}: loading {path}")
        start = time.perf_counter()
        try:
            backend = _open_variant(kind, path, threads)
        except (BackendError, OSError, ValueError) as exc:
            report.error = str(exc)
            log(f"{label}: {exc}")
            continue
        try:
            if kind == "hf":
                prompt_ids += _first_stage_prompts(backend, problems)
            _measure_agreement(report, backend, prompt_ids, reference, k)
            _measure_solving(report, backend, problems, mode, max_tokens)
            log(
                f"{label}: agreement {report.agreement:.3f}, accuracy {report.correct}/{report.problems}, "
                f"decode {report.decode_tokens_per_second or 0:.1f} tok/s, solve {report.tokens_per_second or 0:.1f} tok/s"
            )
        finally:
            backend.close()
            report.seconds = time.perf_counter() - start
    result = {
        "data": data,
        "problems": len(problems),
        "k": k,
        "mode": mode,
        "threads": threads,
        "variants": [asdict(r) for r in reports],
    }
    if out:
        from kpdd.paths import atomic_write_text

        atomic_write_text(Path(out), json.dumps(result, indent=2))
    return result


def _variants(hf: str, ggufs: Sequence[str], onnx: Sequence[str]) -> list[tuple[str, str, Path]]:
    """(label, kind, path) of every model to compare, the HF float reference first."""
    variants: list[tuple[str, str, Path]] = [("HF float", "hf", Path(hf).expanduser())]
    for g in ggufs:
        p = Path(g).expanduser()
        label = "GGUF " + p.stem.rsplit("-", 1)[-1] if "-" in p.stem else "GGUF " + p.stem
        variants.append((label, "gguf", p))
    for o in onnx:
        p = Path(o).expanduser()
        variants.append((f"ONNX {p.name}", "onnx", p))
    for _label, _kind, p in variants:
        if not p.exists():
            raise ExportError(f"Not found: {p}")
    return variants


def _open_variant(kind: str, path: Path, threads: int) -> Any:
    if kind == "hf":  # the float reference: float32 on the CPU, as the weights were trained
        from distill.hf_backend import HFBackend

        return HFBackend(path, threads=threads, device="cpu", dtype="float32")
    if kind == "gguf":
        from kpdd.llama_backend import LlamaBackend

        return LlamaBackend(path, threads=threads)
    from export.onnx_backend import OnnxBackend

    return OnnxBackend(path, threads=threads)


def _first_stage_prompts(backend: Any, problems: Sequence[Any]) -> list[list[int]]:
    """The token ids of each problem's first prompt (core question), as the reference model reads it."""
    from kpdd.format import Stage, inference_prompt

    few_shot = not backend.info.trained_on_format
    return [
        backend.tokenize(inference_prompt(p.question, Stage.CORE_QUESTION, few_shot=few_shot))
        for p in problems
    ]


def _measure_agreement(
    report: VariantReport, backend: Any, prompt_ids: list[list[int]], reference: list[list[int]], k: int
) -> None:
    """Greedy tokens on each prompt against the reference's (the reference records its own)."""
    shares, prefixes = [], []
    decode_tokens, decode_seconds = 0, 0.0
    for i, ids in enumerate(prompt_ids):
        tokens, seconds = GREEDY[report.kind](backend, ids, k)
        decode_tokens += len(tokens) - 1
        decode_seconds += seconds
        if report.kind == "hf":
            reference.append(tokens)
        share, prefix = compare(reference[i], tokens, k)
        shares.append(share)
        prefixes.append(prefix)
    report.agreement = sum(shares) / len(shares) if shares else None
    if decode_seconds > 0:
        report.decode_tokens_per_second = decode_tokens / decode_seconds
    report.identical_prefix = sum(prefixes) / len(prefixes) if prefixes else None


def _measure_solving(
    report: VariantReport, backend: Any, problems: Sequence[Any], mode: str, max_tokens: int
) -> None:
    """Solve every problem with the staged solver: accuracy and generation speed."""
    from kpdd.answers import answers_match
    from kpdd.format import Stage
    from kpdd.solver import Solver

    counting = CountingBackend(backend)
    solver = Solver(counting, max_tokens={Stage.PROGRAM: max_tokens, Stage.STEPS: max_tokens})
    questions = [problem.question for problem in problems]
    if report.kind == "hf":  # transformers decodes a batch for little more than one sequence
        results = solver.solve_batch(questions, mode=mode)
    else:  # the exported files are timed one problem at a time, as the app solves
        results = [solver.solve(question, mode=mode) for question in questions]
    for problem, result in zip(problems, results, strict=True):
        report.correct += int(answers_match(result.answer, problem.answer))
        report.problems += 1
        report.answers.append(result.answer)
    report.accuracy = report.correct / report.problems if report.problems else None
    if counting.seconds > 0:
        report.tokens_per_second = counting.completion_tokens / counting.seconds


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    k = report["k"]
    head = (
        f"{'variant':<14} {'size MiB':>9} {f'agree@{k}':>9} {'prefix':>7} {'accuracy':>9} "
        f"{'decode tok/s':>12} {'solve tok/s':>11}"
    )
    lines = [
        f"{report['problems']} {report['data']} problems, mode {report['mode']}, {report['threads']} threads",
        head,
    ]
    lines.append("-" * len(head))
    for v in report["variants"]:
        if v["error"]:
            lines.append(f"{v['label']:<14} error: {v['error']}")
            continue
        acc = f"{100 * v['accuracy']:.1f}%" if v["accuracy"] is not None else "-"
        agree = f"{v['agreement']:.3f}" if v["agreement"] is not None else "-"
        prefix = f"{v['identical_prefix']:.1f}" if v["identical_prefix"] is not None else "-"
        tps = f"{v['tokens_per_second']:.1f}" if v["tokens_per_second"] else "-"
        dtps = f"{v['decode_tokens_per_second']:.1f}" if v["decode_tokens_per_second"] else "-"
        lines.append(
            f"{v['label']:<14} {v['size_bytes'] / 2**20:>9.1f} {agree:>9} {prefix:>7} {acc:>9} {dtps:>12} {tps:>11}"
        )
    return "\n".join(lines)
