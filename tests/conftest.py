"""Shared fixtures: the data sets (full beside the checkout, else the slices in tests/data) and the real
default model (placed by setup)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# Small slices of the four sets (tests/data/README.md): what the tests run on in a fresh clone.
TEST_DATA = REPO / "tests" / "data"
# The full sets where they sit beside the checkout (CI), else the slices.
DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else TEST_DATA

# Resolve the user's real models folder before any test points KPDD_HOME elsewhere.
_REAL_HOME = os.environ.get("KPDD_HOME")


def _default_gguf() -> Path:
    from kpdd import models, paths

    if _REAL_HOME is not None:
        os.environ["KPDD_HOME"] = _REAL_HOME
    return paths.models_dir() / models.SMOLLM2.file_name


SMOLLM2_PATH = _default_gguf()
QWEN05_PATH = SMOLLM2_PATH.parent / "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The full data sets beside the checkout (CI), or the slices in tests/data (a fresh clone)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF that setup installs. Missing means setup did not run: fail."""
    if not SMOLLM2_PATH.exists():
        pytest.fail(f"{SMOLLM2_PATH} is missing: run `kpdd setup` (the README's first command does).")
    return SMOLLM2_PATH


@pytest.fixture
def kpdd_home(tmp_path, monkeypatch) -> Path:
    """An empty KPDD home (config, models, history) for one test."""
    home = tmp_path / "kpdd-home"
    home.mkdir()
    monkeypatch.setenv("KPDD_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def qwen05_gguf() -> Path:
    """The Qwen2.5-Coder-0.5B-Instruct GGUF that setup installs: the default student's base."""
    from kpdd import models

    assert models.QWEN_CODER_05B.file_name == QWEN05_PATH.name
    if not QWEN05_PATH.exists():
        pytest.fail(f"{QWEN05_PATH} is missing: run `kpdd setup` (the README's first command does).")
    return QWEN05_PATH


@pytest.fixture
def no_os_layer(monkeypatch):
    """This process's sandbox as on a machine without seccomp and Landlock: its workers cannot load
    pyseccomp or landlock, so they report no operating-system layer, as they would there."""
    from kpdd import sandbox
    from kpdd.sandbox import parent as sandbox_parent

    sandbox.shutdown()
    monkeypatch.setattr(sandbox_parent, "_lib_paths", lambda: [])
    monkeypatch.setattr(sandbox_parent._pool, "features", None)
    yield
    sandbox.shutdown()
    monkeypatch.undo()
    sandbox_parent._pool.features = None


def pretend_second_opinion(monkeypatch, source) -> None:
    """Tests: `source` stands in for the second-opinion model (the 1.5B is not installed in CI)."""
    from kpdd import models

    monkeypatch.setattr(models, "SECOND_OPINION", source)
    monkeypatch.setattr(models.second_opinion, "SECOND_OPINION", source)
