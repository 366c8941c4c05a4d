"""The `gold` teacher: KPDD rationales derived from GSM8K's annotated solutions, with no LLM.

GSM8K solutions carry calculator annotations (``48/2 = <<48/2=24>>24 clips in May``). Each annotation
becomes one program line whose variable is named after the words around it (``clips_may = 48 / 2``);
a number that a later step reuses becomes a reference to that variable, and a number from the problem
that several steps use becomes a named input at the top. The CoT rationale is the solution text
without annotations, ending in "The answer is X.". The core question is the problem's question
sentence (without a leading "If ..." clause) and the key information is the other sentences.

Every program is checked: `verify_gold` runs it in `kpdd.sandbox` and keeps it only when its answer
matches the gold answer, so gold rationales are correct by construction.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import re
from dataclasses import dataclass, field

from kpdd.answers import answer_from_value, answers_match, format_answer, gsm8k_solution_text
from kpdd.format import KeyPoints, normalize_problem

GOLD_PROMPT_VERSION = "gold-1"

_ANNOTATION_RE = re.compile(r"<<([^<>]*)>>")
# "6/12 = $0.50" written without an annotation: an arithmetic expression, "=", a number.
_NUM = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
_BARE_EQUATION_RE = re.compile(
    r"(?<![\w.<=])(\(?\s*\$?" + _NUM + r"\s*\)?(?:\s*[-+*/x×−÷]\s*\(?\s*\$?" + _NUM + r"\s*\)?)+)"
    r"\s*=\s*\$?\s*(-?" + _NUM + r")(?![\d/])"
)
_NUMBER_LITERAL_RE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\-]*")

# Words that say nothing about what a quantity is; dropped when naming variables.
_STOPWORDS = frozenset(
    """a an the of to in on at for and or is are was were be been being he she they it his her hers their
    its them him that this these those so then there has have had will would each every with from by as
    than which what how many much all also now just only if when after before into out up does do did
    can could we you i me my our your who whom whose one ones can't won't isn't aren't she's he's
    it's that's there's they're total altogether left spent buy bought get got need needs make makes
    made pay pays paid cost costs costing worth earn earns earned save saves saved take takes took
    give gives gave means mean meaning since therefore thus hence because way will be overall
    amount number dollars dollar cents""".split()
)
# Units and plain nouns that are fine in names; everything else outside _STOPWORDS is fine too.
_MAX_NAME_WORDS = 3
_MAX_NAME_CHARS = 32
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Jr.", "Sr.", "vs.", "etc.", "a.m.", "p.m.")
_QUESTION_WORDS = ("how", "what", "which", "who", "when", "where", "why", "find", "calculate", "determine")


@dataclass
class GoldStep:
    """One calculator annotation turned into a program line."""

    name: str
    expression: str  # Python, with references to earlier names
    value: float
    annotated: str  # the result as the solution wrote it


@dataclass
class GoldRationale:
    """The gold teacher's output for one problem; `program` is None when none could be derived."""

    key_points: KeyPoints
    steps_text: str
    program: str | None
    failure: str | None = None  # why no program: no_annotations, bad_expression, answer_mismatch
    literal_steps: int = 0  # annotations that could not be parsed and became literals
    steps: list[GoldStep] = field(default_factory=list)


# -- key points from the problem text ---------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Split a problem into sentences; keeps "$1.50", "Mr. Smith" and "3.5 hours" whole."""
    text = normalize_problem(text)
    protected = text
    for i, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\x00{i}\x00")
    pieces = re.split(r"(?<=[.?!])[\"')\]]*\s+(?=[\"'(A-Z$0-9])", protected)
    sentences = []
    for piece in pieces:
        for i, abbreviation in enumerate(_ABBREVIATIONS):
            piece = piece.replace(f"\x00{i}\x00", abbreviation)
        piece = piece.strip()
        if piece:
            sentences.append(piece)
    return sentences


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def extract_key_points(problem: str) -> KeyPoints:
    """Core question: the (last) question sentence, without a leading conditional clause.

    Key information: every other sentence, plus the conditional clause ("If she reads half of the
    rest tomorrow, how many ..." gives the fact "She reads half of the rest tomorrow.").
    """
    sentences = split_sentences(problem)
    if not sentences:
        return KeyPoints("", [])
    question_index = max((i for i, s in enumerate(sentences) if "?" in s), default=len(sentences) - 1)
    question = sentences[question_index]
    facts = [s for i, s in enumerate(sentences) if i != question_index]
    # "If/Assuming/Given (that) X, how many ...?" -> fact X, question "How many ...?"
    m = re.match(
        r"^(?:if|assuming|given that|given|suppose|supposing)\s+(.+?),\s*("
        + "|".join(_QUESTION_WORDS)
        + r")\b(.*)$",
        question,
        re.IGNORECASE,
    )
    if m:
        condition = _capitalize(m.group(1).strip())
        facts.append(condition if condition.endswith(".") else condition + ".")
        question = _capitalize(m.group(2) + m.group(3))
    if not facts:
        facts = [normalize_problem(problem)]
    return KeyPoints(question.strip(), facts)


