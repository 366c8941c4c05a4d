"""Where KPDD Tutor keeps its files, and the user's configuration.

Everything lives under one home folder: the platform's user data directory, or `KPDD_HOME` when
set (tests and portable installs set it). Layout::

    KPDD_HOME/
      config.json        user settings (data_dir, active model, threads, ...)
      models/            GGUF files the app knows about (the default model is placed here)
      history.sqlite3    the desktop tutor's history
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir, user_data_dir

APP_NAME = "kpdd-tutor"
ENV_HOME = "KPDD_HOME"
ENV_DATA_DIR = "KPDD_DATA_DIR"


def home_dir() -> Path:
    override = os.environ.get(ENV_HOME)
    path = Path(override).expanduser() if override else Path(user_data_dir(APP_NAME, appauthor=False))
    return path


def models_dir() -> Path:
    return home_dir() / "models"


def cache_dir() -> Path:
    override = os.environ.get(ENV_HOME)
    if override:
        return Path(override).expanduser() / "cache"
    return Path(user_cache_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    return home_dir() / "config.json"


def load_config() -> dict[str, Any]:
    """The user's configuration; an absent or unreadable file is an empty configuration."""
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_config(config: dict[str, Any]) -> None:
    """Write the configuration atomically, so a crash never leaves half a file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True))


def update_config(**changes: Any) -> dict[str, Any]:
    config = load_config()
    config.update(changes)
    save_config(config)
    return config


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it over the target."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
