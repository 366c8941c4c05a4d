"""Export: HF / LoRA / KPDD run -> GGUF (llama.cpp's converter) and ONNX, with parity and failure cases.

A tiny Llama (hidden 64, 2 layers, SmolLM2's tokenizer, random weights rounded to f16) stands in for a
trained student: its greedy tokens in llama.cpp (f16) and onnxruntime (fp32) must equal transformers'.
llama.cpp's converter comes from the shared cache (`kpdd export fetch-converter`, fetched at most once).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from export import converter, gguf_export  # noqa: E402
from export.errors import ExportError  # noqa: E402
from export.gguf_export import export_gguf  # noqa: E402
from export.metadata import read_kpdd_metadata  # noqa: E402
from export.source import read_run_info, resolve_source  # noqa: E402
from kpdd.format import FORMAT_VERSION  # noqa: E402
from kpdd.llama_backend import last_logits  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROMPTS = [
    "### Problem\nTom has 3 apples and buys 5 more. How many apples does he have?\n### Core question\n",
    "The capital of France is",
    "1, 2, 3, 4,",
]
RUN_INFO = {
    "format_version": FORMAT_VERSION,
    "modes": ["pot", "cot"],
    "base_model": "tiny-llama-test",
    "provenance": {
        "teacher": "gold",
        "data": "gsm8k-train",
        "training_run": "test-run",
        "date": "2026-11-21",
    },
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session", autouse=True)
def converter_tree() -> Path:
    """llama.cpp's converter, from KPDD_LLAMA_CPP_SRC or the user's real cache (fetched at most once)."""
    if os.environ.get(converter.ENV_SRC):
        return Path(os.environ[converter.ENV_SRC])
    from platformdirs import user_cache_dir

    # Not kpdd.paths.cache_dir(): tests point KPDD_HOME at temporary folders, the cache must be shared.
    root = Path(user_cache_dir("kpdd-tutor", appauthor=False)) / "llama-cpp-src"
    tree = converter.fetch_converter(root=root)
    os.environ[converter.ENV_SRC] = str(tree)
    return tree


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory, smollm2_gguf) -> Path:
    """SmolLM2's tokenizer as a HF folder (convert_hf_to_gguf.py knows its pre-tokenizer)."""
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("tokenizer")
    AutoTokenizer.from_pretrained(str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name).save_pretrained(
        folder
    )
    return folder


def _tiny_model(tokenizer_dir: Path, dest: Path, seed: int = 0, model_type: str | None = None) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=True,
        initializer_range=0.3,  # large enough that greedy outputs vary instead of repeating one token
    )  # fmt: skip
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())  # exactly representable in f16: conversion is lossless
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    if model_type:
        cfg = json.loads((dest / "config.json").read_text())
        cfg["model_type"] = model_type
        cfg["architectures"] = ["MadeUpForCausalLM"]
        (dest / "config.json").write_text(json.dumps(cfg))
    return dest


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory, tokenizer_dir) -> Path:
    return _tiny_model(tokenizer_dir, tmp_path_factory.mktemp("tiny") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_hf) -> Path:
    """The tiny model as a KPDD training run folder (HF files + kpdd_run.json)."""
    run = tmp_path_factory.mktemp("run") / "tiny-run"
    shutil.copytree(tiny_hf, run)
    (run / "kpdd_run.json").write_text(json.dumps(RUN_INFO))
    return run


@pytest.fixture(scope="session")
def tiny_lora_run(tmp_path_factory, tiny_hf) -> Path:
    """A PEFT LoRA over the tiny model with nonzero weights, as a KPDD LoRA run."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_hf), dtype=torch.float32)
    torch.manual_seed(1)
    config = LoraConfig(
        r=4, lora_alpha=8, init_lora_weights=False,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    )  # fmt: skip
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.mul_(3.0)  # a strong adapter: the outputs must differ from the base's
    run = tmp_path_factory.mktemp("lora") / "tiny-lora"
    peft_model.save_pretrained(run)
    info = dict(RUN_INFO, adapter=True, base_model_path=str(tiny_hf))
    (run / "kpdd_run.json").write_text(json.dumps(info))
    return run


@pytest.fixture(scope="session")
def tiny_ggufs(tmp_path_factory, tiny_run) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("gguf-out")
    result = export_gguf(tiny_run, out, types=["f16", "q8_0", "q4_k_m"], log=lambda _m: None)
    return {o.type: Path(o.path) for o in result.outputs}


@functools.lru_cache(maxsize=2)
def _hf_model(model_dir: Path):  # -> (model, tokenizer), loaded once per folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    return AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32), tok


def hf_greedy(model_dir: Path, prompt: str, n: int) -> tuple[list[int], list[int]]:
    import torch

    model, tok = _hf_model(model_dir)
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    out = model.generate(torch.tensor([ids]), max_new_tokens=n, do_sample=False, min_new_tokens=n)
    return ids, out[0][len(ids) :].tolist()


def llama_greedy(path: Path, ids: list[int], n: int, lora: Path | None = None) -> list[int]:
    from llama_cpp import Llama

    llm = Llama(str(path), lora_path=str(lora) if lora else None, n_ctx=256, n_threads=2, verbose=False)
    try:
        out: list[int] = []
        for token in llm.generate(ids, temp=0.0, top_k=1):
            out.append(int(token))
            if len(out) >= n:
                break
        return out
    finally:
        llm.close()


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------- inputs and run folders


def test_missing_input_folder(tmp_path):
    with pytest.raises(ExportError, match="not found"):
        export_gguf(tmp_path / "nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_folder_without_weights(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(ExportError, match="no model weights"):
        resolve_source(tmp_path / "m")


def test_run_info_parsing(tmp_path):
    (tmp_path / "kpdd_run.json").write_text(
        json.dumps({"format_version": "kpdd-1", "modes": "pot, cot", "base_model": "b", "seed": 3})
    )
    info = read_run_info(tmp_path)
    assert info is not None
    assert info.modes == ("pot", "cot")
    assert info.provenance == {"seed": 3}  # unknown keys are kept as provenance
    (tmp_path / "kpdd_run.json").write_text(json.dumps({"modes": ["pot"]}))
    with pytest.raises(ExportError, match="format_version"):
        read_run_info(tmp_path)


def test_adapter_without_base_is_a_clear_error(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "org/not-local"}))
    (tmp_path / "adapter_model.safetensors").write_bytes(b"x")
    with pytest.raises(ExportError, match="--base"):
        resolve_source(tmp_path)


def test_unknown_output_type(tiny_hf, tmp_path):
    with pytest.raises(ExportError, match="Unknown GGUF type 'q9_9'"):
        export_gguf(tiny_hf, tmp_path / "out", types=["q9_9"])


def test_unsupported_architecture(tokenizer_dir, tmp_path):
    bad = _tiny_model(tokenizer_dir, tmp_path / "madeup", model_type="madeupformer")
    with pytest.raises(ExportError, match="cannot convert architecture 'MadeUpForCausalLM'"):
        export_gguf(bad, tmp_path / "out")
    assert listing(tmp_path / "out") == []


def test_converter_itself_rejects_unsupported_architecture(tokenizer_dir, tmp_path):
    """Past our pre-check, llama.cpp's own error comes through as a plain message."""
    bad = _tiny_model(tokenizer_dir, tmp_path / "madeup", model_type="madeupformer")
    with pytest.raises(
        ExportError, match="llama.cpp cannot convert this model: Model MadeUpForCausalLM is not"
    ):
        converter.run_converter(
            "convert_hf_to_gguf.py", [str(bad), "--outfile", str(tmp_path / "x.gguf")], tmp_path / "log"
        )
    assert not (tmp_path / "x.gguf").exists()


