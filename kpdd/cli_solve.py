"""`kpdd solve`: one problem, each stage streamed as it is written, the program's run, the worked
steps, and the answer with its verdict (or `--json`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kpdd import cli_options
from kpdd.format import Mode, Stage

STAGE_TITLES = {
    Stage.CORE_QUESTION: "Core question",
    Stage.KEY_INFORMATION: "Key information",
    Stage.PROGRAM: "Program",
    Stage.STEPS: "Solution",
}


# -- solve ------------------------------------------------------------------------------------


class SolvePrinter:
    """Streams a solve to the terminal as its events arrive: stage headings, text, sandbox results."""

    def __init__(self, out, samples: int, mode: str) -> None:
        self.out = out
        self.samples = samples
        self.mode = mode
        self.rechecking = False  # samples "auto", after the first answer looked wrong

    def on_event(self, event) -> None:  # a kpdd.solver.StageEvent
        if event.kind == "second_opinion" and getattr(event.data, "every_answer", False):
            from kpdd.answers import format_answer

            first = event.data.first.answer
            shown = "none" if first is None else format_answer(first)
            self.out.write(f"\n-- First answer: {shown}. Checking it with {event.text}.\n")
        elif event.kind == "second_opinion":
            self.out.write(f"\n-- The answer looks doubtful: asking {event.text} for a second opinion.\n")
        elif event.kind == "recheck":
            self.rechecking = True
            self.out.write(
                f"\n-- The first answer looks wrong: writing {event.data - 1} more solutions to vote on.\n"
            )
        elif event.kind == "stage_start":
            title = STAGE_TITLES[event.stage]
            if (self.samples > 1 or self.rechecking) and event.stage in (Stage.PROGRAM, Stage.STEPS):
                title += f" (sample {event.solution_index // (2 if self.mode == 'both' else 1) + 1})"
            self.out.write(f"\n== {title} ==\n")
        elif event.kind == "text":
            self.out.write(event.text)
        elif event.kind == "program_result":
            self.sandbox_line(event.data)
        elif event.kind == "stage_end" and event.stage == Stage.STEPS:
            self.out.write("\n")
        self.out.flush()

    def sandbox_line(self, solution) -> None:  # a kpdd.solver.Solution with a program run
        write_sandbox_line(self.out, solution)


def write_sandbox_line(out, solution) -> None:
    """What the sandbox made of a program (a kpdd.solver.Solution): its answer, or why none."""
    from kpdd.answers import format_answer

    execution = solution.execution
    out.write("\n-- Sandbox: ")
    if execution is None or not execution.ok:
        out.write(f"{solution.error} [{solution.error_kind}]\n")
        return
    if execution.stdout.strip():
        out.write(f"printed {execution.stdout.strip()[:200]!r}; ")
    shown = format_answer(solution.answer) if solution.answer is not None else repr(execution.answer)
    out.write(f"answer = {shown} ({execution.duration_s * 1000:.0f} ms)\n")
    if solution.answer_note:
        out.write(f"   {solution.answer_note}\n")


def write_second_model_solution(out, result) -> None:
    """The second model's solution, when its answer is the one shown: the reasons below are about it,
    so it is printed (the first model's streamed above and stays as the first model's answer)."""
    from kpdd.answers import format_answer

    solution = result.shown_from_second_opinion()
    if solution is None:
        return
    kind = "Program" if solution.kind == Mode.POT else "Steps"
    out.write(
        f"\n== {kind} by {solution.model} (the answer shown is this one's) ==\n{solution.text.strip()}\n"
    )
    if solution.kind == Mode.POT:
        write_sandbox_line(out, solution)
    first = result.first_model_answer
    first_text = "none" if first is None else format_answer(first)
    out.write(f"-- The first model's answer: {first_text} ({result.model}, above).\n")


def print_answer(out, result, verdict) -> int:
    """The end of a streamed solve: worked steps, the answer with its confidence and verdict, figures.
    Returns the exit status (1: no answer)."""
    from kpdd.answers import format_answer
    from kpdd.verdict import Level
    from kpdd.worked import worked_steps

    if result.error:
        out.write(f"\nerror: {result.error}\n")
    write_second_model_solution(out, result)
    program = result.shown_solution(Mode.POT)
    worked = (
        worked_steps(program.text, names=program.names).steps
        if program is not None and program.answer is not None
        else ()
    )
    if worked:
        out.write("\n== Worked steps ==\n")
        out.write("".join(f"{n}. {step.text()}\n" for n, step in enumerate(worked, 1)))
    out.write("\n== Answer ==\n")
    if result.answer is None:
        out.write(f"No answer: {verdict.explanation()}\n")
        return 1
    line = format_answer(result.answer)
    if len(result.solutions) > 1:
        # A count, not a percentage: a share of votes must never read as a certainty the verdict denies.
        line += f"  ({result.agreeing_solutions} of {len(result.solutions)} solutions give it"
        if result.rechecked:
            line += f"; the first answer looked wrong, so {len(result.solutions)} solutions voted"
        if result.second_opinion:
            line += f"; {result.second_opinion} was asked too"
        if result.agree is not None:
            line += ", program and steps " + ("agree" if result.agree else "disagree")
            if result.stepped_past:
                line += "; the program worked out this answer on the way, then went a step further"
        line += ")"
    out.write(line + "\n")
    out.write(f"{verdict.title}: {verdict.explanation()}\n")
    if verdict.level == Level.NOT_SURE and verdict.slips:
        for slip in verdict.slips:
            out.write(f"   a step writes {slip.expression} = {slip.written}; it is {slip.correct_text}\n")
    first = f"{result.first_token_seconds:.2f}s" if result.first_token_seconds is not None else "n/a"
    out.write(
        f"[{result.model}: {result.completion_tokens} tokens generated, "
        f"{result.prompt_tokens_evaluated} prompt tokens read, first token {first}, {result.seconds:.2f}s]\n"
    )
    return 0


def read_problem_file(path: Path) -> str | None:
    """The text of a problem file, or None after saying on stderr why it cannot be one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        print(f"error: {path} is not a text file (UTF-8): give the problem as text.", file=sys.stderr)
        return None


