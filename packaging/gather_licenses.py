"""Gather the license texts of everything the installer bundles, at build time, from where they ship.

    python packaging/gather_licenses.py OUT_DIR [--llama-sdist PATH.tar.gz] [--model-license PATH]

Nothing here is hand-copied third-party text: each file is copied from the installed distribution's
metadata (its dist-info license files), from the llama-cpp-python source archive (llama.cpp's own
MIT license lives only there, not in the wheel), from the Python installation, or, for licenses a
package names but does not ship (PySide6/Qt: LGPL-3.0), from the build machine's copy of the
standard text (Debian's /usr/share/common-licenses). OUT_DIR gets one folder per component and a
summary `THIRD-PARTY-NOTICES.txt` that the About dialog can show. Missing texts are listed there
as missing rather than silently skipped; the exit status is 1 if a required one is missing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import sysconfig
import tarfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMON_LICENSES = Path("/usr/share/common-licenses")
LICENSE_WORDS = ("license", "licence", "copying", "notice", "authors")


@dataclass
class Component:
    """One bundled part: what it is, under which license, and where its text comes from."""

    name: str
    what: str
    distribution: str | None = None  # read license files and the version from its dist-info
    license: str = ""  # when the metadata does not say it well
    standard_text: str | None = None  # a file in /usr/share/common-licenses when the package ships none
    required: bool = True


COMPONENTS = [
    Component("kpdd-tutor", "this application", "kpdd-tutor", "Apache-2.0"),
    Component("python", "the Python runtime (CPython)", None, "PSF-2.0"),
    Component("PySide6", "Qt for Python and the Qt libraries it ships", "PySide6-Essentials",
              "LGPL-3.0-only (Qt and PySide6 are used under the LGPL, dynamically linked)", "LGPL-3"),
    Component("shiboken6", "PySide6's binding runtime", "shiboken6", "LGPL-3.0-only", "LGPL-3"),
    Component("llama-cpp-python", "the Python binding of llama.cpp", "llama-cpp-python", "MIT"),
    Component("llama.cpp", "llama.cpp and ggml, the inference libraries (vendored by llama-cpp-python)",
              None, "MIT"),
    Component("numpy", "numerical arrays (imported by llama-cpp-python)", "numpy"),
    Component("typing-extensions", "typing back-ports (llama-cpp-python)", "typing-extensions"),
    Component("diskcache", "cache (llama-cpp-python)", "diskcache"),
    Component("jinja2", "chat templates (llama-cpp-python)", "jinja2"),
    Component("markupsafe", "jinja2's escaping", "markupsafe"),
    Component("platformdirs", "user folders", "platformdirs"),
    Component("pyseccomp", "the program sandbox's seccomp filter (Linux)", "pyseccomp", "MIT"),
    Component("landlock", "the program sandbox's Landlock rules (Linux)", "landlock", "MIT"),
    Component("libseccomp", "builds the seccomp filter; the bundled copy is used only where the system has "
              "none (Linux, dynamically loaded)", None, "LGPL-2.1-only", "LGPL-2.1"),
    Component("WenQuanYi Micro Hei", "the font for Chinese (kpdd/fonts.py; from Debian's fonts-wqy-microhei)",
              None, "Apache-2.0 (or GPL-3+ with the font exception)", "Apache-2.0"),
]  # fmt: skip


def license_files(dist: metadata.Distribution) -> list[tuple[Path, str]]:
    """License-like files of a distribution (PEP 639 `licenses/` folder or the dist-info root).

    Each comes with a flat file name made from its path inside the dist-info (numpy ships several
    LICENSE files in subfolders: `numpy/random/LICENSE.md` -> `numpy-random-LICENSE.md`).
    """
    found = []
    for item in dist.files or []:
        parts = list(item.parts)
        if not parts or not parts[0].endswith(".dist-info"):
            continue
        if any(word in parts[-1].lower() for word in LICENSE_WORDS):
            inner = parts[2:] if len(parts) > 2 and parts[1] == "licenses" else parts[1:]
            path = Path(dist.locate_file(item))
            if path.is_file():
                found.append((path, "-".join(inner)))
    return found


def metadata_license(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    text = meta.get("License-Expression") or meta.get("License") or ""
    if len(text) > 80:  # some packages put the whole text here
        text = text.splitlines()[0]
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    return text or ", ".join(classifiers)


def copy_into(source: Path, folder: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    shutil.copyfile(source, target)
    return target


def llama_cpp_license(sdist: Path | None, folder: Path) -> list[Path]:
    """llama.cpp's LICENSE (and its licenses/ folder) from the llama-cpp-python source archive."""
    if sdist is None or not sdist.is_file():
        return []
    copied = []
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if len(parts) < 4 or parts[1:3] != ["vendor", "llama.cpp"] or not member.isfile():
                continue
            rest = parts[3:]
            if rest == ["LICENSE"] or (rest[0] == "licenses" and len(rest) == 2):
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / "-".join(rest)
                target.write_bytes(handle.read())
                copied.append(target)
    return copied