# ---------------------------------------------------------------- disk space and interruptions


def test_not_enough_space_is_detected_up_front(tiny_hf, tmp_path, monkeypatch):
    """The pre-check (shutil.disk_usage patched: a full disk cannot be arranged portably)."""
    real = shutil.disk_usage

    def nearly_full(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 1024, 1024)

    monkeypatch.setattr(gguf_export.shutil, "disk_usage", nearly_full)
    with pytest.raises(ExportError, match="Not enough free disk space.*needs about \\d+ MiB"):
        export_gguf(tiny_hf, tmp_path / "out")
    assert listing(tmp_path / "out") == []


SMALL_DISK_BYTES = 6 * 1024 * 1024


@pytest.fixture
def small_fs(tmp_path):
    """A real 6 MiB filesystem (tmpfs) where mounting is allowed (root on Linux); elsewhere a folder
    where no file may grow past 6 MiB (RLIMIT_FSIZE, inherited by the converter), so a write still
    fails for real instead of the test being skipped. Yields (folder, "tmpfs" or "file size limit")."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if sys.platform == "linux" and os.geteuid() == 0:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES}", "tmpfs", str(mount_point)],
            capture_output=True,
        )
        if mounted.returncode == 0:
            try:
                yield mount_point, "tmpfs"
            finally:
                subprocess.run(["umount", str(mount_point)], check=False)
            return
    with file_size_limit(SMALL_DISK_BYTES):
        yield mount_point, "file size limit"


@contextlib.contextmanager
def file_size_limit(limit: int):
    """No file this process (or a child) writes may grow past `limit`: a write past it fails (EFBIG)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


def test_full_disk_real_filesystem(tiny_hf, small_fs):
    """On a real small disk: the pre-check refuses; without it the write fails cleanly, nothing left."""
    folder, kind = small_fs
    if kind == "tmpfs":  # free space is only small on the small disk itself
        with pytest.raises(ExportError, match="Not enough free disk space"):
            export_gguf(tiny_hf, folder, types=["f16"])
        assert listing(folder) == []
    said = {"tmpfs": "The disk ran out of space during the conversion.",
            "file size limit": "The converted file grew past the largest file this system lets the export write"}[kind]  # fmt: skip
    with pytest.raises(ExportError, match=re.escape(said)):
        export_gguf(tiny_hf, folder, types=["f16", "q8_0"], check_space=False, verify=False)
    assert listing(folder) == []  # the work folder with its partial files is gone


def test_a_file_size_limit_is_named_and_leaves_nothing(tiny_hf, tmp_path):
    """A system that limits file sizes (ulimit -f) fails the write with EFBIG, not a full disk."""
    with file_size_limit(SMALL_DISK_BYTES), pytest.raises(ExportError, match=r"largest file .* `ulimit -f`"):
        export_gguf(tiny_hf, tmp_path / "out", types=["f16"], check_space=False, verify=False)
    assert listing(tmp_path / "out") == []


def test_killed_converter_leaves_no_file(tiny_hf, tmp_path, monkeypatch):
    """Kill the converter while it writes (its partial file is on disk): an error naming it, no file left."""
    out = tmp_path / "out"
    seen_partial = []

    def kill_it_mid_write(proc):
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not seen_partial:
            seen_partial.extend(out.glob(".kpdd-export-*/*.partial"))
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)

    monkeypatch.setattr(converter, "on_converter_started", kill_it_mid_write)
    with pytest.raises(ExportError, match="interrupted.*SIGKILL"):
        export_gguf(tiny_hf, out, types=["f16"])
    assert seen_partial, "the converter finished before it could be killed mid-write"
    assert listing(out) == []


