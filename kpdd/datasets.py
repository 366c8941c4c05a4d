"""Math word-problem data sets: GSM8K, SVAMP, ASDiv, MultiArith and the user's own JSONL files.

Each loader turns one file into a list of `Problem` with a numeric gold `answer`. The data folder is
found by `resolve_data_dir` (``--data-dir``, then ``KPDD_DATA_DIR``, then the configuration key
``data_dir``) and has the layout of the public releases::

    DATA_DIR/gsm8k/test.jsonl, DATA_DIR/gsm8k/train.jsonl
    DATA_DIR/svamp/SVAMP.json
    DATA_DIR/asdiv/ASDiv.xml
    DATA_DIR/multiarith/MultiArith.json

Nothing here touches the network. GSM8K train is the only split meant for training; SVAMP, ASDiv and
MultiArith are held out for evaluation, as in the KPDD paper.
"""

from __future__ import annotations

import json
import os
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpdd import paths
from kpdd.answers import answer_from_value, gsm8k_solution_text, parse_asdiv_answer, parse_gsm8k_answer

__all__ = [
    "DATASET_FILES",
    "DataFormatError",
    "DataNotFoundError",
    "DatasetLoad",
    "Problem",
    "load_asdiv",
    "load_dataset",
    "load_gsm8k",
    "load_jsonl",
    "load_multiarith",
    "load_svamp",
    "resolve_data_dir",
]

# Where each named data set lives under the data folder.
DATASET_FILES: dict[str, str] = {
    "gsm8k": "gsm8k/test.jsonl",
    "gsm8k-train": "gsm8k/train.jsonl",
    "svamp": "svamp/SVAMP.json",
    "asdiv": "asdiv/ASDiv.xml",
    "multiarith": "multiarith/MultiArith.json",
}

_HOW_TO_SET = (
    "`kpdd data fetch` downloads the four sets (GSM8K, SVAMP, ASDiv, MultiArith) from their public "
    "sources into your data folder, where they are found with nothing more to set. A folder of your "
    "own that holds gsm8k/, svamp/, asdiv/ and multiarith/ is used when you pass --data-dir DIR, set "
    "the environment variable KPDD_DATA_DIR=DIR, or run `kpdd config data_dir DIR` once."
)


class DataNotFoundError(FileNotFoundError):
    """The data folder or a data file is missing; the message says what was expected and how to fix it."""


class DataFormatError(ValueError):
    """A data file does not have the expected format; the message names the file (and line)."""


@dataclass(frozen=True)
class Problem:
    """One word problem with its numeric gold answer.

    `solution` is GSM8K's worked solution without its ``####`` line, with the ``<<48/2=24>>`` calculator
    annotations kept, so gold rationales and programs can be derived from it; empty for other sets.
    `meta` holds what a source has besides (SVAMP Type/Equation, ASDiv Formula/Grade, MultiArith
    equations); it does not take part in equality or hashing.
    """

    id: str
    question: str
    answer: float
    source: str
    solution: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class DatasetLoad:
    """The result of `load_dataset`: the problems, how many items were skipped (ASDiv answers that are
    not one number), and the file they came from."""

    name: str
    problems: list[Problem]
    skipped: int
    path: Path


# ---------------------------------------------------------------------------------------------------
# Finding the data


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    """The data folder: ``explicit`` (``--data-dir``) first, then ``KPDD_DATA_DIR``, then the
    configuration key ``data_dir``, then the folder `kpdd data fetch` fills (when it exists). Raises
    DataNotFoundError when none is set or the folder is missing."""
    fetched = paths.home_dir() / "data"
    candidates: list[tuple[str, Any]] = [
        ("--data-dir", explicit),
        (f"{paths.ENV_DATA_DIR} environment variable", os.environ.get(paths.ENV_DATA_DIR)),
        (f"configuration key data_dir in {paths.config_path()}", paths.load_config().get("data_dir")),
        ("`kpdd data fetch`", fetched if fetched.is_dir() else None),
    ]
    for origin, value in candidates:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        directory = Path(value).expanduser()
        if not directory.is_dir():
            raise DataNotFoundError(
                f"The data folder {directory} (from {origin}) does not exist. {_HOW_TO_SET}"
            )
        return directory
    raise DataNotFoundError(f"No data folder is set. {_HOW_TO_SET}")


def _expect_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataNotFoundError(f"{what}: expected the file {path}, which does not exist. {_HOW_TO_SET}")
    return path


def _resolve_file(path: str | Path, relative: str, what: str) -> Path:
    """A loader's `path` may be the file itself, its folder (gsm8k/), or the data folder (the root)."""
    path = Path(path).expanduser()
    if path.is_dir():
        name = Path(relative).name
        path = path / name if (path / name).is_file() else path / relative
    return _expect_file(path, what)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DataFormatError(f"{path}: not valid JSON: {error}") from None


# ---------------------------------------------------------------------------------------------------
# The loaders


