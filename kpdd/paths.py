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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) while the block runs.

    Another process (or thread) holding it is waited for; `on_wait` is called once first, so the
    caller can say why it waits. The operating system drops the lock with the process, so a setup
    killed halfway never leaves it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            def take(blocking: bool) -> bool:
                try:
                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
                    return True
                except OSError:
                    return False

            def give() -> None:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            def take(blocking: bool) -> bool:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                    return True
                except BlockingIOError:
                    return False

            def give() -> None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

        if not take(blocking=False):
            if on_wait is not None:
                on_wait()
            while not take(blocking=True):  # Windows' blocking lock gives up after about 10 s
                pass
        try:
            yield
        finally:
            give()