@pytest.mark.slow
def test_killed_export_process_leaves_no_valid_looking_file(tiny_hf, tmp_path):
    """Kill the whole `kpdd export gguf` process mid-way: no .gguf under a final name; the next run cleans up."""
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "export", "gguf", str(tiny_hf), "-o", str(out), "--types", "f16,q8_0"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and not any(out.glob(".kpdd-export-*/*.partial")):
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not list(out.glob("*.gguf"))
    leftovers = list(out.glob(".kpdd-export-*"))
    assert leftovers, "the test killed the export before it started writing"
    assert all(p.name.endswith(".partial") for p in out.glob(".kpdd-export-*/*.gguf*"))
    export_gguf(tiny_hf, out, types=["f16"], log=lambda _m: None)
    assert listing(out) == ["tiny-llama-f16.gguf"]


# ---------------------------------------------------------------- GGUF parity and metadata


@pytest.mark.slow
def test_f16_greedy_tokens_equal_hf(tiny_run, tiny_ggufs):
    n = 16
    agree = total = 0
    for prompt in PROMPTS:
        ids, hf_tokens = hf_greedy(tiny_run, prompt, n)
        ll_tokens = llama_greedy(tiny_ggufs["f16"], ids, n)
        assert len(set(hf_tokens)) > 3, "degenerate test model"
        assert ll_tokens[:8] == hf_tokens[:8]
        agree += common_prefix(ll_tokens, hf_tokens)
        total += n
    assert agree / total >= 0.9


@pytest.mark.slow
def test_quantized_files_load_generate_and_carry_metadata(tiny_ggufs):
    assert set(tiny_ggufs) == {"f16", "q8_0", "q4_k_m"}
    sizes = {t: p.stat().st_size for t, p in tiny_ggufs.items()}
    assert sizes["q4_k_m"] < sizes["q8_0"] < sizes["f16"]
    ids = [1, 504, 3458, 314]
    for qtype, path in tiny_ggufs.items():
        assert len(llama_greedy(path, ids, 4)) == 4
        meta = read_kpdd_metadata(path)
        assert meta["kpdd.format_version"] == FORMAT_VERSION, qtype
        assert meta["kpdd.modes"] == "pot,cot"
        assert meta["kpdd.base_model"] == "tiny-llama-test"
        provenance = meta["kpdd.provenance"]
        assert {k: provenance[k] for k in RUN_INFO["provenance"]} == RUN_INFO["provenance"]
        assert "llama-cpp-python" in provenance["converter"]


@pytest.mark.slow
def test_plain_hf_folder_gets_no_kpdd_metadata(tiny_hf, tmp_path):
    result = export_gguf(tiny_hf, tmp_path, types=["q8_0"], log=lambda _m: None)
    assert [Path(o.path).name for o in result.outputs] == ["tiny-llama-q8_0.gguf"]
    assert listing(tmp_path) == ["tiny-llama-q8_0.gguf"]  # the f16 step file is not kept
    assert read_kpdd_metadata(tmp_path / "tiny-llama-q8_0.gguf") == {}
    from kpdd.llama_backend import read_gguf_metadata

    assert read_gguf_metadata(tmp_path / "tiny-llama-q8_0.gguf")["general.architecture"] == "llama"


@pytest.mark.slow
def test_lora_adapter_route_matches_merged_route(tiny_lora_run, tiny_hf, tmp_path):
    merged = export_gguf(tiny_lora_run, tmp_path / "merged", types=["f16"], log=lambda _m: None)
    adapter = export_gguf(
        tiny_lora_run, tmp_path / "adapter", types=["f16"], route="adapter", log=lambda _m: None
    )
    merged_path = Path(merged.outputs[0].path)
    roles = {o.role: Path(o.path) for o in adapter.outputs}
    assert set(roles) == {"adapter", "base"}
    assert roles["adapter"].stat().st_size < roles["base"].stat().st_size / 20  # an adapter is small
    assert read_kpdd_metadata(roles["adapter"])["kpdd.format_version"] == FORMAT_VERSION
    assert read_kpdd_metadata(merged_path)["kpdd.modes"] == "pot,cot"
    agree = total = 0
    for prompt in PROMPTS:
        ids, _ = hf_greedy(tiny_hf, prompt, 1)
        via_merge = llama_greedy(merged_path, ids, 12)
        via_adapter = llama_greedy(roles["base"], ids, 12, lora=roles["adapter"])
        base_only = llama_greedy(roles["base"], ids, 12)
        assert via_merge != base_only  # the adapter changes the model
        agree += common_prefix(via_adapter, via_merge)
        total += 12
    assert agree / total >= 0.9


@pytest.mark.slow
def test_lora_over_gguf_base(tiny_lora_run, tiny_ggufs, tmp_path):
    """A run whose base is a GGUF file: the adapter is written for it and verified over it."""
    run = tmp_path / "run"
    shutil.copytree(tiny_lora_run, run)
    info = json.loads((run / "kpdd_run.json").read_text())
    info["base_model_path"] = str(tiny_ggufs["f16"])
    (run / "kpdd_run.json").write_text(json.dumps(info))
    result = export_gguf(run, tmp_path / "out", route="adapter", log=lambda _m: None)
    assert [o.role for o in result.outputs] == ["adapter"]
    assert result.outputs[0].verify_text
    assert listing(tmp_path / "out") == ["run-lora-f16.gguf"]


def _sitting_info(run: Path, base: Path, steps: int, records: int, parent: Path | None) -> None:
    """kpdd_run.json as `kpdd train` writes it for one sitting (optionally continuing `parent`)."""
    provenance = {
        "created": "2026-11-21T10:00:00+00:00",
        "teachers": {"gold": records},
        "data": [{"path": f"/data/part-{steps}.jsonl", "sha256": "ab" * 32, "records": records}],
        "recipe": {"examples": "transcripts", "lora_r": 4, "lora_alpha": 8, "learning_rate": 1e-3},
        "training": {"steps": steps, "tokens": steps * 100, "seconds": 2.5, "eval_loss": 0.5},
        "init_adapter": {"path": str(parent), "steps": 3} if parent else None,
    }
    info = dict(RUN_INFO, adapter=True, base_model_path=str(base), provenance=provenance)
    (run / "kpdd_run.json").write_text(json.dumps(info))


