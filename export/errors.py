"""The one error type of the export tools; its message is meant for the user."""

from __future__ import annotations


class ExportError(Exception):
    """An export could not be done (bad input, missing converter, no space, failed conversion)."""
