"""The KPDD format: prompts, training text and the tolerant parser."""

from __future__ import annotations

import pytest

from kpdd.format import (
    DEMONSTRATIONS,
    END_MARKER,
    MARKERS,
    STAGE_STOP,
    KeyPoints,
    Stage,
    clean_program,
    clean_stage,
    few_shot_preamble,
    inference_prompt,
    parse_key_information,
    parse_transcript,
    solution_examples,
    training_examples,
    transcript,
)

PROBLEM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
KP = KeyPoints("How many apples does Tom have now?", ["Tom has 3 apples.", "He buys 4 more."])
PROGRAM = "apples = 3\nbought = 4\nanswer = apples + bought"
STEPS = "He has 3 + 4 = 7 apples.\nThe answer is 7."


def test_transcript_round_trips_through_parser():
    text = transcript(PROBLEM, KP, program=PROGRAM, steps=STEPS)
    parsed = parse_transcript(text)
    assert parsed.problem == PROBLEM
    assert parsed.core_question == KP.core_question
    assert parsed.key_information == KP.key_information
    assert parsed.program == PROGRAM
    assert parsed.steps == STEPS
    assert parsed.missing == []


def test_stage_prompts_grow_one_context():
    """Each later stage's prompt extends the earlier one plus its text: one growing KV cache."""
    core = inference_prompt(PROBLEM, Stage.CORE_QUESTION, few_shot=True)
    key = inference_prompt(PROBLEM, Stage.KEY_INFORMATION, KP, few_shot=True)
    program = inference_prompt(PROBLEM, Stage.PROGRAM, KP, few_shot=True)
    steps = inference_prompt(PROBLEM, Stage.STEPS, KP, few_shot=True)
    assert key.startswith(core + KP.core_question + "\n")
    assert program.startswith(key + KP.key_information_text() + "\n")
    assert program.endswith(MARKERS[Stage.PROGRAM] + "\n")
    assert steps.endswith(MARKERS[Stage.STEPS] + "\n")
    # Program and steps prompts share everything up to the solution marker (mode `both`).
    assert steps[: len(key)] == program[: len(key)]


def test_trained_prompt_has_no_demonstrations_and_few_shot_has_all():
    bare = inference_prompt(PROBLEM, Stage.CORE_QUESTION)
    assert bare == f"{MARKERS[Stage.PROBLEM]}\n{PROBLEM}\n{MARKERS[Stage.CORE_QUESTION]}\n"
    shot = inference_prompt(PROBLEM, Stage.CORE_QUESTION, few_shot=True)
    assert shot.endswith(bare)
    for demo in DEMONSTRATIONS:
        assert demo.problem in shot
    assert shot.count(END_MARKER) == len(DEMONSTRATIONS)


def test_demonstrations_are_correct_programs_and_steps_agree():
    """Our own demonstrations must be right: a program's answer equals the steps' final number."""
    for demo in DEMONSTRATIONS:
        namespace: dict = {}
        exec(demo.program, namespace)  # trusted, hand-written text
        final = demo.steps.rsplit("The answer is", 1)[1].strip(" .")
        assert float(namespace["answer"]) == pytest.approx(float(final))


def test_training_examples_put_loss_on_each_stage_target():
    examples = training_examples(PROBLEM, KP, program=PROGRAM, steps=STEPS, include_transcript=True)
    stages = [e.stage for e in examples]
    assert stages == [Stage.CORE_QUESTION, Stage.KEY_INFORMATION, Stage.PROGRAM, Stage.STEPS, Stage.PROBLEM]
    for example in examples[:4]:
        # The prompt is exactly what the solver sends a trained model for that stage.
        assert example.prompt == inference_prompt(PROBLEM, example.stage, KP)
        assert example.target.endswith(STAGE_STOP)
    assert examples[2].target == PROGRAM + STAGE_STOP
    whole = examples[-1]
    assert whole.prompt + whole.target == transcript(PROBLEM, KP, PROGRAM, STEPS)


def test_every_few_shot_prompt_starts_with_one_preamble_holding_each_demonstration():
    """llama.cpp reuses the evaluated preamble across stages and problems only if it is the same text."""
    preamble = few_shot_preamble()
    for problem in (PROBLEM, "A train goes 60 km an hour for 2 hours. How far does it go?"):
        for stage in (Stage.CORE_QUESTION, Stage.KEY_INFORMATION, Stage.PROGRAM, Stage.STEPS):
            prompt = inference_prompt(problem, stage, KP, few_shot=True)
            assert prompt.startswith(preamble)
            assert prompt[len(preamble) :] == inference_prompt(problem, stage, KP)  # then the bare format
    positions = []
    for demo in DEMONSTRATIONS:
        shown = transcript(demo.problem, KeyPoints(demo.core_question, list(demo.key_information)),
                           demo.program, demo.steps)  # fmt: skip
        assert preamble.count(shown) == 1
        positions.append(preamble.index(shown))
    assert positions == sorted(positions) and len(DEMONSTRATIONS) >= 2


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "no markers at all", "###", "### Program", "\x00\x01", "#" * 10000, None, 12345],
)
def test_parser_never_raises_on_junk_and_reports_missing(junk):
    parsed = parse_transcript(junk)
    assert Stage.CORE_QUESTION in parsed.missing
    assert Stage.KEY_INFORMATION in parsed.missing


