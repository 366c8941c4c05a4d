"""The process's one QApplication. Kept apart from `desktop.app` so that what needs Qt without the
window (sheet PDFs, the installer's self-test) does not import the window."""

from __future__ import annotations

import os
import sys


def offscreen_without_display() -> None:
    """On Linux with no X or Wayland display, render offscreen (a console run, a CI machine)."""
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# The CJK font files registered with Qt in this process, and the families each gave. A process can
# make its one QApplication before the font is there (setup run beside an open window; under test,
# a first app made with another data folder), so create_app registers on every call, once a file.
_REGISTERED_FONTS: dict[str, list[str]] = {}


def create_app(argv: list[str] | None = None):  # -> QApplication
    """The process's one application object. Widgets need a QApplication, and Qt allows one per
    process, so everything that needs Qt (the window, sheet PDFs) gets it from here."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName("kpdd")
        QCoreApplication.setApplicationName("KPDD Tutor")
        app = QApplication(argv if argv is not None else [sys.argv[0]])
    register_cjk_font()  # every time: a font placed after the first call is registered on the next
    return app


def register_cjk_font() -> list[str]:
    """Make the Chinese font that setup placed or the installer carries (kpdd.fonts) known to Qt,
    which then falls back to it for every character the chosen font lacks: the window, the answer
    cards and the PDFs show Chinese on a machine with no CJK font. Returns its families ([]: none)."""
    from PySide6.QtGui import QFontDatabase

    from kpdd.fonts import cjk_font_file

    path = cjk_font_file()
    if path is None:
        return []
    if str(path) not in _REGISTERED_FONTS:  # Qt would load the same file again on every call
        font_id = QFontDatabase.addApplicationFont(str(path))
        _REGISTERED_FONTS[str(path)] = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return _REGISTERED_FONTS[str(path)]