# -- arithmetic of the annotations -----------------------------------------------------------------

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _evaluate(node: ast.AST) -> float:
    """Evaluate an arithmetic AST (numbers and + - * / // % ** only); raises ValueError otherwise."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("power too large")
        try:
            return float(_BINOPS[type(node.op)](left, right))
        except (ZeroDivisionError, OverflowError) as exc:
            raise ValueError(str(exc)) from None
    raise ValueError(f"not arithmetic: {ast.dump(node)[:60]}")


def normalize_expression(expression: str) -> str:
    """A GSM8K annotation's left side as Python: 'x'/'×' -> '*', '^' -> '**', '20%' -> '20/100',
    '1,000' -> '1000', '$' dropped, leading zeros dropped."""
    text = expression.strip().replace("$", "").replace("×", "*").replace("÷", "/").replace("^", "**")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"(?<=[\d)])\s*[xX]\s*(?=[\d(])", "*", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", text)
    text = re.sub(r"(?<![\d.])0+(?=\d)", "", text)
    text = re.sub(r"(?<![\d.])\.(\d)", r"0.\1", text)
    return text.strip()


def evaluate_expression(expression: str) -> float:
    """Value of a normalized expression; raises ValueError for anything but plain arithmetic."""
    if not expression or len(expression) > 200:
        raise ValueError("empty or too long")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"syntax: {exc}") from None
    value = _evaluate(tree)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def _parse_annotated_value(text: str) -> float | None:
    text = text.strip().replace("$", "").replace(",", "").rstrip("%").strip()
    try:
        return float(text)
    except ValueError:
        return None


# -- naming --------------------------------------------------------------------------------------


def _content_words(text: str) -> list[str]:
    words = []
    for raw in _WORD_RE.findall(text):
        word = raw.lower().strip("'-")
        if word.endswith("'s"):
            word = word[:-2]
        word = word.replace("'", "").replace("-", "_")
        if word and word not in _STOPWORDS and len(word) > 1:
            words.append(word)
    return words


def make_identifier(words: list[str], taken: set[str], fallback: str) -> str:
    """A fresh snake_case Python name from `words` (or `fallback`), unique among `taken`."""
    name = "_".join(words[:_MAX_NAME_WORDS])
    name = re.sub(r"[^a-z0-9_]", "", name)[:_MAX_NAME_CHARS].strip("_")
    if not name or name[0].isdigit() or keyword.iskeyword(name) or name in _RESERVED_NAMES:
        name = fallback
    base, n = name, 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name)
    return name


_RESERVED_NAMES = frozenset(
    "answer math sum min max abs round int float str len list dict set range print type id input credits "
    "copyright license exit quit help vars dir open object eval exec compile globals locals format".split()
)


def _words_after(text: str) -> list[str]:
    """Content words right after an annotation's result, up to the end of the clause."""
    text = re.sub(r"^\s*\$?\s*-?[\d,]*\.?\d+%?", "", text)
    clause = re.split(r"[.,;:!?\n()=]|\band\b|\bso\b|\bwhich\b|\bthat\b", text, maxsplit=1)[0]
    return _content_words(clause)


def _words_before(text: str) -> list[str]:
    """Content words before an annotation's expression in its sentence (its subject)."""
    sentence = re.split(r"[.!?\n]\s", text)[-1]
    sentence = re.sub(r"[\d$%*/+\-x=().,]+\s*$", "", sentence)
    sentence = re.sub(r"[\d$%*/+=().]+", " ", sentence)
    return _content_words(sentence)[-_MAX_NAME_WORDS:]


