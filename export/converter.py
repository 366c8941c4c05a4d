"""llama.cpp's own converters (`convert_hf_to_gguf.py`, `convert_lora_to_gguf.py`), fetched at run time.

The converters are not in the llama-cpp-python wheel. The sdist of the *installed* version carries them
under `vendor/llama.cpp/`, together with the `conversion/` package and `gguf-py/` they import, so the
converter always matches the llama.cpp that will load its output. We never copy that code into this
repository: the first use downloads the sdist with pip into the user's cache and unpacks only those
parts::

    <kpdd cache>/llama-cpp-src/<version>/
        convert_hf_to_gguf.py  convert_lora_to_gguf.py  conversion/  gguf-py/  .complete

`kpdd export fetch-converter` does this up front (setup and CI run it once; `--sdist FILE` unpacks
a sdist that is already on disk, for machines with no network). `KPDD_LLAMA_CPP_SRC` points at an
unpacked tree instead (any folder holding `convert_hf_to_gguf.py` and `gguf-py/`).

The converters run in a subprocess with those folders on PYTHONPATH, so their `gguf` package (the one
that matches them) shadows any other installed version and a crash or kill cannot take the caller down.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from export.errors import ExportError

ENV_SRC = "KPDD_LLAMA_CPP_SRC"
PACKAGE = "llama-cpp-python"
# What we unpack from the sdist (relative to vendor/llama.cpp/).
_WANTED_FILES = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "LICENSE")
_WANTED_DIRS = ("conversion/", "gguf-py/")
_COMPLETE = ".complete"


def installed_llama_cpp_version() -> str:
    """Version of the installed llama-cpp-python (read from package metadata; no import needed)."""
    from importlib import metadata

    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise ExportError(
            "llama-cpp-python is not installed; it is needed to convert, quantize and verify GGUF files."
        ) from exc


def converter_cache_root(root: Path | None = None) -> Path:
    if root is not None:
        return root
    from kpdd.paths import cache_dir

    return cache_dir() / "llama-cpp-src"


def _is_source_tree(path: Path) -> bool:
    return (path / "convert_hf_to_gguf.py").is_file() and (path / "gguf-py" / "gguf").is_dir()


def find_converter_src(root: Path | None = None) -> Path | None:
    """The unpacked converter tree to use, or None when it has not been fetched yet."""
    override = os.environ.get(ENV_SRC)
    if override and root is None:
        path = Path(override).expanduser()
        if not _is_source_tree(path):
            raise ExportError(
                f"{ENV_SRC}={override} does not hold llama.cpp's convert_hf_to_gguf.py and gguf-py/."
            )
        return path
    path = converter_cache_root(root) / installed_llama_cpp_version()
    if (path / _COMPLETE).is_file() and _is_source_tree(path):
        return path
    return None


def _download_sdist(version: str, dest: Path) -> Path:
    """Fetch the llama-cpp-python sdist of `version` with pip (no build, no dependencies)."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        f"{PACKAGE}=={version}", "-d", str(dest),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob("llama_cpp_python-*.tar.gz"))
    if proc.returncode != 0 or not found:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        raise ExportError(
            f"Could not download the {PACKAGE} {version} source package, which holds llama.cpp's "
            "converters (is there a network connection?). Run `kpdd export fetch-converter` where "
            f"there is one, pass `--sdist FILE`, or set {ENV_SRC} to an unpacked llama.cpp tree.\n"
            + "\n".join(tail)
        )
    return found[-1]


def _unpack_converter(sdist: Path, dest: Path) -> None:
    """Unpack only the converter scripts, `conversion/` and `gguf-py/` from the sdist into `dest`."""
    with tarfile.open(sdist, "r:gz") as tar:
        members = []
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) != 2 or not parts[1].startswith("vendor/llama.cpp/"):
                continue
            rel = parts[1][len("vendor/llama.cpp/") :]
            if rel in _WANTED_FILES or rel.startswith(_WANTED_DIRS):
                if member.isfile() or member.isdir():
                    member.name = rel
                    members.append(member)
        if not any(m.name == "convert_hf_to_gguf.py" for m in members):
            raise ExportError(f"{sdist.name} does not contain vendor/llama.cpp/convert_hf_to_gguf.py.")
        tar.extractall(dest, members=members, filter="data")


