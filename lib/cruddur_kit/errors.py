"""Typed errors that carry context; one `main` turns them into a one-line message and an exit code."""

from __future__ import annotations


class KitError(Exception):
    """A problem the user can fix: the message names it and the fix."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
