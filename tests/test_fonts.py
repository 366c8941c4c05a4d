"""Chinese that displays: the font setup places (kpdd.fonts) is fetched checked and unpacked from its
package, registered at start, and Qt falls back to it for Chinese characters in the window and the
PDFs of a machine with no CJK font. The package is served from a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import io
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from kpdd import fonts
from tests.desktop_fixtures import qapp

FARMER_ZH = "一个农民有17只羊，山羊的数量是羊的三倍。他卖掉了12只山羊。他现在一共有多少只动物？"


def fake_deb(font: bytes, member: str) -> bytes:
    """A Debian package (an ar archive) whose data.tar.xz holds `font` at `member`."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(font)
        archive.addfile(info, io.BytesIO(font))
    out = b"!<arch>\n"
    for name, body in (
        (b"debian-binary", b"2.0\n"),
        (b"control.tar.xz", b""),
        (b"data.tar.xz", data.getvalue()),
    ):
        out += name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"100644".ljust(8)
        out += str(len(body)).encode().ljust(10) + b"`\n" + body + (b"\n" if len(body) % 2 else b"")
    return out


@pytest.fixture
def package_server():
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = served.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def source_for(font: bytes, deb: bytes, url: str) -> fonts.FontSource:
    return fonts.FontSource("Test font", "test.ttc", hashlib.sha256(font).hexdigest(), len(font), "test",
                            url, hashlib.sha256(deb).hexdigest(), len(deb), "./usr/share/fonts/test.ttc")  # fmt: skip


def test_setup_fetches_the_package_checks_it_and_unpacks_the_font(kpdd_home, package_server) -> None:
    served, base = package_server
    font = b"\x00\x01\x00\x00" + bytes(range(256)) * 40
    deb = fake_deb(font, "./usr/share/fonts/test.ttc")
    served["/font.deb"] = deb
    source = source_for(font, deb, f"{base}/font.deb")
    lines: list[str] = []
    path = fonts.install_cjk_font(lines.append, source)
    assert path == kpdd_home / "fonts" / "test.ttc" and path.read_bytes() == font
    assert lines[-1].startswith("Installed Test font")
    fonts.install_cjk_font(lines.append, source)  # again: nothing fetched
    assert lines[-1].startswith("Test font (for Chinese) is in place")


def test_a_package_that_is_not_the_pinned_one_is_refused(kpdd_home, package_server) -> None:
    served, base = package_server
    font = b"real font"
    deb = fake_deb(font, "./usr/share/fonts/test.ttc")
    served["/font.deb"] = fake_deb(b"another font", "./usr/share/fonts/test.ttc")
    with pytest.raises(fonts.FontError, match="is not the expected package"):
        fonts.install_cjk_font(lambda _line: None, source_for(font, deb, f"{base}/font.deb"))
    assert not (kpdd_home / "fonts" / "test.ttc").exists()
    with pytest.raises(fonts.FontError, match="could not download"):
        fonts.install_cjk_font(lambda _line: None, source_for(font, deb, f"{base}/missing.deb"))


def test_the_installed_font_is_the_one_chinese_falls_back_to() -> None:
    """Setup placed the font (the README's first command runs it on a machine without one)."""
    from PySide6.QtGui import QFont, QTextLayout

    qapp()
    path = fonts.cjk_font_file()
    assert path is not None or fonts.system_has_cjk_font(), "setup placed no font for Chinese"
    layout = QTextLayout(FARMER_ZH, QFont())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    families = {run.rawFont().familyName() for run in layout.glyphRuns()}
    if path is not None and not fonts.system_has_cjk_font():  # ours is the only one Qt can fall back to
        assert "WenQuanYi Micro Hei" in families, families
    # Every character has a glyph: no run of "missing glyph" boxes (glyph index 0).
    assert all(0 not in run.glyphIndexes() for run in layout.glyphRuns())


def test_a_chinese_sheet_prints_readable_chinese(tmp_path: Path) -> None:
    from desktop.pdf import write_sheet
    from kpdd.sheets import SheetItem, SheetOptions

    items = [
        SheetItem(problem=FARMER_ZH, core_question="他现在一共有多少只动物？", answer="56", verdict="checked")
    ]
    pdf = write_sheet(items, SheetOptions(title="练习题", answer_key=True), tmp_path / "sheet.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "练习题" in text and "一个农民有17只羊" in text and "他现在一共有多少只动物" in text
    embedded = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    if fonts.cjk_font_file() is not None and not fonts.system_has_cjk_font():
        assert "WenQuanYiMicroHei" in embedded