@pytest.mark.slow
def test_manifest_ships_an_adapter_the_app_lists_and_checks(tiny_lora_run, tiny_ggufs, tmp_path, kpdd_home,
                                                            monkeypatch):  # fmt: skip
    """`kpdd export manifest`: the adapter lands in resources/models/ as a usable student with the
    provenance of both sittings; a changed byte makes it unusable."""
    from export.cli import main
    from kpdd import models

    base = tiny_ggufs["f16"]
    first, second = tmp_path / "first", tmp_path / "second"
    for run, steps, records, parent in ((first, 3, 10, None), (second, 5, 20, first)):
        shutil.copytree(tiny_lora_run, run)
        _sitting_info(run, base, steps, records, parent)
    adapter = Path(
        export_gguf(second, tmp_path / "out", route="adapter", log=lambda _m: None).outputs[0].path
    )
    bundle = tmp_path / "bundle" / "resources"
    manifest_path = bundle / "models" / "tiny-student.json"
    args = ["manifest", str(second), str(adapter), "--base", str(base), "--name", "Tiny student",
            "--note", "teacher_note=gold only", "-o", str(manifest_path)]  # fmt: skip
    assert main(args) == 0
    shutil.copyfile(base, bundle / "models" / base.name)  # an installer carries the base beside it
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)

    [student] = models.bundled_students()
    assert student.available, student.problem
    assert (student.name, student.lora_path, student.format_version) == (
        "Tiny student",
        bundle / "models" / adapter.name,
        FORMAT_VERSION,
    )
    provenance = student.provenance
    assert provenance["teacher_note"] == "gold only" and provenance["teachers"] == {"gold": 30}
    assert provenance["training_total"]["steps"] == 8 and provenance["training_total"]["tokens"] == 800
    assert [s["training"]["steps"] for s in provenance["sittings"]] == [3, 5]  # first sitting first
    assert provenance["sittings"][0]["data_files"][0]["name"] == "part-3.jsonl"

    # A later sitting on another machine: the shipped adapter turned back into a PEFT folder
    # (distill.gguf_adapter records its sha256; the runs behind it are gone) and trained on. Its
    # manifest takes the two earlier sittings from the shipped student's.
    imported, third = tmp_path / "imported", tmp_path / "third"
    for run, steps, records, parent in ((imported, 5, 20, tmp_path / "gone"), (third, 7, 40, imported)):
        shutil.copytree(tiny_lora_run, run)
        _sitting_info(run, base, steps, records, parent)
    info = json.loads((imported / "kpdd_run.json").read_text())
    info["provenance"]["imported_from"] = {"path": str(adapter), "sha256": models.sha256_of(adapter)}
    (imported / "kpdd_run.json").write_text(json.dumps(info))
    args = ["manifest", str(third), str(adapter), "--base", str(base), "--name", "Tiny student",
            "-o", str(tmp_path / "later" / "tiny-student.json")]  # fmt: skip
    assert main(args) == 0
    later = json.loads((tmp_path / "later" / "tiny-student.json").read_text())["provenance"]
    assert [s["training"]["steps"] for s in later["sittings"]] == [3, 5, 7]
    assert later["training_total"]["steps"] == 15 and later["teachers"] == {"gold": 70}
    info["provenance"]["imported_from"]["sha256"] = "00" * 32  # not a shipped adapter: the chain is lost
    (imported / "kpdd_run.json").write_text(json.dumps(info))
    assert main(args) == 1

    with (bundle / "models" / adapter.name).open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 1]))
    [damaged] = models.bundled_students()
    assert not damaged.available and "damaged" in damaged.problem


