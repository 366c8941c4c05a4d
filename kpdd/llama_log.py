"""llama.cpp's own log goes to a file in the user's data folder, not to the terminal.

llama.cpp writes a line for every tensor of an adapter it cannot repack ("cannot use buft
'CPU_REPACK'"), for every model load and context; someone starting the app or `kpdd solve` from a
shell would see a wall of it. The lines are appended to `KPDD_HOME/logs/llama.log` instead (started
afresh when it passes `MAX_BYTES`); `--verbose` (or KPDD_VERBOSE=1) prints them as before. What goes
wrong still reaches the user as one clear line: load failures raise BackendError with a message.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, TextIO

from kpdd import paths

ENV_VERBOSE = "KPDD_VERBOSE"
MAX_BYTES = 5 * 1024 * 1024

_installed: list[Any] = []  # the ctypes callback, kept alive while llama.cpp may call it
_log_file: list[TextIO] = []


def log_path() -> Path:
    return paths.home_dir() / "logs" / "llama.log"


def verbose() -> bool:
    return os.environ.get(ENV_VERBOSE, "").strip() not in ("", "0")


def _open_log() -> TextIO | None:
    if not _log_file:
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = "w" if path.exists() and path.stat().st_size > MAX_BYTES else "a"
            _log_file.append(open(path, mode, encoding="utf-8", errors="replace"))  # noqa: SIM115 - lives with the process
        except OSError:
            return None  # a read-only home: the lines are dropped, not printed
    return _log_file[0]


def route_llama_log() -> None:
    """Send llama.cpp's log to the log file (once per process, after llama_cpp is imported, whose
    own handler prints to stderr); with --verbose leave it printing."""
    if _installed or verbose():
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def to_file(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        handle = _open_log()
        if handle is not None:
            handle.write(text.decode("utf-8", errors="replace"))
            if level == 3:  # an error: on disk at once
                handle.flush()

    llama_cpp.llama_log_set(to_file, ctypes.c_void_p(0))
    _installed.append(to_file)
