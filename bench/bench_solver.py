"""Time to answer and the solver's overhead over plain llama.cpp generation, side by side.

For each GSM8K test problem, the staged solver runs (three stages, program executed in the
sandbox); then, on the same llama.cpp model object, plain `create_completion` generates exactly
as many tokens from the same first prompt with no stops. Both get the same prefix cache across
problems (the few-shot preamble), and the two alternate per problem so machine noise hits both.

    python bench/bench_solver.py --n 20 [--data-dir ../shared/data] [--model PATH] [--mode pot]

Prints per-run medians and p90s, tokens/s for both, and the overhead ratio (target: at most 10%).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kpdd.backend import common_prefix_length
from kpdd.datasets import load_dataset
from kpdd.format import Stage, inference_prompt, prepare_problem
from kpdd.models import load_backend, resolve_model
from kpdd.solver import Solver


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--model")
    parser.add_argument("--mode", default="pot", choices=["pot", "cot", "both"])
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()

    problems = load_dataset("gsm8k", data_dir=args.data_dir, limit=args.n).problems
    entry = resolve_model(args.model)
    backend = load_backend(entry, threads=args.threads)
    solver = Solver(backend)
    llm = backend.llm
    eog = [t for t in range(llm.n_vocab()) if t in (llm.token_eos(),)]
    ban_eos = {t: -1e9 for t in eog}

    # Tokens every first-stage prompt shares (the few-shot preamble), which both paths may reuse.
    first_prompts = [inference_prompt(prepare_problem(p.question)[0], Stage.CORE_QUESTION, few_shot=solver.few_shot)
                     for p in problems[:2]]  # fmt: skip
    tokenized = [llm.tokenize(p.encode("utf-8"), add_bos=True, special=True) for p in first_prompts]
    preamble_tokens = common_prefix_length(*tokenized) if len(tokenized) == 2 else 0

    # Warm-up: loads the few-shot preamble into the cache for both paths.
    solver.solve(problems[0].question, args.mode)

    solve_s, plain_s, solve_gen_s, tokens, sandbox_s, first_token = [], [], [], [], [], []
    correct = 0
    for problem in problems:
        result = solver.solve(problem.question, args.mode)
        n_tokens = max(1, result.completion_tokens)
        solve_s.append(result.seconds)
        solve_gen_s.append(sum(s.seconds for s in result.stages))
        sandbox_s.append(sum(s.execution.duration_s for s in result.solutions if s.execution))
        first_token.append(result.first_token_seconds or 0.0)
        tokens.append(n_tokens)
        if result.answer is not None and abs(result.answer - problem.answer) < 1e-6:
            correct += 1

        text, _ = prepare_problem(problem.question)
        prompt = inference_prompt(text, Stage.CORE_QUESTION, few_shot=solver.few_shot)
        # Keep only the shared preamble in the cache, as the solver found it for this problem:
        # otherwise plain generation would get this problem's text for free from the solver's run.
        llm.n_tokens = min(llm.n_tokens, preamble_tokens)
        started = time.perf_counter()
        llm.create_completion(prompt, max_tokens=n_tokens, temperature=0.0, stop=[], logit_bias=ban_eos)
        plain_s.append(time.perf_counter() - started)

    total_tokens = sum(tokens)
    ratio = sum(solve_s) / sum(plain_s)
    print(
        f"model: {entry.name} ({backend.threads} threads), mode {args.mode}, {len(problems)} GSM8K test problems"
    )
    print(f"accuracy on these: {correct}/{len(problems)}")
    print(f"time to answer: median {statistics.median(solve_s):.2f}s, p90 {percentile(solve_s, 0.9):.2f}s")
    print(f"time to first token: median {statistics.median(first_token):.2f}s")
    print(f"tokens generated: {total_tokens} ({total_tokens / len(problems):.0f} per problem)")
    print(f"solver:       {total_tokens / sum(solve_s):6.1f} tok/s end to end, "
          f"{total_tokens / sum(solve_gen_s):6.1f} tok/s in generation")  # fmt: skip
    print(f"plain llama:  {total_tokens / sum(plain_s):6.1f} tok/s (same tokens, same prompt)")
    print(f"sandbox: {1000 * statistics.median(sandbox_s):.1f} ms median per problem")
    print(f"overhead: solver / plain = {ratio:.3f} ({100 * (ratio - 1):+.1f}%; target at most +10%)")
    backend.close()


if __name__ == "__main__":
    main()