def load_gsm8k(path: str | Path, split: str = "test") -> list[Problem]:
    """GSM8K (one JSON object a line with `question` and `answer`, the answer ending in ``#### N``).

    `path` is the JSONL file, the gsm8k/ folder or the data folder; `split` picks ``{split}.jsonl``
    in a folder and names the ids ("gsm8k-test-0")."""
    if split not in ("test", "train"):
        raise ValueError(f"GSM8K split must be 'test' or 'train', not {split!r}")
    file = _resolve_file(path, f"gsm8k/{split}.jsonl", f"GSM8K {split} split")
    problems = []
    with file.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                answer = parse_gsm8k_answer(row["answer"])
                question = row["question"]
            except (ValueError, KeyError, TypeError) as error:
                raise DataFormatError(f"{file}:{index + 1}: not a GSM8K item: {error}") from None
            problems.append(
                Problem(
                    id=f"gsm8k-{split}-{index}",
                    question=question.strip(),
                    answer=answer,
                    source="gsm8k" if split == "test" else "gsm8k-train",
                    solution=gsm8k_solution_text(row["answer"], keep_annotations=True),
                )
            )
    return problems


_INTERROGATIVES = ("How ", "What ", "Which ", "Who ", "When ", "Where ", "Why ")


def _svamp_question(body: str, question: str) -> str:
    """Body + Question as one text. 358 SVAMP bodies end in a conditional clause without a period
    ("If there is a discount of 25 dollars on each pack" + "How much ..."): join those with a comma
    and a lower-case interrogative, so the problem reads as one sentence."""
    body, question = " ".join(body.split()), " ".join(question.split())
    if not body or body.endswith((".", "?", "!")):
        return f"{body} {question}".strip()
    if question.startswith(_INTERROGATIVES):
        return f"{body}, {question[0].lower()}{question[1:]}"
    return f"{body}. {question}"