@pytest.mark.slow
def test_setup_merges_the_student_and_the_app_runs_it_while_it_is_current(
    tiny_lora_run, tiny_ggufs, tiny_adapter_gguf, tmp_path, kpdd_home, monkeypatch
):
    """A manifest with `merged_type`: setup's step merges the adapter into the installed base in that
    type, once; the model list then runs the student as that one file (listed once), and goes back to
    the adapter over the base when the file is damaged or was made from another adapter, until the
    next setup makes it again. An adapter that is not the manifest's is refused and nothing is left."""
    from gguf import GGMLQuantizationType, GGUFReader

    from export.cli import main
    from kpdd import models, paths
    from kpdd.models import merged as merged_students

    base = tiny_ggufs["f16"]
    run = tmp_path / "run"
    shutil.copytree(tiny_lora_run, run)
    _sitting_info(run, base, 3, 10, None)
    bundle = tmp_path / "bundle" / "resources"
    manifest_path = bundle / "models" / "tiny-student.json"
    args = ["manifest", str(run), str(tiny_adapter_gguf), "--base", str(base), "--name",
            "Tiny student", "--merged-type", "q8_0", "-o", str(manifest_path)]  # fmt: skip
    assert main(args) == 0
    assert json.loads(manifest_path.read_text())["merged_type"] == "Q8_0"
    monkeypatch.setattr(models.files, "resources_dir", lambda: bundle)
    assert models.build_merged_students(log=lambda _m: None) == []  # no base installed: nothing to merge
    paths.models_dir().mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base, paths.models_dir() / base.name)

    [student] = models.bundled_students()
    assert (student.path.name, student.lora_path.name, student.merged_type) == (
        base.name,
        tiny_adapter_gguf.name,
        "",
    )
    said: list[str] = []
    [merged] = models.build_merged_students(log=said.append)
    assert merged == paths.models_dir() / "students" / "tiny-student.q8_0-merged.gguf"
    assert "Merged Tiny student" in said[-1]
    types = {t.name: t.tensor_type for t in GGUFReader(str(merged)).tensors}
    assert sum(kind == GGMLQuantizationType.Q8_0 for kind in types.values()) == 14  # the adapted weights
    [student] = models.bundled_students()
    assert (student.path, student.lora_path, student.merged_type, student.available) == (
        merged,
        None,
        "Q8_0",
        True,
    )
    assert student.quantization == "F16 + Q8_0"
    listed = models.list_models()
    assert [e.name for e in listed if e.path == merged] == ["Tiny student"] and listed[0].is_default
    assert not any("merged" in e.path.name for e in models.user_models())
    backend = models.load_backend(student, n_ctx=256, threads=2)
    try:
        assert backend.info.name == "Tiny student"
        assert backend.generate("### Problem\nTom has 3 apples.\n", stop=[], max_tokens=4).text
    finally:
        backend.close()

    # The adapter route stays reachable, and an extra adapter goes over the base, never the merged file.
    shipped = bundle / "models" / tiny_adapter_gguf.name
    route = models.resolve_model(str(paths.models_dir() / base.name), shipped)
    assert (route.name, route.path.name, route.lora_path, route.merged_type) == (
        "Tiny student",
        base.name,
        shipped,
        "",
    )
    extra = models.resolve_model(None, tmp_path / "extra.gguf")  # over the active student
    assert extra.path == paths.models_dir() / base.name and extra.lora_path == tmp_path / "extra.gguf"

    orphan = merged.with_name("renamed-student.q8_0-merged.gguf")  # a student no manifest names now
    orphan.write_bytes(b"GGUF")
    merged_students.note_path(orphan).write_text("{}")
    stamp = merged.stat().st_mtime_ns
    assert models.build_merged_students(log=said.append) == [merged]
    assert listing(merged.parent) == sorted([merged.name, merged_students.note_path(merged).name])
    assert merged.stat().st_mtime_ns == stamp and "is in place" in said[-1]  # not made twice

    with merged.open("r+b") as handle:  # a damaged merged file: the adapter runs until setup again
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 1]))
    [student] = models.bundled_students()
    assert (
        student.available
        and student.path.name == base.name
        and student.lora_path.name == tiny_adapter_gguf.name
    )
    models.build_merged_students(log=said.append)
    assert any("is damaged" in line and "made again" in line for line in said)
    assert models.bundled_students()[0].path == merged

    note = merged_students.note_path(merged)  # made from another adapter (a new one shipped)
    note.write_text(note.read_text().replace(json.loads(note.read_text())["adapter_sha256"], "0" * 64))
    assert models.bundled_students()[0].lora_path is not None

    manifest = json.loads(manifest_path.read_text())  # an adapter file that is not the manifest's
    manifest["sha256"] = "1" * 64
    manifest_path.write_text(json.dumps(manifest))
    said.clear()
    assert models.build_merged_students(log=said.append) == []
    assert "was not merged" in said[-1] and "not the one the manifest names" in said[-1]
    assert listing(merged.parent) == []  # the stale file is gone too: it would never run again


def test_manifest_refuses_what_is_not_a_finished_adapter_run(tmp_path, capsys):
    from export.cli import main

    (tmp_path / "adapter.gguf").write_bytes(b"GGUF")
    args = ["manifest", str(tmp_path), str(tmp_path / "adapter.gguf"), "--base", str(tmp_path / "adapter.gguf"),
            "--name", "x", "-o", str(tmp_path / "m.json")]  # fmt: skip
    assert main(args) == 1
    assert "not a finished KPDD run" in capsys.readouterr().err
    (tmp_path / "kpdd_run.json").write_text(json.dumps(dict(RUN_INFO, adapter=False)))
    assert main(args) == 1
    assert "full model, not an adapter" in capsys.readouterr().err
    assert main([*args[:-2], "--note", "no-equals-sign", *args[-2:]]) == 2
    assert not (tmp_path / "m.json").exists()


@pytest.mark.slow
def test_cli_gguf_json(tiny_hf, tmp_path):
    from export.cli import main

    code = main(["gguf", str(tiny_hf), "-o", str(tmp_path), "--types", "q4_0", "--json"])
    assert code == 0
    assert listing(tmp_path) == ["tiny-llama-q4_0.gguf"]
    assert main(["gguf", str(tmp_path / "missing"), "-o", str(tmp_path)]) == 1


# ---------------------------------------------------------------- ONNX


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory, tiny_run) -> Path:
    from export.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx-out")
    summary = export_onnx(tiny_run, out, int8=True, log=lambda _m: None)
    assert [o["precision"] for o in summary["outputs"]] == ["fp32", "int8"]
    assert listing(out) == ["fp32", "int8"]
    return out


@pytest.mark.slow
def test_onnx_round_trip_agrees_with_hf(tiny_run, tiny_onnx):
    from export.onnx_backend import OnnxBackend

    backend = OnnxBackend(tiny_onnx / "fp32", threads=2)
    try:
        for prompt in PROMPTS:
            ids, hf_tokens = hf_greedy(tiny_run, prompt, 16)
            assert backend.tokenize(prompt) == ids
            assert backend.greedy_tokens(ids, 16) == hf_tokens  # fp32 in both: identical
    finally:
        backend.close()


