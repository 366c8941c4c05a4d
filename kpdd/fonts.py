"""A font for Chinese, wherever the tutor runs: so the interface, the answer cards and the sheets show
Chinese characters, not boxes, on a machine that has no CJK font (a fresh Debian, say).

The font is WenQuanYi Micro Hei (Apache-2.0): 5 MB of TrueType, drawn for Simplified Chinese, and a
TrueType font embeds cleanly in Qt's PDFs (pdftotext reads the characters back). `kpdd setup` places
it in the user's data folder when the system has no CJK font; an installer carries it. It comes from
Debian's package, pinned by sha256 (the package and the font inside it) and unpacked here: a .deb
is an `ar` archive holding a `data.tar.xz`. No Qt here: the app registers the file (desktop/qt_app.py).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kpdd import paths


@dataclass(frozen=True)
class FontSource:
    name: str
    file_name: str
    sha256: str
    size: int
    license: str
    package_url: str
    package_sha256: str
    package_size: int
    member: str  # the font's path inside the package's data.tar.xz


CJK_FONT = FontSource(
    name="WenQuanYi Micro Hei",
    file_name="wqy-microhei.ttc",
    sha256="2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3",
    size=5_177_387,
    license="Apache-2.0 (or GPL-3+ with the font exception)",
    package_url="http://deb.debian.org/debian/pool/main/f/fonts-wqy-microhei/fonts-wqy-microhei_0.2.0-beta-3.1_all.deb",
    package_sha256="239163df984eea5c9da3b551aee374936222cdbd67f1a1be3cdcf3d76143ad66",
    package_size=1_605_712,
    member="./usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
FONT_SUFFIXES = (".ttf", ".ttc", ".otf")


class FontError(RuntimeError):
    """The font could not be fetched or was not the pinned file; the message says which and why."""


def fonts_dir() -> Path:
    return paths.home_dir() / "fonts"


def bundled_fonts_dir() -> Path:
    """`resources/fonts` of an installed app (filled by the installer build), or of a checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[1]
    return root / "resources" / "fonts"


def cjk_font_file() -> Path | None:
    """The CJK font the app registers: the installer's, else the one setup placed, else None."""
    for folder in (bundled_fonts_dir(), fonts_dir()):
        path = folder / CJK_FONT.file_name
        if path.is_file() and path.stat().st_size == CJK_FONT.size:
            return path
    return None


def system_has_cjk_font() -> bool:
    """Whether the system itself can show Chinese. Windows and macOS ship CJK fonts; on Linux,
    fontconfig says (no fontconfig: assume not)."""
    if not sys.platform.startswith("linux"):
        return True
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(listed.stdout.strip())


def _deb_member(deb: bytes, member: str) -> bytes:
    """One file out of a Debian package: the `ar` archive's data.tar.* member, then the tar's file."""
    if not deb.startswith(b"!<arch>\n"):
        raise FontError("the package is not a Debian archive")
    position = 8
    while position + 60 <= len(deb):
        header = deb[position : position + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip() or 0)
        data = deb[position + 60 : position + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                try:
                    extracted = archive.extractfile(member)
                except KeyError:
                    extracted = None
                if extracted is None:
                    raise FontError(f"the package holds no {member}")
                return extracted.read()
        position += 60 + size + (size % 2)
    raise FontError("the package has no data archive")


def install_cjk_font(log: Callable[[str], None] = print, source: FontSource = CJK_FONT) -> Path:
    """Place the CJK font in the user's fonts folder (fetched, checked, unpacked); idempotent."""
    target = fonts_dir() / source.file_name
    with paths.file_lock(fonts_dir() / ".locks" / f"{source.file_name}.lock"):
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == source.sha256:
            log(f"{source.name} (for Chinese) is in place: {target}")
            return target
        log(f"Fetching {source.name}, a font for Chinese ({source.package_size / 1e6:.1f} MB) ...")
        try:
            with urllib.request.urlopen(source.package_url, timeout=60) as response:
                package = response.read(source.package_size + 1)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise FontError(
                f"could not download {source.package_url} ({getattr(exc, 'reason', exc)})"
            ) from exc
        if hashlib.sha256(package).hexdigest() != source.package_sha256:
            raise FontError(
                f"{source.package_url} is not the expected package (sha256 differs); nothing was kept"
            )
        font = _deb_member(package, source.member)
        if hashlib.sha256(font).hexdigest() != source.sha256:
            raise FontError(f"the font in {source.package_url} is not the expected file (sha256 differs)")
        paths.atomic_write_bytes(target, font)
    log(f"Installed {source.name} ({source.size / 1e6:.1f} MB, sha256 verified): {target}")
    return target
