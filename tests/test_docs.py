"""The README fits on a screen or two and its links lead somewhere; the developer's guide names
every module, so its layout cannot drift from the tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_is_short_and_starts_with_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    first_block = lines[lines.index("```bash") + 1 : lines.index("```")]
    assert first_block[0].startswith("bash scripts/bootstrap.sh && .venv/bin/kpdd-tutor")
    assert first_block[1].startswith("bash scripts/bootstrap.sh --dev && .venv/bin/python -m pytest -q")


def test_every_module_is_in_the_developers_guide():
    guide = (ROOT / "docs" / "DEVELOPERS.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(ROOT))
        for package in ("kpdd", "desktop", "distill", "export")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "__init__.py" and f"`{path.name}`" not in guide
    ]
    assert missing == []


def test_links_in_the_docs_lead_to_files_that_exist():
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://")) and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []
