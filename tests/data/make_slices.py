"""Cut the small slices of the four data sets that the tests run on, from the full sets.

    python tests/data/make_slices.py ../shared/data      # or a folder `kpdd data fetch` filled

Each slice keeps its set's file format and layout (so every loader reads it as it reads the full
set), the set's first problems, and the few problems the tests check by name. The licences travel
with the slices (README.md here). The full sets: `kpdd data fetch`.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST = {"gsm8k/train.jsonl": 160, "gsm8k/test.jsonl": 60, "svamp/SVAMP.json": 60,
         "asdiv/ASDiv.xml": 60, "multiarith/MultiArith.json": 60}  # fmt: skip
# Problems tests/test_datasets.py checks by name: gsm8k test lines 489 (gold -10) and 611 (gold
# 1,450,000); ASDiv's parsed fractions and skipped non-numeric answers.
GSM8K_TEST_LINES = (489, 611)
ASDIV_IDS = ("nluds-0176", "nluds-0851", "nluds-0854", "nluds-0861", "nluds-1317", "nluds-1331")


def main(source: Path) -> None:
    for folder in ("gsm8k", "svamp", "asdiv", "multiarith"):
        (HERE / folder).mkdir(exist_ok=True)
    for licence in ("gsm8k/LICENSE", "svamp/LICENSE"):
        shutil.copyfile(source / licence, HERE / licence)
    lines = (source / "gsm8k/train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (HERE / "gsm8k/train.jsonl").write_text("".join(lines[: FIRST["gsm8k/train.jsonl"]]), encoding="utf-8")
    lines = (source / "gsm8k/test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[: FIRST["gsm8k/test.jsonl"]] + [lines[i] for i in GSM8K_TEST_LINES]
    (HERE / "gsm8k/test.jsonl").write_text("".join(kept), encoding="utf-8")
    for name in ("svamp/SVAMP.json", "multiarith/MultiArith.json"):
        items = json.loads((source / name).read_text(encoding="utf-8"))[: FIRST[name]]
        (HERE / name).write_text(json.dumps(items, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    xml = (source / "asdiv/ASDiv.xml").read_text(encoding="utf-8")
    problems = re.findall(r"\t<Problem ID=\"(.*?)\".*?</Problem>\n", xml, re.DOTALL)
    blocks = re.findall(r"\t<Problem ID=.*?</Problem>\n", xml, re.DOTALL)
    assert len(problems) == len(blocks)
    chosen = [
        b
        for i, (pid, b) in enumerate(zip(problems, blocks))
        if i < FIRST["asdiv/ASDiv.xml"] or pid in ASDIV_IDS
    ]
    head, tail = xml[: xml.index(blocks[0])], xml[xml.index(blocks[-1]) + len(blocks[-1]) :]
    (HERE / "asdiv/ASDiv.xml").write_text(head + "".join(chosen) + tail, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