def test_parser_tolerates_near_misses():
    text = (
        "## core question:\nHow many?\n#### KEY INFORMATION\n* first fact\n2) second fact\n"
        "### Program\n```python\nanswer = 2\n```\n### End\n### Core question\nignored after End"
    )
    parsed = parse_transcript(text)
    assert parsed.core_question == "How many?"
    assert parsed.key_information == ["first fact", "second fact"]
    assert parsed.program == "answer = 2"
    assert parsed.missing == []


def test_parser_reports_missing_solution():
    parsed = parse_transcript("### Core question\nWhat?\n### Key information\n- x\n")
    assert parsed.missing == [Stage.PROGRAM]


def test_clean_stage_cuts_at_stop_and_normalises():
    assert clean_stage(Stage.CORE_QUESTION, "  How  many\napples?\n### Key") == "How many apples?"
    assert clean_stage(Stage.KEY_INFORMATION, "* a\n\n• b\n<|im_end|>junk") == "- a\n- b"
    assert clean_stage(Stage.PROGRAM, "```py\nx = 1\nanswer = x\n```\nchatter") == "x = 1\nanswer = x"


def test_program_comment_with_hashes_is_not_a_stop():
    program = "x = 1  ### not a marker\nanswer = x"
    assert clean_program(program) == program
    assert clean_stage(Stage.PROGRAM, program) == program


def test_key_information_parsing_variants():
    assert parse_key_information("1. a\n2) b\n- c\n* d\n• e\nplain") == ["a", "b", "c", "d", "e", "plain"]


def test_solution_examples_hold_every_stage_prompt_the_solver_will_send():
    """Training text and inference prompts must agree: each stage's inference prompt is a prefix
    of the transcript example, and the text after it up to the stop is that stage's content."""
    problem = "Ann has 3 apples and buys 4 more. How many apples does she have?"
    kp = KeyPoints("How many apples does she have?", ["Ann has 3 apples.", "She buys 4 more."])
    program, steps = "apples = 3 + 4\nanswer = apples", "3 + 4 = 7.\nThe answer is 7."
    pot, cot = solution_examples(problem, kp, program, steps)
    assert (pot.stage, cot.stage) == (Stage.PROGRAM, Stage.STEPS)
    for example, stage, content in ((pot, Stage.PROGRAM, program), (cot, Stage.STEPS, steps)):
        text = example.prompt + example.target
        assert example.prompt == inference_prompt(problem, Stage.CORE_QUESTION)
        for asked, expected in (
            (Stage.CORE_QUESTION, kp.core_question),
            (Stage.KEY_INFORMATION, kp.key_information_text()),
            (stage, content),
        ):
            prompt = inference_prompt(problem, asked, kp)
            assert text.startswith(prompt)
            assert clean_stage(asked, text[len(prompt) :]) == expected
    assert "### Solution" not in pot.target and "### Program" not in cot.target
    assert solution_examples(problem, kp, program, None) == [pot]


def test_plain_examples_have_no_key_points_and_match_the_plain_prompt():
    problem = "Ann has 3 apples and buys 4 more. How many apples does she have?"
    kp = KeyPoints("How many apples does she have?", ["Ann has 3 apples."])
    (example,) = solution_examples(problem, kp, "answer = 3 + 4", None, style="plain")
    assert example.prompt == inference_prompt(problem, Stage.PROGRAM, with_key_points=False)
    assert "Core question" not in example.prompt + example.target
    assert "Key information" not in example.prompt + example.target
    assert clean_stage(Stage.PROGRAM, example.target) == "answer = 3 + 4"
    with pytest.raises(ValueError, match="Unknown example style"):
        solution_examples(problem, kp, "answer = 1", None, style="stages")


def test_the_demonstrations_in_the_problems_language():
    from kpdd.format import (
        DEMONSTRATIONS_ZH,
        FEW_SHOT_HEADER,
        FEW_SHOT_HEADER_ZH,
        inference_prompt,
        is_chinese,
    )

    farmer_zh = "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？"
    chinese = few_shot_preamble(farmer_zh, by_language=True)
    assert chinese.startswith(FEW_SHOT_HEADER_ZH) and DEMONSTRATIONS_ZH[0].core_question in chinese
    assert DEMONSTRATIONS[0].problem not in chinese
    assert few_shot_preamble("Tom has 3 pens. How many pens?", by_language=True) == few_shot_preamble()
    # The solver's prompt keeps the English demonstrations for now (measured better on the farmer).
    assert inference_prompt(farmer_zh, Stage.CORE_QUESTION, few_shot=True).startswith(FEW_SHOT_HEADER)
    assert (
        is_chinese(farmer_zh)
        and is_chinese("Mia买了12个鸡蛋，用掉了一半。")
        and not is_chinese("Tom has 3 pens.")
    )


def test_the_chinese_demonstrations_are_the_english_ones_translated():
    """Each says what its English original says: the same numbers (by `kpdd translate`'s own check),
    steps whose arithmetic holds and whose answer is the program's."""
    from distill.translate import check_translation
    from kpdd.answers import extract_answer
    from kpdd.arithmetic import arithmetic_slips
    from kpdd.format import DEMONSTRATIONS_ZH
    from kpdd.sandbox import run_program
    from kpdd.stage_text import solution_complete

    for english, chinese in zip(DEMONSTRATIONS, DEMONSTRATIONS_ZH, strict=True):
        answer = run_program(chinese.program).answer
        assert answer == extract_answer(english.steps) == extract_answer(chinese.steps)
        assert check_translation(english.problem, chinese.problem, answer) is None
        assert arithmetic_slips(chinese.steps) == []
        assert solution_complete(Stage.STEPS, chinese.steps + "\n") is not None