@pytest.mark.slow
def test_onnx_backend_protocol_cache_reuse_and_metadata(tiny_onnx):
    from export.onnx_backend import OnnxBackend
    from kpdd.backend import Backend, CancelToken

    backend = OnnxBackend(tiny_onnx / "int8", threads=2, seed=0)
    try:
        assert isinstance(backend, Backend)
        assert backend.info.format_version == FORMAT_VERSION
        assert backend.info.modes == ("pot", "cot")
        assert json.loads(backend.info.extra["provenance"])["teacher"] == "gold"
        pieces: list[str] = []
        first = backend.generate(PROMPTS[0], stop=["\n###"], max_tokens=12, on_text=pieces.append)
        assert first.completion_tokens > 0 and "".join(pieces) == first.text
        # A prompt that extends the last one only evaluates the new part.
        longer = PROMPTS[0] + first.text + "\n### Key information\n"
        second = backend.generate(longer, stop=["\n###"], max_tokens=4)
        assert second.prompt_tokens_evaluated < second.prompt_tokens
        # ... and gives the same tokens as a fresh backend.
        fresh = OnnxBackend(tiny_onnx / "int8", threads=2)
        assert fresh.generate(longer, stop=["\n###"], max_tokens=4).text == second.text
        fresh.close()
        cancel = CancelToken()
        cancel.cancel()
        assert backend.generate(PROMPTS[1], stop=[], max_tokens=5, cancel=cancel).finish_reason == "cancelled"
        sampled = backend.generate(PROMPTS[1], stop=[], max_tokens=6, temperature=1.0, seed=7)
        again = backend.generate(PROMPTS[1], stop=[], max_tokens=6, temperature=1.0, seed=7)
        assert sampled.text == again.text
    finally:
        backend.close()


def test_onnx_backend_rejects_a_non_model_folder(tmp_path):
    from export.onnx_backend import OnnxBackend
    from kpdd.backend import BackendError

    with pytest.raises(BackendError, match="genai_config.json"):
        OnnxBackend(tmp_path)


def test_onnx_unsupported_architecture(tokenizer_dir, tmp_path):
    from export.onnx_export import export_onnx

    bad = _tiny_model(tokenizer_dir, tmp_path / "madeup", model_type="madeupformer")
    with pytest.raises(ExportError, match="does not support architecture 'MadeUpForCausalLM'"):
        export_onnx(bad, tmp_path / "out")
    assert listing(tmp_path / "out") == []


@pytest.mark.slow
def test_check_table_on_tiny_model(tiny_run, tiny_ggufs, tiny_onnx, tmp_path, data_dir):
    from export.check import format_table, run_check

    out = tmp_path / "check.json"
    report = run_check(
        str(tiny_run),
        ggufs=[str(tiny_ggufs["f16"]), str(tiny_ggufs["q4_k_m"])],
        onnx=[str(tiny_onnx / "fp32")],
        data="gsm8k", data_dir=str(data_dir), limit=2, k=8, max_tokens=8, threads=2, out=str(out), log=lambda _m: None,
    )  # fmt: skip
    saved = json.loads(out.read_text())
    assert saved == report
    by_label = {v["label"]: v for v in report["variants"]}
    assert set(by_label) == {"HF float", "GGUF f16", "GGUF q4_k_m", "ONNX fp32"}
    assert by_label["HF float"]["agreement"] == 1.0
    assert by_label["ONNX fp32"]["agreement"] == 1.0
    assert by_label["GGUF f16"]["agreement"] >= 0.75
    for v in report["variants"]:
        assert v["error"] is None and v["problems"] == 2 and v["size_bytes"] > 0
        assert v["tokens_per_second"] > 0
    table = format_table(report)
    assert "GGUF q4_k_m" in table and "agree@8" in table


# ---------------------------------------------------------------- the real base model


@pytest.mark.slow
def test_smollm2_hf_to_gguf_f16_greedy_tokens_equal_hf(smollm2_gguf, tmp_path):
    """SmolLM2-135M (dequantized from its GGUF to a HF folder) -> GGUF f16: llama.cpp's greedy tokens equal HF's."""
    from distill.hf_models import load_base, save_plain

    hf_dir = tmp_path / "smollm2-hf"
    model, tokenizer = load_base(smollm2_gguf)
    save_plain(model, hf_dir, tokenizer)
    del model
    assert "quantization_config" not in json.loads((hf_dir / "config.json").read_text())
    result = export_gguf(hf_dir, tmp_path / "out", types=["f16"], log=lambda _m: None)
    f16 = Path(result.outputs[0].path)
    agree = total = 0
    for prompt in PROMPTS[:2]:
        ids, hf_tokens = hf_greedy(hf_dir, prompt, 16)
        ll_tokens = llama_greedy(f16, ids, 16)
        assert ll_tokens[:4] == hf_tokens[:4]
        agree += common_prefix(ll_tokens, hf_tokens)
        total += 16
    assert agree / total >= 0.75


