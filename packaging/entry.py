"""Entry point of the installed KPDD Tutor app: the script PyInstaller freezes.

    kpdd-tutor                      the desktop tutor (desktop.app.main, with its own flags)
    kpdd-tutor cli ARGS...          the `kpdd` command line (kpdd.cli.main), e.g. `kpdd-tutor cli solve "..."`
    kpdd-tutor --self-test [--json] a headless check of the installed app (packaging/selftest.py)
    kpdd-tutor --version            the version, from the bundled package metadata
    kpdd-tutor --kpdd-sandbox-worker  (internal) the program sandbox's worker: the frozen app is its own
                                      Python, so the sandbox starts this same executable in worker mode

It also runs from a source checkout (`python packaging/entry.py --self-test`), which the tests use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The worker check comes before any other import of the app: a worker must start fast and must not
# load Qt or llama.cpp (it runs under a 256 MB address-space limit).
if __name__ == "__main__":  # pragma: no branch - import-time side effect only for the real program
    _HERE = Path(__file__).resolve().parent
    if not getattr(sys, "frozen", False):
        # From a source checkout: the repository root holds kpdd/ and desktop/, this folder selftest.py.
        for _folder in (str(_HERE.parent), str(_HERE)):
            if _folder not in sys.path:
                sys.path.insert(0, _folder)
    from kpdd.sandbox import maybe_run_worker

    maybe_run_worker()

DIST_NAME = "kpdd-tutor"
APP_NAME = "KPDD Tutor"


def bundle_dir() -> Path | None:
    """The unpacked bundle (PyInstaller's `_internal` folder), or None when running from source."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else None


def app_version() -> str:
    """The version of the kpdd-tutor distribution (the spec bundles its metadata with copy_metadata)."""
    from importlib import metadata

    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the first argument; see the module docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        print(f"{APP_NAME} {app_version()}")
        return 0
    if args[:1] == ["--self-test"]:
        import selftest

        return selftest.main(args[1:])
    if args[:1] == ["cli"]:
        from kpdd.cli import main as cli_main

        return cli_main(args[1:])
    from desktop.app import main as desktop_main

    return int(desktop_main(args) or 0)


if __name__ == "__main__":
    # A frozen GUI app has no console on Windows/macOS; stdout may be None there.
    if sys.stdout is None:  # pragma: no cover - windowed builds only
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        sys.stderr = sys.stdout
    sys.exit(main())