def fetch_converter(sdist: str | Path | None = None, force: bool = False, root: Path | None = None) -> Path:
    """Make sure the converter of the installed llama.cpp version is unpacked in the cache; return it.

    Unpacks into a temporary folder next to the target and renames it at the end, so an interrupted
    fetch never leaves a tree that looks complete; concurrent fetches both end with a good tree.
    """
    if not force:
        found = find_converter_src(root)
        if found is not None:
            return found
    version = installed_llama_cpp_version()
    root = converter_cache_root(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / version
    with tempfile.TemporaryDirectory(prefix=f".{version}.", dir=root) as tmp:
        tmp_path = Path(tmp)
        if sdist is None:
            sdist_path = _download_sdist(version, tmp_path / "download")
        else:
            sdist_path = Path(sdist).expanduser()
            if not sdist_path.is_file():
                raise ExportError(f"sdist not found: {sdist_path}")
            if f"-{version}.tar" not in sdist_path.name:
                raise ExportError(
                    f"{sdist_path.name} is not the {PACKAGE} {version} sdist (the installed version); "
                    "the converter must match the llama.cpp that loads its output."
                )
        tree = tmp_path / "tree"
        _unpack_converter(sdist_path, tree)
        (tree / _COMPLETE).write_text(f"{PACKAGE}=={version}\n{sdist_path.name}\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tree, target)
        except OSError:
            # Another process finished first; use its tree if it is complete.
            if not (target / _COMPLETE).is_file():
                raise
    return target


def converter_src() -> Path:
    """The converter tree, fetched on first use."""
    return find_converter_src() or fetch_converter()


def converter_env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(src), str(src / "gguf-py")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("HF_HUB_OFFLINE", "1")  # never reach the hub from a conversion
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


# Less free space than this after a failed conversion means the disk filled up: the converter's own
# log, on the same disk, may then be cut before its error line.
LOW_SPACE_BYTES = 1024 * 1024


def ran_out_of_space(log_lines: list[str], folder: Path) -> bool:
    if any("No space left on device" in line or "[Errno 28]" in line for line in log_lines):
        return True
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE_BYTES
    except OSError:
        return False


SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def file_size_limited() -> bool:
    """Whether this process may not write files past a size (RLIMIT_FSIZE; a child inherits it)."""
    try:
        import resource
    except ImportError:  # Windows
        return False
    return resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY


# Test hook: called with the converter's Popen right after it starts (tests use it to kill it).
on_converter_started: Callable[[subprocess.Popen], None] | None = None


def run_converter(script: str, args: Sequence[str], log_path: Path) -> None:
    """Run one of llama.cpp's converter scripts; raise ExportError with its last log lines on failure."""
    src = converter_src()
    cmd = [sys.executable, str(src / script), *args]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=converter_env(src))
        try:
            if on_converter_started is not None:
                on_converter_started(proc)
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    if code == 0:
        return
    text = log_path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        raise ExportError(f"The conversion was interrupted ({script} was stopped by {name}).")
    unsupported = [line for line in lines if "not supported" in line.lower()]
    if unsupported:
        raise ExportError(
            f"llama.cpp cannot convert this model: {unsupported[-1].split(':', 2)[-1].strip()}. "
            "See `python convert_hf_to_gguf.py --print-supported-models` in "
            f"{src} for the architectures it supports."
        )
    if ran_out_of_space(lines, log_path.parent):
        raise ExportError("The disk ran out of space during the conversion.")
    # numpy's short write names no errno ("N requested and M written"): a size limit, or a failing disk.
    if any("File too large" in line or SHORT_WRITE.search(line) for line in lines):
        if file_size_limited():
            raise ExportError("The converted file grew past the largest file this system lets the export "
                              "write (a file size limit: see `ulimit -f`).")  # fmt: skip
        raise ExportError(f"{script} could not write the whole file: is the disk failing or full?")
    raise ExportError(f"{script} failed (exit code {code}):\n" + "\n".join(lines[-12:]))