def cmd_solve(args: argparse.Namespace) -> int:
    from kpdd.format import MAX_PROBLEM_CHARS, prepare_problem
    from kpdd.verdict import Level, judge

    if args.file:
        problem = read_problem_file(Path(args.file))
        if problem is None:
            return 2
    else:
        problem = " ".join(args.problem)
    if not problem.strip():
        where = (
            f"{args.file} is empty: write the problem in it"
            if args.file
            else "give it as an argument or with -f FILE"
        )
        print(f"error: the problem is empty: {where}.", file=sys.stderr)
        return 2
    if not cli_options.programs_may_run(args.mode):
        return 2
    out = sys.stdout
    printer = None if args.json else SolvePrinter(out, args.samples, args.mode)
    if printer and prepare_problem(problem)[1]:  # said first: what is solved is not all that was given
        out.write(f"(The problem is long: only its first {MAX_PROBLEM_CHARS} characters are used.)\n")
    solver = cli_options.open_solver(args)
    result = solver.solve(
        problem,
        args.mode,
        samples=args.samples,
        core_question=args.core_question,
        key_information=args.key_information,
        on_event=printer.on_event if printer else None,
    )
    solver.name_program_steps(result)  # a Chinese problem's worked steps in Chinese
    solver.backend.close()
    verdict = judge(result)
    if args.json:
        json.dump({**result.to_dict(), "verdict": verdict.to_dict()}, out, indent=2)
        out.write("\n")
        return 0 if result.answer is not None else 1
    status = print_answer(out, result, verdict)
    if verdict.level == Level.NOT_SURE and solver.second_opinion is not None and not result.second_opinion:
        # The default asks the second model only about answers that look wrong: say how to ask it.
        name = solver.second_opinion.backend.info.name
        out.write(f"To have {name} check this answer, solve again with --second-opinion-on every.\n")
    return status