def load_svamp(path: str | Path) -> list[Problem]:
    """SVAMP (a JSON list with `ID`, `Body`, `Question`, `Equation`, `Answer`, `Type`)."""
    file = _resolve_file(path, DATASET_FILES["svamp"], "SVAMP")
    problems = []
    for index, item in enumerate(_read_json(file)):
        try:
            answer = answer_from_value(item["Answer"])
            if answer is None:
                raise ValueError(f"answer {item['Answer']!r} is not a number")
            problems.append(
                Problem(
                    id=f"svamp-{item['ID']}",
                    question=_svamp_question(item["Body"], item["Question"]),
                    answer=answer,
                    source="svamp",
                    meta={"type": item.get("Type", ""), "equation": item.get("Equation", "")},
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DataFormatError(f"{file}: item {index} is not a SVAMP item: {error}") from None
    return problems


def load_multiarith(path: str | Path) -> list[Problem]:
    """MultiArith (a JSON list with `iIndex`, `sQuestion`, `lEquations`, `lSolutions`)."""
    file = _resolve_file(path, DATASET_FILES["multiarith"], "MultiArith")
    problems = []
    for index, item in enumerate(_read_json(file)):
        try:
            answer = answer_from_value(item["lSolutions"][0])
            if answer is None:
                raise ValueError(f"solution {item['lSolutions'][0]!r} is not a number")
            problems.append(
                Problem(
                    id=f"multiarith-{item['iIndex']}",
                    question=" ".join(item["sQuestion"].split()),
                    answer=answer,
                    source="multiarith",
                    meta={"equations": list(item.get("lEquations", []))},
                )
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
            raise DataFormatError(f"{file}: item {index} is not a MultiArith item: {error}") from None
    return problems


def _parse_xml_safely(file: Path) -> ET.Element:
    """ElementTree never fetches external entities, but it does expand internal ones: a document
    with a DTD could blow up memory (billion laughs). ASDiv has no DTD, so refuse any that does."""
    data = file.read_bytes()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DataFormatError(f"{file}: XML with a DTD or entities is refused (ASDiv has none)")
    try:
        return ET.fromstring(data)
    except ET.ParseError as error:
        raise DataFormatError(f"{file}: not valid XML: {error}") from None


def load_asdiv(path: str | Path) -> tuple[list[Problem], int]:
    """ASDiv (XML ``<Problem ID=...>`` with Body, Question, Answer like "9 (apples)", Formula).

    Only problems whose answer is one number are kept; the others (ratios "3:4", times "5:45", several
    numbers "8; 40", words "Yes") are counted and the count is returned beside the problems."""
    file = _resolve_file(path, DATASET_FILES["asdiv"], "ASDiv")
    root = _parse_xml_safely(file)
    problems, skipped = [], 0
    for element in root.iter("Problem"):
        answer_text = element.findtext("Answer") or ""
        answer = parse_asdiv_answer(answer_text)
        body = " ".join((element.findtext("Body") or "").split())
        question = " ".join((element.findtext("Question") or "").split())
        if answer is None or not question:
            skipped += 1
            continue
        problems.append(
            Problem(
                id=f"asdiv-{element.get('ID', len(problems))}",
                question=f"{body} {question}".strip(),
                answer=answer,
                source="asdiv",
                meta={
                    "answer_text": answer_text.strip(),
                    "formula": (element.findtext("Formula") or "").strip(),
                    "solution_type": (element.findtext("Solution-Type") or "").strip(),
                    "grade": element.get("Grade", ""),
                },
            )
        )
    return problems, skipped


def load_jsonl(path: str | Path) -> list[Problem]:
    """The user's own problems: one JSON object a line with `question` (text) and a numeric `answer`
    (a number, or a string such as "1,200" or "3/4"), optional `id` and `solution`. Blank lines are
    skipped; a bad line raises DataFormatError naming the file and line number."""
    file = _expect_file(Path(path).expanduser(), "Problem file")
    problems = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                row = json.loads(line)
            except ValueError as error:
                raise DataFormatError(f"{where}: not valid JSON ({error})") from None
            if not isinstance(row, dict):
                raise DataFormatError(f"{where}: expected a JSON object with 'question' and 'answer'")
            question = row.get("question")
            if not isinstance(question, str) or not question.strip():
                raise DataFormatError(f"{where}: 'question' must be a non-empty string")
            if "answer" not in row:
                raise DataFormatError(f"{where}: missing 'answer'")
            answer = _strict_answer(row["answer"])
            if answer is None:
                raise DataFormatError(f"{where}: 'answer' must be one number, not {row['answer']!r}")
            problems.append(
                Problem(
                    id=str(row["id"]) if row.get("id") not in (None, "") else f"jsonl-{number}",
                    question=question.strip(),
                    answer=answer,
                    source="jsonl",
                    solution=str(row.get("solution") or ""),
                )
            )
    return problems


_NUMERIC_STRING_RE = re.compile(r"^\s*[-\u2212]?[$\u20ac\u00a3\u00a5]?\s?[\d.,/]+(?: [\d.,/]+)?%?\s*$")


def _strict_answer(value: Any) -> float | None:
    """A gold answer from a JSONL file: a number or a string that is only a number ("$1,200", "3/4"),
    never a sentence whose last number would silently become the gold answer."""
    if isinstance(value, str) and not _NUMERIC_STRING_RE.match(value):
        return None
    return answer_from_value(value)


# ---------------------------------------------------------------------------------------------------
# One entry point by name


# Every figure of the project names one of these parts of a set's seeded order (`--shuffle 0`):
# rules and settings are tuned on "dev"; "test" is run once per model we ship, and reported.
EVAL_SPLITS = {"dev": (0, 300), "test": (300, 600)}
EVAL_SPLIT_SEED = 0


def load_dataset(
    name_or_path: str,
    data_dir: str | Path | None = None,
    split: str = "test",
    limit: int | None = None,
    shuffle_seed: int | None = None,
    eval_split: str | None = None,
) -> DatasetLoad:
    """Load a data set by name (gsm8k, gsm8k-train, svamp, asdiv, multiarith) or a path to a .jsonl
    file. `split` applies to gsm8k ("train" is the same as gsm8k-train); `limit` keeps the first N.

    `shuffle_seed` puts the problems in a seeded random order first, so `limit` keeps a uniform random
    sample. The order for a seed is fixed, so a larger limit with the same seed extends the sample: the
    first N of a set are not a fair sample (ASDiv and MultiArith start with their easiest problems).

    `eval_split` ("dev" or "test", EVAL_SPLITS) takes that part of the order of seed 0 (then `limit`
    keeps its first N)."""
    key = name_or_path.strip().lower()
    skipped = 0
    if key in DATASET_FILES:
        if key == "gsm8k" and split == "train":
            key = "gsm8k-train"
        file = resolve_data_dir(data_dir) / DATASET_FILES[key]
        if key in ("gsm8k", "gsm8k-train"):
            problems = load_gsm8k(file, "train" if key == "gsm8k-train" else "test")
        elif key == "svamp":
            problems = load_svamp(file)
        elif key == "multiarith":
            problems = load_multiarith(file)
        else:
            problems, skipped = load_asdiv(file)
        name = key
    elif name_or_path.endswith(".jsonl") or Path(name_or_path).expanduser().is_file():
        file = Path(name_or_path).expanduser()
        problems = load_jsonl(file)
        name = file.stem
    else:
        raise ValueError(
            f"Unknown data set {name_or_path!r}: use one of {', '.join(DATASET_FILES)} or a path to a .jsonl "
            "file with 'question' and 'answer' on each line."
        )
    if eval_split is not None:
        if eval_split not in EVAL_SPLITS:
            raise ValueError(f"Unknown split {eval_split!r}: use one of {', '.join(EVAL_SPLITS)}")
        if shuffle_seed not in (None, EVAL_SPLIT_SEED):
            raise ValueError(
                f"the {eval_split} split is part of the order of seed {EVAL_SPLIT_SEED}, not {shuffle_seed}"
            )
        shuffle_seed = EVAL_SPLIT_SEED
    if shuffle_seed is not None:
        problems = list(problems)
        random.Random(shuffle_seed).shuffle(problems)
    if eval_split is not None:
        start, end = EVAL_SPLITS[eval_split]
        problems = problems[start:end]
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        problems = problems[:limit]
    return DatasetLoad(name=name, problems=problems, skipped=skipped, path=file)