def _tiny_qwen2_lora_run(qwen05_gguf: Path, dest: Path) -> tuple[Path, Path]:
    """A tiny Qwen2 base (the architecture of the shipped student, with its tokenizer, which
    llama.cpp's converter recognizes) and a PEFT LoRA run over it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tok = AutoTokenizer.from_pretrained(str(qwen05_gguf.parent), gguf_file=qwen05_gguf.name)
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=True,
    )  # fmt: skip
    torch.manual_seed(2)
    base = dest / "tiny-qwen2"
    Qwen2ForCausalLM(config).save_pretrained(base)
    tok.save_pretrained(base)
    model = Qwen2ForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                                  target_modules="all-linear"))  # fmt: skip
    run = dest / "qwen2-lora"
    peft_model.save_pretrained(run)
    (run / "kpdd_run.json").write_text(json.dumps(dict(RUN_INFO, adapter=True, base_model_path=str(base))))
    return base, run


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["llama", "qwen2"])
def test_shipped_adapter_gguf_continues_as_the_trained_adapter(architecture, tiny_lora_run, tiny_hf,
                                                               request, tmp_path):  # fmt: skip
    """A later sitting starts from the committed adapter GGUF (`init_adapter = "...gguf"`): imported
    back, every LoRA weight equals the run's own to f16 precision (llama's permuted q/k rows put back)
    and the continued model computes what the trained one did."""
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from distill.recipe import Recipe
    from distill.train import _continue_lora

    if architecture == "llama":
        base, run = tiny_hf, tiny_lora_run
    else:
        base, run = _tiny_qwen2_lora_run(request.getfixturevalue("qwen05_gguf"), tmp_path)
    result = export_gguf(run, tmp_path / "out", types=["f16"], route="adapter", log=lambda _m: None)
    adapter = next(Path(o.path) for o in result.outputs if o.role == "adapter")
    from gguf import GGUFReader

    texts = [
        str(f.contents()) for f in GGUFReader(str(adapter)).fields.values() if f.name.startswith("general.")
    ]
    assert texts and not any(
        str(base.parent) in t or "huggingface.co//" in t for t in texts
    )  # no local paths

    trained = load_file(str(run / "adapter_model.safetensors"))
    recipe = Recipe(base_model=str(base), init_adapter=str(adapter), lora_r=4, lora_alpha=8,
                    out=str(tmp_path / "continued"))  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    continued, previous = _continue_lora(model, recipe)
    imported = load_file(str(tmp_path / "continued" / "init-adapter" / "adapter_model.safetensors"))
    assert sorted(imported) == sorted(trained)
    for key, weight in trained.items():
        torch.testing.assert_close(imported[key], weight.half().float(), rtol=0, atol=0)
    assert previous["modes"] == RUN_INFO["modes"]

    ids = torch.tensor([[1, 5, 9, 200, 31, 7, 64]])
    original = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32), run
    )
    plain = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    with torch.no_grad():
        want, got, without = (m(ids).logits for m in (original, continued, plain))
    effect = (want - without).abs().max()
    assert effect > 0.1  # the adapter matters, and comes back as trained (up to f16 rounding):
    assert (got - want).abs().max() < 0.05 * effect
    assert any(p.requires_grad for p in continued.parameters())


def test_a_model_gguf_is_not_taken_for_an_adapter(smollm2_gguf, tmp_path):
    from distill.gguf_adapter import AdapterImportError, import_lora_gguf

    with pytest.raises(AdapterImportError, match="not a LoRA adapter"):
        import_lora_gguf(smollm2_gguf, smollm2_gguf, tmp_path / "out")
    truncated = tmp_path / "cut.gguf"
    with open(smollm2_gguf, "rb") as whole:
        truncated.write_bytes(whole.read(1000))
    with pytest.raises(AdapterImportError, match="not a readable GGUF"):
        import_lora_gguf(truncated, smollm2_gguf, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_parameter_count_reads_the_safetensors_headers(tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    from export.source import parameter_count

    save_file(
        {"a": np.zeros((3, 4), np.float32), "b": np.zeros((5,), np.float16)},
        str(tmp_path / "model.safetensors"),
    )
    save_file({"c": np.zeros((2, 2, 2), np.float32)}, str(tmp_path / "model-2.safetensors"))
    assert parameter_count(tmp_path) == 12 + 5 + 8


# ---------------------------------------------------------------- merging an adapter in GGUF space


@pytest.fixture(scope="session")
def tiny_adapter_gguf(tmp_path_factory, tiny_lora_run, tiny_ggufs) -> Path:
    """The tiny LoRA run written as a GGUF adapter over the tiny model's f16 GGUF."""
    run = tmp_path_factory.mktemp("adapter-run") / "run"
    shutil.copytree(tiny_lora_run, run)
    info = json.loads((run / "kpdd_run.json").read_text())
    info["base_model_path"] = str(tiny_ggufs["f16"])
    (run / "kpdd_run.json").write_text(json.dumps(info))
    result = export_gguf(run, tmp_path_factory.mktemp("adapter-out"), route="adapter", log=lambda _m: None)
    return Path(result.outputs[0].path)


def llama_logits(path: Path, ids: list[int], lora: Path | None = None) -> np.ndarray:
    """The logits llama.cpp gives after the prompt `ids`."""
    from llama_cpp import Llama

    llm = Llama(str(path), lora_path=str(lora) if lora else None, n_ctx=256, n_threads=2, verbose=False)
    try:
        llm.eval(ids)
        return last_logits(llm)
    finally:
        llm.close()


def tensor_types(path: Path) -> dict[str, int]:
    from gguf import GGUFReader

    return {t.name: int(t.tensor_type) for t in GGUFReader(str(path)).tensors}


