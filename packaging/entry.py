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
# Where the bundle keeps the default model: the folder kpdd.models scans for bundled students.
BUNDLED_MODELS = ("resources", "models")


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


def bundled_base_model() -> Path | None:
    """The default model's GGUF shipped inside the bundle, if this is a bundle that has one."""
    from kpdd.models import SMOLLM2, resources_dir

    candidate = resources_dir().joinpath(*BUNDLED_MODELS[1:]) / SMOLLM2.file_name
    return candidate if candidate.is_file() else None


def use_bundled_default_model() -> bool:
    """Make the GGUF shipped in the bundle count as the default model when the user has none.

    kpdd.models only treats a base model in the user's models folder (where `kpdd setup` puts it)
    as the default. An installed app must work before any setup and without writing a 98 MB copy,
    so this wraps `kpdd.models.user_models` to add the bundled file as a "default" entry after the
    user's own files: a verified copy in the user's folder still wins. Every caller
    (default_model, list_models, the desktop's models view) looks the function up through the
    module, so the wrapper is seen everywhere. The lasting fix belongs in kpdd/models.py (a
    `resources/models/*.gguf` scan); when it is there, this does nothing.

    Returns True when the bundled model was added.
    """
    from kpdd import models

    path = bundled_base_model()
    if path is None or getattr(models, "BUNDLED_BASE_SCAN", False):
        return False
    if getattr(models.user_models, "_kpdd_bundle_wrapper", False):
        return True
    original = models.user_models
    source = models.BASE_MODELS[path.name]

    def user_models_with_bundle() -> list:
        entries = original()
        if any(e.path.resolve() == path.resolve() for e in entries if e.path.exists()):
            return entries
        entry = models.ModelEntry(name=source.name, path=path, kind="default", license=source.license)
        entry.provenance = {"package": f"{source.package}=={source.version}", "sha256": source.sha256,
                            "shipped_with": "the installed app"}  # fmt: skip
        return entries + [models.describe_gguf(path, entry)]

    user_models_with_bundle._kpdd_bundle_wrapper = True  # type: ignore[attr-defined]
    models.user_models = user_models_with_bundle
    return True


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the first argument; see the module docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        print(f"{APP_NAME} {app_version()}")
        return 0
    use_bundled_default_model()
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
