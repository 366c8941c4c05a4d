"""`kpdd data fetch`: the four data sets from their public sources, each file checked by sha256.

The files are the ones the projects published, pinned to a commit, so a file that does not hash to
the pinned value is refused (a moved branch, a proxy's error page, a truncated download). Files go to
the data folder `paths.home_dir()/data` (or `--to DIR`), in the layout `kpdd.datasets` reads; each is
written through a temporary file, so an interrupted fetch leaves no half file, and a second fetch
skips every file that is already there and right. Only this command uses the network.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kpdd import paths

GITHUB_RAW = "https://raw.githubusercontent.com"
CHUNK = 1 << 16
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DataFile:
    """One published file: where it goes under the data folder, where it comes from, what it hashes to."""

    path: str  # under the data folder, e.g. "gsm8k/train.jsonl"
    url: str
    sha256: str
    size: int
    licence: str


_GSM8K = f"{GITHUB_RAW}/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c"
_SVAMP = f"{GITHUB_RAW}/arkilpatel/SVAMP/689d7ccac74b9983a2ac7cc3b264f441b99e7c53"
_ASDIV = f"{GITHUB_RAW}/chaochun/nlu-asdiv-dataset/883f90a9a65bf00304ba8f37423910fe743abc47"
_ZERO_SHOT_COT = f"{GITHUB_RAW}/kojima-takeshi188/zero_shot_cot/5ef330fcdeec0cd26aee27943504f91f8ec1c33c"

# Hashes checked against the projects' repositories at those commits (2026-12-07).
FILES: tuple[DataFile, ...] = (
    DataFile("gsm8k/train.jsonl", f"{_GSM8K}/grade_school_math/data/train.jsonl",
             "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465", 4166206, "MIT"),
    DataFile("gsm8k/test.jsonl", f"{_GSM8K}/grade_school_math/data/test.jsonl",
             "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", 749738, "MIT"),
    DataFile("gsm8k/LICENSE", f"{_GSM8K}/LICENSE",
             "86bbb73e855821d7c401912fd4bf82e34313e6e3b6fd6f909f2b6cc9e209a53b", 1062, "MIT"),
    DataFile("svamp/SVAMP.json", f"{_SVAMP}/SVAMP.json",
             "5be77703a6d891ae476d7c082787ad361392aa02453b132516cdd5f4e7934e3e", 339970, "MIT"),
    DataFile("svamp/LICENSE", f"{_SVAMP}/LICENSE",
             "07ce3a34de7a865345634f9278bc26ddcacc2d0defd348c28e3f4603448b9ba4", 1068, "MIT"),
    DataFile("asdiv/ASDiv.xml", f"{_ASDIV}/dataset/ASDiv.xml",
             "ef8904068482919ac48c8eeaaf6df344b8a308ba66d048c2d4d87eab82dc4929", 947401,
             "CC BY-NC 4.0 (evaluation only)"),
    DataFile("multiarith/MultiArith.json", f"{_ZERO_SHOT_COT}/dataset/MultiArith/MultiArith.json",
             "dc9db1b6cc68b1ecc2dec830d15aaf8c9a0932aa31d5ffce88ef3628179d36f4", 254012, "research use"),
)  # fmt: skip


class FetchError(RuntimeError):
    """A file could not be fetched or was not the published one; the message says which and why."""


def default_folder() -> Path:
    return paths.home_dir() / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_fetched(folder: Path, item: DataFile) -> bool:
    target = folder / item.path
    return target.is_file() and target.stat().st_size == item.size and sha256_of(target) == item.sha256


def fetch_file(item: DataFile, folder: Path, timeout_s: float = TIMEOUT_S) -> Path:
    """Download one file into `folder`, checked; raises FetchError and leaves nothing when it fails."""
    target = folder / item.path
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(item.url, timeout=timeout_s) as response, open(partial, "wb") as out:
            while chunk := response.read(CHUNK):
                if out.tell() + len(chunk) > item.size:
                    raise FetchError(
                        f"{item.path}: the download is larger than the published file ({item.url})"
                    )
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(f"{item.path}: could not download {item.url} ({reason})") from exc
    except FetchError:
        partial.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != item.sha256:
        partial.unlink(missing_ok=True)
        raise FetchError(
            f"{item.path}: the download from {item.url} is not the published file "
            f"(sha256 {digest.hexdigest()[:16]}..., expected {item.sha256[:16]}...); nothing was kept"
        )
    partial.replace(target)
    return target


def fetch_all(
    folder: Path | None = None,
    files: tuple[DataFile, ...] | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> Path:
    """Every file not yet in `folder` (default: the user's data folder), each checked. Returns the folder."""
    folder = Path(folder) if folder is not None else default_folder()
    files = FILES if files is None else files
    failures = []
    for number, item in enumerate(files, 1):
        where = f"[{number}/{len(files)}] {item.path}"
        if is_fetched(folder, item):
            log(f"{where}: already there, checked")
            continue
        log(
            f"{where}: fetching {item.size / 1e6:.1f} MB from {item.url.split('/')[3]}/{item.url.split('/')[4]}"
        )
        try:
            fetch_file(item, folder)
        except FetchError as exc:
            failures.append(str(exc))
            log(f"{where}: failed: {exc}")
    if failures:
        raise FetchError(
            f"{len(failures)} of {len(files)} files could not be fetched: " + "; ".join(failures)
        )
    return folder