def python_license(folder: Path) -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for candidate in (stdlib / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt"):
        if candidate.is_file():
            return [copy_into(candidate, folder, "LICENSE.txt")]
    return []


def model_notice(folder: Path, license_text: Path | None) -> list[Path]:
    """Where each model the installer carries comes from, and the text of their license (Apache-2.0)."""
    sys.path.insert(0, str(ROOT))
    from kpdd.models import student_base_sources

    folder.mkdir(parents=True, exist_ok=True)
    notice = folder / "MODEL.txt"
    blocks = []
    for source in student_base_sources():
        blocks.append(
            f"{source.name} ({source.file_name})\n"
            f"{source.origin}.\n"
            f"Taken from the Python package(s) {source.packages} on the package registry,\n"
            f"{source.size} bytes, sha256 {source.sha256}.\n"
            f"License: {source.license}.\n"
        )
    notice.write_text("\n".join(blocks), encoding="utf-8")
    files = [notice]
    if license_text is not None and license_text.is_file():
        files.append(copy_into(license_text, folder, "LICENSE-Apache-2.0.txt"))
    return files


def gather(out: Path, llama_sdist: Path | None, model_license: Path | None) -> tuple[str, list[str]]:
    """Fill `out`; returns the summary text and the list of missing required texts."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    lines = ["Third-party components bundled with KPDD Tutor, their licenses and where the texts are.", ""]
    missing = []
    for component in COMPONENTS:
        folder = out / component.name
        files: list[Path] = []
        version = ""
        license_name = component.license
        if component.distribution:
            try:
                dist = metadata.distribution(component.distribution)
            except metadata.PackageNotFoundError:
                dist = None
            if dist is not None:
                version = dist.version
                license_name = license_name or metadata_license(dist)
                files += [copy_into(path, folder, name) for path, name in license_files(dist)]
        if component.name == "kpdd-tutor" and not files and (ROOT / "LICENSE").is_file():
            files.append(copy_into(ROOT / "LICENSE", folder))
        if component.name == "python":
            version = sys.version.split()[0]
            files += python_license(folder)
        if component.name == "llama.cpp":
            files += llama_cpp_license(llama_sdist, folder)
        if component.standard_text and (COMMON_LICENSES / component.standard_text).is_file():
            files.append(
                copy_into(COMMON_LICENSES / component.standard_text, folder, f"{component.standard_text}.txt")
            )
        if not files and component.required:
            missing.append(component.name)
        lines.append(f"{component.name} {version}".rstrip() + f": {component.what}")
        lines.append(f"    License: {license_name or 'see the files'}")
        listed = (
            ", ".join(str(f.relative_to(out)) for f in files) or "MISSING (not found on the build machine)"
        )
        lines.append(f"    Texts: {listed}")
    apache = model_license or (ROOT / "LICENSE")
    model_files = model_notice(out / "model", apache)
    lines += ["", "The default model:", "    " + (out / "model" / "MODEL.txt").read_text(encoding="utf-8")
              .replace("\n", "\n    ").rstrip(), "    Texts: " + ", ".join(str(f.relative_to(out)) for f in model_files)]  # fmt: skip
    summary = "\n".join(lines) + "\n"
    (out / "THIRD-PARTY-NOTICES.txt").write_text(summary, encoding="utf-8")
    return summary, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--llama-sdist", type=Path, default=None, help="llama_cpp_python-VERSION.tar.gz")
    parser.add_argument(
        "--model-license", type=Path, default=None, help="Apache-2.0 text (default: ./LICENSE)"
    )
    args = parser.parse_args(argv)
    summary, missing = gather(args.out, args.llama_sdist, args.model_license)
    print(summary)
    if missing:
        print(f"missing license texts: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
