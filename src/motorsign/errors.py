"""Exception types raised by motorsign.

Every error a user can cause (a missing file, a bad option, a corrupt header)
is raised as a :class:`MotorsignError` subclass whose message names the file
or option and says what is wrong, in one line. The command-line interface
prints that line and exits with status 1; anything else is a bug.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "MotorsignError",
    "InputError",
    "UnsupportedFormatError",
    "ConfigError",
    "AnalysisError",
    "MotorsignWarning",
]


class MotorsignError(Exception):
    """Base class for errors a user can act on.

    Parameters
    ----------
    message : str
        What is wrong and, where possible, what to do about it.
    path : str | PathLike | None
        The file concerned; it is put at the start of the message.
    """

    def __init__(self, message: str, path: str | PathLike | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(MotorsignError):
    """A file or its content cannot be used (missing, corrupt, inconsistent)."""


class UnsupportedFormatError(InputError):
    """No reader handles the file's extension or content."""


class ConfigError(MotorsignError):
    """An option, a pipeline file or a case file is invalid."""


class AnalysisError(MotorsignError):
    """An analysis could not run on valid input (e.g. no trigger in the window)."""


class MotorsignWarning(UserWarning):
    """Something the user should know about (missing units, short rest period)."""
