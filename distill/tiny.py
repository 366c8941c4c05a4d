"""A tiny random-weight Llama student for tests and CPU benchmarks (no downloads).

It borrows a real tokenizer (the SmolLM2 GGUF's, or any Hugging Face folder's) so its text round-trips
like the product model's, while the network itself is a few hundred thousand parameters.
"""

from __future__ import annotations

from pathlib import Path


def make_tiny_model(out_dir: str | Path, tokenizer_source: str | Path, *, hidden: int = 64, layers: int = 2,
                    seed: int = 0) -> Path:  # fmt: skip
    """Save a random LlamaForCausalLM with `tokenizer_source`'s tokenizer into `out_dir`."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    source = Path(tokenizer_source)
    if source.suffix == ".gguf":
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(source))
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out