@pytest.mark.slow
@pytest.mark.parametrize("qtype", ["f16", "q8_0", "q4_k_m"])
def test_gguf_merge_computes_what_the_adapter_does(qtype, tiny_hf, tiny_ggufs, tiny_adapter_gguf, tmp_path):
    """The adapter merged into a base GGUF of any type: the base's tensor types kept one for one, every
    untouched tensor byte for byte, each merged weight W + scale * B @ A up to one more rounding to its
    type, the adapter's KPDD keys carried, and llama.cpp computing with it what it does applying the
    adapter at load time."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    from kpdd.gguf_merge import merge_lora_gguf

    base = tiny_ggufs[qtype]
    out = tmp_path / "merged.gguf"
    result = merge_lora_gguf(base, tiny_adapter_gguf, out, log=lambda _m: None)
    assert result.merged_tensors == 7 * 2  # every linear layer of the two blocks
    assert result.scale == 2.0  # lora_alpha 8 over rank 4
    assert listing(tmp_path) == ["merged.gguf"]
    assert read_kpdd_metadata(out)["kpdd.format_version"] == FORMAT_VERSION

    def values(tensor) -> np.ndarray:  # noqa: ANN001
        return dequantize(tensor.data, tensor.tensor_type).astype(np.float32)

    before = {t.name: t for t in GGUFReader(str(base)).tensors}
    after = {t.name: t for t in GGUFReader(str(out)).tensors}
    lora = {t.name: values(t) for t in GGUFReader(str(tiny_adapter_gguf)).tensors}
    assert {n: t.tensor_type for n, t in after.items()} == {n: t.tensor_type for n, t in before.items()}
    # One more rounding to the tensor's type: f16, 8-bit and (the tiny model's fallbacks) 5-bit blocks.
    tolerance = {"f16": 1e-3, "q8_0": 0.01, "q4_k_m": 0.06}[qtype]
    for name, tensor in before.items():
        if name + ".lora_a" not in lora:
            assert bytes(after[name].data) == bytes(tensor.data), name
            continue
        want = values(tensor) + 2.0 * lora[name + ".lora_b"] @ lora[name + ".lora_a"]
        error = np.linalg.norm(values(after[name]) - want) / np.linalg.norm(want)
        assert error < tolerance, (name, error)
    if qtype == "q4_k_m":
        return  # 5-bit rounding of a random tiny model's weights moves its logits too far to compare
    for prompt in PROMPTS:
        ids, _ = hf_greedy(tiny_hf, prompt, 1)
        via_adapter = llama_logits(base, ids, lora=tiny_adapter_gguf)
        via_merge, base_only = llama_logits(out, ids), llama_logits(base, ids)
        effect = np.abs(via_adapter - base_only).max()
        assert effect > 0.5  # the adapter matters, and the merged file computes it
        assert np.abs(via_merge - via_adapter).max() < (0.02 if qtype == "f16" else 0.25) * effect
        if qtype == "f16":
            assert llama_greedy(out, ids, 12) == llama_greedy(base, ids, 12, lora=tiny_adapter_gguf)


@pytest.mark.slow
def test_gguf_merge_refuses_what_is_not_its_adapter(smollm2_gguf, tiny_adapter_gguf, tmp_path, capsys):
    """A model given as the adapter, or an adapter of another model: a plain message, nothing written."""
    from export.gguf_merge import main
    from kpdd.gguf_merge import MergeError, merge_lora_gguf

    out = tmp_path / "out" / "merged.gguf"
    with pytest.raises(MergeError, match="is not a GGUF LoRA adapter"):
        merge_lora_gguf(smollm2_gguf, smollm2_gguf, out, log=lambda _m: None)
    shipped = Path(__file__).resolve().parents[1] / "resources" / "models" / "kpdd-qwen05b-s6-lora-f16.gguf"
    with pytest.raises(MergeError, match="another architecture"):
        merge_lora_gguf(smollm2_gguf, shipped, out, log=lambda _m: None)
    with pytest.raises(MergeError, match="do not fit"):  # the tiny model's adapter over SmolLM2 (both llama)
        merge_lora_gguf(smollm2_gguf, tiny_adapter_gguf, out, log=lambda _m: None)
    assert main([str(smollm2_gguf), str(tiny_adapter_gguf), "-o", str(out)]) == 1  # the command says so
    assert "do not fit" in capsys.readouterr().err
    assert listing(out.parent) == []


@pytest.mark.parametrize("qtype", ["Q4_K", "Q6_K", "Q5_0", "Q8_0"])
def test_ggml_quantizer_writes_what_gguf_reads(qtype):
    """Rows quantized by ggml's own quantizer (the types of the shipped student's base) read back
    through gguf-py as the same values, up to the type's rounding."""
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize

    from kpdd.gguf_merge import quantize_rows

    kind = GGMLQuantizationType[qtype]
    rows = np.random.default_rng(0).normal(size=(8, 512)).astype(np.float32)
    back = dequantize(quantize_rows(rows, int(kind)), kind)
    assert back.shape == rows.shape
    error = np.linalg.norm(back - rows) / np.linalg.norm(rows)
    assert error < {"Q4_K": 0.12, "Q5_0": 0.06, "Q6_K": 0.03, "Q8_0": 0.01}[qtype], error


@pytest.mark.slow
def test_gguf_merge_writes_merged_weights_in_a_finer_type(tiny_ggufs, tiny_adapter_gguf, tmp_path):
    """--merged-type Q8_0 (what keeps the shipped student's accuracy): every merged weight in Q8_0,
    holding W + scale * B @ A to 8-bit rounding; every other tensor as the base has it."""
    from gguf import GGMLQuantizationType, GGUFReader
    from gguf.quants import dequantize

    from kpdd.gguf_merge import merge_lora_gguf

    base = tiny_ggufs["q4_k_m"]
    out = tmp_path / "merged-q8.gguf"
    merge_lora_gguf(base, tiny_adapter_gguf, out, log=lambda _m: None, merged_type="Q8_0")
    before = {t.name: t for t in GGUFReader(str(base)).tensors}
    after = {t.name: t for t in GGUFReader(str(out)).tensors}
    lora = {t.name: dequantize(t.data, t.tensor_type) for t in GGUFReader(str(tiny_adapter_gguf)).tensors}
    merged = [n for n in before if n + ".lora_a" in lora]
    assert len(merged) == 14
    for name, tensor in before.items():
        if name not in merged:
            assert after[name].tensor_type == tensor.tensor_type and bytes(after[name].data) == bytes(
                tensor.data
            )
            continue
        assert after[name].tensor_type == GGMLQuantizationType.Q8_0
        want = (
            dequantize(tensor.data, tensor.tensor_type)
            + 2.0 * lora[name + ".lora_b"] @ lora[name + ".lora_a"]
        )
        got = dequantize(after[name].data, after[name].tensor_type)
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.01, name
