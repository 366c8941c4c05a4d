"""Solution sheets as PDF, with Qt's own PDF writer (QPdfWriter + QTextDocument): no other dependency."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kpdd import paths
from kpdd.sheets import SheetItem, SheetOptions, render_html, render_markdown


def ensure_gui_app():  # -> QApplication
    """Text layout needs a Qt application; a command-line run gets an offscreen one."""
    from desktop.app import create_app, offscreen_without_display

    offscreen_without_display()
    return create_app()


def write_pdf(html: str, path: str | Path, title: str = "") -> Path:
    """Render sheet HTML to an A4 PDF (2 cm margins, numbered pages)."""
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    ensure_gui_app()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    writer = QPdfWriter(str(partial))
    writer.setTitle(title)
    writer.setCreator("KPDD Tutor")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))  # fmt: skip
    document = QTextDocument()
    document.setHtml(html)
    # No page size set: print_() then lays the text out for the writer's resolution, adds 2 cm
    # margins of its own and numbers the pages.
    document.print_(writer)
    del writer  # finishes the file
    partial.replace(path)
    return path


def write_sheet(items: Sequence[SheetItem], options: SheetOptions, path: str | Path) -> Path:
    """Write a sheet as .pdf, .html or .md, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return write_pdf(render_html(items, options), path, options.title)
    if suffix in (".html", ".htm"):
        paths.atomic_write_text(path, render_html(items, options))
    elif suffix in (".md", ".markdown"):
        paths.atomic_write_text(path, render_markdown(items, options))
    else:
        raise ValueError(f"Unknown sheet format {suffix!r}: use .pdf, .html or .md")
    return path