_AMBIGUOUS_GIVENS = frozenset({0.0, 1.0, 2.0, 3.0, 4.0})


def _given_pattern(literal: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\d.,])" + re.escape(literal) + r"(?![\d]|[.,]\d)")


def _count_in_problem(problem: str, literal: str) -> int:
    return len(_given_pattern(literal).findall(problem))


def _words_for_given(problem: str, literal: str) -> list[str]:
    """Words after a number in the problem text ("12 pages" -> ["pages"]), else before it
    ("a wallet which costs $100" -> ["new", "wallet"]), for named inputs."""
    m = _given_pattern(literal).search(problem)
    if not m:
        return []
    words = _words_after(problem[m.end() :])[:2]
    return words or _words_before(problem[: m.start()])[-2:]


# -- the program ----------------------------------------------------------------------------------


def _problem_numbers(problem: str) -> set[float]:
    values = set()
    for token in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", problem):
        try:
            values.add(float(token.replace(",", "")))
        except ValueError:
            pass
    return values


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def annotate_bare_equations(solution: str) -> str:
    """Add annotations to lines that state arithmetic without one ("12/48 = $0.25 a can")."""
    lines = []
    for line in solution.splitlines():
        if "<<" not in line:
            line = _BARE_EQUATION_RE.sub(
                lambda m: (
                    f"{m.group(1).strip()} = <<{m.group(1).strip().replace('−', '-')}={m.group(2)}>>{m.group(2)}"
                ),
                line,
            )
        lines.append(line)
    return "\n".join(lines)


# One annotated calculation: (name, [expression], value, annotated result text, literal).
RawStep = tuple[str, list[str], float, str, bool]
# An expression cut into (text, kind) pieces: kind None for plain text, "ref" for an earlier step's
# name, "num" for a number literal.
Pieces = list[tuple[str, str | None]]


def build_program(problem: str, solution: str, gold: float) -> GoldRationale:
    """Derive the gold rationale of one GSM8K problem (not yet run in the sandbox)."""
    key_points = extract_key_points(problem)
    steps_text = gsm8k_solution_text(solution).strip()
    steps_text = f"{steps_text}\nThe answer is {format_answer(gold)}."
    rationale = GoldRationale(key_points, steps_text, None)

    taken: set[str] = set()
    raw_steps = _annotated_steps(annotate_bare_equations(solution), rationale, taken)
    if raw_steps is None:
        return rationale
    # Which step gives the answer: the last one whose value matches gold (later steps are asides).
    final = max((i for i, s in enumerate(raw_steps) if answers_match(s[2], gold)), default=None)
    if final is None:
        rationale.failure = "answer_mismatch"
        return rationale
    raw_steps = raw_steps[: final + 1]
    taken.discard(raw_steps[-1][0])  # the last step is named `answer`; its own name is free again

    rewritten, given_uses = _with_references(raw_steps, problem)
    given_names = _given_names(given_uses, problem, taken)
    lines = [f"{name} = {literal_text}" for literal_text, name in given_names.items()]
    steps: list[GoldStep] = []
    for i, (name, parts) in enumerate(rewritten):
        text = _spaced(
            "".join(given_names.get(piece, piece) if kind == "num" else piece for piece, kind in parts)
        )
        target = "answer" if i == len(rewritten) - 1 else name
        lines.append(f"{target} = {text}")
        steps.append(GoldStep(target, text, raw_steps[i][2], raw_steps[i][3]))
    rationale.program = "\n".join(lines)
    rationale.steps = steps
    return rationale


def _annotated_steps(solution: str, rationale: GoldRationale, taken: set[str]) -> list[RawStep] | None:
    """The solution's calculator annotations as named steps; None (with `rationale.failure` set) when
    there are none or one cannot be read."""
    annotations = list(_ANNOTATION_RE.finditer(solution))
    raw_steps: list[RawStep] = []
    for index, match in enumerate(annotations):
        body = match.group(1)
        if "=" not in body:
            continue
        left, annotated = body.rsplit("=", 1)
        annotated_value = _parse_annotated_value(annotated)
        expression = normalize_expression(left)
        try:
            value = evaluate_expression(expression)
            literal = False
        except ValueError:
            if annotated_value is None:
                rationale.failure = "bad_expression"
                return None
            expression, value, literal = format_answer(annotated_value), annotated_value, True
            rationale.literal_steps += 1
        end = annotations[index + 1].start() if index + 1 < len(annotations) else len(solution)
        words = _words_after(solution[match.end() : end])
        line_start = solution.rfind("\n", 0, match.start()) + 1
        if not words:
            words = _words_before(solution[line_start : match.start()])
        elif words[0] == "per":  # "$0.2 per minute" -> weng_per_minute
            words = _words_before(solution[line_start : match.start()])[:1] + words
        name = make_identifier(words, taken, f"step_{len(raw_steps) + 1}")
        raw_steps.append((name, [expression], value, annotated.strip(), literal))
    if not raw_steps:
        rationale.failure = "no_annotations"
        return None
    return raw_steps


def _with_references(
    raw_steps: list[RawStep], problem: str
) -> tuple[list[tuple[str, Pieces]], dict[str, int]]:
    """Each step's expression with a literal equal to an earlier step's result (annotated or computed)
    replaced by that step's name; and how often each number from the problem is used."""
    problem_values = _problem_numbers(problem)
    given_uses: dict[str, int] = {}
    rewritten: list[tuple[str, Pieces]] = []
    for i, (name, (expression,), _value, _annotated, literal) in enumerate(raw_steps):
        parts: Pieces = []
        position = 0
        for m in _NUMBER_LITERAL_RE.finditer(expression):
            parts.append((expression[position : m.start()], None))
            number = float(m.group())
            reference = None
            for j in range(i - 1, -1, -1):
                earlier = raw_steps[j]
                earlier_annotated = _parse_annotated_value(earlier[3])
                if _same(number, earlier[2]) or (
                    earlier_annotated is not None and _same(number, earlier_annotated)
                ):
                    reference = earlier[0]
                    break
            if reference is not None and not literal:
                parts.append((reference, "ref"))
            else:
                parts.append((m.group(), "num"))
                if not literal and number in problem_values:
                    given_uses[m.group()] = given_uses.get(m.group(), 0) + 1
            position = m.end()
        parts.append((expression[position:], None))
        rewritten.append((name, parts))
    return rewritten, given_uses


def _given_names(given_uses: dict[str, int], problem: str, taken: set[str]) -> dict[str, str]:
    """Inputs from the problem used by two or more steps get a name of their own, unless the number is
    ambiguous: written twice in the problem, or a small factor that often stands for "twice"/"half"."""
    given_names: dict[str, str] = {}
    for literal_text, uses in given_uses.items():
        ambiguous = float(literal_text) in _AMBIGUOUS_GIVENS or _count_in_problem(problem, literal_text) != 1
        if uses >= 2 and not ambiguous:
            words = _words_for_given(problem, literal_text)
            given_names[literal_text] = make_identifier(words, taken, f"given_{len(given_names) + 1}")
    return given_names


def _spaced(expression: str) -> str:
    """'48/2' -> '48 / 2': binary operators get spaces, a unary minus stays attached."""
    tokens = re.findall(r"\*\*|//|[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[-+*/%()]", expression)
    out = ""
    previous = ""
    for token in tokens:
        operand_before = bool(previous) and (previous[-1].isalnum() or previous[-1] in "_)")
        if token in ("+", "-", "*", "/", "//", "%", "**") and operand_before:
            out += f" {token} "
        else:
            out += token
        previous = token
    return out.strip()


def verify_gold(rationale: GoldRationale, gold: float, timeout_s: float = 2.0) -> GoldRationale:
    """Run the program in the sandbox; drop it (failure set) unless its answer matches gold."""
    if rationale.program is None:
        return rationale
    from kpdd.sandbox import run_program

    result = run_program(rationale.program, timeout_s=timeout_s)
    if not result.ok:
        rationale.failure = f"sandbox_{result.error_kind}"
        rationale.program = None
    elif not answers_match(answer_from_value(result.answer), gold):
        rationale.failure = "sandbox_answer_mismatch"
        rationale.program = None
    return rationale


def gold_rationale(problem: str, solution: str, gold: float, verify: bool = True) -> GoldRationale:
    """Build and (by default) sandbox-verify the gold rationale of one problem."""
    rationale = build_program(problem, solution, gold)
    return verify_gold(rationale, gold) if verify else rationale
