"""Loading and saving the transformers models that training and export work on.

One place for the GGUF round trip: a base model given as a GGUF file is dequantized by transformers
into a float model that it still marks GGUF-quantized (so the Trainer would refuse to train it and
`save_pretrained` to save it); `load_base` removes that mark, and the model is a plain one.
Training (`distill.train`), the transformers backend (`distill.hf_backend`) and export
(`export.gguf_export`, `export.check`) all load and save through here. Imports only torch and
transformers, both in the `distill` and `export` extras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_base(path: str | Path, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a Hugging Face folder or a GGUF file (dequantized), float32 unless
    `dtype` says otherwise."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    source = Path(path).expanduser()
    if source.suffix == ".gguf":
        if not source.is_file():
            raise FileNotFoundError(f"GGUF base model {source} does not exist.")
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=dtype)
        # transformers has dequantized every tensor to `dtype` but still marks the model GGUF-quantized,
        # which the Trainer refuses to train and save_pretrained to save: it is a plain float model now.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        return model, tokenizer
    if not source.is_dir():
        raise FileNotFoundError(f"Base model folder {source} does not exist.")
    return AutoModelForCausalLM.from_pretrained(str(source), dtype=dtype), AutoTokenizer.from_pretrained(
        str(source)
    )


def save_plain(model: Any, directory: str | Path, tokenizer: Any = None) -> None:
    """Save a model (and its tokenizer) as a plain Hugging Face folder (one from `load_base` too)."""
    model.save_pretrained(str(directory))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(directory))
