"""The KPDD text format: the one source of truth for prompts, training text and parsing.

A KPDD transcript is plain text with one marker line per stage, in this order::

    ### Problem
    Natalia sold clips to 48 of her friends in April, and then ...
    ### Core question
    How many clips did Natalia sell in April and May together?
    ### Key information
    - She sold 48 clips in April.
    - In May she sold half as many clips as in April.
    ### Program
    clips_april = 48
    clips_may = clips_april / 2
    answer = clips_april + clips_may
    ### End

A CoT transcript has ``### Solution`` (step-by-step text ending in "The answer is X.") in place of
``### Program``. Every stage is generated up to the next line that starts with ``###``, so one stop
string (``STAGE_STOP``) ends every stage, the app can stream each stage into its own panel, and the
prompt for a later stage is the earlier prompt plus the text generated for it (one growing context,
so a llama.cpp KV cache is reused across stages).

Models trained on this format carry ``kpdd.format_version`` in their GGUF metadata and are prompted
with the bare transcript; other models get ``FEW_SHOT_HEADER`` and the demonstrations below first.
Changing any marker or the transcript layout is a new ``FORMAT_VERSION``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

FORMAT_VERSION = "kpdd-1"

# GGUF metadata keys that a KPDD-trained model carries (written by export/, read by the backend).
GGUF_KEY_FORMAT_VERSION = "kpdd.format_version"
GGUF_KEY_MODES = "kpdd.modes"
GGUF_KEY_BASE_MODEL = "kpdd.base_model"
GGUF_KEY_PROVENANCE = "kpdd.provenance"
GGUF_KPDD_KEYS = (GGUF_KEY_FORMAT_VERSION, GGUF_KEY_MODES, GGUF_KEY_BASE_MODEL, GGUF_KEY_PROVENANCE)


class Stage(str, Enum):
    """The stages of a transcript, in generation order (PROGRAM and STEPS are alternatives)."""

    PROBLEM = "problem"
    CORE_QUESTION = "core_question"
    KEY_INFORMATION = "key_information"
    PROGRAM = "program"
    STEPS = "steps"


class Mode(str, Enum):
    POT = "pot"  # Program-of-Thought: a Python program whose `answer` is the result
    COT = "cot"  # Chain-of-Thought: step-by-step text ending in "The answer is X."
    BOTH = "both"  # both solutions from the same key points, and whether they agree


MARKERS: dict[Stage, str] = {
    Stage.PROBLEM: "### Problem",
    Stage.CORE_QUESTION: "### Core question",
    Stage.KEY_INFORMATION: "### Key information",
    Stage.PROGRAM: "### Program",
    Stage.STEPS: "### Solution",
}
END_MARKER = "### End"
# Every stage stops at the next marker line. A leading newline keeps "###" inside a stage's text
# (for example a Python comment) from ending it.
STAGE_STOP = "\n###"
# Chat-model end tokens that also end a stage when a model not trained on the format drifts.
EXTRA_STOPS: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>", "</s>", "<end_of_turn>", "<eos>")
STOP_STRINGS: tuple[str, ...] = (STAGE_STOP, *EXTRA_STOPS)

# Token caps per stage: key points are short; a program or a worked solution needs more room.
MAX_TOKENS: dict[Stage, int] = {
    Stage.CORE_QUESTION: 64,
    Stage.KEY_INFORMATION: 160,
    Stage.PROGRAM: 256,
    Stage.STEPS: 320,
}

SOLUTION_STAGE: dict[Mode, Stage] = {Mode.POT: Stage.PROGRAM, Mode.COT: Stage.STEPS}

FEW_SHOT_HEADER = (
    "Solve each math word problem in three stages. First restate the core question in one "
    "sentence. Then list the key information needed to answer it. Then either write a Python "
    "program that stores the final number in a variable named answer, or solve it step by step "
    "and end with 'The answer is' and the number.\n\n"
)


@dataclass(frozen=True)
class Demonstration:
    """A worked example written for this project (not taken from any data set)."""

    problem: str
    core_question: str
    key_information: tuple[str, ...]
    program: str
    steps: str


# Hand-written for KPDD Tutor. None of these comes from GSM8K, SVAMP, ASDiv or MultiArith.
DEMONSTRATIONS: tuple[Demonstration, ...] = (
    Demonstration(
        problem=(
            "A bakery makes 36 muffins in the morning and twice as many in the afternoon. "
            "It sells 80 muffins during the day. How many muffins are left at closing time?"
        ),
        core_question="How many muffins are left after the day's sales?",
        key_information=(
            "36 muffins are made in the morning.",
            "Twice as many muffins are made in the afternoon.",
            "80 muffins are sold.",
        ),
        program=(
            "morning_muffins = 36\n"
            "afternoon_muffins = 2 * morning_muffins\n"
            "muffins_sold = 80\n"
            "answer = morning_muffins + afternoon_muffins - muffins_sold"
        ),
        steps=(
            "The bakery makes 2 * 36 = 72 muffins in the afternoon.\n"
            "In total it makes 36 + 72 = 108 muffins.\n"
            "After selling 80, 108 - 80 = 28 muffins are left.\n"
            "The answer is 28."
        ),
    ),
    Demonstration(
        problem=(
            "Leo reads 15 pages of his book every weekday and 25 pages on each day of the weekend. "
            "His book has 300 pages. How many full weeks does he need to finish it?"
        ),
        core_question="How many weeks does Leo need to read 300 pages?",
        key_information=(
            "Leo reads 15 pages on each of the 5 weekdays.",
            "He reads 25 pages on each of the 2 weekend days.",
            "The book has 300 pages.",
        ),
        program=(
            "import math\n"
            "pages_per_weekday = 15\n"
            "pages_per_weekend_day = 25\n"
            "pages_per_week = 5 * pages_per_weekday + 2 * pages_per_weekend_day\n"
            "book_pages = 300\n"
            "answer = math.ceil(book_pages / pages_per_week)"
        ),
        steps=(
            "On weekdays Leo reads 5 * 15 = 75 pages.\n"
            "On the weekend he reads 2 * 25 = 50 pages.\n"
            "So he reads 75 + 50 = 125 pages a week.\n"
            "He needs 300 / 125 = 2.4 weeks, so 3 full weeks.\n"
            "The answer is 3."
        ),
    ),
    Demonstration(
        problem=(
            "A jacket costs $80. During a sale its price is cut by 25%, and Mia pays with a "
            "$100 bill. How much change does she get?"
        ),
        core_question="How much change does Mia get from $100?",
        key_information=(
            "The jacket costs $80 before the sale.",
            "The sale takes 25% off the price.",
            "Mia pays with $100.",
        ),
        program=(
            "original_price = 80\n"
            "discount = original_price * 25 / 100\n"
            "sale_price = original_price - discount\n"
            "paid = 100\n"
            "answer = paid - sale_price"
        ),
        steps=(
            "The discount is 80 * 25 / 100 = 20 dollars.\n"
            "The sale price is 80 - 20 = 60 dollars.\n"
            "Her change is 100 - 60 = 40 dollars.\n"
            "The answer is 40."
        ),
    ),
)

# The same three, in Chinese as a Chinese textbook writes them (translated by hand for KPDD Tutor): a
# problem written in Chinese is prompted with these, so its stages come back in Chinese. The programs
# keep their English names, as the student's do.
FEW_SHOT_HEADER_ZH = (
    "分三个阶段解答每道数学应用题：先用一句话复述核心问题，再列出解题需要的关键信息，然后写一个把最终结果"
    "存进变量 answer 的 Python 程序，或者一步一步地解答，最后写“答案是”和数字。\n\n"
)
DEMONSTRATIONS_ZH: tuple[Demonstration, ...] = (
    Demonstration(
        problem="一家面包店上午做了36个松饼，下午做的是上午的两倍。这一天卖出了80个松饼。关门时还剩多少个松饼？",
        core_question="这一天卖完以后还剩多少个松饼？",
        key_information=("上午做了36个松饼。", "下午做的松饼是上午的两倍。", "一共卖出了80个松饼。"),
        program=DEMONSTRATIONS[0].program,
        steps=(
            "下午做了 2 * 36 = 72 个松饼。\n"
            "一共做了 36 + 72 = 108 个松饼。\n"
            "卖出80个以后，还剩 108 - 80 = 28 个松饼。\n"
            "答案是 28。"
        ),
    ),
    Demonstration(
        problem="小乐每个工作日读15页书，周末每天读25页。这本书有300页。他需要几个整周才能读完？",
        core_question="小乐读完300页需要几个整周？",
        key_information=("一周有5个工作日，小乐每天读15页。", "周末有2天，他每天读25页。", "这本书有300页。"),
        program=DEMONSTRATIONS[1].program,
        steps=(
            "工作日小乐读 5 * 15 = 75 页。\n"
            "周末他读 2 * 25 = 50 页。\n"
            "所以他每周读 75 + 50 = 125 页。\n"
            "他需要 300 / 125 = 2.4 周，也就是3个整周。\n"
            "答案是 3。"
        ),
    ),
    Demonstration(
        problem="一件夹克原价80美元。打折时降价25%，米娅付了一张100美元的钞票。她能找回多少钱？",
        core_question="米娅付100美元能找回多少钱？",
        key_information=("夹克打折前的价格是80美元。", "打折时降价25%。", "米娅付了100美元。"),
        program=DEMONSTRATIONS[2].program,
        steps=(
            "折扣是 80 * 25 / 100 = 20 美元。\n"
            "打折后的价格是 80 - 20 = 60 美元。\n"
            "她找回 100 - 60 = 40 美元。\n"
            "答案是 40。"
        ),
    ),
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A text is Chinese when at least this share of its letters are Chinese characters.
CHINESE_SHARE = 0.3


def is_chinese(text: str) -> bool:
    """Whether a problem (or a stage) is written in Chinese: names and units in Latin letters may stand in it."""
    letters = [c for c in text or "" if c.isalpha()]
    return bool(letters) and len(_CJK.findall(text)) >= CHINESE_SHARE * len(letters)


def demonstrations_for(problem: str) -> tuple[str, tuple[Demonstration, ...]]:
    """The few-shot header and demonstrations in the problem's language."""
    return (
        (FEW_SHOT_HEADER_ZH, DEMONSTRATIONS_ZH) if is_chinese(problem) else (FEW_SHOT_HEADER, DEMONSTRATIONS)
    )


