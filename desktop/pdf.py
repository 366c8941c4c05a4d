"""Solution sheets as PDF, with Qt's own PDF writer (QPdfWriter + QTextDocument): no other dependency.

The sheet's HTML (kpdd.sheets) is laid out on A4 pages with 2 cm margins and numbered pages. A
problem that would be split across two pages but fits on one starts on a new page, so a student
never turns the page in the middle of a problem (Qt's rich text honours `page-break-before` but has
no `page-break-inside: avoid`; the layout is measured and the breaks are set here instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from kpdd import paths
from kpdd.sheets import SheetItem, SheetOptions, render_html, render_markdown

RESOLUTION_DPI = 300
MARGIN_CM = 2.0
# Qt measures a document's frame margins in pixels of a 96-dpi screen and scales them to the device.
_LAYOUT_DPI = 96
PROBLEM_HEADING_LEVEL = 2  # kpdd.sheets starts every problem with an <h2>


def ensure_gui_app():  # -> QApplication
    """Text layout needs a Qt application; a command-line run gets an offscreen one."""
    from desktop.qt_app import create_app, offscreen_without_display

    offscreen_without_display()
    return create_app()


def _problem_spans(document) -> list[tuple[object, float, float]]:  # (heading block, top, bottom)
    """Each problem's heading block and how far it reaches down the laid-out document."""
    layout = document.documentLayout()
    spans: list[list] = []
    block = document.begin()
    while block.isValid():
        rect = layout.blockBoundingRect(block)
        level = block.blockFormat().headingLevel()
        if level == PROBLEM_HEADING_LEVEL:
            spans.append([block, rect.top(), rect.bottom()])
        elif level and level < PROBLEM_HEADING_LEVEL:
            spans.append([None, 0.0, 0.0])  # a title or the answer key ends the problem before it
        elif spans and spans[-1][0] is not None:
            spans[-1][2] = max(spans[-1][2], rect.bottom())
        block = block.next()
    return [(b, top, bottom) for b, top, bottom in spans if b is not None]


def keep_problems_on_one_page(document, page_height: float, usable_height: float) -> int:
    """Start each problem that the page end would split, and that fits on a page, on a new page.
    Returns how many breaks were set. The document must already have its page size."""
    from PySide6.QtGui import QTextCursor, QTextFormat

    breaks = 0
    index = 0
    while True:
        spans = _problem_spans(document)  # measured again: each break moves what follows
        if index >= len(spans):
            return breaks
        block, top, bottom = spans[index]
        index += 1
        split = math.floor(top / page_height) != math.floor((bottom - 1) / page_height)
        if not split or bottom - top > usable_height:
            continue
        fmt = block.blockFormat()
        fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        QTextCursor(block).setBlockFormat(fmt)
        breaks += 1


def write_pdf(html: str, path: str | Path, title: str = "") -> Path:
    """Render sheet HTML to an A4 PDF (2 cm margins, numbered pages, problems kept on one page)."""
    from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
    from PySide6.QtGui import (
        QAbstractTextDocumentLayout,
        QFont,
        QPageLayout,
        QPageSize,
        QPainter,
        QPalette,
        QPdfWriter,
        QTextDocument,
    )

    ensure_gui_app()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    writer = QPdfWriter(str(partial))
    writer.setTitle(title)
    writer.setCreator("KPDD Tutor")
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))  # fmt: skip
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setHtml(html)
    margin = int(MARGIN_CM / 2.54 * _LAYOUT_DPI)
    frame = document.rootFrame().frameFormat()
    for set_margin in (frame.setLeftMargin, frame.setRightMargin, frame.setTopMargin, frame.setBottomMargin):
        set_margin(margin)
    document.rootFrame().setFrameFormat(frame)
    page = QSizeF(writer.width(), writer.height())
    document.setPageSize(page)
    margin_device = margin * RESOLUTION_DPI / _LAYOUT_DPI
    keep_problems_on_one_page(document, page.height(), page.height() - 2 * margin_device)

    painter = QPainter(writer)
    font = QFont(document.defaultFont())
    for number in range(document.pageCount()):
        if number:
            writer.newPage()
        view = QRectF(0, number * page.height(), page.width(), page.height())
        painter.save()
        painter.translate(0, -view.top())
        painter.setClipRect(view)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.clip = view
        context.palette.setColor(QPalette.ColorRole.Text, Qt.GlobalColor.black)  # never the dark theme's
        document.documentLayout().draw(painter, context)
        painter.setClipping(False)
        painter.setFont(font)
        label = str(number + 1)
        position = QPointF(page.width() - margin_device - painter.fontMetrics().horizontalAdvance(label),
                           view.bottom() - margin_device / 2)  # fmt: skip
        painter.drawText(position, label)
        painter.restore()
    painter.end()
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