@dataclass
class KeyPoints:
    """The key-point stages of one problem, as generated or as edited by a user."""

    core_question: str = ""
    key_information: list[str] = field(default_factory=list)

    def key_information_text(self) -> str:
        return format_key_information(self.key_information)


def normalize_problem(problem: str) -> str:
    """Collapse whitespace so the same problem always gives the same prompt."""
    return " ".join(problem.split())


def format_key_information(items: Iterable[str]) -> str:
    """Render facts as the bullet list the format uses (one "- fact" per line)."""
    lines = []
    for item in items:
        item = item.strip()
        if item:
            lines.append(item if item.startswith("- ") else f"- {item.lstrip('-*• ').strip()}")
    return "\n".join(lines)


def parse_key_information(text: str) -> list[str]:
    """Split a key-information stage into facts; tolerant of '*', '•', numbering or plain lines."""
    facts = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if line:
            facts.append(line)
    return facts


def clean_program(text: str) -> str:
    """Strip Markdown fences and chatter that small models put around code."""
    fenced = re.search(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    return text.strip("\n").rstrip()


def transcript_prefix(
    problem: str,
    key_points: KeyPoints | None = None,
    until: Stage = Stage.CORE_QUESTION,
    with_key_points: bool = True,
) -> str:
    """The transcript up to and including the marker line of stage `until`.

    `key_points` supplies the finished earlier stages (required for KEY_INFORMATION and later).
    `with_key_points=False` leaves the key-point stages out (a solution straight after the problem):
    the prompt of a plain-distilled model, the ablation that shows what the key points are worth.
    """
    parts = [MARKERS[Stage.PROBLEM], normalize_problem(problem)]
    if with_key_points and until in (Stage.KEY_INFORMATION, Stage.PROGRAM, Stage.STEPS):
        kp = key_points or KeyPoints()
        parts += [MARKERS[Stage.CORE_QUESTION], kp.core_question.strip()]
        if until in (Stage.PROGRAM, Stage.STEPS):
            parts += [MARKERS[Stage.KEY_INFORMATION], kp.key_information_text()]
    parts.append(MARKERS[until])
    return "\n".join(parts) + "\n"


def transcript(
    problem: str,
    key_points: KeyPoints,
    program: str | None = None,
    steps: str | None = None,
    with_key_points: bool = True,
) -> str:
    """A whole transcript: for training text and for the few-shot demonstrations."""
    parts = [MARKERS[Stage.PROBLEM], normalize_problem(problem)]
    if with_key_points:
        parts += [
            MARKERS[Stage.CORE_QUESTION],
            key_points.core_question.strip(),
            MARKERS[Stage.KEY_INFORMATION],
            key_points.key_information_text(),
        ]
    if program is not None:
        parts += [MARKERS[Stage.PROGRAM], program.strip("\n")]
    if steps is not None:
        parts += [MARKERS[Stage.STEPS], steps.strip()]
    parts.append(END_MARKER)
    return "\n".join(parts) + "\n"


def few_shot_preamble(problem: str = "", by_language: bool = False) -> str:
    """Header plus demonstrations, for models not trained on the format; `by_language`: in the
    problem's language (Chinese ones for a Chinese problem).

    Each demonstration shows both a program and step-by-step solution, so the prefix is the same
    for every mode and the key-point stages are shared (and cached) when mode is `both`.
    """
    header, demonstrations = demonstrations_for(problem) if by_language else (FEW_SHOT_HEADER, DEMONSTRATIONS)
    shots = [
        transcript(d.problem, KeyPoints(d.core_question, list(d.key_information)), d.program, d.steps)
        for d in demonstrations
    ]
    return header + "\n".join(shots) + "\n"


# Whether the solver prompts a Chinese problem with the Chinese demonstrations. No: on the first 40
# problems of the hand-translated Chinese dev set the 1.5B was right on 50.0% with the English ones
# and 40.0% with the Chinese ones (14 both, 6 only English, 2 only Chinese, McNemar p = 0.29), as on
# the Chinese farmer (56 against 44), and it writes Chinese stages either way (bench/bench_chinese.py,
# records in bench/records/zh/demos-dev40/). The teacher keeps the Chinese ones: its Chinese key
# points are what the bilingual student learns.
SOLVER_DEMONSTRATIONS_BY_LANGUAGE = False


def inference_prompt(
    problem: str,
    stage: Stage,
    key_points: KeyPoints | None = None,
    few_shot: bool = False,
    with_key_points: bool = True,
) -> str:
    """The prompt that makes a model generate `stage` next."""
    prefix = few_shot_preamble(problem, by_language=SOLVER_DEMONSTRATIONS_BY_LANGUAGE) if few_shot else ""
    return prefix + transcript_prefix(problem, key_points, until=stage, with_key_points=with_key_points)


@dataclass(frozen=True)
class TrainingExample:
    """One supervised example: the loss applies to `target` only."""

    stage: Stage
    prompt: str
    target: str


def stage_target(text: str) -> str:
    """A stage's training target: its text, then the start of the next marker so the model stops."""
    return text.strip("\n") + STAGE_STOP


def training_examples(
    problem: str,
    key_points: KeyPoints,
    program: str | None = None,
    steps: str | None = None,
    include_transcript: bool = False,
) -> list[TrainingExample]:
    """Stage-wise training examples (the paper's per-stage models, here as one multi-task set).

    With `include_transcript`, also one example whose target is the whole transcript after the
    problem, so the model learns to run the stages back to back.
    """
    examples = [
        TrainingExample(
            Stage.CORE_QUESTION,
            transcript_prefix(problem, until=Stage.CORE_QUESTION),
            stage_target(key_points.core_question),
        ),
        TrainingExample(
            Stage.KEY_INFORMATION,
            transcript_prefix(problem, key_points, until=Stage.KEY_INFORMATION),
            stage_target(key_points.key_information_text()),
        ),
    ]
    if program is not None:
        examples.append(
            TrainingExample(
                Stage.PROGRAM,
                transcript_prefix(problem, key_points, until=Stage.PROGRAM),
                stage_target(program),
            )
        )
    if steps is not None:
        examples.append(
            TrainingExample(
                Stage.STEPS,
                transcript_prefix(problem, key_points, until=Stage.STEPS),
                stage_target(steps),
            )
        )
    if include_transcript:
        full = transcript(problem, key_points, program, steps)
        head = transcript_prefix(problem, until=Stage.CORE_QUESTION)
        examples.append(TrainingExample(Stage.PROBLEM, head, full[len(head) :]))
    return examples


# The training-example styles of `kpdd train` (recipe key `examples`).
EXAMPLE_STYLES = ("stages", "transcripts", "plain")
# Listed in a model's `kpdd.modes` when it was trained without the key-point stages ("plain").
PLAIN_MODE = "plain"


def solution_examples(
    problem: str,
    key_points: KeyPoints,
    program: str | None = None,
    steps: str | None = None,
    style: str = "transcripts",
) -> list[TrainingExample]:
    """One example per solution kind, the prompt being the problem alone (the cheap way to train).

    "transcripts": the target runs through every stage (core question, key information, then the
    program or the steps), so each problem's text is read once per solution kind instead of once
    per stage. The model learns the same next-stage text as with "stages"; at inference each stage
    still stops at the next marker line.
    "plain": the solution straight after the problem, no key points (the ablation).
    """
    if style not in ("transcripts", "plain"):
        raise ValueError(f"Unknown example style {style!r}")
    with_key_points = style == "transcripts"
    first = Stage.CORE_QUESTION if with_key_points else Stage.PROGRAM
    examples = []
    for stage, solution in ((Stage.PROGRAM, program), (Stage.STEPS, steps)):
        if solution is None:
            continue
        head = transcript_prefix(
            problem, until=first if with_key_points else stage, with_key_points=with_key_points
        )
        full = transcript(
            problem,
            key_points,
            solution if stage == Stage.PROGRAM else None,
            solution if stage == Stage.STEPS else None,
            with_key_points=with_key_points,
        )
        if not full.startswith(head):  # cannot happen with this module's own builders
            raise AssertionError("transcript and prefix disagree")
        examples.append(TrainingExample(stage, head, full[len(head) :]))
    return examples


def cut_at_stop(text: str) -> str:
    """Cut generated text at the first stop string (for backends that over-generate)."""
    cut = len(text)
    for stop in STOP_STRINGS:
        i = text.find(stop)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


def clean_stage(stage: Stage, text: str) -> str:
    """Normalise one generated stage's text."""
    text = cut_at_stop(text)
    if stage == Stage.PROGRAM:
        return clean_program(text)
    if stage == Stage.KEY_INFORMATION:
        return format_key_information(parse_key_information(text))
    if stage == Stage.CORE_QUESTION:
        return " ".join(text.split())
    return text.strip()


@dataclass
class ParsedTranscript:
    """What a parser recovered from model output; `missing` names the stages it did not find."""

    problem: str = ""
    core_question: str = ""
    key_information: list[str] = field(default_factory=list)
    program: str = ""
    steps: str = ""
    missing: list[Stage] = field(default_factory=list)

    @property
    def key_points(self) -> KeyPoints:
        return KeyPoints(self.core_question, list(self.key_information))


_MARKER_TO_STAGE = {marker.lower(): stage for stage, marker in MARKERS.items()}
_MARKER_LINE = re.compile(r"^\s*#{2,4}\s*([A-Za-z ]+?)\s*:?\s*$")


def parse_transcript(text: str, expect: Iterable[Stage] | None = None) -> ParsedTranscript:
    """Recover stages from any text (never raises).

    Accepts the exact format and near misses (different hash counts, a trailing colon, other
    capitalisation). Text after ``### End`` is ignored. `expect` lists the stages that must be
    present for the result to be complete (default: core question, key information and one
    solution); stages among them that are absent or empty are listed in `missing`.
    """
    parsed = ParsedTranscript()
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    sections: dict[Stage, list[str]] = {}
    current: Stage | None = None
    for line in text.splitlines():
        m = _MARKER_LINE.match(line)
        if m:
            name = "### " + m.group(1).strip().lower().capitalize()
            if name.lower() == END_MARKER.lower():
                break
            stage = _MARKER_TO_STAGE.get(name.lower())
            if stage is not None:
                current = stage
                sections.setdefault(stage, [])
                continue
        if current is not None:
            sections[current].append(line)
    body = {stage: "\n".join(lines) for stage, lines in sections.items()}
    parsed.problem = normalize_problem(body.get(Stage.PROBLEM, ""))
    parsed.core_question = clean_stage(Stage.CORE_QUESTION, body.get(Stage.CORE_QUESTION, ""))
    parsed.key_information = parse_key_information(body.get(Stage.KEY_INFORMATION, ""))
    parsed.program = clean_program(body.get(Stage.PROGRAM, ""))
    parsed.steps = body.get(Stage.STEPS, "").strip()

    if expect is None:
        expect = [Stage.CORE_QUESTION, Stage.KEY_INFORMATION]
        if not parsed.program and not parsed.steps:
            expect.append(Stage.PROGRAM)
    values = {
        Stage.PROBLEM: parsed.problem,
        Stage.CORE_QUESTION: parsed.core_question,
        Stage.KEY_INFORMATION: parsed.key_information,
        Stage.PROGRAM: parsed.program,
        Stage.STEPS: parsed.steps,
    }
    parsed.missing = [stage for stage in expect if not values[stage]]
    return parsed


# Longer pastes are cut: a word problem is a paragraph, and the context must hold the stages too.
MAX_PROBLEM_CHARS = 2000


def cut_problem(text: str) -> str:
    """The first MAX_PROBLEM_CHARS characters, ending at a word boundary when one is near the end.
    The one cut rule: the solver and the app's problem box both cut here."""
    if len(text) <= MAX_PROBLEM_CHARS:
        return text
    cut = text[:MAX_PROBLEM_CHARS]
    space = cut.rfind(" ", MAX_PROBLEM_CHARS - 200)
    return cut[:space] if space > 0 else cut


def prepare_problem(problem: str) -> tuple[str, bool]:
    """Normalise a problem; cut it at MAX_PROBLEM_CHARS (`cut_problem`). Raises on empty."""
    text = normalize_problem(problem or "")
    if not text:
        raise ValueError("The problem is empty: type or paste a word problem first.")
    cut = cut_problem(text)
    return cut, cut != text


# -- a program's names in the problem's language ---------------------------------------------------
# Programs keep English names (the training data's), so the worked steps of a Chinese problem would
# read "Goats left = goats − 12". One short generation by the model that solved it names each
# variable in Chinese for the steps; the program itself is not changed. On three Chinese problems the
# student and the 1.5B both gave usable names (2026-12-07, bench/records/kpdd-qwen05b-s4/NOTES.md).
# The demonstrations are our own problems, not the farmer the screenshots show.
STEP_NAMES_HEADER = (
    "Give each Python variable a short Chinese name (a few characters) for a student who reads the "
    'problem in Chinese. One line per variable, as "variable: 中文名".'
)
STEP_NAMES_DEMOS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "小明有25本故事书，姐姐的故事书是他的两倍。姐姐送给同学8本。姐姐还剩多少本故事书？",
        (("ming_books", "小明的书"), ("sister_books", "姐姐的书"), ("given_away", "送出的书"),
         ("sister_left", "姐姐剩下的书")),
    ),
    (
        "面包师做了48个松饼。她上午卖掉了其中的3/4，下午又卖掉了5个。还剩下多少个松饼？",
        (("muffins", "松饼总数"), ("sold_morning", "上午卖掉的松饼"),
         ("remaining_after_morning", "上午后剩下的松饼"), ("muffins_left", "最后剩下的松饼")),
    ),
)  # fmt: skip
STEP_NAMES_STOP = ("\n\n", "题目")
# The answer's own name, in Chinese, whatever the model says.
ANSWER_NAME_ZH = "答案"
MAX_STEP_NAME_CHARS = 24


def step_names_prompt(problem: str, names: Iterable[str]) -> str:
    """The prompt that asks for Chinese names of `names`, continued as "name: 中文名" lines."""
    blocks = [STEP_NAMES_HEADER]
    for demo_problem, pairs in STEP_NAMES_DEMOS:
        lines = "\n".join(f"{name}: {label}" for name, label in pairs)
        blocks.append(f"题目：{demo_problem}\n变量：{', '.join(n for n, _ in pairs)}\n{lines}")
    blocks.append(f"题目：{normalize_problem(problem)}\n变量：{', '.join(names)}\n")
    return "\n\n".join(blocks)


def parse_step_names(text: str, names: Iterable[str]) -> dict[str, str]:
    """The Chinese name of every one of `names` from the model's "name: 中文名" lines, or {} when one
    is missing or is not a short Chinese name without digits: half-Chinese steps read worse than
    English ones.
    "answer" is always 答案."""
    wanted = [n for n in names if n != "answer"]
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        name, sep, label = line.replace("：", ":").partition(":")
        name, label = name.strip().strip("`"), label.strip().rstrip("。.")
        if sep and name in wanted and name not in found:
            found[name] = label
    if any(
        not (label := found.get(name, ""))
        or len(label) > MAX_STEP_NAME_CHARS
        or not is_chinese(label)
        or re.search(r"\d", label)  # "20名学生没有电脑" reads as a value, not a name
        for name in wanted
    ):
        return {}
    return {**{name: found[name] for name in wanted}, "answer": ANSWER_NAME_ZH}
